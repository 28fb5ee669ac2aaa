"""The intake form's editors for the fields a single line cannot hold: a list of objects as a
small table (one row an item, a column a field of it) and a set as a list of boxes to tick.

Each says "unknown", "none" or what is listed, the three facts the request format tells
apart (absent, `[]`, the items), and each gives and takes the text of its CSV cell: JSON for a
list of objects, `;` between the values of a set, `[]` for none, empty for unknown. The
importer's conversion of that text decides, so the form accepts exactly what a file would.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from reviewer import request as rq
from reviewer.export.documents import csv_cell
from reviewer.vocabulary import (
    BOOL_LABELS,
    FIELD_LABELS,
    ITEM_LABELS,
    NONE_LABELS,
    UNKNOWN_LABEL,
    choice_label,
    field_label,
)

UNKNOWN, NONE, LISTED = "unknown", "none", "listed"

HINTS = {"date": "YYYY-MM-DD", "int": "a whole number", "number": "a number",
         "country": "two letters, e.g. US", "region": "e.g. IL", "currency": "e.g. EUR",
         "email": "name@example.org"}  # fmt: skip
"""What a line edit of each kind shows while it is empty (empty is unknown)."""


def choice_box(path: str, t: rq.FieldType) -> QComboBox:
    """A choice for a yes/no or enumerated field: Unknown first (stored as nothing), then the
    values in words with the stored value as the item's data."""
    box = QComboBox()
    box.addItem(UNKNOWN_LABEL, "")
    if t.kind == "bool":
        for value, words in BOOL_LABELS.items():
            box.addItem(words, value)
    else:
        for value in t.values:
            box.addItem(choice_label(path, value), value)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box


def set_choice(box: QComboBox, value: str) -> None:
    """Choose the item whose data is `value` (Unknown for ""); a value the list does not hold is
    added as it is, so the importer names it rather than the form dropping it."""
    index = box.findData(value)
    if index < 0:
        box.addItem(value, value)
        index = box.count() - 1
    box.setCurrentIndex(index)


def _state_box(name: str, listed: str, none: str) -> QComboBox:
    box = QComboBox()
    box.addItem(UNKNOWN_LABEL, UNKNOWN)
    box.addItem(none, NONE)
    box.addItem(listed, LISTED)
    box.setAccessibleName(name)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return box


class ListEditor(QWidget):
    """A list of objects (`end_users`, `sites`, `data.law_enforcement_recipients`): whether
    it is unknown, none or listed, and the items as the rows of a table whose cells are a
    line to type in or a choice (an enumeration, yes/no); Add puts a row under the others and
    each row has its Remove."""

    changed = Signal()

    def __init__(self, path: str, t: rq.FieldType, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.item = path, t.item
        self.keys = list(t.item)
        label, noun = field_label(path), ITEM_LABELS.get(path, "item")
        self.noun = noun
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.state = _state_box(f"{label}: unknown, none or listed below", "Listed below",
                                NONE_LABELS.get(path, "None"))  # fmt: skip
        self.state.currentIndexChanged.connect(self._state_changed)
        self.add = QPushButton(f"Add {'an' if noun[0] in 'aeiou' else 'a'} {noun}")
        self.add.setAccessibleName(self.add.text())
        self.add.clicked.connect(self._add_clicked)
        top.addWidget(self.state)
        top.addWidget(self.add)
        top.addStretch(1)
        layout.addLayout(top)
        self.table = QTableWidget(0, len(self.keys) + 1, self)
        self.table.setAccessibleName(f"{label}: one row per {noun}")
        self.table.setHorizontalHeaderLabels([FIELD_LABELS.get(k, k) for k in self.keys] + [""])
        # Every cell is a widget of its own, in the window's Tab order: the table itself takes
        # no focus and no Tab (Tab leaves a cell for the next one, and the last for Add).
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setTabKeyNavigation(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.table.horizontalHeader()
        header.setAccessibleName(f"{label}: columns")
        self.table.verticalHeader().setAccessibleName(f"{label}: row numbers")
        self.table.setCornerButtonEnabled(False)
        # Widths from the font: a name takes what is left, a code as much as its heading, a
        # choice its usual words (its list opens as wide as the longest).
        metrics = self.fontMetrics()
        for col, key in enumerate(self.keys):
            kind = t.item[key].kind
            if kind == "str":
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            sample = {"enum": "Government agency", "bool": "Unknown"}.get(kind, "WWW")
            extra = 48 if kind in ("enum", "bool") else 24  # a choice's arrow
            words = FIELD_LABELS.get(key, key)
            width = max(metrics.horizontalAdvance(words) + 24, metrics.horizontalAdvance(sample) + extra)
            header.resizeSection(col, width)
        header.setSectionResizeMode(len(self.keys), QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(metrics.horizontalAdvance("Name") + 24)
        layout.addWidget(self.table)
        self.rows: list[dict[str, QWidget]] = []
        self.removers: list[QPushButton] = []
        self.setFocusProxy(self.state)
        self._show_table()

    # ------------------------------------------------------------------ rows

    def add_row(self, values: dict[str, Any] | None = None, arrange: bool = True) -> int:
        """A row at the end (with `values`, as JSON gives them); its number from 0. With
        `arrange` False the names and Tab order wait for the caller's `_renumber` (a list
        loaded whole: each row renumbering every row was quadratic)."""
        row = self.table.rowCount()
        self.table.insertRow(row)
        cells: dict[str, QWidget] = {}
        for col, key in enumerate(self.keys):
            t = self.item[key]
            value = (values or {}).get(key)
            widget: QWidget
            if t.kind in ("enum", "bool"):
                box = choice_box(f"{self.path}.{key}", t)
                # As wide as its column; its list as wide as its longest words.
                box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                box.setMinimumContentsLength(6)
                box.view().setMinimumWidth(box.view().sizeHintForColumn(0) + 24)
                if value is not None:
                    set_choice(box, ("true" if value else "false") if isinstance(value, bool) else str(value))
                box.currentIndexChanged.connect(self._edited)
                widget = box
            else:
                edit = QLineEdit()
                edit.setFrame(False)
                edit.setPlaceholderText(HINTS.get(t.kind, ""))
                if value is not None:
                    edit.setText(str(value))
                    edit.setToolTip(edit.text())
                    edit.setCursorPosition(0)  # the start of a long name shows, not its end
                edit.textChanged.connect(self._edited)
                edit.textChanged.connect(edit.setToolTip)  # the whole of a name the column clips
                widget = edit
            self.table.setCellWidget(row, col, widget)
            cells[key] = widget
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda _=False, b=remove: self.remove_row(self.removers.index(b)))
        self.table.setCellWidget(row, len(self.keys), remove)
        self.rows.append(cells)
        self.removers.append(remove)
        if arrange:
            self._renumber()
            self._show_table()
        return row

    def remove_row(self, row: int) -> None:
        self.table.removeRow(row)
        del self.rows[row]
        del self.removers[row]
        self._renumber()
        self._show_table()
        # Focus stays in the list: on the row that took this one's place, or on Add.
        if self.rows:
            self.rows[min(row, len(self.rows) - 1)][self.keys[0]].setFocus()
        else:
            self.add.setFocus()
        self.changed.emit()

    def cell_widget(self, row: int, key: str) -> QWidget:
        return self.rows[row][key]

    def _renumber(self) -> None:
        """Accessible names of the cells by row ("End users 2: Country", the words a problem
        with `end_users[1].country` is shown in), and the Tab order: the state, the rows, Add."""
        for i, (cells, remove) in enumerate(zip(self.rows, self.removers, strict=True)):
            for key, widget in cells.items():
                widget.setAccessibleName(field_label(f"{self.path}[{i}].{key}"))
            remove.setAccessibleName(f"Remove {self.noun} {i + 1}")
        chain: list[QWidget] = [self.state]
        for cells, remove in zip(self.rows, self.removers, strict=True):
            chain.extend(cells[k] for k in self.keys)
            chain.append(remove)
        chain.append(self.add)
        for a, b in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(a, b)

    def _show_table(self) -> None:
        listed = self.state.currentData() == LISTED and bool(self.rows)
        self.table.setVisible(listed)
        if listed:
            height = max([w.sizeHint().height() for c in self.rows for w in c.values()]
                         + [r.sizeHint().height() for r in self.removers])  # fmt: skip
            self.table.verticalHeader().setDefaultSectionSize(height + 2)
            for row in range(self.table.rowCount()):
                self.table.setRowHeight(row, height + 2)
            self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (the form scrolls, not the table), with room for the
        horizontal scroll bar only when the columns are wider than the table."""
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        header = self.table.horizontalHeader()
        wide = header.length() > self.table.viewport().width() + 1
        bar = self.table.horizontalScrollBar().sizeHint().height() if wide else 0
        height = header.sizeHint().height() + rows + 2 * self.table.frameWidth() + bar
        if self.table.height() != height:
            self.table.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.table.isVisible():
            self._fit_height()

    # ------------------------------------------------------------------ state

    def _add_clicked(self) -> None:
        self.state.blockSignals(True)
        self.state.setCurrentIndex(self.state.findData(LISTED))
        self.state.blockSignals(False)
        row = self.add_row()
        self.rows[row][self.keys[0]].setFocus()
        self.changed.emit()

    def _state_changed(self, _index: int) -> None:
        if self.state.currentData() == LISTED and not self.rows:
            self.add_row()
        self._show_table()
        self.changed.emit()

    def _edited(self, *_args: Any) -> None:
        self.changed.emit()

    # ------------------------------------------------------------------ cell text

    def items(self) -> list[dict[str, Any]]:
        """The rows as JSON objects: what is left empty or Unknown is not in them."""
        out = []
        for cells in self.rows:
            item: dict[str, Any] = {}
            for key in self.keys:
                widget, kind = cells[key], self.item[key].kind
                if isinstance(widget, QComboBox):
                    data = str(widget.currentData() or "")
                    if data:
                        item[key] = {"true": True, "false": False}.get(data, data) if kind == "bool" else data
                elif isinstance(widget, QLineEdit):
                    # Codes are trimmed as a CSV cell of theirs is; a name is kept as typed.
                    text = widget.text() if kind == "str" else widget.text().strip()
                    if text != "":
                        item[key] = text
            out.append(item)
        return out

    def cell(self) -> str:
        """The CSV cell: empty (unknown), `[]` (none, or listed with no row) or the rows as
        compact JSON, as `reviewer export --format csv` writes it."""
        state = self.state.currentData()
        return csv_cell(self.path, None if state == UNKNOWN else self.items() if state == LISTED else [])

    def set_cell(self, text: str) -> None:
        """Show a cell's text (a stored request's list, as `csv_cell` writes it)."""
        text = text.strip()
        value = [] if text in ("", "[]") else json.loads(text)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"{self.path}: not a list of objects: {text[:60]}")
        self.blockSignals(True)
        try:
            while self.rows:
                self.table.removeRow(0)
                self.rows.pop()
                self.removers.pop()
            for item in value:
                self.add_row(item, arrange=False)
            self._renumber()
            self.state.setCurrentIndex(
                self.state.findData(UNKNOWN if text == "" else NONE if not value else LISTED)
            )
            self._show_table()
        finally:
            self.blockSignals(False)

    def focus_widget(self, path: str) -> QWidget:
        """The widget a problem at `path` (`sites[1].country`, `sites[1]`, `sites`) is about."""
        head, sep, rest = path.partition("[")
        if sep:
            index, _, tail = rest.partition("]")
            if index.isdigit() and int(index) < len(self.rows):
                cells = self.rows[int(index)]
                return cells.get(tail.lstrip("."), cells[self.keys[0]])
        return self.state

    def widgets(self) -> list[QWidget]:
        return [self.state, self.add, self.table]


class SetEditor(QWidget):
    """A set (`use.operations`, ...): whether it is unknown, none or the values ticked, and
    a box to tick for each value, in words. Ticking a box chooses "as ticked"; choosing
    Unknown or None clears the boxes."""

    changed = Signal()

    COLUMNS = 3

    def __init__(self, path: str, t: rq.FieldType, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path, self.values = path, t.values
        label = field_label(path)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.state = _state_box(f"{label}: unknown, none or as ticked", "As ticked below", "None")
        self.state.currentIndexChanged.connect(self._state_changed)
        top = QHBoxLayout()
        top.addWidget(self.state)
        top.addStretch(1)
        layout.addLayout(top)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QCheckBox] = {}
        for i, value in enumerate(t.values):
            box = QCheckBox(choice_label(path, value))
            box.setAccessibleName(f"{label}: {box.text()}")
            box.toggled.connect(self._ticked)
            grid.addWidget(box, i // self.COLUMNS, i % self.COLUMNS)
            self.boxes[value] = box
        layout.addLayout(grid)
        self.extra: list[str] = []  # values given that are not in the list (the importer names them)
        self.setFocusProxy(self.state)
        self._quiet = False

    def _ticked(self, on: bool) -> None:
        if self._quiet:
            return
        if on and self.state.currentData() != LISTED:
            self._quiet = True
            self.state.setCurrentIndex(self.state.findData(LISTED))
            self._quiet = False
        self.changed.emit()

    def _state_changed(self, _index: int) -> None:
        if self._quiet:
            return
        if self.state.currentData() != LISTED:
            self._quiet = True
            for box in self.boxes.values():
                box.setChecked(False)
            self.extra = []
            self._quiet = False
        self.changed.emit()

    def ticked(self) -> list[str]:
        return [v for v, box in self.boxes.items() if box.isChecked()] + self.extra

    def cell(self) -> str:
        state = self.state.currentData()
        return csv_cell(self.path, None if state == UNKNOWN else self.ticked() if state == LISTED else [])

    def set_cell(self, text: str) -> None:
        text = text.strip()
        values = [] if text in ("", "[]") else [v.strip() for v in text.split(";")]
        self._quiet = True
        self.blockSignals(True)
        try:
            for value, box in self.boxes.items():
                box.setChecked(value in values)
            self.extra = [v for v in values if v not in self.boxes]
            self.state.setCurrentIndex(
                self.state.findData(UNKNOWN if text == "" else LISTED if values else NONE)
            )
        finally:
            self._quiet = False
            self.blockSignals(False)

    def focus_widget(self, path: str) -> QWidget:
        return self.state

    def widgets(self) -> list[QWidget]:
        return [self.state, *self.boxes.values()]
