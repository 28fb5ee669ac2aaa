"""PDF justification records (`workflow.md`, "The PDF justification"), with ReportLab.

A record must stand on its own in front of an auditor or a court: the request, every finding
with its source, the decision and its sign-offs, and the integrity data that ties it to the
database (record hash in the text, in the metadata and as a QR code). Customer text is data:
it is escaped, never read as markup, and set in fonts shipped with the app (embedded subsets).
"""

from __future__ import annotations

import functools
import io
import re
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from reviewer.export.text import roles_text, utc_text
from reviewer.vocabulary import Outcome, Recommendation, field_label, finding_words, size_words

FONT, BOLD, FALLBACK = "Reviewer-Sans", "Reviewer-Sans-Bold", "Reviewer-CJK"
RENDERER = 3
"""The layout's version, in every record's keywords (`renderer:3`): `verify --pdf` compares a
record page by page with a rendering of the same layout, so a change to what a record prints
or where raises it. Records without the mark are version 1 (before the mark existed); 3 added
the attachments."""
OUTCOME_WORDS = {o.value: (o.label, colors.HexColor(o.colour)) for o in Outcome}
FINDING_COLOURS = {r.value: r.colour for r in Recommendation}


_TO_UNICODE_CMAP = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode map of a font subset, with the characters beyond the Basic
    Multilingual Plane (an emoji, CJK Extension B: 𠮷) written as the UTF-16 code units PDF
    readers expect. ReportLab 5.1 writes their code point as hex (`<1F600>`), which readers
    cut to four digits: 😀 was copied back as U+1F60 and 𠮷 lost. Such a character has no
    glyph in the shipped fonts and prints as a box, but searches and copies back exactly.
    Characters in the plane are unchanged (the same four digits)."""
    lines = _TO_UNICODE_CMAP(fontname, subset).split("\n")
    wide = {f"<{i:02X}> <{v:04X}>": f"<{i:02X}> <{chr(v).encode('utf-16-be').hex().upper()}>"
            for i, v in enumerate(subset) if v > 0xFFFF}  # fmt: skip
    return "\n".join(wide.get(line, line) for line in lines)


ttfonts.makeToUnicodeCMap = _to_unicode_cmap


@functools.cache
def _fonts() -> tuple[frozenset[str], frozenset[str]]:
    """Register the shipped fonts once per process; return the code points each covers."""
    folder = resources.files("reviewer.resources").joinpath("fonts")
    faces = {}
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"),
                       (FALLBACK, "DroidSansFallbackFull.ttf")):  # fmt: skip
        with resources.as_file(folder.joinpath(file)) as path:
            font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        faces[name] = frozenset(map(chr, font.face.charToGlyph))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    return faces[FONT], faces[FALLBACK]


_RTL = "\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb1d-\ufdff\ufe70-\ufeff"
_RTL_RUN = re.compile(f"[{_RTL}]+(?:\\s+[{_RTL}]+)*")


def visual_order(s: str) -> str:
    """Right-to-left runs (Arabic, Hebrew) reversed for drawing: ReportLab sets text left to
    right, so the reversed run reads right to left on the page (unshaped), and PDF readers,
    which reorder right-to-left text when extracting, give back the text as typed."""
    return _RTL_RUN.sub(lambda m: m.group(0)[::-1], s)


def text(value: Any) -> str:
    """Customer (or any) text as paragraph markup: escaped, with characters the main font
    lacks (CJK) set in the fallback font, so they embed and copy back exactly."""
    main, fallback = _fonts()
    s = visual_order(str(value))
    out: list[str] = []
    run: list[str] = []
    in_fallback = False
    for ch in s:
        use_fallback = ch not in main and ch in fallback
        if use_fallback != in_fallback and run:
            out.append(_run("".join(run), in_fallback))
            run = []
        in_fallback = use_fallback
        run.append(ch)
    if run:
        out.append(_run("".join(run), in_fallback))
    return "".join(out)


def has_cjk(value: Any) -> bool:
    """True when the text needs the fallback (CJK) font, which also means it may be
    broken between any two characters (CJK has no spaces between words)."""
    main, fallback = _fonts()
    return not fallback.isdisjoint(set(str(value)).difference(main))


def para(value: Any, style: ParagraphStyle) -> Flowable:
    """A paragraph of customer text: escaped, font-fallback runs, CJK line breaking only
    where CJK is present (so Latin words never break inside)."""
    if has_cjk(value):
        style = ParagraphStyle(style.name + "-cjk", parent=style, wordWrap="CJK")
        return Paragraph(text(value), style)
    return Lines(visual_order(str(value)), style)


class Lines(Flowable):
    """Plain text in one style, broken into lines and drawn as text lines: what a Paragraph
    does for unmarked text at a fraction of its cost (no markup parser, no fragment layout).
    Customer text is drawn as given, never read as markup. Words wider than the line are
    broken between characters, as a Paragraph does (splitLongWords)."""

    def __init__(self, value: str, style: ParagraphStyle, fixed: list[str] | None = None) -> None:
        super().__init__()
        self.value = value
        self.style = style
        self.fixed = fixed  # the lines of a part split off at a page break
        self.lines: list[str] = []
        self._broken_at = -1.0

    def _break(self, width: float) -> list[str]:
        font, size = self.style.fontName, self.style.fontSize
        out: list[str] = []
        space = pdfmetrics.stringWidth(" ", font, size)
        for paragraph in self.value.split("\n"):
            line: list[str] = []
            used = -space
            for word in paragraph.split():
                w = pdfmetrics.stringWidth(word, font, size)
                if w > width:  # a word wider than the line: break it between characters
                    piece = ""
                    for ch in word:
                        if piece and pdfmetrics.stringWidth(piece + ch, font, size) > width:
                            if line:
                                out.append(" ".join(line))
                                line, used = [], -space
                            out.append(piece)
                            piece = ""
                        piece += ch
                    word, w = piece, pdfmetrics.stringWidth(piece, font, size)
                if line and used + space + w > width:
                    out.append(" ".join(line))
                    line, used = [], -space
                line.append(word)
                used += space + w
            if line:
                out.append(" ".join(line))
        return out or [""]

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        if self.fixed is not None:
            self.lines = self.fixed
        elif avail_width != self._broken_at:
            self.lines = self._break(avail_width)
            self._broken_at = avail_width
        self.width = avail_width
        self.height = len(self.lines) * self.style.leading
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self.wrap(avail_width, avail_height)
        fit = int(avail_height // self.style.leading)
        if fit <= 0:
            return []
        if fit >= len(self.lines):
            return [self]
        return [Lines(self.value, self.style, self.lines[:fit]),
                Lines(self.value, self.style, self.lines[fit:])]  # fmt: skip

    def write(self, t: Any, x: float, top: float) -> None:
        """Set the lines into a text object, the first line's top at `top`."""
        st = self.style
        t.setTextOrigin(x, top - st.fontSize)
        t.setFont(st.fontName, st.fontSize, st.leading)
        t.setFillColor(st.textColor)
        for line in self.lines:
            t.textLine(line)

    def draw(self) -> None:
        t = self.canv.beginText()
        self.write(t, 0, self.height)
        self.canv.drawText(t)


def _run(chunk: str, fallback: bool) -> str:
    escaped = escape(chunk).replace("\n", "<br/>")
    return f'<font name="{FALLBACK}">{escaped}</font>' if fallback else escaped


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#475467")
        ),
        "h1": ParagraphStyle("h1", parent=base, fontName=BOLD, fontSize=17, leading=21),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=11.5,
            leading=15,
            spaceBefore=9,
            spaceAfter=3,
            textColor=colors.HexColor("#101828"),
            keepWithNext=1,  # a heading never sits alone at the bottom of a page
        ),  # fmt: skip
        "org": ParagraphStyle(
            "org", parent=base, fontName=BOLD, fontSize=10, textColor=colors.HexColor("#475467")
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "label": ParagraphStyle("label", parent=base, fontName=BOLD, fontSize=8.5, leading=11),
        "sub": ParagraphStyle(
            "sub", parent=base, fontName=BOLD, fontSize=8.5, leading=11, spaceBefore=3, keepWithNext=1
        ),  # fmt: skip
    }


def _page_numbers(page_count_label: str) -> Any:
    """A canvas that writes "Page x of y" on every page once y is known."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._saved.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # ReportLab's, not in its stubs

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.HexColor("#475467"))
                self.drawString(18 * mm, 10 * mm, page_count_label)
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {self._pageNumber} of {total}")  # type: ignore[attr-defined]
                super().showPage()
            super().save()

    return NumberedCanvas


RULE = colors.HexColor("#eaecf0")
PAD = 2.0


class Rows(Flowable):
    """Label and value rows with a hairline below each: the record's tables. Drawn directly
    (a platypus Table lays out and clips every cell, which costs more than the rest of the
    record); rows break between pages, and a value too long for one page continues on the
    next."""

    def __init__(self, rows: list[tuple[Flowable, Flowable]], label_width: float) -> None:
        super().__init__()
        self.rows = rows
        self.label_width = label_width
        self._heights: list[float] = []

    def _wrap_row(self, row: tuple[Flowable, Flowable], width: float) -> float:
        label, value = row
        _w, lh = label.wrap(self.label_width - 2 * PAD, 1e9)
        _w, vh = value.wrap(width - self.label_width - 2 * PAD, 1e9)
        return max(lh, vh) + 2 * PAD

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self._heights = [self._wrap_row(r, avail_width) for r in self.rows]
        self.height = sum(self._heights)
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        self.wrap(avail_width, avail_height)
        used, n = 0.0, 0
        while n < len(self.rows) and used + self._heights[n] <= avail_height:
            used += self._heights[n]
            n += 1
        if n == len(self.rows):
            return [self]
        head, tail = self.rows[:n], self.rows[n:]
        label, value = tail[0]
        parts = value.split(avail_width - self.label_width - 2 * PAD, avail_height - used - 2 * PAD)
        if len(parts) == 2:  # the row's value continues on the next page, its label with it
            head = [*head, (label, parts[0])]
            tail = [(Lines("", label.style), parts[1]), *tail[1:]]  # type: ignore[attr-defined]
        if not head:
            return []
        return [Rows(head, self.label_width), Rows(tail, self.label_width)]

    def draw(self) -> None:
        canv = self.canv
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.25)
        t = canv.beginText()
        y = self.height
        for (label, value), h in zip(self.rows, self._heights, strict=True):
            for cell, x in ((label, PAD), (value, self.label_width + PAD)):
                if isinstance(cell, Lines):  # set into one text object for the whole table
                    cell.write(t, x, y - PAD)
                else:
                    cell.drawOn(canv, x, y - PAD - cell.height)
            y -= h
            canv.line(0, y, self.width, y)
        canv.drawText(t)


def _table(rows: list[tuple[str, Any]], st: dict[str, ParagraphStyle], value_style: str = "cell",
           label_width: float = 45 * mm) -> Rows:  # fmt: skip
    data: list[tuple[Flowable, Flowable]] = [
        (Lines(k, st["label"]), para(v, st[value_style])) for k, v in rows if v not in (None, "", [])
    ]
    if not data:
        data = [(Lines("—", st["cell"]), Lines("nothing stated", st["cell"]))]
    return Rows(data, label_width)


def _show(value: Any) -> str:
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value) if value else "none"
    if isinstance(value, int):
        return f"{value:,}"
    return (
        str(value).replace("_", " ")
        if isinstance(value, str) and " " not in value and "@" not in value and "." not in value
        else str(value)
    )


def missing_words(fields: list[str]) -> str:
    """Missing facts in words with their field names: `Organisation type (customer.org_type)`."""
    return ", ".join(f"{field_label(m)} ({m})" for m in fields)


def _section(doc: dict[str, Any], name: str, fields: list[str]) -> list[tuple[str, Any]]:
    section = doc.get(name)
    return [(field_label(f"{name}.{f}"), _show(section.get(f) if section else None)) for f in fields]


# The encoder builds the Reed-Solomon generator polynomial of a length anew for every code, by
# as many polynomial products; it depends on the length only, so it is built once.
qrencoder.QRUtil.getErrorCorrectPolynomial = staticmethod(  # type: ignore[method-assign]
    functools.cache(qrencoder.QRUtil.getErrorCorrectPolynomial)
)


class QrCode(Flowable):
    """A QR code of a short text, drawn as one path of merged dark runs (ReportLab's widget
    builds a shape per module, which costs more than the rest of the record)."""

    def __init__(self, value: str, size: float) -> None:
        super().__init__()
        qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
        qr.addData(value)
        # The encoder's methods are unannotated in types-reportlab.
        qr.version = qr.calculate_version()  # type: ignore[no-untyped-call]
        qr.makeImpl(False, 0)  # a fixed mask: any of the eight is valid for a reader
        n = qr.getModuleCount()  # type: ignore[no-untyped-call]
        self.rows = [[qr.isDark(r, c) for c in range(n)] for r in range(n)]  # type: ignore[no-untyped-call]
        self.size = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        n = len(self.rows)
        cell = self.size / (n + 8)  # four modules of quiet zone on each side
        path = self.canv.beginPath()
        for r, row in enumerate(self.rows):
            y = self.size - (r + 5) * cell
            c = 0
            while c < n:
                if row[c]:
                    start = c
                    while c < n and row[c]:
                        c += 1
                    path.rect((start + 4) * cell, y, (c - start) * cell, cell)
                else:
                    c += 1
        self.canv.drawPath(path, stroke=0, fill=1)


def build_story(record: dict[str, Any]) -> list[Any]:
    st = _styles()
    doc = record["document"]
    ev = record["evaluation"]
    words, colour = OUTCOME_WORDS[record["outcome"]]
    story: list[Any] = [
        para(record["organisation"], st["org"]),
        Lines("Decision record", st["h1"]),
        Paragraph(
            f"Reference <b>{text(record['reference'])}</b> · decision "
            f"{record['number']} · {escape(record['decided_at'][:10])}",
            st["body"],
        ),
        Spacer(1, 3 * mm),
        Paragraph(
            f'<font color="{colour.hexval().replace("0x", "#")}" size="14"><b>{escape(words)}</b></font>',
            st["body"],
        ),
        Spacer(1, 2 * mm),
        para(doc.get("title", ""), st["body"]),
        Spacer(1, 2 * mm),
        _table(
            [
                ("Customer", doc["customer"]["name"]),
                (
                    "Recommendation",
                    f"{Recommendation.label_of(ev['recommendation'])} "
                    f"({len(ev['findings'])} findings, rule set {ev['rule_set']})",
                ),
                ("Decided by", record["decider"]),
                ("Checked by", record["checker"] or "no second check required"),
                ("Record hash", record["record_hash"]),
            ],
            st,
        ),
    ]
    customer = doc["customer"]
    story += [Lines("1. The request", st["h2"]), _table([
        ("Customer", customer["name"]), ("Country / region / city", " / ".join(
            str(customer.get(k, "unknown")) for k in ("country", "region", "city"))),
        ("Organisation type", _show(customer.get("org_type"))),
        ("Sector", _show(customer.get("sector"))),
        ("Reseller or integrator", _show(customer.get("is_reseller"))),
        ("Received", doc["received_on"]),
        ("Sales owner / product", " / ".join(str(doc.get("sales", {}).get(k, "unknown"))
                                             for k in ("owner", "product"))),
    ], st)]  # fmt: skip
    users = doc.get("end_users")
    user_text = ("unknown" if users is None else "none (the customer is the end user)"
                 if not users else "; ".join(", ".join(str(u.get(k, "?")) for k in (
                     "name", "country", "region", "org_type")) for u in users))  # fmt: skip
    story += [Lines("End users", st["sub"]), para(user_text, st["cell"])]
    story += [
        Spacer(1, 2 * mm),
        _table(
            _section(
                doc,
                "use",
                [
                    "use_case",
                    "operations",
                    "real_time",
                    "camera_type",
                    "environment",
                    "context",
                    "law_enforcement_purpose",
                    "subject_already_apprehended",
                    "tracks_individuals",
                    "targets_protected_groups",
                    "monitored_events",
                    "captures_protected_spaces",
                    "decision_effects",
                    "accessibility_scenario",
                ],
            )
            + _section(doc, "people", ["includes_minors", "mostly_over_65", "enrollment_basis"])
            + _section(
                doc,
                "scale",
                [
                    "enrolled_identities",
                    "identifications_per_day",
                    "people_scanned_per_day",
                    "cameras",
                    "sites",
                    "countries",
                    "coverage",
                ],
            )
            + _section(
                doc,
                "data",
                [
                    "gallery_sources",
                    "retention_days",
                    "retention_policy_public",
                    "sold_or_monetized",
                    "shares_with_law_enforcement",
                ],
            )
            + _section(
                doc,
                "safeguards",
                [
                    "consent",
                    "enrollment_optional",
                    "alternative_method",
                    "human_review",
                    "operational_testing",
                    "demographic_testing",
                    "staff_training",
                    "feedback_channel",
                    "match_threshold",
                ],
            )
            + _section(doc, "legal", ["authorisation", "eu_art5_objective", "dpia_completed"]),
            st,
        ),
    ]
    sites = doc.get("sites")
    site_text = (
        "unknown"
        if sites is None
        else "none (online only)"
        if not sites
        else "; ".join(
            ", ".join(str(s.get(k, "?")) for k in ("city", "region", "country"))
            + (" (public accommodation)" if s.get("public_accommodation") else "")
            for s in sites
        )
    )
    story += [Lines("Sites", st["sub"]), para(site_text, st["cell"])]
    description = (doc.get("use") or {}).get("description")
    if description:
        story += [Lines("Description", st["sub"]), para(description, st["cell"])]

    story.append(Lines("2. The evaluation", st["h2"]))
    story.append(
        Paragraph(
            f"Recommendation: <b>{escape(Recommendation.label_of(ev['recommendation']))}</b> under rule set "
            f"{escape(ev['rule_set'])} ({len(ev['findings'])} findings)",
            st["body"],
        )
    )
    for f in ev["findings"]:
        colour_hex = FINDING_COLOURS.get(f["outcome"], "#101828")
        said = escape(finding_words(f["outcome"], f["override"]))
        parts: list[Flowable] = [
            Paragraph(f"<b>{escape(f['rule'])} {text(f['title'])}</b> — "
                      f'<font color="{colour_hex}"><b>{said}</b></font>', st["body"]),
            para(f["explanation"], st["cell"])]  # fmt: skip
        if f["missing"]:
            parts.append(para("Missing: " + missing_words(f["missing"]), st["cell"]))
        parts.append(para("Source: " + f["source"], st["small"]))
        parts.append(Spacer(1, 1.5 * mm))
        story.append(KeepTogether(parts))
    missing = list(dict.fromkeys(m for f in ev["findings"] for m in f["missing"]))
    story.append(para("Missing facts: " + (missing_words(missing) if missing else "none"), st["body"]))
    if record.get("judgement"):
        story.append(Lines("What the facts decide", st["sub"]))
        for line in record["judgement"]:
            depth = len(line) - len(line.lstrip(" "))
            story.append(para(("\u00a0" * 2 * depth) + line.strip(), st["cell"]))

    story.append(Lines("3. The decision", st["h2"]))
    story.append(_table([
        ("Outcome", words), ("Justification", record["justification"]),
        ("Re-review date", record["re_review"] or "—"),
    ], st))  # fmt: skip
    if record["conditions"]:
        story.append(Lines("Conditions", st["sub"]))
        for c in record["conditions"]:
            story.append(para(f"• [{c['rule']}] {c['text']} — due {c['due'] or '—'}", st["cell"]))
    # The evidence on file when the decision became final: name, size and hash only (never
    # its content), as the attach events recorded them.
    story.append(Lines("Attachments on file at the decision", st["sub"]))
    attached = record.get("attachments") or []
    if not attached:
        story.append(para("none", st["cell"]))
    else:
        rows = [(str(a["number"]), f"{a['name']}\n{size_words(int(a['size']), exact=True)}\n"
                 f"SHA-256 {a['sha256']}") for a in attached]  # fmt: skip
        story.append(_table(rows, st, label_width=12 * mm))
    story.append(Lines("4. Sign-off", st["h2"]))
    story.append(_table([
        ("Decided by", f"{record['decider']} ({roles_text(record['decider_roles'])}) at "
                       f"{utc_text(record['decided_at'])}"),
        ("Checked by", f"{record['checker']} ({roles_text(record['checker_roles'])}) at "
                       f"{utc_text(record['checked_at'])}" if record["checker"]
         else "no second check required"),
    ], st))  # fmt: skip
    if record.get("history"):
        story.append(Lines("The request's history up to this decision", st["sub"]))
        story.append(_table([(f"{utc_text(e['time'])}", f"{e['actor']}: {e['words']}")
                             for e in record["history"]], st))  # fmt: skip
    drawing = QrCode(record["record_hash"], 32 * mm)
    integrity = _table([
        ("Rule set", f"{record['rule_set']} (effective {record['rule_set_effective'] or '—'})"),
        ("Rule set SHA-256", record["rule_set_sha256"]),
        ("Request version / snapshot SHA-256",
         f"{record['request_version']} / {record['snapshot_sha256']}"),
        ("Record hash", record["record_hash"]),
        ("Finalising event", str(record["event_seq"])),
        ("Chain head at export", f"{record['head_seq']}:{record['head_hash']}"),
        ("Exported at", utc_text(record.get("exported_at"))),
        ("Signed by certificate (SHA-256)", record.get("certificate") or "not signed"),
    ], st)  # fmt: skip
    story.append(
        KeepTogether(
            [
                Lines("5. Integrity", st["h2"]),
                integrity,
                Spacer(1, 2 * mm),
                drawing,
                Lines(
                    "Check this record with: reviewer verify --pdf FILE, or reviewer verify --anchor "
                    f"{record['head_seq']}:{record['head_hash']}",
                    st["small"],
                ),
            ]
        )
    )
    return story


def render_bytes(record: dict[str, Any]) -> bytes:
    """One decision record as PDF bytes (to be signed before it is written)."""
    buf = io.BytesIO()
    render(record, buf)
    return buf.getvalue()


SIDE_MARGIN, TOP_MARGIN, BOTTOM_MARGIN = 18 * mm, 16 * mm, 18 * mm


def document(
    out: str | io.BytesIO, title: str, author: str, subject: str, keywords: str
) -> SimpleDocTemplate:
    """The A4 page of every PDF Reviewer writes (records and reports), with its metadata."""
    return SimpleDocTemplate(
        out, pagesize=A4, leftMargin=SIDE_MARGIN, rightMargin=SIDE_MARGIN, topMargin=TOP_MARGIN,
        bottomMargin=BOTTOM_MARGIN, title=title, author=author, subject=subject,
        # The stubs type keywords as a list; ReportLab hands them to Canvas.setKeywords, a text.
        keywords=keywords,  # type: ignore[arg-type]
        creator="Reviewer",
    )  # fmt: skip


def render(record: dict[str, Any], path: str | io.BytesIO) -> None:
    """Write one decision record as a PDF file."""
    _fonts()
    label = f"{record['reference']} · decision {record['number']} · record hash {record['record_hash'][:16]}…"
    doc = document(
        path,
        title=f"Decision record {record['reference']} #{record['number']}",
        author=record["organisation"],
        subject=f"{OUTCOME_WORDS[record['outcome']][0]}: {record['reference']} "
        f"(record hash {record['record_hash']})",
        keywords=f"record-hash:{record['record_hash']} renderer:{RENDERER}",
    )
    doc.build(build_story(record), canvasmaker=_page_numbers(label))
