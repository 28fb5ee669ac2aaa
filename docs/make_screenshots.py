"""Makes the window's screenshots in docs/ (offscreen, 1280x800 unless said):

    python docs/make_screenshots.py

on a demo database at the default place of a new user (a temporary home folder, so the status
bar shows `~/.local/share/reviewer/reviewer.db`, no machine's own path). Each tab is chosen by
its widget, never by its index."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="reviewer-shots-"))
os.environ.update(HOME=str(HOME), QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "REVIEWER_DATABASE_URL", "REVIEWER_USER"):
    os.environ.pop(name, None)

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from reviewer import settings  # noqa: E402
from reviewer.context import open_context  # noqa: E402
from reviewer.services.queries import RECEIVED_COLUMN, WAITING_COLUMN  # noqa: E402
from reviewer.ui.main_window import MainWindow  # noqa: E402

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "tests" / "data" / "examples"
USER = "maria"


def wait(app: QApplication, signal, timeout_ms: int = 15_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    app.processEvents()


def pause(app: QApplication, ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def reviewer(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "reviewer", *args, "--user", USER], check=True)


def seed() -> None:
    reviewer("seed-demo", "--count", "3000", "--decisions", "300")
    reviewer("import", *map(str, sorted(EXAMPLES.glob("p*.json"))))
    for ref in ("EX-0006", "EX-0005", "EX-0001"):
        reviewer("claim", ref)
    evidence = HOME / "DPIA-Club-Atletico.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% a DPIA, as sales sent it\n")
    reviewer("attach", "EX-0006", str(evidence), "--note", "The club's data-protection impact assessment")
    reviewer("note", "EX-0006", "--text", "Asked the club whether season-ticket holders can opt out.")


def window_for(app: QApplication, size: tuple[int, int] = (1280, 800)) -> MainWindow:
    window = MainWindow(open_context(settings.default_database_url(), USER, write=True))
    window.resize(*size)
    window.show()
    wait(app, window.loaded)
    for _ in range(100):  # the status bar's figures and the start page's counts follow
        if window._status_line is not None:
            break
        pause(app, 100)
    pause(app)
    return window


def shot(window: MainWindow, name: str) -> None:
    QApplication.processEvents()
    window.grab().save(str(HERE / name))


def open_request(app: QApplication, window: MainWindow, reference: str) -> None:
    window.select_reference(reference)
    wait(app, window.request_loaded)
    pause(app)


def search(app: QApplication, window: MainWindow, text: str) -> None:
    window.search.setText(text)
    wait(app, window.loaded)


def main() -> None:
    seed()
    app = QApplication.instance() or QApplication([])
    window = window_for(app)
    shot(window, "organisation-prompt.png")  # an admin is asked once for the name
    window.unnamed.hide()
    shot(window, "queue.png")  # the queue and the start page
    search(app, window, "ejemplo")
    open_request(app, window, "EX-0006")
    shot(window, "request-view.png")  # the desk: the request beside its decision
    panel = window.panel
    panel.outcome.setCurrentIndex(panel.outcome.findData("approve_with_conditions"))
    panel.justification.setPlainText("Season-ticket entry with opt-in enrolment; the four conditions "
                                     "are in the contract.")  # fmt: skip
    window.panel_scroll.ensureWidgetVisible(panel.follows)
    shot(window, "decision-panel.png")
    window.view.find("Attachments")
    window.view.ensureCursorVisible()
    shot(window, "attachments.png")
    search(app, window, "zzzz")
    shot(window, "empty-queue.png")  # an empty search, the open request marked
    search(app, window, "")
    window.tabs.setCurrentWidget(window.dashboard)
    shot(window, "dashboard.png")
    window.tabs.setCurrentWidget(window.rulesets)
    shot(window, "versions.png")
    # The Waiting column, longest wait first.
    header = window.table.horizontalHeader()
    header.setSortIndicator(WAITING_COLUMN, Qt.SortOrder.DescendingOrder)
    wait(app, window.loaded)
    window.tabs.setCurrentWidget(window.desk)
    shot(window, "queue-waiting.png")
    header.setSortIndicator(RECEIVED_COLUMN, Qt.SortOrder.DescendingOrder)
    wait(app, window.loaded)
    # A customer seen whole.
    open_request(app, window, "EX-0006")
    window.customer_of_request()
    wait(app, window.customer_loaded)
    pause(app)
    shot(window, "customer-view.png")
    # Judgement: what to ask sales and what would change it; the drafted request for information.
    open_request(app, window, "EX-0005")
    window.tabs.setCurrentWidget(window.desk)
    window.view.scrollToAnchor("judgement")
    shot(window, "decisive-facts.png")
    open_request(app, window, "EX-0008")
    window.view.scrollToAnchor("judgement")
    shot(window, "what-if.png")
    open_request(app, window, "EX-0005")
    panel.fill_draft()
    window.panel_scroll.ensureWidgetVisible(panel.justification)
    shot(window, "return-draft.png")
    window.new_request()
    form = window.intake
    cells = (("reference", "NEW-1"), ("received_on", "2026-12-01"),
             ("customer.name", "Riverside Sheriff's Office"), ("customer.country", "US"),
             ("customer.org_type", "sheriff"), ("use.operations", "identification"))  # fmt: skip
    for path, value in cells:
        form.set_cell(path, value)
    form.validate()
    pause(app)
    shot(window, "intake-explained.png")
    # The dark theme.
    window.tabs.setCurrentWidget(window.desk)
    open_request(app, window, "EX-0001")
    window.dark.setChecked(True)
    pause(app)
    shot(window, "dark-theme.png")
    window.dark.setChecked(False)
    window.intake.discard_changes()  # else closing asks about the unsaved form
    window.close()
    # A small screen with a large font: 1024x700 at 150 %.
    font = app.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)
    app.setFont(font)
    small = window_for(app, (1024, 700))
    open_request(app, small, "EX-0006")
    shot(small, "small-screen.png")
    small.close()
    print("screenshots written to", HERE)


if __name__ == "__main__":
    main()
