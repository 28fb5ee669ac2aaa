"""The decision panel: it offers only what the rules and the user's roles allow, and says why
the rest is closed. What is allowed comes from the services themselves (`workflow.options`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from reviewer.services.workflow import ConditionInput
from reviewer.vocabulary import Recommendation, Status, value_label

CHOOSE = "Choose an outcome"
DATE_FORMAT = "yyyy-MM-dd"  # as the queue and the records write dates
# A request's state when it keeps every outcome closed, in words, with the next step.
STATE_WORDS = {
    "new": "New request: claim it to decide.",
    "returned": "Returned to sales for information: claim it to decide when the answer is in.",
    "awaiting_second": "A decision awaits its second check: a different account confirms or rejects it.",
    "decided": "Decided: a senior may reopen it, or start its re-review, to decide again.",
}
OUTCOMES = [("approve", "Approve"), ("approve_with_conditions", "Approve with conditions"),
            ("refuse", "Refuse"), ("return", "Return for information")]  # fmt: skip


_TERMS = {t.value: t.label for vocabulary in (Status, Recommendation) for t in vocabulary if "_" in t.value}
_TERMS.update({key: text for key, text in OUTCOMES if "_" in key})


def in_words(reason: str) -> str:
    """A service's reason as the window says it: stored values as their labels, no command-line
    options, no "decide:" prefix, a capital first letter."""
    text = reason.removeprefix("decide: ").removeprefix("return: ")
    text = re.sub(r"[a-z]+(?:_[a-z]+)+", lambda m: _TERMS.get(m.group(0)) or value_label(m.group(0)), text)
    text = re.sub(r" with --[a-z-]+", "", text)
    return text[:1].upper() + text[1:]


def _label(text: str, buddy: QWidget) -> QLabel:
    """A form label that is its field's buddy (a screen reader names the field by it)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class DecisionPanel(QWidget):
    """Claim, release, take over; decide; check; reopen and start a re-review (the window
    asks for the reason of each). `action_requested(name, kwargs)` asks the window to run a service (off
    the GUI thread)."""

    action_requested = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reference: str | None = None
        self.version: int | None = None
        self.allowed: dict[str, tuple[bool, str]] = {}
        layout = QVBoxLayout(self)
        self.title = QLabel("Select a request in the queue.")
        layout.addWidget(self.title)
        # What is being decided, in view while deciding: the recommendation, the findings that
        # make it, and the customer.
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAccessibleName("What is being decided")
        layout.addWidget(self.summary)
        self.buttons: dict[str, QPushButton] = {}
        # Two rows (claims; a decided request), so that a 150 % font on a small screen fits.
        for names in ((("claim", "Cl&aim"), ("release", "Re&lease"), ("take_over", "&Take over")),
                      (("reopen", "Reo&pen"), ("rereview", "Start re-revie&w"))):  # fmt: skip
            row = QHBoxLayout()
            for name, text in names:
                button = QPushButton(text)
                button.setAccessibleName(text.replace("&", ""))
                button.clicked.connect(lambda _=False, n=name: self._simple(n))
                self.buttons[name] = button
                row.addWidget(button)
            layout.addLayout(row)
        # What is closed and why (above the sections, so it shows whichever are hidden), in
        # the palette's text colour (a fixed red was unreadable in the dark theme).
        self.closed = QLabel()
        self.closed.setWordWrap(True)
        self.closed.setAccessibleName("What is closed and why")
        layout.addWidget(self.closed)

        box = QGroupBox("Decision")
        form = QFormLayout(box)
        self.outcome = QComboBox()
        self.outcome.setAccessibleName("Outcome")
        # No outcome is chosen for the reviewer: the list starts on "Choose an outcome".
        self.outcome.addItem(CHOOSE, None)
        for key, text in OUTCOMES:
            self.outcome.addItem(text, key)
        form.addRow(_label("&Outcome", self.outcome), self.outcome)
        self.conditions = QListWidget()
        self.conditions.setAccessibleName("Conditions from the rule set")
        self.conditions.setMaximumHeight(110)
        self.conditions.setWordWrap(True)
        self.conditions.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form.addRow(_label("Conditions", self.conditions), self.conditions)
        self.extra = QLineEdit()
        self.extra.setPlaceholderText("A condition of your own (optional)")
        self.extra.setAccessibleName("Reviewer condition")
        self.extra_due = QDateEdit()
        self.extra_due.setCalendarPopup(True)
        self.extra_due.setDisplayFormat(DATE_FORMAT)
        self.extra_due.setAccessibleName("Due date of the reviewer condition")
        extra_row = QHBoxLayout()
        extra_row.addWidget(self.extra, 1)
        extra_row.addWidget(self.extra_due)
        form.addRow(_label("Add", self.extra), extra_row)
        self.justification = QPlainTextEdit()
        self.justification.setAccessibleName("Justification")
        self.justification.setTabChangesFocus(True)  # Tab leaves the field; it types no tab
        self.justification.setPlaceholderText(
            "Justification (at least 30 characters): the facts and the reasons, in words a court can read"
        )
        self.justification.setMaximumHeight(110)
        form.addRow(_label("Justification", self.justification), self.justification)
        self.draft = ""
        self.use_draft = QPushButton("Draft the re&quest for information")
        self.use_draft.setAccessibleName("Draft the request for information")
        self.use_draft.setToolTip(
            "Put the drafted text to send to sales in the justification: the decisive missing "
            "facts and why each matters. Edit it before sending."
        )
        self.use_draft.clicked.connect(self.fill_draft)
        form.addRow(self.use_draft)
        self.re_review = QDateEdit()
        self.re_review.setCalendarPopup(True)
        self.re_review.setDisplayFormat(DATE_FORMAT)
        self.re_review.setAccessibleName("Re-review date")
        form.addRow(_label("Re-review", self.re_review), self.re_review)
        self.submit = QPushButton("Recor&d decision")
        self.submit.setAccessibleName("Record decision")
        self.submit.clicked.connect(self._decide)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):  # record from anywhere in the panel
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda: self.submit.isEnabled() and self.submit.click())
        self.submit.setToolTip("Ctrl+Enter")
        form.addRow(self.submit)
        self.follows = QLabel()  # what recording the chosen outcome leads to
        self.follows.setWordWrap(True)
        self.follows.setAccessibleName("What follows the decision")
        self.follows_by_outcome: dict[str, str] = {}
        form.addRow(self.follows)
        layout.addWidget(box)

        self.decision_box = box
        check = self.check_box = QGroupBox("Second check")
        check_layout = QFormLayout(check)
        self.check_reason = QLineEdit()
        self.check_reason.setPlaceholderText("Reason, when rejecting (at least 30 characters)")
        self.check_reason.setAccessibleName("Reason for rejecting")
        check_layout.addRow(self.check_reason)
        check_row = QHBoxLayout()
        self.confirm = QPushButton("Confir&m")
        self.confirm.setAccessibleName("Confirm decision")
        self.reject = QPushButton("Re&ject")
        self.reject.setAccessibleName("Reject decision")
        self.confirm.clicked.connect(lambda: self._request("confirm", {}))
        self.reject.clicked.connect(lambda: self._request("reject", {"reason": self.check_reason.text()}))
        check_row.addWidget(self.confirm)
        check_row.addWidget(self.reject)
        check_layout.addRow(check_row)
        layout.addWidget(check)

        obligations = self.obligations_box = QGroupBox("Conditions of the final decision")
        ob_layout = QFormLayout(obligations)
        self.obligations = QListWidget()
        self.obligations.setAccessibleName("Open conditions")
        self.obligations.setMaximumHeight(100)
        self.obligations.setWordWrap(True)
        self.obligations.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ob_layout.addRow(self.obligations)
        self.decided = False
        self.obligations.currentItemChanged.connect(lambda *_: self._condition_picked())
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note: what shows it was met, or why it lapsed")
        self.note.setAccessibleName("Condition note")
        ob_layout.addRow(self.note)
        ob_row = QHBoxLayout()
        self.mark_met = QPushButton("Mark m&et")
        self.mark_lapsed = QPushButton("Mar&k lapsed")
        for button, status in ((self.mark_met, "met"), (self.mark_lapsed, "lapsed")):
            button.setAccessibleName(button.text().replace("&", ""))
            button.clicked.connect(lambda _=False, st=status: self._mark(st))
            ob_row.addWidget(button)
        ob_layout.addRow(ob_row)
        layout.addWidget(obligations)
        layout.addStretch(1)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.set_options(None, None, {}, [])

    # ------------------------------------------------------------------ state

    def set_options(
        self,
        reference: str | None,
        version: int | None,
        allowed: dict[str, tuple[bool, str]],
        conditions: list[dict[str, str]],
        status: str | None = None,
        assignee: str | None = None,
    ) -> None:
        shown = (self.reference, self.version)
        self.status, self.assignee = status, assignee
        self.reference, self.version, self.allowed = reference, version, allowed
        self.title.setText(
            f"<b>{reference}</b> (version {version})" if reference else "Select a request in the queue."
        )
        for name, button in self.buttons.items():
            ok, reason = allowed.get(name, (False, "select a request"))
            button.setVisible(reference is not None)
            button.setEnabled(ok)
            button.setToolTip(in_words(reason))
        model = self.outcome.model()
        for i, (key, _text) in enumerate(OUTCOMES, start=1):
            ok, reason = allowed.get(key, (False, ""))
            item = model.item(i)  # type: ignore[attr-defined]
            item.setEnabled(ok)
            item.setToolTip(in_words(reason))
        # Another request, or another version of it: no outcome chosen. The same one shown
        # again keeps the choice while it is still open.
        if (reference, version) != shown or not allowed.get(self.outcome.currentData(), (False, ""))[0]:
            self.outcome.setCurrentIndex(0)
        self.conditions.clear()
        for c in conditions:
            self.conditions.addItem(f"[{c['rule']}] {c['text']}")
        today = dt.datetime.now(dt.UTC).date()
        self.re_review.setDate(QDate(today.year + 1, today.month, min(today.day, 28)))
        self.extra_due.setDate(QDate(today.year + 1, today.month, min(today.day, 28)))
        for name, button in (("confirm", self.confirm), ("reject", self.reject)):
            ok, reason = allowed.get(name, (False, "select a request"))
            button.setEnabled(ok)
            button.setToolTip(reason)
        # Sections by state: the second check while a decision awaits it; the decision form
        # until the request is decided (then its conditions, when it has open ones).
        self.check_box.setVisible(status == "awaiting_second")
        self.decision_box.setVisible(reference is not None and status not in ("decided", "awaiting_second"))
        if reference is None:
            self.summary.clear()
            self.obligations_box.hide()
        self._outcome_changed()

    def set_summary(self, html: str) -> None:
        """The recommendation, its findings and the customer (`decision_summary`)."""
        self.summary.setText(html)

    def set_follows(self, follows: dict[str, str]) -> None:
        """What recording each outcome leads to (a second check, a senior's check, final)."""
        self.follows_by_outcome = follows
        self._outcome_changed()

    def set_draft(self, text: str) -> None:
        """The drafted request for information of the request shown (see `fill_draft`); a
        draft left unedited goes with the request it was made for."""
        if self.draft and self.justification.toPlainText() == self.draft:
            self.justification.clear()
        self.draft = text
        self._outcome_changed()

    def fill_draft(self) -> None:
        """Choose "Return for information" and put the draft in the justification, where the
        reviewer edits it; what is sent is kept with the decision."""
        index = self.outcome.findData("return")
        if index >= 0:
            self.outcome.setCurrentIndex(index)
        self.justification.setPlainText(self.draft)

    def set_obligations(self, conditions: list[dict[str, Any]], decided: bool) -> None:
        """The open conditions of final decisions, to be marked met or lapsed."""
        self.obligations.clear()
        for c in conditions:
            item = QListWidgetItem(f"#{c['id']} [{c['rule']}] {c['text']} — due {c['due']}")
            item.setData(256, c["id"])  # Qt.UserRole
            self.obligations.addItem(item)
        self.decided = decided
        self.obligations_box.setVisible(decided and bool(conditions))
        self._condition_picked()

    def _condition_picked(self) -> None:
        """Met or lapsed is said of one condition: the buttons wait for one to be picked."""
        picked = self.decided and self.obligations.currentItem() is not None
        for button in (self.mark_met, self.mark_lapsed):
            button.setEnabled(picked)
            button.setToolTip("" if picked else "pick the condition first" if self.decided
                              else "the request is not decided")  # fmt: skip

    def _mark(self, status: str) -> None:
        item = self.obligations.currentItem()
        if item is not None:
            self.action_requested.emit(
                "mark", {"condition_id": item.data(256), "status": status, "note": self.note.text()}
            )

    def outcome_allowed(self, key: str) -> bool:
        return self.allowed.get(key, (False, ""))[0]

    def blocker(self) -> str | None:
        """What keeps every outcome closed, said once in plain words with the next step (the
        request's state, or the account), when it is one thing; None when some outcome is
        open or each is closed for its own reason."""
        listed = [self.allowed[k] for k, _t in OUTCOMES if k in self.allowed]
        if not listed or any(ok for ok, _r in listed):
            return None
        said = [r for _ok, r in listed]
        if self.status in STATE_WORDS and all(f" is {self.status}, not " in r for r in said):
            return STATE_WORDS[self.status]
        if self.assignee and all(" is assigned to " in r for r in said):
            take = self.allowed.get("take_over", (False, ""))[0]
            return f"{self.assignee} is reviewing it" + (": take it over to decide." if take else ".")
        reasons = {in_words(r) for r in said}
        return reasons.pop() if len(reasons) == 1 else None

    def _outcome_changed(self) -> None:
        key = self.outcome.currentData()
        ok, reason = self.allowed.get(key, (False, "select a request"))
        if key is None and self.reference is not None:
            reason = "choose an outcome first"
        blocker = self.blocker() if self.reference is not None else None
        if blocker is not None:
            self.closed.setText(blocker)
        else:
            self.closed.setText("\n".join(
                f"{text}: {in_words(self.allowed[k][1])}" for k, text in OUTCOMES
                if k in self.allowed and not self.allowed[k][0]))  # fmt: skip
        self.submit.setEnabled(ok)
        self.submit.setToolTip(reason or "Ctrl+Enter")
        self.follows.setText(self.follows_by_outcome.get(key, "") if ok else "")
        can_return = self.allowed.get("return", (False, ""))[0]
        self.use_draft.setEnabled(bool(self.draft) and can_return)
        if key == "return" and can_return and self.draft and not self.justification.toPlainText().strip():
            self.justification.setPlainText(self.draft)

    # ------------------------------------------------------------------ actions

    def _simple(self, name: str) -> None:
        self._request(name, {})  # reopen and re-review: the window asks for the reason

    def _decide(self) -> None:
        key = self.outcome.currentData()
        text = self.justification.toPlainText()
        if key == "return":
            self._request("return", {"reason": text})
            return
        extra = []
        if self.extra.text().strip() and key != "refuse":
            extra.append(ConditionInput(self.extra.text().strip(), self.extra_due.date().toPython()))
        self._request("decide", {"outcome": key, "justification": text, "conditions": extra,
                                 "re_review": self.re_review.date().toPython()
                                 if key != "refuse" else None})  # fmt: skip

    def _request(self, name: str, kwargs: dict[str, Any]) -> None:
        if self.reference is not None:
            self.action_requested.emit(name, kwargs)
