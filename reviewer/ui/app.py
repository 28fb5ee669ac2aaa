"""The desktop application: the QApplication, the crash handler and the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from importlib import resources
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox

from reviewer import settings
from reviewer.context import Context
from reviewer.ui.dialogs import Unattended
from reviewer.ui.main_window import MainWindow

log = logging.getLogger(__name__)
_IMPORTED = time.perf_counter()


def process_age() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere: since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


def install_crash_handler() -> None:
    """A bug anywhere in the GUI: log it with its traceback, then say where the log is."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error in the application:\n%s", details)
        box = QMessageBox(QMessageBox.Icon.Critical, "Reviewer: unexpected error",
                          f"Something went wrong that is not your doing: {exc}\n\n"
                          f"The details are in {settings.log_file()}. Nothing was saved by "
                          "the action that failed.")  # fmt: skip
        box.setDetailedText(details)
        box.exec()

    sys.excepthook = hook


def run(ctx: Context, screenshot: str | None = None, opening: float = 0.0) -> int:
    """`opening`: the seconds open_context took (a migration included), for --screenshot."""
    ready = process_age()  # imports (Qt's included) and the database opened
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Reviewer")
    app.setOrganizationName("Reviewer")
    # The desktop entry packaging/reviewer.desktop is installed as reviewer.desktop.
    app.setDesktopFileName("reviewer")
    icon = QPixmap()
    icon.loadFromData(resources.files("reviewer.resources").joinpath("icons", "reviewer.png").read_bytes())
    app.setWindowIcon(QIcon(icon))
    install_crash_handler()
    window = MainWindow(ctx, Unattended() if screenshot else None)
    built = process_age()
    window.show()
    if screenshot:

        def shown() -> None:
            now = process_age()
            print(f"queue shown {now:.2f} s after process start ({window.model.rowCount():,} rows)\n"
                  f"  start-up: {ready - opening:.2f} s to import, {opening:.2f} s to open the "
                  f"database, {built - ready:.2f} s to build the window, {now - built:.2f} s to "
                  "read and show the queue", flush=True)  # fmt: skip

        window.loaded.connect(shown)

        def shoot() -> None:
            app.processEvents()
            ok = window.grab().save(screenshot)
            app.exit(0 if ok else 1)

        window.loaded.connect(lambda: QTimer.singleShot(300, shoot))
    code = app.exec()
    window.runner.wait(60_000)  # background work (the start-up verify) ends before Qt does
    window.ctx.db.dispose()
    return code
