"""Customers seen whole (issue 17), the window's Customers tab: the list of customers (search
on the folded name; number, name, country, and how many requests, open ones and approved
ones) over the customer chosen: its number, name and country, its deployment in total over
the requests that count, every request with its standing decision and open conditions
(Enter or a double-click opens one), and the open conditions with their due dates.

Link, unlink and merge are asked for here (`action_requested`) and run by the window, as
every read that fills this tab. Rows are formatted once, on the worker that read them:
data() only looks them up. Customer text is escaped."""

from __future__ import annotations

from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from reviewer import request as rq
from reviewer.export.text import utc_text
from reviewer.services.customers import CustomerRow
from reviewer.ui.markup import escape
from reviewer.vocabulary import Outcome, Recommendation, Status, field_label

CUSTOMER_COLUMNS = ("Number", "Name", "Country", "Requests", "Open", "Approved")
# The long column last: in a narrow pane the others stay in view (its whole text in the tooltip).
REQUEST_COLUMNS = ("Reference", "Status", "Recommendation", "Counts", "Conditions", "Decision")
NUMBERS = {3, 4, 5}  # customer columns aligned right
COUNTS_COLUMN, CONDITIONS_COLUMN = 3, 4
OPEN_SCHEME = "request"  # the links of the open conditions: request:REF opens REF
OVERDUE = QColor("#b42318")
NOT_COUNTED = QColor("#667085")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ListEntry(NamedTuple):
    """A customer of the list: its id, its cells, and the keys its columns sort by."""

    id: int
    cells: tuple[str, ...]
    keys: tuple[Any, ...]


class RequestEntry(NamedTuple):
    """A request of the customer shown: its cells, its tooltip, and its flags."""

    reference: str
    cells: tuple[str, ...]
    tip: str
    overdue: bool
    counts: bool


def list_entries(rows: list[CustomerRow]) -> list[ListEntry]:
    """The list's rows, formatted (on the worker that read them)."""
    return [ListEntry(r["id"],
                      (r["number"], r["name"], r["country"] or "—", f"{r['requests']:,}",
                       f"{r['open']:,}", f"{r['approved']:,}"),
                      (r["id"], " ".join(rq.fold(r["name"]).split()), r["country"] or "",
                       r["requests"], r["open"], r["approved"]))
            for r in rows]  # fmt: skip


def figure_text(total: dict[str, Any]) -> str:
    """A figure of the deployment in total: a sum, or at least a sum when a part is unknown."""
    if total["complete"]:
        return f"{total['total']:,}"
    if not any(p["value"] is not None for p in total["parts"]):
        return "unknown"
    return f"at least {total['total']:,} (some unknown)"


def _decision_text(r: dict[str, Any]) -> str:
    d, p = r["decision"], r["pending_decision"]
    if d is not None:
        return f"{Outcome.label_of(d['outcome'])}, {str(d['decided_at'])[:10]}"
    if p is not None:
        return f"{Outcome.label_of(p['outcome'])} (awaiting check)"
    return "—"


def _request_tip(r: dict[str, Any]) -> str:
    lines = [f"{r['reference']}: {r['title']} (version {r['version']}, received {r['received_on']})"]
    if r["pinned"]:
        lines.append("linked to this customer by hand")
    lines.append("counts towards the deployment in total" if r["counts"] else
                 "not counted in the deployment in total (neither open nor approved)")  # fmt: skip
    d, p = r["decision"], r["pending_decision"]
    if d is not None:
        lines.append(f"decision {d['number']}: {Outcome.label_of(d['outcome'])}, "
                     f"{utc_text(d['decided_at'])}"
                     + (f", re-review {d['re_review']}" if d["re_review"] else ""))  # fmt: skip
    if p is not None:
        lines.append(f"decision {p['number']}: {Outcome.label_of(p['outcome'])}, awaiting its check")
    for c in r["open_conditions"]:
        due = f" due {c['due']}" + (" (OVERDUE)" if c["overdue"] else "") if c["due"] else ""
        lines.append(f"open condition {c['id']} [{c['rule']}]{due}: {c['text']}")
    return "\n".join(lines)


def request_entries(detail: dict[str, Any]) -> list[RequestEntry]:
    """The requests of a customer (`customers.detail`), formatted."""
    out = []
    for r in detail["requests"]:
        conds = r["open_conditions"]
        late = sum(1 for c in conds if c["overdue"])
        conditions = "—" if not conds else f"{len(conds)} open" + (f", {late} overdue" if late else "")
        rec = Recommendation.label_of(r["recommendation"]) if r["recommendation"] else "—"
        cells = (r["reference"], Status.label_of(r["status"]), rec, "yes" if r["counts"] else "no",
                 conditions, _decision_text(r))  # fmt: skip
        out.append(RequestEntry(r["reference"], cells, _request_tip(r), bool(late), bool(r["counts"])))
    return out


def header_html(detail: dict[str, Any]) -> str:
    requests = detail["requests"]
    counting = sum(1 for r in requests if r["counts"])
    merged = (f" · merged into it: {escape(', '.join(detail['merged_from']))}"
              if detail["merged_from"] else "")  # fmt: skip
    return (f"<h3>{escape(detail['number'])} — {escape(detail['name'])}</h3>"
            f"<p>Country <b>{escape(detail['country'] or 'not given')}</b> · recorded "
            f"{escape(utc_text(detail['created_at']))} by {escape(detail['created_by'])}{merged}"
            f"<br>{len(requests)} request{'' if len(requests) == 1 else 's'}, {counting} counted "
            "in the deployment in total (the open and the approved ones)</p>")  # fmt: skip


def totals_html(detail: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(field_label('scale.' + name))}</td><td>&nbsp;&nbsp;</td>"
                   f"<td align=right><b>{escape(figure_text(t))}</b></td></tr>"
                   for name, t in detail["total"].items())  # fmt: skip
    return f"<b>Deployment in total</b><table cellspacing=0 cellpadding=1>{rows}</table>"


def totals_tip(detail: dict[str, Any]) -> str:
    """Each figure's parts, request by request (unknown ones named)."""
    return "\n".join(
        f"{field_label('scale.' + name)}: " + (", ".join(
            f"{p['reference']} {'unknown' if p['value'] is None else format(p['value'], ',')}"
            for p in t["parts"]) or "no request counts")
        for name, t in detail["total"].items())  # fmt: skip


def conditions_html(detail: dict[str, Any]) -> str:
    """The open conditions of the customer's standing decisions, by due date (none last)."""
    found = [(c, r["reference"]) for r in detail["requests"] for c in r["open_conditions"]]
    if not found:
        return "<p><b>Open conditions</b>: none</p>"
    found.sort(key=lambda x: (x[0]["due"] is None, x[0]["due"] or "", x[1], x[0]["id"]))
    items = []
    for c, ref in found:
        due = f"due {escape(c['due'])}" if c["due"] else "no due date"
        if c["overdue"]:
            due = f'<span style="color:{OVERDUE.name()}"><b>{due}: overdue</b></span>'
        items.append(f'<li><a href="{OPEN_SCHEME}:{escape(ref, quote=True)}">{escape(ref)}</a> '
                     f"#{c['id']} [{escape(c['rule'])}] {due} — {escape(c['text'])}</li>")  # fmt: skip
    return f"<p><b>Open conditions</b> ({len(found)})</p><ul>{''.join(items)}</ul>"


class _EntriesModel(QAbstractTableModel):
    """A table of pre-formatted entries (`COLUMNS` its headers): data() only looks cells up."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[Any] = []

    def set_entries(self, entries: list[Any]) -> None:
        self.beginResetModel()
        self.entries = self._sorted(entries)
        self.endResetModel()

    def _sorted(self, entries: list[Any]) -> list[Any]:
        return entries

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section]
        return None


class CustomersModel(_EntriesModel):
    """The customers listed: pre-formatted cells, sorted in place by their keys."""

    COLUMNS = CUSTOMER_COLUMNS

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sort = (1, Qt.SortOrder.AscendingOrder)

    def _sorted(self, entries: list[ListEntry]) -> list[ListEntry]:
        column, order = self._sort
        return sorted(entries, key=lambda e: (e.keys[column], e.keys[1], e.id),
                      reverse=order == Qt.SortOrder.DescendingOrder)  # fmt: skip

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        self.entries = self._sorted(self.entries)
        self.layoutChanged.emit()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.entries[index.row()].cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in NUMBERS:
            return RIGHT
        return None

    def row_of(self, cid: int) -> int | None:
        for row, e in enumerate(self.entries):
            if e.id == cid:
                return row
        return None


class RequestsModel(_EntriesModel):
    """The requests of the customer shown."""

    COLUMNS = REQUEST_COLUMNS

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.cells[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry.tip
        if role == Qt.ItemDataRole.ForegroundRole:
            if index.column() == CONDITIONS_COLUMN and entry.overdue:
                return OVERDUE
            return None if entry.counts else NOT_COUNTED
        return None


def _table(model: QAbstractTableModel, name: str, parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setModel(model)
    table.setAccessibleName(name)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(24)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    return table


class CustomersPanel(QWidget):
    """`search_changed()`: the list is to be read again for the search text;
    `customer_chosen(id)`: a customer of the list was selected; `open_reference(ref)`: a
    request of the customer shown is to be opened; `action_requested(name)`: link, unlink or
    merge (the window asks for what it needs and runs it)."""

    search_changed = Signal()
    customer_chosen = Signal(int)
    open_reference = Signal(str)
    action_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail: dict[str, Any] | None = None
        self._reselecting = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        split = QSplitter(Qt.Orientation.Vertical, self)
        layout.addWidget(split)

        top = QWidget(split)
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.search = QLineEdit(top)
        self.search.setPlaceholderText("Search customers by name")
        self.search.setAccessibleName("Search customers")
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.search_changed.emit)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        row.addWidget(self.search, 1)
        self.count = QLabel(top)
        row.addWidget(self.count)
        column.addLayout(row)
        self.list_model = CustomersModel(self)
        self.list = _table(self.list_model, "Customers", top)
        self.list.setSortingEnabled(True)
        self.list.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
        for col, width in enumerate((58, 160, 56, 64, 44, 64)):
            self.list.setColumnWidth(col, width)
        self.list.horizontalHeader().setStretchLastSection(False)
        self.list.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the name
        self.list.selectionModel().currentRowChanged.connect(self._chosen)
        column.addWidget(self.list, 1)

        bottom = QWidget(split)
        column = QVBoxLayout(bottom)
        column.setContentsMargins(0, 4, 0, 0)
        self.header = QLabel("<p>Choose a customer in the list, or open the customer of a request "
                             "(its link in the request view).</p>", bottom)  # fmt: skip
        self.header.setAccessibleName("Customer")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        column.addWidget(self.header)
        self.totals = QLabel(bottom)
        self.totals.setAccessibleName("Deployment in total")
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        column.addWidget(self.totals)
        self.requests_model = RequestsModel(self)
        self.requests = _table(self.requests_model, "Requests of the customer", bottom)
        self.requests.activated.connect(self._activated)
        self.requests.selectionModel().selectionChanged.connect(lambda *_a: self._enable())
        column.addWidget(self.requests, 3)
        self.conditions = QTextBrowser(bottom)
        self.conditions.setAccessibleName("Open conditions of the customer")
        self.conditions.setOpenLinks(False)
        self.conditions.anchorClicked.connect(self._link)
        column.addWidget(self.conditions, 2)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip in (
            ("link", "&Link a request…", "Put a request under this customer by hand (audited)"),
            ("unlink", "Unlink s&elected", "Take the selected request out of this customer: it "
             "becomes a customer of its own (audited)"),
            ("merge", "&Merge into…", "Merge this customer into another: its requests move there "
             "(audited)"),
        ):  # fmt: skip
            button = QPushButton(text, bottom)
            button.setToolTip(tip)
            button.setAccessibleName(text.replace("&", "").rstrip("…"))
            button.clicked.connect(lambda _=False, n=name: self.action_requested.emit(n))
            self.buttons[name] = button
            buttons.addWidget(button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([230, 470])
        self._enable()

    # ------------------------------------------------------------------ list

    def show_list(self, entries: list[ListEntry]) -> None:
        self.list_model.set_entries(entries)
        self.count.setText(f"{len(entries):,} customer{'' if len(entries) == 1 else 's'}")
        if self.detail is not None:
            self._select(self.detail["id"])

    def _select(self, cid: int) -> None:
        row = self.list_model.row_of(cid)
        self._reselecting = True
        try:
            if row is None:
                self.list.clearSelection()
            else:
                self.list.selectRow(row)
        finally:
            self._reselecting = False

    def _chosen(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._reselecting:
            self.customer_chosen.emit(self.list_model.entries[current.row()].id)

    # ------------------------------------------------------------------ customer

    def show_customer(self, detail: dict[str, Any], entries: list[RequestEntry]) -> None:
        selected = self.selected_reference()
        self.detail = detail
        self.header.setText(header_html(detail))
        self.totals.setText(totals_html(detail))
        self.totals.setToolTip(totals_tip(detail))
        self.requests_model.set_entries(entries)
        self.requests.resizeColumnsToContents()  # nothing elided (data() only looks cells up)
        for row, e in enumerate(entries):
            if e.reference == selected:
                self.requests.selectRow(row)
        self.conditions.setHtml(conditions_html(detail))
        self._select(detail["id"])
        self._enable()

    def selected_reference(self) -> str | None:
        rows = self.requests.selectionModel().selectedRows()
        return self.requests_model.entries[rows[0].row()].reference if rows else None

    def _enable(self) -> None:
        shown = self.detail is not None
        self.buttons["link"].setEnabled(shown)
        self.buttons["merge"].setEnabled(shown)
        self.buttons["unlink"].setEnabled(shown and self.selected_reference() is not None)

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_reference.emit(self.requests_model.entries[index.row()].reference)

    def _link(self, url: QUrl) -> None:
        if url.scheme() == OPEN_SCHEME and url.path():
            self.open_reference.emit(url.path())
