"""The transparency report as an A4 PDF (ReportLab), in the decision records' fonts and look:
every figure of `services.report.report_data` in a table, the main ones also as charts drawn
by ReportLab's chart library, the counting rules in plain words, and the integrity data (the
chain head at creation, the signing certificate).

The report is a published document: it counts by role and never names an account. The same
data renders the same text. This module loads ReportLab: it is imported by the report command
only.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import BarChart, HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from reviewer.export.pdf import (
    BOLD,
    FONT,
    RULE,
    SIDE_MARGIN,
    Lines,
    Rows,
    _fonts,
    _page_numbers,
    _styles,
    _table,
    document,
    para,
)
from reviewer.export.text import utc_text
from reviewer.vocabulary import Outcome, Recommendation, Role

WIDTH = A4[0] - 2 * SIDE_MARGIN - 12  # the frame of the page, less its 6 pt padding
CHART_WIDTH = 88 * mm
GAP = 6 * mm
MAX_CHART = 160 * mm  # the tallest a chart (or a table beside it) gets: well within a page
INK = colors.HexColor("#101828")
GREY = colors.HexColor("#475467")
AXIS = colors.HexColor("#98a2b3")
REFUSE = colors.HexColor(Outcome.REFUSE.colour)
JUDGEMENT = colors.HexColor("#98a2b3")  # refusals on the reviewer's judgement alone
SERIES = {
    Recommendation.ESCALATE_SENIOR.value: colors.HexColor(Recommendation.ESCALATE_SENIOR.colour),
    Recommendation.ESCALATE_SECOND.value: colors.HexColor(Recommendation.ESCALATE_SECOND.colour),
}
ROLE_ROWS = (  # the escalation buckets: (function, key, words)
    ("decided_by", Role.SENIOR.value, "Decided by a senior"),
    ("decided_by", Role.REVIEWER.value, "Decided by a reviewer"),
    ("checked_by", Role.SENIOR.value, "Checked by a senior"),
    ("checked_by", Role.REVIEWER.value, "Checked by a reviewer"),
    ("checked_by", "none", "No second check"),
)
NO_DECISIONS = "No decisions in this period."


def _number(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _count(value: float) -> str:
    """A chart's tick or bar label: a whole count with thousands separators."""
    return f"{value:,.0f}"


def _step(top: int) -> int:
    """A round step (1, 2, 5, 10, 20, ...) giving about five ticks up to `top`."""
    raw = max(1.0, top / 5)
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


def _axes(chart: BarChart, top: int) -> float:
    """Integer ticks from 0, labels in the report's font, and each bar's count at its end;
    returns the width of the widest tick label."""
    step = _step(top)
    va, ca = chart.valueAxis, chart.categoryAxis
    va.valueMin, va.valueStep = 0, step
    va.valueMax = step * math.ceil(top * 1.12 / step) if top else step
    va.labelTextFormat = _count
    for axis in (va, ca):
        axis.labels.fontName, axis.labels.fontSize, axis.labels.fillColor = FONT, 7, GREY
        axis.strokeColor, axis.strokeWidth = AXIS, 0.5
    va.visibleGrid, va.gridStrokeColor, va.gridStrokeWidth = 1, RULE, 0.5
    ca.visibleTicks = 0
    chart.barLabelFormat = _count
    chart.barLabels.fontName, chart.barLabels.fontSize, chart.barLabels.fillColor = FONT, 7, INK
    return stringWidth(_count(va.valueMax), FONT, 7)


def _horizontal(
    names: list[str],
    series: list[list[int]],
    fills: list[list[Any]],
    label_width: float,
    bar: int = 9,
    width: float = CHART_WIDTH,
) -> tuple[Drawing, HorizontalBarChart]:
    """Bars from the left, the first category on top, each bar filled as given."""
    n, groups = len(names), len(series)
    bar = max(2, min(bar, int((MAX_CHART - 22) / n / groups - 5 / groups)))  # a drawing never splits
    height = n * (bar * groups + 5) + 22
    d = Drawing(width, height)
    c = HorizontalBarChart()  # ReportLab's stubs take whole points for the geometry
    c.x, c.y = int(label_width), 14
    c.width, c.height = int(width - label_width - 12), height - 20
    c.data = series
    c.categoryAxis.categoryNames = names
    c.categoryAxis.reverseDirection = 1
    c.categoryAxis.labels.boxAnchor, c.categoryAxis.labels.dx = "e", -4
    c.barWidth, c.groupSpacing, c.barSpacing = bar, 5, 0
    _axes(c, max(max(s) for s in series))
    c.barLabels.boxAnchor, c.barLabels.dx = "w", 3
    for i, row in enumerate(fills):
        c.bars[i].strokeColor = None
        for j, fill in enumerate(row):
            c.bars[(i, j)].fillColor = fill
    d.add(c)
    return d, c


def outcome_chart(decisions: dict[str, Any]) -> Drawing:
    """Decisions made by outcome: one bar each, in the outcome's colour."""
    rows = decisions["by_outcome"]
    d = Drawing(CHART_WIDTH, 62 * mm)
    c = VerticalBarChart()
    c.data = [[r["count"] for r in rows]]
    ticks = _axes(c, max(c.data[0]))
    c.x, c.y = int(ticks) + 8, 30  # room for the tick labels left of the axis
    c.width, c.height = int(CHART_WIDTH - c.x - 4), int(62 * mm - 40)
    # Two-line names under the bars: "Approved with conditions" is wider than its bar.
    c.categoryAxis.categoryNames = [
        r["label"].replace(" with ", "\nwith ").replace(" for ", "\nfor ") for r in rows
    ]
    c.categoryAxis.labels.boxAnchor, c.categoryAxis.labels.dy = "n", -3
    c.barWidth, c.groupSpacing = 18, 14
    c.barLabels.boxAnchor, c.barLabels.dy = "s", 2
    c.bars[0].strokeColor = None
    for j, r in enumerate(rows):
        c.bars[(0, j)].fillColor = colors.HexColor(Outcome(r["outcome"]).colour)
    d.add(c)
    return d


def refusal_chart(refusals: dict[str, Any]) -> Drawing:
    """Refusals by refusing rule (and on the reviewer's judgement alone), HR-01 on top."""
    names = [r["rule"] for r in refusals["by_rule"]] + ["Judgement"]
    counts = [r["count"] for r in refusals["by_rule"]] + [refusals["no_rule"]]
    fills = [REFUSE] * (len(names) - 1) + [JUDGEMENT]
    d, _c = _horizontal(names, [counts], [fills], label_width=44)
    return d


def escalation_chart(escalations: dict[str, Any]) -> Drawing:
    """Escalated decisions by the role of who decided and who checked, one bar per
    recommendation, with a legend."""
    recs = escalations["by_recommendation"]
    # A group's first series is drawn lowest: reversed, the bars read top down as the legend.
    series = [[r[part][key] for part, key, _words in ROLE_ROWS] for r in reversed(recs)]
    fills = [[SERIES[r["recommendation"]]] * len(ROLE_ROWS) for r in reversed(recs)]
    d, c = _horizontal(
        [words for _p, _k, words in ROLE_ROWS],
        series,
        fills,
        label_width=92,
        bar=7,
        width=CHART_WIDTH - 14 * mm,
    )
    legend = Legend()  # below the value axis and its labels, one recommendation a line
    legend.colorNamePairs = [(SERIES[r["recommendation"]], f"Recommendation: {r['label']}") for r in recs]
    legend.fontName, legend.fontSize, legend.fillColor = FONT, 7, INK
    legend.alignment, legend.columnMaximum, legend.boxAnchor = "right", len(recs), "nw"
    legend.dx, legend.dy, legend.deltay, legend.strokeColor = 7, 7, 10, None
    room = 10 * len(recs) + 6
    d.height += room
    c.y += room
    legend.x, legend.y = c.x - 40, room  # from under the category names: within the drawing
    d.add(legend)
    return d


def _grid(
    header: list[str],
    rows: list[list[Any]],
    width: float,
    counts: list[float],
    st: dict[str, ParagraphStyle],
    total: bool = False,
) -> Table:
    """A table of figures `width` wide with the records' hairlines: the text column left,
    the count columns (`counts` wide each) right, their headings on up to two lines; the
    last row in bold when it is a total."""
    right = ParagraphStyle("label-right", parent=st["label"], alignment=TA_RIGHT)
    cells: list[list[Any]] = [
        [Lines(h, st["label"]) if i == 0 else Paragraph(escape(h), right) for i, h in enumerate(header)]
    ]
    for row in rows:
        cells.append(
            [
                para(v, st["cell"])
                if isinstance(v, str) and i == 0
                else v
                if isinstance(v, str)
                else _number(v)
                for i, v in enumerate(row)
            ]
        )
    if total:
        cells[-1][0] = Lines(rows[-1][0], st["label"])
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8.5, 11),
        ("FONT", (0, 0), (-1, 0), BOLD, 8.5, 11),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, AXIS),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total:
        style.append(("FONT", (1, -1), (-1, -1), BOLD, 8.5, 11))
    table = Table(cells, colWidths=[width - sum(counts), *counts], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return table


def _beside(chart: Flowable, table_of: Callable[[float], Table]) -> list[Flowable]:
    """A chart with its table (`table_of(width)`) to the right, both from the top; a table
    too long for that (a row of a table never splits) follows the chart instead, as wide as
    the page and breaking between pages."""
    side = WIDTH - chart.width - GAP
    table = table_of(side)
    if table.wrap(side, MAX_CHART)[1] > MAX_CHART:
        return [chart, Spacer(1, 2 * mm), table_of(WIDTH)]
    t = Table([[chart, table]], colWidths=[chart.width + GAP, side], hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [t]


def _rows(items: list[tuple[str, str]], st: dict[str, ParagraphStyle]) -> Rows:
    return _table(items, st, label_width=62 * mm)


def counting_rules(data: dict[str, Any]) -> list[str]:
    """How the figures are counted, in plain words (the rules of `services.report`)."""
    rec = data["received"]
    cond = data["conditions"]
    return [
        "Dates are days in UTC. The period runs from its first day to its last day, both included.",
        "Requests received are the requests whose date of receipt falls in the period, shown "
        "by their status when this report was made.",
        f"A request is at scale when its evaluation has a finding of rule {rec['at_scale_rule']} "
        f"({rec['at_scale_title']}), whatever that finding's outcome; where the scale facts are "
        "missing, the finding asks for them and the request is counted as 'scale facts missing' "
        "too.",
        "Decisions made are final decisions that were not rejected at a second check, of all four "
        "outcomes (returns for information included), counted in the period in which they became "
        "final: at the confirming check when a second check was needed, otherwise when they were "
        "decided. They are counted apart from requests received: a request received in one "
        "period and decided in the next counts among the decisions of the next period only.",
        "A refusal counts under every rule whose finding, in the evaluation recorded with the "
        "decision, is to refuse; it counts once in the total, so the rules can add up to more "
        "than the total. A refusal that no rule required counts under the reviewer's judgement. "
        "Rule HR-01 (the moratorium on sales to police departments in the United States) comes "
        "first, then the rules with the most refusals.",
        "Escalated decisions are decisions made whose recorded recommendation was that a senior "
        "decides or that a second reviewer checks. They are counted by the roles recorded with "
        "the decision: 'senior' when the person held the senior role, otherwise 'reviewer'. The "
        "report counts roles and names no person.",
        "Days from receipt to decision are counted from the date of receipt to the day the "
        "decision became final; the median is taken over the decisions made in the period.",
        "Conditions are those of the decisions made in the period, by their status when this "
        "report was made. A condition is overdue when it is still open and was due before "
        f"{cond['overdue_before']}: the day after the period or the day this report was made, "
        "whichever is earlier.",
    ]


def build_story(data: dict[str, Any], certificate: str | None) -> list[Any]:
    st = _styles()
    period = data["period"]
    rec, dec, ref = data["received"], data["decisions"], data["refusals"]
    esc, days, cond = data["escalations"], data["days_to_decision"], data["conditions"]
    head = data["chain_head"]
    median = (
        f"{_number(days['median'])} days (over {days['count']:,} decisions)"
        if days["count"]
        else "no decisions in this period"
    )
    story: list[Any] = [
        para(data["organisation"], st["org"]),
        Lines("Transparency report", st["h1"]),
        Lines(
            f"Requests for face recognition reviewed from {period['from']} to {period['to']} "
            f"(UTC, both days included) · made {utc_text(data['created_at'])}",
            st["body"],
        ),
        Spacer(1, 3 * mm),
        _rows(
            [
                ("Requests received", f"{rec['total']:,} (at scale: {rec['at_scale']:,})"),
                ("Decisions made", f"{dec['total']:,}" if dec["total"] else "no decisions in this period"),
                ("Refusals", f"{ref['total']:,}"),
                ("Escalated decisions", f"{esc['total']:,}"),
                ("Median days from receipt to decision", median),
                (
                    "Conditions of these decisions",
                    f"{cond['total']:,} (met {cond['met']:,}, lapsed "
                    f"{cond['lapsed']:,}, open {cond['open']:,}, of which overdue {cond['overdue']:,})",
                ),
            ],
            st,
        ),
    ]

    story.append(Lines("1. Requests received in the period", st["h2"]))
    received_rows = [(r["label"], f"{r['count']:,}") for r in rec["by_status"]]
    received_rows += [
        ("All requests received", f"{rec['total']:,}"),
        (f"At scale ({rec['at_scale_rule']}: {rec['at_scale_title']})", f"{rec['at_scale']:,}"),
        ("of which scale facts missing", f"{rec['at_scale_unknown']:,}"),
    ]
    story.append(_rows(received_rows, st))

    story.append(Lines("2. Decisions made in the period, by outcome", st["h2"]))
    if not dec["total"]:
        story.append(Lines(NO_DECISIONS, st["body"]))
    else:
        rows = [[r["label"], r["count"]] for r in dec["by_outcome"]] + [["All decisions made", dec["total"]]]
        story.extend(
            _beside(
                outcome_chart(dec),
                lambda w: _grid(["Outcome", "Decisions"], rows, w, [22 * mm], st, True),
            )
        )
        story.append(Spacer(1, 2 * mm))
        story.append(
            _rows(
                [
                    (
                        "Median days from receipt to decision",
                        f"{median}; from the day of receipt to the day the decision became final",
                    )
                ],
                st,
            )
        )

    story.append(Lines("3. Refusals by rule", st["h2"]))
    if not dec["total"]:
        story.append(Lines(NO_DECISIONS, st["body"]))
    elif not ref["total"]:
        story.append(Lines("No refusals in this period.", st["body"]))
    else:
        rows = [[f"{r['rule']} {r['title']}", r["count"]] for r in ref["by_rule"]]
        rows += [
            [ref["no_rule_label"][:1].upper() + ref["no_rule_label"][1:], ref["no_rule"]],
            ["All refusals (each once)", ref["total"]],
        ]
        story.extend(
            _beside(
                refusal_chart(ref),
                lambda w: _grid(["Refusing rule", "Refusals"], rows, w, [22 * mm], st, True),
            )
        )
        story.append(
            Lines(
                "A refusal counts under each rule that refused it: the rules add up to "
                "more than the total when a request broke several.",
                st["small"],
            )
        )

    story.append(Lines("4. Escalated decisions, by role", st["h2"]))
    if not dec["total"]:
        story.append(Lines(NO_DECISIONS, st["body"]))
    elif not esc["total"]:
        story.append(Lines("No escalated decisions in this period.", st["body"]))
    else:
        recs = esc["by_recommendation"]
        header = ["Role", *(r["label"] for r in recs), "All"]
        rows = [
            [words, *(r[part][key] for r in recs), sum(r[part][key] for r in recs)]
            for part, key, words in ROLE_ROWS
        ]
        rows.append(["Escalated decisions", *(r["total"] for r in recs), esc["total"]])
        story.extend(
            _beside(escalation_chart(esc), lambda w: _grid(header, rows, w, [15 * mm] * 3, st, True))
        )
        story.append(
            Lines(
                "Columns: the recommendation recorded with the decision (a senior "
                "decides; a second reviewer checks). Roles are counted, never names.",
                st["small"],
            )
        )

    story.append(Lines("5. Conditions of the decisions made", st["h2"]))
    if not dec["total"]:
        story.append(Lines(NO_DECISIONS, st["body"]))
    else:
        story.append(
            _rows(
                [
                    ("Met", f"{cond['met']:,}"),
                    ("Lapsed", f"{cond['lapsed']:,}"),
                    ("Open", f"{cond['open']:,}"),
                    (f"Open and overdue (due before {cond['overdue_before']})", f"{cond['overdue']:,}"),
                    ("All conditions", f"{cond['total']:,}"),
                ],
                st,
            )
        )

    story.append(Lines("How the figures are counted", st["h2"]))
    bullet = ParagraphStyle("bullet", parent=st["cell"], leftIndent=9, bulletIndent=0, spaceAfter=3)
    for rule in counting_rules(data):
        story.append(Paragraph(escape(rule), bullet, bulletText="•"))

    story.append(
        KeepTogether(
            [
                Lines("Integrity", st["h2"]),
                _rows(
                    [
                        ("Period", f"{period['from']} to {period['to']}"),
                        ("Created", utc_text(data["created_at"])),
                        ("Chain head at creation", f"{head['seq']}:{head['hash']}"),
                        ("Signed by certificate (SHA-256)", certificate or "not signed"),
                    ],
                    st,
                ),
                Spacer(1, 1.5 * mm),
                Lines(
                    "The figures were read from the review database with its audit trail at the chain head "
                    "above; check that database against this report with: reviewer verify --anchor "
                    f"{head['seq']}:{head['hash']}",
                    st["small"],
                ),
            ]
        )
    )
    return story


def render_report_bytes(data: dict[str, Any], certificate: str | None) -> bytes:
    """The report as PDF bytes (to be signed before it is written); `certificate` is the
    SHA-256 fingerprint of the certificate that will sign it, printed on the report."""
    _fonts()
    period = data["period"]
    head = data["chain_head"]
    buf = io.BytesIO()
    doc = document(
        buf,
        title=f"Transparency report {period['from']} to {period['to']}",
        author=data["organisation"],
        subject=f"Requests received and decisions made from {period['from']} to {period['to']}",
        keywords=f"transparency-report chain-head:{head['seq']}:{head['hash']}",
    )
    label = f"Transparency report {period['from']} to {period['to']} · chain head {head['seq']}"
    doc.build(build_story(data, certificate), canvasmaker=_page_numbers(label))
    return buf.getvalue()
