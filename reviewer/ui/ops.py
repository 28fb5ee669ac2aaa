"""Background work and the one seam for prompts.

`Runner` runs a function off the GUI thread (reads on a pool, writes on a single worker,
since SQLite has one writer) and delivers its result or its error back on the GUI thread;
the function never touches widgets. `Dialogs` is the only place that opens message boxes and
file dialogs; tests replace it so nothing modal ever blocks them.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from reviewer import settings as config
from reviewer.errors import ReviewerError

log = logging.getLogger(__name__)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class Runner(QObject):
    """Runs functions off the GUI thread; `busy` tells whether anything is pending."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reads = QThreadPool(self)
        self.reads.setMaxThreadCount(2)
        self.writes = QThreadPool(self)
        self.writes.setMaxThreadCount(1)
        self._pending: set[_Task] = set()

    def run(self, fn: Callable[[], Any], done: Callable[[Any], None],
            failed: Callable[[BaseException], None], write: bool = False) -> None:
        task = _Task(fn)
        self._pending.add(task)

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            self._pending.discard(task)
            if not self._pending:
                self.busy_changed.emit(False)
            callback(value)

        task.signals.done.connect(lambda v: finish(done, v))
        task.signals.failed.connect(lambda e: finish(failed, e))
        self.busy_changed.emit(True)
        (self.writes if write else self.reads).start(task)

    def wait(self, msecs: int = 30_000) -> None:
        self.reads.waitForDone(msecs)
        self.writes.waitForDone(msecs)


class Dialogs:
    """Message boxes and file dialogs, in one place (tests give a replacement)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def info(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def error(self, title: str, exc: BaseException) -> None:
        """A known error in plain words; anything else is a bug: logged, with the log named."""
        if isinstance(exc, ReviewerError):
            QMessageBox.warning(self.parent, title, str(exc))
            return
        details = getattr(exc, "__traceback_text__", repr(exc))
        log.error("%s failed:\n%s", title, details)
        box = QMessageBox(QMessageBox.Icon.Critical, title,
                          f"Unexpected error: {exc}\n\nThe details are in {config.log_file()}.",
                          parent=self.parent)  # fmt: skip
        box.setDetailedText(details)
        box.exec()

    def open_files(self, title: str) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(
            self.parent, title, "", "Request files (*.json *.jsonl *.csv)")
        return list(files)

    def open_rule_set(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", "Rule sets (*.toml)")
        return path or None

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        from PySide6.QtWidgets import QInputDialog

        value, ok = QInputDialog.getText(self.parent, title, label, text=text)
        return value if ok else None

    def choose_folder(self, title: str) -> str | None:
        folder = QFileDialog.getExistingDirectory(self.parent, title)
        return folder or None
