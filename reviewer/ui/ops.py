"""Background work, in the manner of Anki's CollectionOp / QueryOp.

    Op(host, lambda progress: services.do(...)).success(show).with_progress(cancel=True).run()

`Op` runs its function off the GUI thread (reads on a small pool, writes on one worker, as
SQLite has one writer) and delivers the result, or the error, back on the GUI thread. The
function never touches widgets. Failure goes by default through the host's dialog seam,
titled with the op's title; `with_progress` shows the host's progress bar and Cancel, and the
function reports through the `Progress` it is given (which raises Cancelled once the user
has asked to stop, so the transaction it runs in rolls back).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from reviewer.errors import Cancelled
from reviewer.ui.dialogs import Dialogs

T = TypeVar("T")


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], object]) -> None:
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
    """Runs functions off the GUI thread; `busy_changed` tells whether anything is pending."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reads = QThreadPool(self)
        self.reads.setMaxThreadCount(2)
        self.writes = QThreadPool(self)
        self.writes.setMaxThreadCount(1)
        self._pending: set[_Task] = set()

    def run(self, fn: Callable[[], object], done: Callable[[object], None],
            failed: Callable[[BaseException], None], write: bool = False) -> None:  # fmt: skip
        task = _Task(fn)
        self._pending.add(task)

        def finish(callback: Callable[[object], None], value: object) -> None:
            self._pending.discard(task)
            if not self._pending:
                self.busy_changed.emit(False)
            callback(value)

        task.signals.done.connect(lambda v: finish(done, v))
        task.signals.failed.connect(lambda e: finish(failed, e))  # type: ignore[arg-type]
        self.busy_changed.emit(True)
        (self.writes if write else self.reads).start(task)

    def wait(self, msecs: int = 30_000) -> None:
        self.reads.waitForDone(msecs)
        self.writes.waitForDone(msecs)


class Progress:
    """What a running op reports through (from its worker thread)."""

    def __init__(self, emit: Callable[[int, int], None] | None = None) -> None:
        self._emit = emit
        self._cancel = threading.Event()

    def __call__(self, done: int, total: int = 0) -> None:
        """Report `done` of `total` (0: unknown); raise Cancelled once cancel() was asked."""
        if self._emit is not None:
            self._emit(done, total)
        if self._cancel.is_set():
            raise Cancelled("stopped by the user: nothing of it was kept")

    def cancel(self) -> None:
        self._cancel.set()


class OpHost(Protocol):
    """What an op needs of the window that starts it."""

    runner: Runner
    dialogs: Dialogs

    def begin_progress(self, cancel: bool) -> Progress: ...

    def end_progress(self) -> None: ...


class Op(Generic[T]):
    def __init__(self, host: OpHost, fn: Callable[[Progress], T], *, write: bool = False,
                 title: str = "Reviewer") -> None:  # fmt: skip
        self.host = host
        self.fn = fn
        self.write = write
        self.title = title
        self._success: Callable[[T], None] = lambda _result: None
        self._failure: Callable[[BaseException], None] | None = None
        self._after: Callable[[], None] = lambda: None
        self._progress: bool | None = None  # None: no progress; else whether it can be cancelled

    def success(self, callback: Callable[[T], None]) -> Op[T]:
        self._success = callback
        return self

    def failure(self, callback: Callable[[BaseException], None]) -> Op[T]:
        """Replace the default failure (the dialog seam's error, titled with the op's title)."""
        self._failure = callback
        return self

    def finally_(self, callback: Callable[[], None]) -> Op[T]:
        """Run after success or failure (on the GUI thread)."""
        self._after = callback
        return self

    def with_progress(self, cancel: bool = False) -> Op[T]:
        self._progress = cancel
        return self

    def run(self) -> None:
        progress = self.host.begin_progress(self._progress) if self._progress is not None \
            else Progress()  # fmt: skip
        shows_progress = self._progress is not None

        def done(result: object) -> None:
            if shows_progress:
                self.host.end_progress()
            try:
                self._success(result)  # type: ignore[arg-type]
            finally:
                self._after()

        def failed(exc: BaseException) -> None:
            if shows_progress:
                self.host.end_progress()
            try:
                if self._failure is not None:
                    self._failure(exc)
                else:
                    self.host.dialogs.error(self.title, exc)
            finally:
                self._after()

        fn = self.fn
        self.host.runner.run(lambda: fn(progress), done, failed, write=self.write)
