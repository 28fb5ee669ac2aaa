"""The one seam for prompts: message boxes and file dialogs open here only, and tests give a
replacement, so nothing modal ever blocks them."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from reviewer import settings
from reviewer.errors import ReviewerError

log = logging.getLogger(__name__)


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
                          f"Unexpected error: {exc}\n\nThe details are in {settings.log_file()}.",
                          parent=self.parent)  # fmt: skip
        box.setDetailedText(details)
        box.exec()

    def confirm(self, title: str, question: str) -> bool:
        """A yes/no question whose safe answer (No) is the default: True only for Yes."""
        answer = QMessageBox.question(self.parent, title, question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def open_files(self, title: str) -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(
            self.parent, title, "", "Request files (*.json *.jsonl *.csv)"
        )
        return list(files)

    def open_rule_set(self, title: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", "Rule sets (*.toml)")
        return path or None

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self.parent, title, label, text=text)
        return value if ok else None

    def ask_secret(self, title: str, label: str) -> str | None:
        value, ok = QInputDialog.getText(self.parent, title, label, QLineEdit.EchoMode.Password)
        return value if ok and value else None

    def save_file(self, title: str, name: str, pattern: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, name, pattern)
        return path or None

    def choose_folder(self, title: str) -> str | None:
        folder = QFileDialog.getExistingDirectory(self.parent, title)
        return folder or None

    def open_externally(self, path: str) -> None:
        """Hand a file (an attachment's private copy) to the desktop's viewer for its type:
        Reviewer never renders or runs it itself."""
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            QMessageBox.warning(self.parent, "Open the attachment", "No application on this "
                                f"desktop opens it; it was saved as {path}.")  # fmt: skip


class Unattended(Dialogs):
    """For `--screenshot`, where nobody answers: a message is printed, and an error ends the
    run with its exit code (70 for a bug, as the command line), instead of a modal box that
    would wait for ever."""

    def info(self, title: str, text: str) -> None:
        print(f"{title}: {text}", file=sys.stderr, flush=True)

    def error(self, title: str, exc: BaseException) -> None:
        if not isinstance(exc, ReviewerError):
            log.error("%s failed:\n%s", title, getattr(exc, "__traceback_text__", repr(exc)))
        print(f"reviewer: {title}: {exc}", file=sys.stderr, flush=True)
        QApplication.exit(exc.exit_code if isinstance(exc, ReviewerError) else 70)
