"""A stand-in for the window's dialogs (reviewer.ui.dialogs): nothing modal ever blocks a test."""

from __future__ import annotations


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
