"""The queue's table model: a window on one query (`queries.QueueWindow`: how many requests
it selects), whose rows are fetched a page at a time off the GUI thread, each page an indexed
walk of the query's order from its first row (Anki's browser table, with the fetch made
asynchronous and the ids read a page at a time: a million never come to the GUI at once).

`data()` only looks up pre-formatted strings: a page not fetched yet shows blank cells while
its fetch runs, and fills in when it arrives (a `dataChanged` for its rows). The "Waiting"
column's age and its flag (past the service level) are worked out with the page, against the
setting read in the same transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from reviewer import ageing
from reviewer.context import Context
from reviewer.request import terminal_safe
from reviewer.services.queries import (
    COLUMNS,
    WAITING_COLUMN,
    QueueQuery,
    QueueWindow,
    column_of,
    queue_page,
    queue_position,
    queue_rows,
    queue_window,
    service_level,
)
from reviewer.ui.ops import Op, OpHost
from reviewer.ui.request_view import ICONS
from reviewer.vocabulary import Recommendation, Status, value_label

PAGE = 200
Row = tuple[str, ...]
REC_COLUMN = column_of("Recommendation")
ENUM_COLUMNS = {column_of("Org type")}  # stored values shown as words
LABELLED = {REC_COLUMN: Recommendation, column_of("Status"): Status}  # a declared vocabulary: its labels
TIME_COLUMNS = {column_of("Updated")}
FLAG = len(COLUMNS)  # a row's last item, not a column: why its wait is flagged, or ""
EMPTY: Row = ("",) * (FLAG + 1)  # a row whose request is not there (left the query meanwhile)
PAST_BACKGROUND, PAST_FOREGROUND = QColor("#fee4e2"), QColor("#b42318")
FLAG_ROLES = (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole)


# Each recommendation's mark in the queue: its colour and its glyph in the request view
# (`request_view.ICONS`), so that it does not rest on colour alone.
_ICONS: dict[str, QIcon] = {}


def recommendation_icon(label: str) -> QIcon | None:
    """The mark of a recommendation shown by its label (made once, on the GUI thread)."""
    if not _ICONS:
        for term in Recommendation:
            pixmap = QPixmap(32, 32)
            pixmap.fill(QColor(0, 0, 0, 0))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(QColor(term.colour))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(1, 1, 30, 30)
            font = QFont()
            font.setBold(True)
            font.setPixelSize(20)
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, ICONS.get(term.value, "·"))
            painter.end()
            _ICONS[term.label] = QIcon(pixmap)
    return _ICONS.get(label)


def format_cell(column: int, value: Any) -> str:
    """Pre-format a cell once per page fetch, so data() only looks it up."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    vocabulary = LABELLED.get(column)
    if vocabulary is not None:
        return vocabulary.label_of(text)
    if column in ENUM_COLUMNS:
        return value_label(text)
    if column in TIME_COLUMNS:
        return text[:16].replace("T", " ") + " UTC"  # as every time is shown
    return terminal_safe(text)  # a bidi override or a zero-width space shown, never obeyed


def format_row(values: tuple[Any, ...], level: int, today: dt.date) -> Row:
    """The cells of a row, its age in working days in "Waiting" (for a request waiting on
    us), and last its flag."""
    cells = [format_cell(c, v) for c, v in enumerate(values)]
    since = values[WAITING_COLUMN]
    flag = ""
    if isinstance(since, dt.date):
        age = ageing.working_days(since, today)
        cells[WAITING_COLUMN] = f"{age} wd"
        if ageing.past_level(age, level):
            flag = f"past the service level of {level} working days ({age} working days waiting)"
    return (*cells, flag)


def format_rows(ids: list[int], rows: dict[int, tuple[Any, ...]], level: int = ageing.DEFAULT_SERVICE_LEVEL,
                today: dt.date | None = None) -> list[Row]:  # fmt: skip
    today = today or dt.datetime.now(dt.UTC).date()
    return [format_row(rows[i], level, today) if i in rows else EMPTY for i in ids]


def page_rows(session: Any, window: QueueWindow, number: int) -> tuple[list[int], list[Row]]:
    """Page `number` of the window: its ids and formatted rows, as many rows as the window
    has there (blank ones for requests that have left the query since it was counted)."""
    ids = queue_page(session, window, number * PAGE, PAGE)
    rows = format_rows(ids, queue_rows(session, ids), service_level(session))
    size = max(0, min(PAGE, window.count - number * PAGE))
    return ids, rows[:size] + [EMPTY] * (size - len(rows))


def fetch_page(ctx: Context, window: QueueWindow, number: int) -> tuple[list[int], list[Row]]:
    """One page of the window (runs on a worker)."""
    with ctx.db.read() as session:
        return page_rows(session, window, number)


def load_window(session: Any, q: QueueQuery, user: str, current: int | None
                ) -> tuple[QueueWindow, list[int], list[Row], int | None]:  # fmt: skip
    """A new window on the queue (runs on a worker): what `q` selects, its first page, and
    the row of request `current` in it (None when it is not in the window)."""
    window = queue_window(session, q, user)
    ids, rows = page_rows(session, window, 0)
    position = None
    if current is not None:
        position = ids.index(current) if current in ids else queue_position(session, window, current)
    return window, ids, rows, position


class QueueModel(QAbstractTableModel):
    page_arrived = Signal(int)  # the number of a page whose rows just came

    def __init__(self, ctx: Context, host: OpHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.host = host
        self.window: QueueWindow | None = None
        self.pages: dict[int, list[Row]] = {}
        self.page_ids: dict[int, list[int]] = {}
        self._asked: set[int] = set()
        self._generation = 0

    def set_window(self, window: QueueWindow, first_ids: list[int], first_rows: list[Row]) -> None:
        """A new result: its window, and (fetched with it) the ids and rows of its first page."""
        self.beginResetModel()
        self._generation += 1
        self.window = window
        self.pages = {0: first_rows}
        self.page_ids = {0: first_ids}
        self._asked = {0}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() or self.window is None else self.window.count

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DecorationRole and index.column() == REC_COLUMN:
            label = self._cell(index)
            return recommendation_icon(label) if label else None
        if role == Qt.ItemDataRole.ToolTipRole and index.column() != WAITING_COLUMN:
            return self._cell(index) or None  # the whole text of a clipped cell
        if role != Qt.ItemDataRole.DisplayRole:
            return self._flagged(index, role)
        row = index.row()
        page = self.pages.get(row // PAGE)
        if page is None:
            self._ask(row // PAGE)
            return ""
        return page[row % PAGE][index.column()]

    def _cell(self, index: QModelIndex | QPersistentModelIndex, item: int | None = None) -> str:
        """A cell's text (or the row's `item`, as FLAG) when its page is here ("" otherwise,
        nothing asked)."""
        page = self.pages.get(index.row() // PAGE)
        return page[index.row() % PAGE][index.column() if item is None else item] if page is not None else ""

    def _flagged(self, index: QModelIndex | QPersistentModelIndex, role: int) -> Any:
        """The "Waiting" cell of a request past the service level: red, with a tooltip."""
        if index.column() != WAITING_COLUMN or role not in FLAG_ROLES:
            return None
        flag = self._cell(index, FLAG)
        if not flag:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return flag
        return PAST_BACKGROUND if role == Qt.ItemDataRole.BackgroundRole else PAST_FOREGROUND

    def reference(self, row: int) -> str | None:
        """The reference shown in a row, None while its page is on its way."""
        page = self.pages.get(row // PAGE)
        return (page[row % PAGE][0] or None) if page is not None else None

    def request_id(self, row: int) -> int | None:
        """The id of the request in a row, None while its page is on its way (it is asked)."""
        ids = self.page_ids.get(row // PAGE)
        if ids is None:
            self._ask(row // PAGE)
            return None
        return ids[row % PAGE] if row % PAGE < len(ids) else None

    def row_of(self, rid: int) -> int | None:
        """The row of request `rid` among the pages fetched, None if none holds it."""
        for number, ids in self.page_ids.items():
            if rid in ids:
                return number * PAGE + ids.index(rid)
        return None

    def _ask(self, number: int) -> None:
        if number in self._asked:
            return
        self._asked.add(number)
        generation, ctx, window = self._generation, self.ctx, self.window
        if window is None:
            return

        def arrived(page: tuple[list[int], list[Row]]) -> None:
            if generation != self._generation:
                return  # the queue changed meanwhile; a new fetch will come
            self.page_ids[number], self.pages[number] = page
            first, rows = number * PAGE, page[1]
            if rows:
                self.dataChanged.emit(
                    self.index(first, 0), self.index(first + len(rows) - 1, len(COLUMNS) - 1)
                )
            self.page_arrived.emit(number)

        Op(self.host, lambda _p: fetch_page(ctx, window, number), title="Loading the queue").success(
            arrived
        ).run()
