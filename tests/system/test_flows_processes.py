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
    # At QT_SCALE_FACTOR=1.5 (a high-density screen): the window as big in points, its
    # picture 1.5 times the pixels; no Qt warning but the offscreen plugin's own notice.
    done = subprocess.run(
        [sys.executable, "main.py", "--database", f"sqlite:///{db}", "--screenshot", str(png)],
        env=dict(env, QT_SCALE_FACTOR="1.5"),
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
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1920, 1200)
    notice = "This plugin does not support propagateSizeHints()"
    assert [line for line in done.stderr.splitlines() if line != notice] == [], done.stderr


def test_screenshot_of_a_database_edited_by_hand_ends_with_the_error(tmp_path):
    """`--screenshot` has nobody to close a message box: an error is printed and ends the run
    with its exit code (a status edited with sqlite3: exit 1, verify named), not a wait for ever."""
    import os
    import sqlite3
    import subprocess
    import sys

    db = tmp_path / "edited.db"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-m", "reviewer", "seed-demo", "--count", "20", "--database", f"sqlite:///{db}"],
                   check=True, env=env, capture_output=True)  # fmt: skip
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE requests SET status = 'zzz' WHERE id = 5")
    done = subprocess.run([sys.executable, "main.py", "--database", f"sqlite:///{db}", "--screenshot",
                           str(tmp_path / "shot.png")], env=env, capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert (
        "a stored value Reviewer never writes: 'zzz'" in done.stderr and "run reviewer verify" in done.stderr
    )
    assert not (tmp_path / "shot.png").exists()
