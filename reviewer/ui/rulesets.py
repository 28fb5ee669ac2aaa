"""Rule-set versions for administrators: import a draft, compare it with the active version,
backtest it on every stored request (double-click a change to open the request), propose it,
and approve a version someone else proposed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from reviewer.export.text import utc_text
from reviewer.vocabulary import RuleSetState

VERSION_COLUMNS = ["Rule set", "State", "Effective", "Proposed", "Approved", "Title"]
CHANGE_COLUMNS = ["Reference", "From", "To", "Rules"]


def _by(who: str | None, when: str | None) -> str:
    """Who did it, and when (`2026-12-01 20:58 UTC`)."""
    return f"{who}, {utc_text(when)}" if who else "—"


class RuleSetsPanel(QWidget):
    """`action_requested(name, key)`: import (key = path), diff, backtest, propose, approve;
    `open_reference(reference)`: the reviewer wants to see a request a change concerns."""

    action_requested = Signal(str, str)
    open_reference = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.versions = QTableWidget(0, len(VERSION_COLUMNS))
        self.versions.setHorizontalHeaderLabels(VERSION_COLUMNS)
        self.versions.setAccessibleName("Rule-set versions")
        self.versions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.versions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.versions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.versions.horizontalHeader().setStretchLastSection(True)  # the title, last, takes the rest
        self.versions.setWordWrap(False)
        self.versions.verticalHeader().hide()
        self.versions.setMaximumHeight(150)
        layout.addWidget(self.versions)
        row = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text in (("import", "Import…"), ("diff", "Diff with active"),
                           ("backtest", "Backtest"), ("propose", "Propose"),
                           ("approve", "Approve")):  # fmt: skip
            button = QPushButton(text)
            button.setAccessibleName(f"{text.rstrip('…')} rule set")
            button.clicked.connect(lambda _=False, n=name: self._clicked(n))
            self.buttons[name] = button
            row.addWidget(button)
        layout.addLayout(row)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setAccessibleName("Differences")
        self.diff.setMaximumHeight(160)
        layout.addWidget(self.diff)
        self.changes = QTableWidget(0, len(CHANGE_COLUMNS))
        self.changes.setHorizontalHeaderLabels(CHANGE_COLUMNS)
        self.changes.setAccessibleName("Backtest changes")
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.changes.horizontalHeader().setStretchLastSection(True)
        self.changes.cellDoubleClicked.connect(
            lambda r, _c: self.open_reference.emit(self.changes.item(r, 0).text())
        )
        layout.addWidget(self.changes, 1)
        self.pick_file: Any = None  # set by the window: returns a path or None

    def set_admin(self, admin: bool) -> None:
        """Import, propose and approve are an administrator's: closed for anyone else, and
        said why (diff and backtest only read)."""
        for name in ("import", "propose", "approve"):
            self.buttons[name].setEnabled(admin)
            self.buttons[name].setToolTip(
                "" if admin else "an administrator's action: your account is not an admin"
            )

    def selected_key(self) -> str | None:
        row = self.versions.currentRow()
        item = self.versions.item(row, 0) if row >= 0 else None
        return item.text() if item else None

    def _clicked(self, name: str) -> None:
        if name == "import":
            path = self.pick_file() if self.pick_file else None
            if path:
                self.action_requested.emit("import", path)
            return
        key = self.selected_key()
        if key:
            self.action_requested.emit(name, key)
        else:
            self.summary.setText("Select a version first.")

    def show_versions(self, rows: list[dict[str, Any]]) -> None:
        selected = self.selected_key()
        self.versions.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = [r["rule_set"], RuleSetState.label_of(r["state"]), r["effective_on"] or "—",
                      _by(r["proposed_by"], r["proposed_at"]), _by(r["approved_by"], r["approved_at"]),
                      r["title"]]  # fmt: skip
            for j, v in enumerate(values):
                item = QTableWidgetItem(str(v))
                item.setToolTip(str(v))  # whole, when the title is cut
                self.versions.setItem(i, j, item)
            if r["rule_set"] == selected:
                self.versions.selectRow(i)
        self.versions.resizeColumnsToContents()

    def show_diff(self, text: str) -> None:
        self.diff.setPlainText(text)

    def show_backtest(self, report: dict[str, Any]) -> None:
        matrix = ", ".join(f"{k.replace('->', ' → ')}: {v}" for k, v in report["matrix"].items())
        self.summary.setText(f"{report['candidate']} against {report['active']}: "
                             f"{report['changed']:,} of {report['requests']:,} recommendations "
                             f"change. {matrix}")  # fmt: skip
        self.changes.setRowCount(len(report["changes"]))
        for i, c in enumerate(report["changes"]):
            for j, v in enumerate((c["reference"], c["from"], c["to"], ", ".join(c["rules"]))):
                item = QTableWidgetItem(v.replace("_", " ") if j in (1, 2) else v)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.changes.setItem(i, j, item)
