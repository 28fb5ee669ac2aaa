"""The intake form: every field of the request format, validated as you type, with the message
beside the field; yes/no questions have a third answer, unknown. The form is one CSV row in
disguise: each widget gives the text of a cell, and the importer's own conversion and
validation decide, so the form accepts exactly what a file would."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
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

from reviewer import intake
from reviewer import request as rq
from reviewer.export.documents import csv_cell
from reviewer.rules import RuleSet, evaluate_with
from reviewer.rules.explain import explainer_for
from reviewer.ui.judgement import judgement_html
from reviewer.vocabulary import Recommendation, field_label, finding_words

UNKNOWN = "unknown"


class IntakeForm(QWidget):
    """`save_requested(raw, expect_version)`: the window stores the request (off the GUI
    thread); `valid_changed(bool)` follows the validation."""

    save_requested = Signal(dict, object)
    valid_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, Any] = {}
        self.messages: dict[str, QLabel] = {}
        self.expect_version: int | None = None
        self.problems: list[tuple[str, str]] = []
        outer = QVBoxLayout(self)
        self.heading = QLabel("<b>New request</b>")
        outer.addWidget(self.heading)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        inner = QWidget()
        form = QFormLayout(inner)
        current_section = None
        for path, t in rq.LEAF_FIELDS.items():
            if path == "format":
                continue
            section = path.split(".")[0] if "." in path else None
            if section != current_section and section is not None:
                form.addRow(QLabel(f"<b>{section}</b>"))
            current_section = section
            editor = self._editor(path, t)
            message = QLabel()
            message.setStyleSheet("color:#b42318")
            message.setWordWrap(True)
            message.hide()
            row = QVBoxLayout()
            row.addWidget(editor)
            row.addWidget(message)
            label = field_label(path) + (" *" if t.required else "")
            form.addRow(label, row)
            self.editors[path] = editor
            self.messages[path] = message
        scroll.setWidget(inner)
        # Beside the form, as you type: the recommendation, what to ask and what would change it.
        self.ruleset: RuleSet | None = None
        self.judgement = QTextBrowser()
        self.judgement.setAccessibleName("Decisive facts and what would change the outcome")
        split = QSplitter(self)
        split.addWidget(scroll)
        split.addWidget(self.judgement)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        outer.addWidget(split, 1)
        buttons = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.save = QPushButton("&Save and evaluate")
        self.save.setAccessibleName("Save request")
        self.save.clicked.connect(self._save)
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.save)
        outer.addLayout(buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.validate)
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
                               + judgement_html(e, self.ruleset.titles))  # fmt: skip

    def _editor(self, path: str, t: rq.FieldType) -> Any:
        name = path.replace(".", " ").replace("_", " ")
        if t.kind in ("bool", "enum"):
            box = QComboBox()
            box.addItem(UNKNOWN, "")
            values = ["yes", "no"] if t.kind == "bool" else list(t.values)
            for v in values:
                box.addItem(
                    v.replace("_", " ") if t.kind == "enum" else v,
                    ("true" if v == "yes" else "false") if t.kind == "bool" else v,
                )
            box.setAccessibleName(name)
            box.currentIndexChanged.connect(self._changed)
            return box
        if t.kind == "objlist" or path == "use.description":
            edit = QPlainTextEdit()
            edit.setTabChangesFocus(True)  # Tab moves on to the next field
            edit.setMaximumHeight(70)
            edit.setAccessibleName(name)
            if t.kind == "objlist":
                first = next(iter(t.item))
                edit.setPlaceholderText(
                    f"empty if unknown; [] for none; or JSON such as "
                    f'[{{"{first}": ...}}] with {", ".join(t.item)}'
                )
            edit.textChanged.connect(self._changed)
            return edit
        edit = QLineEdit()
        edit.setAccessibleName(name)
        hints = {"date": "YYYY-MM-DD", "int": "a whole number, empty if unknown",
                 "number": "a number, empty if unknown", "country": "two letters, e.g. US",
                 "region": "e.g. IL", "currency": "e.g. EUR",
                 "set": "; between values, [] for none: " + "; ".join(t.values)}  # fmt: skip
        edit.setPlaceholderText(hints.get(t.kind, "empty if unknown" if not t.required else ""))
        edit.textChanged.connect(self._changed)
        return edit

    # ------------------------------------------------------------------ values

    def cell(self, path: str) -> str:
        editor = self.editors[path]
        if isinstance(editor, QComboBox):
            return str(editor.currentData() or "")
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText()
        return editor.text()

    def set_cell(self, path: str, text: str) -> None:
        editor = self.editors[path]
        if isinstance(editor, QComboBox):
            index = editor.findData(text)
            editor.setCurrentIndex(index if index >= 0 else 0)
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(text)
        else:
            editor.setText(text)

    def raw(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The request the form holds, and the problems converting its cells."""
        return intake.cells_to_raw((path, self.cell(path)) for path in self.editors)

    def load(self, doc: dict[str, Any] | None, version: int | None = None) -> None:
        """Fill the form with a stored request (or empty it for a new one)."""
        self.expect_version = version
        self.heading.setText(
            f"<b>Edit {doc['reference']}</b> (version {version})" if doc else "<b>New request</b>"
        )
        for path in self.editors:
            value = rq.get_path(doc, path) if doc else None
            self.set_cell(path, csv_cell(path, value) if value is not None else "")
        self.editors["reference"].setReadOnly(doc is not None)
        self.validate()

    def clear(self) -> None:
        self.load(None)

    # ------------------------------------------------------------------ validation

    def _changed(self, *_args: Any) -> None:
        self._timer.start()

    def validate(self) -> bool:
        raw, problems = self.raw()
        doc, more = rq.validate(json.loads(json.dumps(raw)))
        self.problems = problems + more
        self._explain(doc if not self.problems else None)
        by_field: dict[str, list[str]] = {}
        for path, message in self.problems:
            key = path.split("[")[0]
            by_field.setdefault(key if key in self.messages else path, []).append(message)
        for path, label in self.messages.items():
            messages = by_field.get(path)
            label.setText("; ".join(messages) if messages else "")
            label.setVisible(bool(messages))
        ok = not self.problems
        self.save.setEnabled(ok)
        self.summary.setText(
            "Ready to save." if ok else f"{len(self.problems)} problem(s) to fix before saving."
        )
        self.valid_changed.emit(ok)
        return ok

    def _save(self) -> None:
        if self.validate():
            raw, _ = self.raw()
            self.save_requested.emit(raw, self.expect_version)
