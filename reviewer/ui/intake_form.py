"""The intake form: every field of the request format, labelled in words, with the message
beside the field; yes/no questions and choices have a third answer, unknown; lists of objects
are small tables and sets boxes to tick, each with "unknown" and "none" (field_editors.py).

The form is one CSV row in disguise: each widget gives the text of a cell (a table its JSON, a
set its `;` list), and the importer's own conversion and validation decide, so the form
accepts exactly what a file would.

A problem is shown once its field was left (or Return pressed in it) or Save was pressed, never
on a blank new form; the count of the problems shown leads to the first of them. Discard goes
back to the request as it was loaded (or a blank form), and `confirm_discard` asks before the
window drops unsaved edits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import Shiboken

from reviewer import intake
from reviewer import request as rq
from reviewer.export.documents import csv_cell
from reviewer.rules import RuleSet, evaluate_with
from reviewer.rules.explain import explainer_for
from reviewer.ui.field_editors import HINTS, ListEditor, SetEditor, choice_box, set_choice
from reviewer.ui.judgement import judgement_html
from reviewer.ui.markup import escape
from reviewer.vocabulary import SECTION_LABELS, Recommendation, count_words, field_label, finding_words

ROLE = "role"
"""The property that tells a form's own QLabels apart: `heading`, `message` or `status` (the
others name a field and are its buddy)."""


class IntakeForm(QWidget):
    """`save_requested(raw, expect_version)`: the window stores the request (off the GUI
    thread) and calls `mark_saved` when it did; `valid_changed(bool)` follows the validation."""

    save_requested = Signal(dict, object)
    valid_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, Any] = {}
        self.labels: dict[str, QLabel] = {}
        self.messages: dict[str, QLabel] = {}
        self.expect_version: int | None = None
        self.problems: list[tuple[str, str]] = []
        self.document: dict[str, Any] | None = None  # the request loaded, None for a new one
        self._baseline: dict[str, str] = {}  # the cells as loaded
        self._left: set[str] = set()  # fields left since the load: their problems show
        self._save_tried = False  # Save was pressed since the load: every problem shows
        self._owner: dict[QWidget, str] = {}  # editor widget -> its field
        self._loading = False
        outer = QVBoxLayout(self)
        self.heading = QLabel("<b>New request</b>")
        self.heading.setProperty(ROLE, "heading")
        outer.addWidget(self.heading)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        inner = QWidget()
        form = QFormLayout(inner)
        current_section = None
        for path, t in rq.LEAF_FIELDS.items():
            if path == "format":
                continue
            section = path.split(".")[0] if "." in path else None
            if section != current_section and section is not None:
                heading = QLabel(f"<b>{escape(SECTION_LABELS.get(section, section))}</b>")
                heading.setProperty(ROLE, "heading")
                form.addRow(heading)
            current_section = section
            editor = self._editor(path, t)
            message = QLabel()
            message.setProperty(ROLE, "message")
            message.setWordWrap(True)
            message.hide()
            row = QVBoxLayout()
            row.addWidget(editor)
            row.addWidget(message)
            label = QLabel(escape(field_label(path)) + (" *" if t.required else ""))
            label.setBuddy(editor.state if isinstance(editor, (ListEditor, SetEditor)) else editor)
            form.addRow(label, row)
            self.editors[path] = editor
            self.labels[path] = label
            self.messages[path] = message
            self._owner[editor] = path
        self._order = {path: i for i, path in enumerate(self.editors)}
        self.scroll.setWidget(inner)
        # Beside the form, as you type: the recommendation, what to ask and what would change it.
        self.ruleset: RuleSet | None = None
        self.judgement = QTextBrowser()
        self.judgement.setAccessibleName("Decisive facts and what would change the outcome")
        split = QSplitter(self)
        split.addWidget(self.scroll)
        split.addWidget(self.judgement)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)
        buttons = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setProperty(ROLE, "status")
        self.summary.setWordWrap(True)
        # The count of the problems shown, a link to the first of them.
        self.problem_link = QPushButton()
        self.problem_link.setFlat(True)
        self.problem_link.setAccessibleName("Go to the first problem")
        self.problem_link.setCursor(Qt.CursorShape.PointingHandCursor)
        self.problem_link.clicked.connect(self.go_to_first_problem)
        self.problem_link.hide()
        self.discard = QPushButton("Disc&ard changes")
        self.discard.setAccessibleName("Discard changes")
        self.discard.setToolTip("Back to the request as it was loaded (a blank form for a new one)")
        self.discard.clicked.connect(self.discard_changes)
        self.save = QPushButton("Save and eva&luate")
        self.save.setAccessibleName("Save and evaluate")
        self.save.clicked.connect(self._save)
        buttons.addWidget(self.problem_link)
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.discard)
        buttons.addWidget(self.save)
        outer.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.validate)
        self._left_timer = QTimer(self)
        self._left_timer.setSingleShot(True)
        self._left_timer.setInterval(0)
        self._left_timer.timeout.connect(self.validate)
        self._scroll_target: QWidget | None = None
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(0)
        self._scroll_timer.timeout.connect(self._scroll_into_view)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self.clear()

    def set_ruleset(self, ruleset: RuleSet) -> None:
        """The active rule set, which the form's live explanation uses (compiled already: the
        window loads it off the GUI thread)."""
        if ruleset is not self.ruleset:
            self.ruleset = ruleset
            self.validate()

    def _explain(self, doc: dict[str, Any] | None) -> None:
        if self.ruleset is None:
            self.judgement.setHtml("<p><i>The rule set is loading.</i></p>")
            return
        if doc is None:
            self.judgement.setHtml("<p><i>Fix the problems in the form to see the evaluation, the "
                                   "facts to ask for and what would change it.</i></p>")  # fmt: skip
            return
        e = explainer_for(self.ruleset).explain(doc)
        rec = e["recommendation"]
        findings = "".join(
            f"<li>{escape(f.rule.id)} {escape(finding_words(f.outcome))}: {escape(f.rule.title)}</li>"
            for f in evaluate_with(self.ruleset, doc, None).findings
        )
        self.judgement.setHtml(f"<h3>Recommendation: {escape(Recommendation.label_of(rec))}</h3>"
                               + (f"<ul>{findings}</ul>" if findings else "")
                               + judgement_html(e, self.ruleset.titles, words=True))  # fmt: skip

    def _editor(self, path: str, t: rq.FieldType) -> Any:
        name = field_label(path)
        widget: QWidget
        if t.kind in ("bool", "enum"):
            box = choice_box(path, t)
            box.currentIndexChanged.connect(self._changed)
            widget = box
        elif t.kind == "objlist":
            table = ListEditor(path, t)
            table.changed.connect(self._changed)
            return table
        elif t.kind == "set":
            boxes = SetEditor(path, t)
            boxes.changed.connect(self._changed)
            return boxes
        elif path == "use.description":
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)  # Tab moves on to the next field
            text.setMaximumHeight(90)
            text.setPlaceholderText("What the customer will do with it, in their words; empty if unknown")
            text.textChanged.connect(self._changed)
            widget = text
        else:
            edit = QLineEdit()
            edit.setPlaceholderText(HINTS.get(t.kind, "" if t.required else "empty if unknown"))
            edit.textChanged.connect(self._changed)
            edit.editingFinished.connect(lambda p=path: self._leave(p))
            widget = edit
        widget.setAccessibleName(name)
        if t.required:
            widget.setAccessibleDescription("Required.")
        return widget

    # ------------------------------------------------------------------ values

    def cell(self, path: str) -> str:
        editor = self.editors[path]
        if isinstance(editor, (ListEditor, SetEditor)):
            return editor.cell()
        if isinstance(editor, QComboBox):
            return str(editor.currentData() or "")
        if isinstance(editor, QPlainTextEdit):
            return str(editor.toPlainText())
        return str(editor.text())

    def set_cell(self, path: str, text: str) -> None:
        editor = self.editors[path]
        if isinstance(editor, (ListEditor, SetEditor)):
            editor.set_cell(text)
        elif isinstance(editor, QComboBox):
            set_choice(editor, text)
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(text)
        else:
            editor.setText(text)

    def cells(self) -> dict[str, str]:
        return {path: self.cell(path) for path in self.editors}

    def raw(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The request the form holds, and the problems converting its cells."""
        return intake.cells_to_raw(self.cells().items())

    def load(self, doc: dict[str, Any] | None, version: int | None = None) -> None:
        """Fill the form with a stored request (or empty it for a new one)."""
        self.document, self.expect_version = doc, version
        self.heading.setText(
            f"<b>Edit {escape(doc['reference'])}</b> (version {version})" if doc else "<b>New request</b>"
        )
        self._loading = True
        try:
            for path in self.editors:
                value = rq.get_path(doc, path) if doc else None
                self.set_cell(path, csv_cell(path, value) if value is not None else "")
        finally:
            self._loading = False
        self.editors["reference"].setReadOnly(doc is not None)
        self._left.clear()
        self._save_tried = False
        self._timer.stop()
        self.mark_saved()
        self.validate()

    def clear(self) -> None:
        self.load(None)

    # ------------------------------------------------------------------ unsaved edits

    def has_unsaved_changes(self) -> bool:
        """Whether a cell differs from the request as it was loaded (or saved)."""
        return self.cells() != self._baseline

    def mark_saved(self) -> None:
        """What the form holds now is stored: nothing is unsaved (the window calls it when a
        save succeeded)."""
        self._baseline = self.cells()
        self.discard.setEnabled(False)

    def discard_changes(self) -> None:
        """Back to the request as it was loaded (a blank form for a new one)."""
        self.load(self.document, self.expect_version)

    def confirm_discard(self, ask: Callable[[str], bool]) -> bool:
        """True when nothing is unsaved, or `ask(question)` agreed to drop the edits (they are
        dropped then); False leaves the form as it is."""
        if not self.has_unsaved_changes():
            return True
        what = f"request {self.document['reference']}" if self.document else "the new request"
        if not ask(f"Discard your unsaved changes to {what}?"):
            return False
        self.discard_changes()
        return True

    # ------------------------------------------------------------------ validation

    def _changed(self, *_args: Any) -> None:
        if self._loading:
            return
        self.discard.setEnabled(self.has_unsaved_changes())
        self._timer.start()

    def _field_of(self, widget: QWidget | None) -> str | None:
        while widget is not None:
            path = self._owner.get(widget)
            if path is not None:
                return path
            widget = widget.parentWidget()
        return None

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if old is None or not Shiboken.isValid(old) or (new is not None and not Shiboken.isValid(new)):
            return  # a widget taken down
        left = self._field_of(old)
        if left is not None and left != self._field_of(new):
            self._leave(left)

    def _leave(self, path: str) -> None:
        """The field at `path` was left (or Return pressed in it): its problems show, as soon
        as the event loop runs (by a timer of the form's own: focus also moves while a
        window is taken down, and the timer goes with the form)."""
        self._left.add(path)
        self._timer.stop()
        self._left_timer.start()

    def _key(self, path: str) -> str:
        key = path.split("[")[0]
        return key if key in self.messages else path

    def validate(self) -> bool:
        raw, problems = self.raw()
        doc, more = rq.validate(json.loads(json.dumps(raw)))
        self.problems = sorted(
            problems + more, key=lambda p: self._order.get(self._key(p[0]), len(self._order))
        )
        self._explain(doc if not self.problems else None)
        ok = not self.problems
        self._show_problems()
        self.discard.setEnabled(self.has_unsaved_changes())
        self.valid_changed.emit(ok)
        return ok

    def shown_problems(self) -> list[tuple[str, str]]:
        """The problems on screen, in the form's order: those of the fields left, or all
        once Save was pressed."""
        return [p for p in self.problems if self._save_tried or self._key(p[0]) in self._left]

    def _show_problems(self) -> None:
        shown = self.shown_problems()
        by_field: dict[str, list[str]] = {}
        for path, message in shown:
            key = self._key(path)
            # A problem of an item names it: "Deployment sites 2: Country: expected ...".
            words = message if path == key else f"{field_label(path)}: {message}"
            by_field.setdefault(key, []).append(words)
        colour = "#ff8a80" if self.palette().color(QPalette.ColorRole.Window).lightness() < 128 else "#b42318"
        for path, label in self.messages.items():
            messages = by_field.get(path)
            text = "; ".join(messages) if messages else ""
            if label.text() != text:
                label.setText(text)
                editor = self.editors[path]
                target = editor.state if isinstance(editor, (ListEditor, SetEditor)) else editor
                target.setAccessibleDescription(
                    text or ("Required." if rq.LEAF_FIELDS[path].required else "")
                )
            label.setStyleSheet(f"color:{colour}")
            label.setVisible(bool(messages))
        if shown:
            problems = count_words(len(shown), "problem", "problems")
            self.problem_link.setText(f"{problems} to fix: go to the first")
            self.problem_link.setAccessibleName(f"Go to the first of {problems}")
            self.problem_link.setStyleSheet(f"color:{colour}; text-decoration: underline; text-align: left")
            self.problem_link.show()
            self.summary.setText("")
        else:
            self.problem_link.hide()
            self.summary.setText("Ready to save." if not self.problems else "Fields marked * are required.")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        changes = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in changes and hasattr(self, "problem_link"):
            self._show_problems()  # the messages' colour follows the theme

    def first_problem_widget(self) -> QWidget | None:
        """The widget of the first problem shown (a cell of a table for a problem of an item)."""
        shown = self.shown_problems()
        if not shown:
            return None
        path = shown[0][0]
        editor = self.editors.get(self._key(path))
        if editor is None:
            return None
        if isinstance(editor, (ListEditor, SetEditor)):
            return editor.focus_widget(path)
        return editor  # type: ignore[no-any-return]

    def go_to_first_problem(self) -> None:
        """Focus the field of the first problem shown and scroll it into view (with its label),
        now and once the layout has caught up with what the validation showed or hid."""
        widget = self.first_problem_widget()
        if widget is None:
            return
        widget.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll_target = widget
        self._scroll_into_view()
        self._scroll_timer.start()

    def _scroll_into_view(self) -> None:
        widget = self._scroll_target
        if widget is None:
            return
        shown = self.shown_problems()
        key = self._key(shown[0][0]) if shown else None
        # Its message under it, its label, and the widget itself above all.
        for other in (self.messages.get(key or ""), self.labels.get(key or "")):
            if other is not None and other.isVisible():
                self.scroll.ensureWidgetVisible(other)
        self.scroll.ensureWidgetVisible(widget)

    def _save(self) -> None:
        self._save_tried = True
        self._timer.stop()
        if self.validate():
            raw, _ = self.raw()
            self.save_requested.emit(raw, self.expect_version)
        else:
            self.go_to_first_problem()
