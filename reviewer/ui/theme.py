"""Light (the platform's) or dark (Fusion with a dark palette) theme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

_DARK = {
    QPalette.ColorRole.Window: "#1f2328", QPalette.ColorRole.WindowText: "#e6edf3",
    QPalette.ColorRole.Base: "#161b22", QPalette.ColorRole.AlternateBase: "#1f2328",
    QPalette.ColorRole.Text: "#e6edf3", QPalette.ColorRole.Button: "#2d333b",
    QPalette.ColorRole.ButtonText: "#e6edf3", QPalette.ColorRole.Highlight: "#2f81f7",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2d333b",
    QPalette.ColorRole.ToolTipText: "#e6edf3", QPalette.ColorRole.PlaceholderText: "#8b949e",
    QPalette.ColorRole.Link: "#58a6ff", QPalette.ColorRole.LinkVisited: "#bc8cff",  # readable on dark
}  # fmt: skip
# Disabled controls: dimmed text on a flatter button, so they never look enabled.
_DARK_DISABLED = {
    QPalette.ColorRole.WindowText: "#6e7681", QPalette.ColorRole.Text: "#6e7681",
    QPalette.ColorRole.ButtonText: "#6e7681", QPalette.ColorRole.Button: "#24292f",
    QPalette.ColorRole.Base: "#1b1f24",
}  # fmt: skip


def system_is_dark() -> bool:
    try:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # Qt before 6.5
        return False


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


def apply_theme(dark: bool) -> None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if not dark:
        app.setPalette(app.style().standardPalette())
        return
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
