"""The queue's table model: the ordered request ids of one indexed query, and their rows fetched
a page at a time off the GUI thread (Anki's browser table, with the fetch made asynchronous).

`data()` only looks up pre-formatted strings: a page not fetched yet shows blank cells while
its fetch runs, and fills in when it arrives (a `dataChanged` for its rows)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from reviewer.context import Context
from reviewer.services.queries import COLUMNS, queue_rows
from reviewer.ui.ops import Op, OpHost
from reviewer.vocabulary import Recommendation, Status

PAGE = 200
Row = tuple[str, ...]
ENUM_COLUMNS = {4}  # org type: stored values shown as words
LABELLED = {5: Recommendation, 6: Status}  # columns of a declared vocabulary: their labels
TIME_COLUMNS = {8}


def format_cell(column: int, value: Any) -> str:
    """Pre-format a cell once per page fetch, so data() only looks it up."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    vocabulary = LABELLED.get(column)
    if vocabulary is not None:
        return vocabulary.label_of(text)
    if column in ENUM_COLUMNS:
        return text.replace("_", " ")
    if column in TIME_COLUMNS:
        return text[:16].replace("T", " ")
    return text


def format_rows(ids: list[int], rows: dict[int, tuple[Any, ...]]) -> list[Row]:
    empty: Row = ("",) * len(COLUMNS)
    return [tuple(format_cell(c, v) for c, v in enumerate(rows[i])) if i in rows else empty
            for i in ids]  # fmt: skip


def fetch_page(ctx: Context, ids: list[int]) -> list[Row]:
    """One page of formatted rows (runs on a worker)."""
    with ctx.db.read() as session:
        return format_rows(ids, queue_rows(session, ids))


class QueueModel(QAbstractTableModel):
    def __init__(self, ctx: Context, host: OpHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.host = host
        self.ids: list[int] = []
        self.pages: dict[int, list[Row]] = {}
        self._asked: set[int] = set()
        self._generation = 0

    def set_ids(self, ids: list[int], first_page: list[Row] | None = None) -> None:
        """A new result: its ids, and (fetched with them) the rows of its first page."""
        self.beginResetModel()
        self._generation += 1
        self.ids = ids
        self.pages = {0: first_page} if first_page is not None else {}
        self._asked = set(self.pages)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = index.row()
        page = self.pages.get(row // PAGE)
        if page is None:
            self._ask(row // PAGE)
            return ""
        return page[row % PAGE][index.column()]

    def reference(self, row: int) -> str | None:
        """The reference shown in a row, None while its page is on its way."""
        page = self.pages.get(row // PAGE)
        return page[row % PAGE][0] if page is not None else None

    def _ask(self, number: int) -> None:
        if number in self._asked:
            return
        self._asked.add(number)
        generation, ctx = self._generation, self.ctx
        ids = self.ids[number * PAGE : (number + 1) * PAGE]

        def arrived(rows: list[Row]) -> None:
            if generation != self._generation:
                return  # the queue changed meanwhile; a new fetch will come
            self.pages[number] = rows
            first = number * PAGE
            self.dataChanged.emit(self.index(first, 0), self.index(first + len(rows) - 1, len(COLUMNS) - 1))

        Op(self.host, lambda _p: fetch_page(ctx, ids), title="Loading the queue").success(arrived).run()
