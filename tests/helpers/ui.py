"""A stand-in for the window's dialogs (reviewer.ui.dialogs): nothing modal ever blocks a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class FakeDialogs:
    """Records what the window would have shown, answers what a user would have chosen."""

    def __init__(self) -> None:
        self.parent = None
        self.infos: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.files: list[str] = []
        self.folder: str | None = None
        self.asked: list[tuple[str, str, str]] = []
        self.answer: str | None = None  # what the user types when asked for a text
        self.opened: list[str] = []  # files handed to the desktop's viewer
        self.questions: list[tuple[str, str]] = []  # what `confirm` asked
        self.agree = True  # what the user answers when asked to confirm

    secret: str | None = None  # the passphrase the user types
    save_path: str | None = None  # the file the user chooses to save to

    def ask_secret(self, title: str, label: str) -> str | None:
        self.asked.append((title, label, ""))
        return self.secret

    def save_file(self, title: str, name: str, pattern: str) -> str | None:
        return self.save_path

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        self.asked.append((title, label, text))
        return self.answer

    def confirm(self, title: str, question: str) -> bool:
        self.questions.append((title, question))
        return self.agree

    def info(self, title: str, text: str) -> None:
        self.infos.append((title, text))

    def error(self, title: str, exc: BaseException) -> None:
        self.errors.append((title, str(exc)))

    def open_files(self, title: str) -> list[str]:
        return self.files

    def choose_folder(self, title: str) -> str | None:
        return self.folder

    def open_externally(self, path: str) -> None:
        self.opened.append(path)


@contextmanager
def opens(qtbot: Any, window: Any, reference: str, timeout: int = 10_000) -> Iterator[None]:
    """Around what the block does, wait until the window has loaded and shown `reference`
    (`request_loaded` carries the reference shown): a load the window started by itself, its
    first row when the queue takes the focus, may end while the block's own is on its way, and
    its signal is not this one."""
    with qtbot.waitSignal(window.request_loaded, timeout=timeout,
                          check_params_cb=lambda shown: shown == reference):  # fmt: skip
        yield


def open_reference(qtbot: Any, window: Any, reference: str) -> None:
    """Select a request in the queue and wait until it is open."""
    with opens(qtbot, window, reference):
        window.select_reference(reference)


def shows(qtbot: Any, window: Any, reference: str, timeout: int = 10_000) -> None:
    """Wait until the window shows `reference` open, whichever load showed it: Enter in the
    search box opens the first match unless the queue, taking the focus, already opened it."""
    qtbot.waitUntil(lambda: window.view.data is not None and window.view.data["reference"] == reference
                    and window.panel.reference == reference, timeout=timeout)  # fmt: skip
