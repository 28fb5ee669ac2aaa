"""Starting the desktop application: the display check, then the context, then the window.

Qt is imported only once a display is known (Qt aborts the process when it finds none)."""

from __future__ import annotations

import os
import sys
import time

from reviewer.context import open_context
from reviewer.errors import ReviewerError


def display_available() -> bool:
    """Qt aborts the process when it finds no display; say so instead."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run_gui(url: str | None = None, user: str | None = None, screenshot: str | None = None) -> int:
    if not display_available():
        print(
            "reviewer: no display found (DISPLAY and WAYLAND_DISPLAY are not set); "
            "run it on a desktop, or set QT_QPA_PLATFORM=offscreen to run without a screen",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    try:
        ctx = open_context(url, user, write=True)  # migrates a database that is behind
    except ReviewerError as exc:
        print(f"reviewer: {exc}", file=sys.stderr)
        return exc.exit_code
    opening = time.perf_counter() - started
    if ctx.backup is not None:
        print(f"database migrated; the previous file was copied to {ctx.backup}", file=sys.stderr)
    if ctx.created:
        print(f"created database {ctx.db.describe()} with first account {ctx.actor.name!r}")
    # PySide6 is loaded only for the window: the command line never needs it.
    from reviewer.ui.app import run

    return run(ctx, screenshot, opening)
