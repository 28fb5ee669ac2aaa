"""Desktop benchmark on 100,000 requests (seed-demo --count 100000 --decisions 2000).

Prints: the time from process start until `--screenshot` has the window populated; the time
for a sort by each column and for a search keystroke (debounce included) to update the view,
driving the real widgets offscreen; and the resident memory. Usage: python bench/gui_100k.py [N]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    work = Path(tempfile.mkdtemp(prefix="reviewer-gui-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "seed-demo",
            "--count",
            str(n),
            "--decisions",
            str(max(1, n // 50)),
            "--database",
            url,
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    print(f"seeded {n:,} requests in {time.perf_counter() - t0:.0f} s")

    # 1. process start -> window populated (the --screenshot path, measured by the child)
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "main.py", "--database", url, "--screenshot", str(work / "shot.png")],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    wall = time.time() - t0
    shown = [line for line in out.stdout.splitlines() if line.startswith("queue shown")]
    print(
        f"--screenshot: {shown[0] if shown else out.stderr[-300:]}; exit {out.returncode}; "
        f"whole command {wall:.2f} s"
    )

    # 2. sorts and search in this process, through the real widgets
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from reviewer.context import open_context
    from reviewer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(open_context(url, os.environ.get("USER", "root"), write=True))
    window.show()

    def wait_loaded() -> float:
        start = time.perf_counter()
        loop = QEventLoop()
        window.loaded.connect(loop.quit)
        QTimer.singleShot(20_000, loop.quit)
        loop.exec()
        window.loaded.disconnect(loop.quit)
        window.table.viewport().repaint()  # the rows on screen are fetched and painted
        app.processEvents()
        return (time.perf_counter() - start) * 1000

    wait_loaded()
    header = window.table.horizontalHeader()
    for col in range(header.count()):
        start = time.perf_counter()
        header.setSortIndicator(col, Qt.SortOrder.AscendingOrder)
        wait_loaded()
        took = (time.perf_counter() - start) * 1000
        print(f"sort by {window.model.headerData(col, Qt.Orientation.Horizontal):<15} {took:6.0f} ms")
    header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    wait_loaded()
    for text in ("mu", "mül", "müller", "demo-00012"):
        start = time.perf_counter()
        window.search.setText(text)  # one keystroke; the 100 ms debounce is included
        wait_loaded()
        took = (time.perf_counter() - start) * 1000
        print(
            f"search {text!r:<10} -> {window.model.rowCount():>7,} rows  {took:6.0f} ms (debounce included)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"resident memory (peak, this process): {rss:.0f} MB")


if __name__ == "__main__":
    main()
