"""Makes the screenshots in docs/ (offscreen, 1280x800): python docs/make_screenshots.py"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from reviewer.context import open_context  # noqa: E402
from reviewer.ui.main_window import MainWindow  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "tests" / "data" / "examples"


def wait(app: QApplication, signal, timeout_ms: int = 15_000) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    app.processEvents()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="reviewer-shots-"))
    url = f"sqlite:///{work / 'demo.db'}"
    run = [sys.executable, "-m", "reviewer"]
    subprocess.run(
        [*run, "seed-demo", "--count", "3000", "--decisions", "300", "--database", url, "--user", "maria"],
        check=True,
    )
    subprocess.run(
        [*run, "import", *map(str, sorted(EXAMPLES.glob("p*.json"))), "--database", url, "--user", "maria"],
        check=True,
    )
    subprocess.run([*run, "claim", "EX-0006", "--database", url, "--user", "maria"], check=True)
    app = QApplication.instance() or QApplication([])
    window = MainWindow(open_context(url, "maria", write=True))
    window.resize(1280, 800)
    window.show()
    wait(app, window.loaded)
    window.grab().save(str(HERE / "queue.png"))
    window.search.setText("ejemplo")
    wait(app, window.loaded)
    window.select_reference("EX-0006")
    wait(app, window.request_loaded)
    window.grab().save(str(HERE / "request-view.png"))
    window.tabs.setCurrentIndex(1)
    app.processEvents()
    window.grab().save(str(HERE / "decision-panel.png"))
    window.tabs.setCurrentIndex(2)
    app.processEvents()
    window.grab().save(str(HERE / "dashboard.png"))
    print("screenshots written to", HERE)


if __name__ == "__main__":
    main()
