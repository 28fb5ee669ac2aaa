"""Makes the screenshots in docs/ (offscreen, 1280x800): python docs/make_screenshots.py"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QSplitter  # noqa: E402

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
    for ref in ("EX-0006", "EX-0005"):
        subprocess.run([*run, "claim", ref, "--database", url, "--user", "maria"], check=True)
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
    window.tabs.setCurrentWidget(window.dashboard)
    app.processEvents()
    window.grab().save(str(HERE / "dashboard.png"))
    # Judgement: what to ask sales and what would change it; the drafted request for information.
    window.search.setText("")
    wait(app, window.loaded)
    window.select_reference("EX-0005")
    wait(app, window.request_loaded)
    window.tabs.setCurrentWidget(window.view)
    window.view.scrollToAnchor("judgement")
    app.processEvents()
    window.grab().save(str(HERE / "decisive-facts.png"))
    window.select_reference("EX-0008")
    wait(app, window.request_loaded)
    window.view.scrollToAnchor("judgement")
    app.processEvents()
    window.grab().save(str(HERE / "what-if.png"))
    window.select_reference("EX-0005")
    wait(app, window.request_loaded)
    window.tabs.setCurrentWidget(window.panel)
    window.panel.fill_draft()
    app.processEvents()
    window.grab().save(str(HERE / "return-draft.png"))
    window.new_request()
    form = window.intake
    cells = (("reference", "NEW-1"), ("received_on", "2026-12-01"),
             ("customer.name", "Riverside Sheriff's Office"), ("customer.country", "US"))  # fmt: skip
    for path, value in cells:
        form.set_cell(path, value)
    form.set_cell("customer.org_type", "sheriff")
    form.set_cell("use.operations", "identification")
    form.validate()
    splitter = window.centralWidget().findChild(QSplitter)
    splitter.setSizes([380, 900])
    app.processEvents()
    window.grab().save(str(HERE / "intake-explained.png"))
    print("screenshots written to", HERE)


if __name__ == "__main__":
    main()
