"""The window's own state, kept in QSettings (per user, per machine): every key declared here
once, with its type, so nothing else spells a key."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

WINDOW_GEOMETRY = "window/geometry"  # QByteArray: saveGeometry()
QUEUE_HEADER = "queue/header-2"  # QByteArray: the queue header's saveState() (columns reordered)
QUEUE_HIDDEN = "queue/hidden"  # list of column numbers the reviewer hid (the header's menu)
DARK_THEME = "view/dark"  # bool; unset: follow the system
ASKED_ORGANISATION = "prompt/organisation"  # str: the database an admin was asked the name for


def load_bytes(key: str) -> QByteArray | None:
    value = QSettings().value(key)
    return value if isinstance(value, QByteArray) else None


def save(key: str, value: object) -> None:
    QSettings().setValue(key, value)


def load_text(key: str) -> str | None:
    value = QSettings().value(key)
    return value if isinstance(value, str) else None


def dark_theme() -> bool | None:
    """The reviewer's choice of theme, None until one was made."""
    value = QSettings().value(DARK_THEME)
    if value is None:
        return None
    return str(value).lower() in ("true", "1")


def hidden_columns() -> list[int]:
    value = QSettings().value(QUEUE_HIDDEN)
    values = value if isinstance(value, list) else [value] if value is not None else []
    return [int(v) for v in values if str(v).isdigit()]


def save_hidden_columns(columns: list[int]) -> None:
    QSettings().setValue(QUEUE_HIDDEN, [str(c) for c in columns])
