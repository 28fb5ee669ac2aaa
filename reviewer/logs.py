"""Logging: warnings from anywhere and Reviewer's own events, to a rotating file in the user's
data folder (stderr when that folder cannot be written)."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler

from reviewer import settings

_HANDLER_NAME = "reviewer-log"


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
        handler: logging.Handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                       encoding="utf-8")  # fmt: skip
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("reviewer").setLevel(logging.INFO)
