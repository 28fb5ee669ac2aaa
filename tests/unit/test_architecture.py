"""The house rules: arrows point down, no cycles, no late imports but the deliberate ones, and
the core stays Qt-free. The GUI says so instead of crashing without a display."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from tests.helpers.imports import (
    ROOT,
    cycles,
    graph,
    imports_of,
    in_type_checking,
    layer_of,
    modules,
    upward_edges,
)

# Heavy optional modules loaded late on purpose (each says why where it does it).
LATE_IMPORTS = {
    ("reviewer.gui", "reviewer.ui.app"),  # PySide6: only the window needs it
    ("reviewer.services.records", "reviewer.export.pdf"),  # ReportLab: only PDF export
}


def test_every_module_has_a_layer():
    assert [m for m in modules() if layer_of(m) >= 6] == []


def test_no_import_points_up_and_none_forms_a_cycle():
    g = graph()
    assert upward_edges(g) == []
    assert cycles(g) == []


def test_no_function_local_import_of_our_own_modules_except_the_deliberate_ones():
    known = modules()
    late = {(m, target) for m, path in known.items()
            for target, _line, top in imports_of(path, known) if not top}
    assert late <= LATE_IMPORTS, late - LATE_IMPORTS


def test_no_function_local_import_anywhere_except_heavy_optional_modules():
    """Any `import` inside a function (of ours or a library's) is one of the listed ones."""
    allowed = {"reviewer.ui.app", "reviewer.export.pdf", "pypdf", "pypdf.errors"}
    found = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top \
                    and not in_type_checking(tree, node):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if mod not in allowed:
                    found.append(f"{name}:{node.lineno} {mod}")
    assert found == []


def test_modules_outside_ui_import_no_qt():
    core = sorted(m for m in modules() if not m.startswith("reviewer.ui") and m != "reviewer.__main__")
    code = ("import sys\n" + "".join(f"import {m}\n" for m in core)
            + "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
            "assert not bad, bad\nprint('clean', len(" + repr(core) + "))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("clean")


def test_gui_without_display_exits_2_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for argv in ([sys.executable, "-m", "reviewer"], [sys.executable, "main.py"]):
        out = subprocess.run(argv + ["--database", f"sqlite:///{tmp_path / 'x.db'}"],
                             capture_output=True, text=True, env=env, check=False, cwd=ROOT)
        assert out.returncode == 2, out.stderr
        assert "no display" in out.stderr
