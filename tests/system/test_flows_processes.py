"""The desktop program started on its own: `main.py --screenshot` shows the queue offscreen and
saves it (the flows driven through the widgets are tests/ui/test_flows.py)."""

from __future__ import annotations

import re

from tests.helpers.cli import ROOT


def test_screenshot_command(tmp_path):
    import os
    import subprocess
    import sys

    db = tmp_path / "shot.db"
    png = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run(
        [sys.executable, "-m", "reviewer", "seed-demo", "--count", "50", "--database", f"sqlite:///{db}"],
        check=True,
        env=env,
        capture_output=True,
    )
    done = subprocess.run(
        [sys.executable, "main.py", "--database", f"sqlite:///{db}", "--screenshot", str(png)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert re.search(r"queue shown \d+\.\d\d s after process start \(50 rows\)", done.stdout)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
