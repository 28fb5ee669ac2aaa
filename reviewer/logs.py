"""Logging: warnings from anywhere and Reviewer's own events, to a rotating file in the user's
data folder (stderr when that folder cannot be written)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from reviewer import settings

_HANDLER_NAME = "reviewer-log"
MAX_BYTES = 2_000_000
BACKUPS = 3


class RotatingFile(logging.FileHandler):
    """The log file, renamed to `.1` (`.1` to `.2`, ..., up to BACKUPS) when the next record
    would take it to MAX_BYTES: what `logging.handlers.RotatingFileHandler` does, with its
    steps, without that module (which loads socket and pickle: 5 ms at every start)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        super().__init__(path, encoding="utf-8")
        self.max_bytes, self.backups = max_bytes, backups

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._full(record):
                self._rotate()
        except Exception:  # as logging's own handlers do: a log problem never stops the program
            self.handleError(record)
            return
        super().emit(record)

    def _full(self, record: logging.LogRecord) -> bool:
        if os.path.exists(self.baseFilename) and not os.path.isfile(self.baseFilename):
            return False  # never rename what is not a regular file
        if self.stream is None:
            self.stream = self._open()
        self.stream.seek(0, 2)
        return self.stream.tell() + len(self.format(record) + "\n") >= self.max_bytes

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for i in range(self.backups - 1, 0, -1):
            older, newer = f"{self.baseFilename}.{i}", f"{self.baseFilename}.{i + 1}"
            if os.path.exists(older):
                if os.path.exists(newer):
                    os.remove(newer)
                os.rename(older, newer)
        first = f"{self.baseFilename}.1"
        if os.path.exists(first):
            os.remove(first)
        if os.path.exists(self.baseFilename):
            os.rename(self.baseFilename, first)
        self.stream = self._open()


def setup_logging() -> None:
    """Libraries log warnings and worse, Reviewer's modules their events too (a migration's
    dozen INFO lines from Alembic stay out). Called again, it keeps one handler: the one for
    the current data folder."""
    root = logging.getLogger()
    path = settings.log_file()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        if getattr(old, "baseFilename", None) == str(path.absolute()):
            return
        root.removeHandler(old)
        old.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFile(path)
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("reviewer").setLevel(logging.INFO)
