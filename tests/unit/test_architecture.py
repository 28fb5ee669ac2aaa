"""The house rules, read from the source: arrows point down, no cycles, no late imports but the
deliberate ones (that the core imports no Qt and that the GUI says so instead of crashing
without a display is tests/system/test_architecture_processes.py)."""

from __future__ import annotations

import ast

from tests.helpers.imports import (
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
    ("reviewer.services.records", "reviewer.export.signing"),  # pyHanko: signing records
    ("reviewer.services.keys", "reviewer.export.signing"),  # and the keys commands
    ("reviewer.services.report", "reviewer.export.report"),  # ReportLab: the transparency report
    ("reviewer.services.report", "reviewer.export.signing"),  # pyHanko: signing it
    ("reviewer.rules", "reviewer.rules.codegen"),  # the code generator: only to compile a rule set
}

# The command line loads, in the body of each command, the layers only some commands use (see
# reviewer/cli.py's text): the database (SQLAlchemy and Alembic through the context, the models,
# the services over them), the window, and what only one command uses (the explainer).
# `reviewer evaluate FILE` without a database loads none of them
# (tests/system/test_architecture_processes.py); the files service is pure.
CLI_LATE = (
    "reviewer.context",
    "reviewer.gui",
    "reviewer.models",
    "reviewer.services",
    "reviewer.rules.explain",
)


def _cli_late(module: str, target: str) -> bool:
    return module == "reviewer.cli" and target.startswith(CLI_LATE)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [f"{node.module}.{a.name}" for a in node.names]


def test_every_module_has_a_layer():
    assert [m for m in modules() if layer_of(m) >= 6] == []


def test_no_import_points_up_and_none_forms_a_cycle():
    g = graph()
    assert upward_edges(g) == []
    assert cycles(g) == []


def test_no_function_local_import_of_our_own_modules_except_the_deliberate_ones():
    known = modules()
    late = {
        (m, target) for m, path in known.items() for target, _line, top in imports_of(path, known) if not top
    }
    late = {(m, target) for m, target in late if not _cli_late(m, target)}
    assert late <= LATE_IMPORTS, late - LATE_IMPORTS


def test_the_command_line_imports_the_database_layer_and_the_window_only_in_its_commands():
    """What runs when reviewer.cli is imported (its top level, not what only type checkers
    read) reaches none of them but the files service."""
    tree = ast.parse(modules()["reviewer.cli"].read_text(encoding="utf-8"))
    top = [name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
           for name in _imported(node)]  # fmt: skip
    assert "reviewer.services.files" in top
    assert [name for name in top if name.startswith(CLI_LATE)] == ["reviewer.services.files"]


def test_no_function_local_import_anywhere_except_heavy_optional_modules():
    """Any `import` inside a function (of ours or a library's) is one of the listed ones."""
    allowed = {"reviewer.ui.app", "reviewer.export.pdf", "reviewer.export.signing", "reviewer.export",
               "reviewer.export.report", "pypdf", "pypdf.errors", "alembic", "alembic.config",
               "reviewer.rules.codegen",
               # only to parse TOML, and to find the bundled rule set where it is no plain file:
               # a start that needs neither (evaluate, rules from the disk cache) saves 8 ms
               "tomllib", "importlib"}  # fmt: skip
    found = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if (
                isinstance(node, (ast.Import, ast.ImportFrom))
                and id(node) not in top
                and not in_type_checking(tree, node)
            ):
                mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                if mod not in allowed and not all(_cli_late(name, t) for t in _imported(node)):
                    found.append(f"{name}:{node.lineno} {mod}")
    assert found == []
