"""The window's tabs, each page in a scroll area when it can be taller or wider than the room
it gets (a 1024x700 screen, a 150 % font): nothing is clipped or off-screen, it scrolls."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


def scrolling(widget: QWidget, name: str) -> QScrollArea:
    """`widget` in a scroll area that lets it grow to the room it has and scrolls beyond."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    area.setAccessibleName(name)
    return area


class PageTabs(QTabWidget):
    """Tabs whose pages may sit in a scroll area: `currentWidget`, `setCurrentWidget` and
    `indexOf` speak of the page itself, not of its scroll area (calls from Python only)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._holders: dict[int, QScrollArea] = {}  # id(page): its scroll area

    def add_page(self, page: QWidget, text: str, scroll: bool = False) -> int:
        if not scroll:
            return self.addTab(page, text)
        holder = self._holders[id(page)] = scrolling(page, text.replace("&", ""))
        return self.addTab(holder, text)

    def indexOf(self, page: QWidget) -> int:  # noqa: N802 - Qt's name
        return super().indexOf(self._holders.get(id(page), page))

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802 - Qt's name
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

    def currentWidget(self) -> QWidget:  # noqa: N802 - Qt's name
        holder = super().currentWidget()
        if isinstance(holder, QScrollArea) and self._holders.get(id(holder.widget())) is holder:
            return holder.widget()
        return holder
