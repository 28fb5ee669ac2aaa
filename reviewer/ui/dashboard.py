"""The dashboard (requests by recommendation and status, decisions per week, conditions
overdue, how long the requests waiting on us have waited) and the rule-set view. Charts are
painted with QPainter: no chart library needed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from reviewer.rules import RuleSet
from reviewer.ui.markup import escape
from reviewer.ui.request_view import COLOURS
from reviewer.vocabulary import Recommendation, Status

STATUS_COLOURS = {"new": "#175cd3", "in_review": "#9a6700", "awaiting_second": "#c4320a",
                  "decided": "#1b7f3b", "returned": "#6941c6"}  # fmt: skip


class BarChart(QWidget):
    """Horizontal bars with labels and values."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.items: list[tuple[str, int, str]] = []
        self.setMinimumHeight(self._needed(0))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(title)

    @staticmethod
    def _needed(rows: int) -> int:
        """The height its title and rows of 14 pixels at least take (four charts and the window
        still fit 800 pixels high)."""
        return max(100, 38 + 14 * rows)

    def set_items(self, items: list[tuple[str, int, str]]) -> None:
        self.items = items
        self.setMinimumHeight(self._needed(len(items)))
        self.setAccessibleDescription(", ".join(f"{label}: {value}" for label, value, _ in items))
        self.update()

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.windowText().color()
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(text)
        p.drawText(QRectF(8, 4, self.width() - 16, 22), Qt.AlignmentFlag.AlignLeft, self.title)
        p.setFont(self.font())
        if not self.items:
            p.drawText(QRectF(8, 30, self.width() - 16, 22), Qt.AlignmentFlag.AlignLeft, "no data")
            return
        top = 32.0
        label_w = min(150.0, self.width() * 0.35)
        row_h = max(14.0, min(26.0, (self.height() - top - 6) / len(self.items)))
        biggest = max(v for _l, v, _c in self.items) or 1
        bar_w = max(10.0, self.width() - label_w - 70)
        for i, (label, value, colour) in enumerate(self.items):
            y = top + i * row_h
            p.setPen(text)
            p.drawText(QRectF(8, y, label_w - 12, row_h), Qt.AlignmentFlag.AlignVCenter
                       | Qt.AlignmentFlag.AlignRight, label)  # fmt: skip
            width = bar_w * value / biggest
            p.fillRect(QRectF(label_w, y + 3, max(width, 1), row_h - 6), QColor(colour))
            p.drawText(QRectF(label_w + width + 6, y, 60, row_h), Qt.AlignmentFlag.AlignVCenter, f"{value:,}")


class Dashboard(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        self.overdue = QLabel()
        self.overdue.setAccessibleName("Conditions overdue")
        self.overdue.setTextFormat(Qt.TextFormat.RichText)
        self.overdue.setWordWrap(True)
        self.by_rec = BarChart("Requests by recommendation")
        self.by_status = BarChart("Requests by status")
        self.per_week = BarChart("Final decisions per week (week of)")
        self.past_level = QLabel()
        self.past_level.setAccessibleName("Past the service level")
        self.past_level.setTextFormat(Qt.TextFormat.RichText)
        self.past_level.setWordWrap(True)
        self.ages = BarChart("Waiting on us (working days since received)")
        column.addWidget(self.overdue)
        column.addWidget(self.past_level)
        for chart, stretch in ((self.by_rec, 3), (self.by_status, 3), (self.ages, 3), (self.per_week, 4)):
            column.addWidget(chart, stretch)

    def show_data(self, data: dict[str, Any]) -> None:
        order = ["refuse", "needs_information", "escalate_senior", "escalate_second", "conditions", "approve"]
        recs = data["recommendation"]
        self.by_rec.set_items([(Recommendation.label_of(k), recs.get(k, 0), COLOURS[k]) for k in order])
        statuses = data["status"]
        self.by_status.set_items(
            [(Status.label_of(k), statuses.get(k, 0), STATUS_COLOURS[k]) for k in STATUS_COLOURS]
        )
        self.per_week.set_items([(k, v, "#475467") for k, v in data["decisions_per_week"].items()])
        colour = "#b42318" if data["conditions_overdue"] else "#1b7f3b"
        self.overdue.setText(
            f'<span style="font-size:14pt"><b style="color:{colour}">{data["conditions_overdue"]:,}'
            f"</b> conditions overdue</span> of {data['conditions_open']:,} open "
            "(the queue's view “conditions overdue” lists them)"
        )
        ages = data["ages"]
        self.ages.set_items([(label, n, "#b42318" if past else "#175cd3")
                             for label, n, past in zip(ages["labels"], ages["counts"], ages["past"],
                                                       strict=True)])  # fmt: skip
        colour = "#b42318" if ages["past_level"] else "#1b7f3b"
        self.past_level.setText(
            f'<span style="font-size:14pt"><b style="color:{colour}">{ages["past_level"]:,}</b> '
            f"past the service level</span> of {ages['level']} working days, of "
            f"{ages['waiting']:,} waiting on us (the queue's view “past service level” lists them)"
        )


def rules_html(ruleset: RuleSet) -> str:
    """The active rule set: every rule with its outcome, condition, alternatives, the
    conditions it adds and its source; then the parameters."""
    parts = [
        f"<h2>{escape(ruleset.title)}</h2><p>{escape(ruleset.key)} · effective "
        f"{ruleset.effective_on} · sha256 {ruleset.sha256}</p>"
        f"<p>{escape(ruleset.description)}</p><h3>Rules</h3>"
    ]
    for r in ruleset.rules:
        colour = COLOURS.get(r.outcome, "#101828")
        override = f" (override {r.override})" if r.override else ""
        parts.append(
            f'<p><b>{escape(r.id)} {escape(r.title)}</b> — <span style="color:{colour}">'
            f"<b>{escape(r.outcome)}{override}</b></span><br>"
            f"<code>{escape(r.when_text)}</code>"
        )
        for inst in r.raw.get("instead", []):
            parts.append(
                f"<br>instead <b>{escape(inst['outcome'])}</b> when <code>{escape(inst['when'])}</code>"
            )
        for add in r.raw.get("adds", []):
            parts.append(f"<br>adds “{escape(add['text'])}”")
        parts.append(f'<br><span style="color:#667085">source: {escape(r.source)}</span></p>')
    parts.append("<h3>Parameters</h3><table>")
    for name, value in ruleset.parameters.items():
        parts.append(f"<tr><td><b>{escape(name)}</b></td><td>{escape(str(value))}</td></tr>")
    parts.append("</table><h3>Definitions</h3><table>")
    for name, text in ruleset.definitions.items():
        parts.append(f"<tr><td><b>{escape(name)}</b></td><td><code>{escape(text)}</code></td></tr>")
    return "".join(parts) + "</table>"


class RuleSetView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Active rule set")

    def show_rules(self, ruleset: RuleSet) -> None:
        self.setHtml(rules_html(ruleset))
