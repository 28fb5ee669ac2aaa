"""The core stays Qt-free; the GUI says so instead of crashing without a display."""

from __future__ import annotations

import os
import subprocess
import sys

CORE = ["reviewer", "reviewer.cli", "reviewer.request", "reviewer.intake", "reviewer.services.importing",
        "reviewer.services.audit", "reviewer.rules", "reviewer.rules.lang", "reviewer.models",
        "reviewer.models.db", "reviewer.demo", "reviewer.export.text", "reviewer.gui", "reviewer.settings"]


def test_core_modules_import_no_qt():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]\n"
            "assert not bad, bad\nprint('clean')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_gui_without_display_exits_2_with_a_message(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    for argv in ([sys.executable, "-m", "reviewer"], [sys.executable, "main.py"]):
        out = subprocess.run(argv + ["--database", f"sqlite:///{tmp_path / 'x.db'}"],
                             capture_output=True, text=True, env=env, check=False,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert out.returncode == 2, out.stderr
        assert "no display" in out.stderr
