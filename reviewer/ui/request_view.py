"""The request as a reviewer reads it: every field grouped as in the request format (unknowns
shown as unknown, stored values by their labels), the evaluation with a coloured banner, its
findings grouped by severity with their counts and their facts in words (each finding's
expression, as the rule set states it, one click away), the missing facts as one checklist,
and the history: versions, decisions with their conditions, audit events, every time as
`2026-12-01 20:58 UTC`. Customer text is escaped."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from reviewer import request as rq
from reviewer.export.text import utc_text
from reviewer.rules.words import (
    by_severity,
    explanation_words,
    is_total,
    missing_facts,
    summary_words,
    value_words,
)
from reviewer.ui.judgement import decisive_rows, judgement_html
from reviewer.ui.markup import escape
from reviewer.vocabulary import (
    SECTION_LABELS,
    ConditionStatus,
    Outcome,
    Recommendation,
    Status,
    count_words,
    field_label,
    finding_words,
    findings_count,
    size_words,
)

OPEN_SCHEME = "attachment"  # the links of the Attachments section: attachment:N opens N
CUSTOMER_SCHEME = "customer"  # the link of the request's customer: customer:N shows C-N
EXPRESSION_SCHEME = "expression"  # expression:N shows or hides finding N's expression, expression:all all

COLOURS = {r.value: r.colour for r in Recommendation}
ICONS = {"refuse": "✖", "needs_information": "?", "escalate_senior": "▲", "escalate_second": "◆",
         "conditions": "■", "approve": "✔"}  # fmt: skip
GREY = "#667085"
UNKNOWN = '<span style="color:#98a2b3"><i>unknown</i></span>'


def _value(value: Any, path: str) -> str:
    if value is None:
        return UNKNOWN
    return escape(value_words(value, path)).replace("\n", "<br>")


def render(data: dict[str, Any], expressions: Collection[int] = ()) -> str:
    """HTML for the data of `review.show`; `expressions`: the findings (by their place in the
    evaluation) whose expression is shown."""
    doc = data["document"]
    ev = data["evaluation"]
    rec = ev["recommendation"]
    parts = [
        f"<h2>{escape(data['reference'])} — {escape(doc.get('title', ''))}</h2>",
        f"<p>Status <b>{escape(Status.label_of(data['status']))}</b> · version {data['version']} · "
        f"assignee {escape(data['assignee'] or '—')}</p>",
        customer_html(data.get("customer")),
        f'<p style="background:{COLOURS[rec]};color:white;padding:6px;font-size:14pt">'
        f"{ICONS[rec]} Recommendation: <b>{escape(Recommendation.label_of(rec))}</b> "
        f"({count_words(len(ev['findings']), 'finding', 'findings')}, rule set {escape(ev['rule_set'])})</p>",
    ]
    missing = missing_facts(ev["findings"])
    parts.append(findings_html(ev["findings"], expressions, sum(not is_total(p) for p, _ in missing)))
    explanation = data.get("explanation")
    # What to ask sales and what would change it: the missing facts (the decisive ones with
    # what each answer leads to), the conditions, then the what-ifs.
    parts.append('<a name="judgement"></a>' + missing_html(missing, (explanation or {}).get("decisive", [])))
    if ev["conditions"]:
        parts.append(
            "<h3>Conditions</h3><ul>"
            + "".join(f"<li>[{escape(c['rule'])}] {escape(c['text'])}</li>" for c in ev["conditions"])
            + "</ul>"
        )
    if "explanation" in data:
        parts.append(judgement_html(explanation, data.get("titles", {}), words=True, decisive=False))
    parts.append("<h3>The request</h3><table cellspacing=2>")
    for key, spec in rq.SCHEMA.items():
        if isinstance(spec, dict):
            parts.append(f"<tr><td colspan=2><b>{escape(SECTION_LABELS.get(key, key))}</b></td></tr>")
            section = doc.get(key) or {}
            for field in spec:
                parts.append(
                    f"<tr><td>&nbsp;&nbsp;{escape(field_label(f'{key}.{field}'))}</td>"
                    f"<td>{_value(section.get(field), f'{key}.{field}')}</td></tr>"
                )
        elif key not in ("format",):
            parts.append(
                f"<tr><td><b>{escape(field_label(key))}</b></td><td>{_value(doc.get(key), key)}</td></tr>"
            )
    parts.append("</table>")
    if data.get("notes"):  # in time order, each with its author: never edited, never deleted
        parts.append("<h3>Notes</h3>" + "".join(
            f"<p><b>{escape(n['author'])}</b>, {escape(utc_text(n['time']))}<br>"
            f"{escape(n['text']).replace(chr(10), '<br>')}</p>" for n in data["notes"]))  # fmt: skip
    parts.append(attachments_html(data.get("attachments") or []))
    parts.append("<h3>Decisions</h3>" + ("" if data["decisions"] else "<p>none yet</p>"))
    for d in data["decisions"]:
        state = "final" if d["final"] else ("rejected at check" if d["rejected"] else "awaiting check")
        parts.append(
            f"<p><b>#{d['number']} {escape(Outcome.label_of(d['outcome']))}</b> ({state}) by "
            f"{escape(d['decider'] or '')}"
            + (f", checked by {escape(d['checker'])}" if d["checker"] else "")
            + (f", {escape(utc_text(d['decided_at']))}" if d.get("decided_at") else "")
            + f" — on version {d['request_version']} under {escape(d['rule_set'])}"
            + (f" — re-review due {escape(d['re_review'])}" if d.get("re_review") else "")
            + f"<br>{escape(d['justification'])}</p>"
        )
        if d["conditions"]:
            parts.append(
                "<ul>"
                + "".join(
                    f"<li>#{c['id']} [{escape(c['rule'])}] {escape(c['text'])} — "
                    f"due {escape(c['due'] or '—')} — "
                    f"<b>{escape(ConditionStatus.label_of(c['status']))}</b></li>"
                    for c in d["conditions"]
                )
                + "</ul>"
            )
    parts.append(
        "<h3>Versions</h3><ul>"
        + "".join(
            f"<li>v{v['version']} · {escape(utc_text(v['created_at']))} · by {escape(v['created_by'])}</li>"
            for v in data["versions"]
        )
        + "</ul>"
    )
    parts.append(
        "<h3>Audit events</h3><ul>"
        + "".join(
            f"<li>{e['seq']} · {escape(utc_text(e['time']))} · {escape(e['actor'])} · "
            f"{escape(e['words'])}</li>"
            for e in data["events"]
        )
        + "</ul>"
    )
    return "".join(parts)


def findings_html(findings: list[dict[str, Any]], expressions: Collection[int], missing: int) -> str:
    """The Findings section: a line of counts, then the findings grouped by severity (most
    severe first), each group headed by its count; each finding says its facts in words, with
    a link that shows (or hides) its expression as the rule set states it."""
    if not findings:
        return "<h3>Findings</h3><p>No rule fired: nothing stands in the way.</p>"
    every = len(expressions) >= len(findings)
    toggle_all = "hide every rule's expression" if every else "show every rule's expression"
    parts = [
        "<h3>Findings</h3>",
        f"<p><b>{escape(summary_words(findings, missing))}</b> · "
        f'<a href="{EXPRESSION_SCHEME}:all">{toggle_all}</a></p>',
    ]
    place = {id(f): i for i, f in enumerate(findings)}
    for outcome, group in by_severity(findings):
        colour = COLOURS.get(outcome, "#101828")
        parts.append(f'<h4 style="color:{colour}">{ICONS.get(outcome, "")} '
                     f"{escape(findings_count(outcome, len(group)))}</h4>")  # fmt: skip
        for f in group:
            parts.append(_finding_html(f, place[id(f)], place[id(f)] in expressions))
    return "".join(parts)


def _finding_html(f: Mapping[str, Any], number: int, expanded: bool) -> str:
    colour = COLOURS.get(f["outcome"], "#101828")
    lines = "".join(f"<br>&nbsp;&nbsp;• {escape(line)}" for line in explanation_words(f["explanation"]))
    link = (f'<a href="{EXPRESSION_SCHEME}:{number}">'
            f"{'hide' if expanded else 'show'} the rule's expression</a>")  # fmt: skip
    raw = ""
    if expanded:
        raw = f"<br><code>{escape(f['explanation'])}</code>"
        if f["missing"]:
            raw += f"<br><code>missing: {escape(', '.join(f['missing']))}</code>"
    return (
        f"<p><b>{escape(f['rule'])}</b> {escape(f['title'])} — "
        f'<span style="color:{colour}"><b>{escape(finding_words(f["outcome"], f["override"]))}</b></span>'
        f"{lines}{raw}"
        f'<br><span style="color:{GREY}">source: {escape(f["source"])}</span> · {link}</p>'
    )


def missing_html(missing: list[tuple[str, list[str]]], decisive: list[Mapping[str, Any]]) -> str:
    """The missing facts as one checklist: each once, in words, with the rules that need it;
    a decisive one (the judgement's, `reviewer.rules.explain`) with what each answer leads to.
    A customer total is no fact of its own: one line says which are unknown while a part is."""
    if not missing:
        return ""
    options = {d["field"]: d for d in decisive}
    own = [(p, rules) for p, rules in missing if not is_total(p)]
    totals = [(p, rules) for p, rules in missing if is_total(p)]
    parts = ["<h3>Missing facts — ask sales</h3>"]
    if own:
        verb = "is" if len(own) == 1 else "are"
        parts.append(f"<p>{escape(count_words(len(own), 'fact', 'facts'))} the rules need {verb} "
                     "unknown; the drafted request for information asks for them.</p>"
                     '<ul style="list-style-type:none">')  # fmt: skip
        for path, rules in own:
            rows = decisive_rows(options[path], words=True) if path in options else []
            parts.append(
                f"<li>☐ <b>{escape(field_label(path))}</b> — needed by {escape(', '.join(rules))}"
                + "".join(f'<br><span style="color:{GREY}">{row}</span>' for row in rows)
                + "</li>"
            )
        parts.append("</ul>")
    if totals:
        names = ", ".join(field_label(p.partition(".")[2]) for p, _ in totals)
        rules = list(dict.fromkeys(r for _, rs in totals for r in rs))
        parts.append(f"<p>The customer's totals of {escape(names)} stay unknown while a request "
                     f"of the customer leaves its part unknown (needed by {escape(', '.join(rules))})."
                     "</p>")  # fmt: skip
    return "".join(parts)


def customer_html(customer: dict[str, Any] | None) -> str:
    """The link to the request's customer: every request of it and its deployment in total."""
    if customer is None:
        return ""
    return (f'<p>Customer <a href="{CUSTOMER_SCHEME}:{customer["id"]}"><b>{escape(customer["number"])}</b> '
            f"{escape(customer['name'])}</a> — all its requests and its deployment in total</p>")  # fmt: skip


def attachments_html(rows: list[dict[str, Any]]) -> str:
    """The Attachments section: number, name, size, time, author, and an Open link for each
    one whose bytes are kept (a redacted one says so instead). Drop files on the view to
    attach them."""
    if not rows:
        return ("<h3>Attachments</h3><p>none — drop files here to attach them to this "
                "request</p>")  # fmt: skip
    items = []
    for a in rows:
        action = (f'<span style="color:#b42318"><b>redacted</b></span> by {escape(a["redacted_by"] or "")}: '
                  f"{escape(a['redact_reason'] or '')}" if a["redacted"]
                  else f'<a href="{OPEN_SCHEME}:{a["number"]}">Open</a>')  # fmt: skip
        note = f"<br><i>{escape(a['note'])}</i>" if a.get("note") else ""
        size, time = escape(size_words(a["size"])), escape(utc_text(a["time"]))
        items.append(f"<li>{a['number']}. <b>{escape(a['name'])}</b> — {size} — {time} — "
                     f"{escape(a['author'])} — {action}{note}</li>")  # fmt: skip
    return "<h3>Attachments</h3><ul>" + "".join(items) + "</ul>"


def _shown_findings(data: Mapping[str, Any] | None) -> tuple[Any, ...]:
    if data is None:
        return ()
    return (data["reference"], *(f["rule"] for f in data["evaluation"]["findings"]))


class RequestView(QTextBrowser):
    """The request; local files dropped on it are attached to it (`files_dropped`), the Open
    link of an attachment asks for it (`open_attachment`), and the link of its customer for
    the customer (`open_customer`). Reviewer never shows an attachment itself."""

    files_dropped = Signal(list)  # local paths
    open_attachment = Signal(int)  # its number
    open_customer = Signal(int)  # the id of the request's customer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Request details")
        self.setOpenLinks(False)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.anchorClicked.connect(self._link)
        self.data: dict[str, Any] | None = None
        self.expressions: set[int] = set()  # the findings whose expression is shown
        self.setHtml("<p>Select a request in the queue.</p>")

    def show_request(self, data: dict[str, Any]) -> None:
        if _shown_findings(self.data) != _shown_findings(data):
            self.expressions = set()  # another request, or other findings: all in words again
        self.data = data
        self._render()

    def _render(self, keep_place: bool = False) -> None:
        if self.data is None:
            return
        bar = self.verticalScrollBar()
        place = bar.value()
        self.setHtml(render(self.data, self.expressions))
        if keep_place:
            bar.setValue(place)

    def toggle_expression(self, which: str) -> None:
        """Show or hide the expression of finding `which` (its place), or of every one (`all`)."""
        if self.data is None:
            return
        count = len(self.data["evaluation"]["findings"])
        if which == "all":
            self.expressions = set() if len(self.expressions) >= count else set(range(count))
        elif which.isdigit() and int(which) < count:
            self.expressions ^= {int(which)}
        else:
            return
        self._render(keep_place=True)

    def _link(self, url: QUrl) -> None:
        if url.scheme() == OPEN_SCHEME and url.path().isdigit():
            self.open_attachment.emit(int(url.path()))
        elif url.scheme() == CUSTOMER_SCHEME and url.path().isdigit():
            self.open_customer.emit(int(url.path()))
        elif url.scheme() == EXPRESSION_SCHEME:
            self.toggle_expression(url.path())

    @staticmethod
    def _local_files(event: Any) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        # Files dropped here are attached to the request shown; with none shown, the window's
        # own drop (import) takes them.
        if self.data is not None and self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        paths = self._local_files(event)
        if self.data is None or not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.files_dropped.emit(paths)
