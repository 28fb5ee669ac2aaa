"""Starting the desktop application, without importing Qt until a display is known."""

from __future__ import annotations

import argparse
import os
import sys


def display_available() -> bool:
    """Qt aborts the process when it finds no display; say so instead."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run_gui(args: argparse.Namespace) -> int:
    if not display_available():
        print(
            "reviewer: no display found (DISPLAY and WAYLAND_DISPLAY are not set); "
            "run it on a desktop, or set QT_QPA_PLATFORM=offscreen to run without a screen",
            file=sys.stderr,
        )
        return 2
    from reviewer.ui.main_window import main as ui_main

    return ui_main(args)
