"""What the Review tab shows when no request is open: the reviewer's day at a glance (my
claims, awaiting my check, conditions overdue, re-review due, past the service level), each a
button that shows those requests in the queue; and what to do on an empty database."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from reviewer.vocabulary import View

# The views of the start page, in the order of a reviewer's day.
START_VIEWS = (View.MINE, View.AWAITING_MY_CHECK, View.CONDITIONS_OVERDUE, View.REREVIEW_DUE,
               View.PAST_SERVICE_LEVEL)  # fmt: skip
START_VIEW_VALUES = tuple(v.value for v in START_VIEWS)
WORDS = {View.MINE: "My claims", View.AWAITING_MY_CHECK: "Awaiting my check",
         View.CONDITIONS_OVERDUE: "Conditions overdue", View.REREVIEW_DUE: "Re-review due",
         View.PAST_SERVICE_LEVEL: "Past the service level"}  # fmt: skip


class StartPage(QWidget):
    """`view_chosen(value)`: show the queue's view `value`."""

    view_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        heading = QLabel("<h2>Your desk</h2>")
        column.addWidget(heading)
        grid = QGridLayout()
        self.counts: dict[str, QLabel] = {}
        self.buttons: dict[str, QPushButton] = {}
        for row, view in enumerate(START_VIEWS):
            count = QLabel("…")
            count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            count.setMinimumWidth(count.fontMetrics().horizontalAdvance("999,999"))
            button = QPushButton(WORDS[view])
            button.setToolTip(view.explanation)
            button.setAccessibleName(f"Show {WORDS[view].lower()} in the queue")
            button.clicked.connect(lambda _=False, v=view.value: self.view_chosen.emit(v))
            grid.addWidget(count, row, 0)
            grid.addWidget(button, row, 1)
            self.counts[view.value], self.buttons[view.value] = count, button
        grid.setColumnStretch(2, 1)
        column.addLayout(grid)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("What to do next")
        column.addWidget(self.hint)
        column.addStretch(1)
        self.set_counts({})
        self.set_total(None)

    def set_counts(self, counts: dict[str, int]) -> None:
        for value, label in self.counts.items():
            label.setText(f"<b>{counts[value]:,}</b>" if value in counts else "…")

    def set_total(self, total: int | None) -> None:
        if total == 0:
            self.hint.setText("No requests yet. Import request files (Ctrl+I, or drop them on the "
                              "window), type one in (Ctrl+N), or load demo data with "
                              "<tt>reviewer seed-demo</tt>.")  # fmt: skip
        else:
            self.hint.setText("Select a request in the queue (Ctrl+F searches; Enter goes to the "
                              "first match) to read it and decide.")  # fmt: skip
