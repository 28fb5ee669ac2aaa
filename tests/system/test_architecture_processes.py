"""The house rules that need a fresh interpreter: the core stays Qt-free when imported, and the
GUI says so instead of crashing without a display (the rules read from the source are
tests/unit/test_architecture.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.imports import ROOT, modules


def test_modules_outside_ui_import_no_qt():
    core = sorted(m for m in modules() if not m.startswith("reviewer.ui") and m != "reviewer.__main__")
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core)
        + "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
        "assert not bad, bad\nprint('clean', len(" + repr(core) + "))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("clean")


def test_gui_without_display_exits_2_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for argv in ([sys.executable, "-m", "reviewer"], [sys.executable, "main.py"]):
        out = subprocess.run(
            argv + ["--database", f"sqlite:///{tmp_path / 'x.db'}"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            cwd=ROOT,
        )
        assert out.returncode == 2, out.stderr
        assert "no display" in out.stderr


def test_a_command_on_a_current_database_does_not_load_alembic(tmp_path):
    """Alembic (and the SQL dialects it brings) is for migrating: a command on a database at
    the program's revision starts without it."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    code = (
        "import sys\nfrom reviewer.cli import main\n"
        f"first = main(['seed-demo', '--count', '2', '--database', {url!r}, '--user', 'admin1'])\n"
        "made = 'alembic' in sys.modules\n"
        "for name in [m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')]:\n"
        "    del sys.modules[name]\n"
        f"second = main(['users', 'list', '--database', {url!r}, '--user', 'admin1'])\n"
        "print(first, made, second, 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "0 True 0 False"  # made the database with it, then not
