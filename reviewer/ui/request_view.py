"""The request as a reviewer reads it: every field grouped as in the request format (unknowns
shown as unknown), the evaluation with a coloured banner and one block per finding, and the
history: versions, decisions with their conditions, audit events. Customer text is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from reviewer import request as rq
from reviewer.export.text import utc_text
from reviewer.ui.judgement import judgement_html
from reviewer.vocabulary import (
    SECTION_LABELS,
    Outcome,
    Recommendation,
    field_label,
    finding_words,
    size_words,
)

OPEN_SCHEME = "attachment"  # the links of the Attachments section: attachment:N opens N
CUSTOMER_SCHEME = "customer"  # the link of the request's customer: customer:N shows C-N

COLOURS = {r.value: r.colour for r in Recommendation}
ICONS = {"refuse": "✖", "needs_information": "?", "escalate_senior": "▲", "escalate_second": "◆",
         "conditions": "■", "approve": "✔"}  # fmt: skip


def _value(value: Any) -> str:
    if value is None:
        return '<span style="color:#98a2b3"><i>unknown</i></span>'
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        if not value:
            return "none"
        if isinstance(value[0], dict):
            return "<br>".join(escape(", ".join(f"{k}: {v}" for k, v in x.items())) for x in value)
        return escape(", ".join(str(v) for v in value))
    return escape(str(value)).replace("\n", "<br>")


def render(data: dict[str, Any]) -> str:
    """HTML for the data of `review.show`."""
    doc = data["document"]
    ev = data["evaluation"]
    rec = ev["recommendation"]
    parts = [
        f"<h2>{escape(data['reference'])} — {escape(doc.get('title', ''))}</h2>",
        f"<p>Status <b>{escape(data['status'])}</b> · version {data['version']} · assignee "
        f"{escape(data['assignee'] or '—')}</p>",
        customer_html(data.get("customer")),
        f'<p style="background:{COLOURS[rec]};color:white;padding:6px;font-size:14pt">'
        f"{ICONS[rec]} Recommendation: <b>{escape(Recommendation.label_of(rec))}</b> "
        f"({len(ev['findings'])} findings, {escape(ev['rule_set'])})</p>",
        "<h3>Findings</h3>",
    ]
    if not ev["findings"]:
        parts.append("<p>No rule fired: nothing stands in the way.</p>")
    for f in ev["findings"]:
        colour = COLOURS.get(f["outcome"], "#101828")
        parts.append(
            f'<p><span style="color:{colour}"><b>{ICONS.get(f["outcome"], "")} {escape(f["rule"])} '
            f"{escape(finding_words(f['outcome'], f['override']))}</b></span> — "
            f"{escape(f['title'])}<br>{escape(f['explanation'])}"
            + (f"<br><i>missing: {escape(', '.join(f['missing']))}</i>" if f["missing"] else "")
            + f'<br><span style="color:#667085">source: {escape(f["source"])}</span></p>'
        )
    if ev["conditions"]:
        parts.append(
            "<h3>Conditions</h3><ul>"
            + "".join(f"<li>[{escape(c['rule'])}] {escape(c['text'])}</li>" for c in ev["conditions"])
            + "</ul>"
        )
    if "explanation" in data:
        parts.append('<a name="judgement"></a>' + judgement_html(data["explanation"], data.get("titles", {})))
    parts.append("<h3>The request</h3><table cellspacing=2>")
    for key, spec in rq.SCHEMA.items():
        if isinstance(spec, dict):
            parts.append(f"<tr><td colspan=2><b>{escape(SECTION_LABELS.get(key, key))}</b></td></tr>")
            section = doc.get(key) or {}
            for field in spec:
                parts.append(
                    f"<tr><td>&nbsp;&nbsp;{escape(field_label(f'{key}.{field}'))}</td>"
                    f"<td>{_value(section.get(field))}</td></tr>"
                )
        elif key not in ("format",):
            parts.append(
                f"<tr><td><b>{escape(field_label(key))}</b></td><td>{_value(doc.get(key))}</td></tr>"
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
            + f" — on version {d['request_version']} under {escape(d['rule_set'])}<br>"
            f"{escape(d['justification'])}</p>"
        )
        if d["conditions"]:
            parts.append(
                "<ul>"
                + "".join(
                    f"<li>#{c['id']} [{escape(c['rule'])}] {escape(c['text'])} — due {c['due']} — "
                    f"<b>{c['status']}</b></li>"
                    for c in d["conditions"]
                )
                + "</ul>"
            )
    parts.append(
        "<h3>Versions</h3><ul>"
        + "".join(
            f"<li>v{v['version']} {escape(v['created_at'][:19])} by {escape(v['created_by'])}</li>"
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
        self.setHtml("<p>Select a request in the queue.</p>")

    def show_request(self, data: dict[str, Any]) -> None:
        self.data = data
        self.setHtml(render(data))

    def _link(self, url: QUrl) -> None:
        if url.scheme() == OPEN_SCHEME and url.path().isdigit():
            self.open_attachment.emit(int(url.path()))
        elif url.scheme() == CUSTOMER_SCHEME and url.path().isdigit():
            self.open_customer.emit(int(url.path()))

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
