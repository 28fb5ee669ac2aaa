"""Plain-text reports for people at a terminal.

Every line is escaped as it is joined (`request.terminal_safe`): text from a request, a rule
set or an account (names, titles, explanations, justifications) can hold control or bidi
characters, which would otherwise recolour or reorder what the reviewer reads; each value
stays on its line.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from reviewer.request import terminal_safe


def _joined(lines: list[str]) -> str:
    return "\n".join(terminal_safe(line) for line in lines)


def evaluation_text(ev: dict[str, Any], width: int = 100) -> str:
    """One evaluation (the JSON of `cli.md`) as a readable report."""
    return _joined(_evaluation_lines(ev, width))


def _evaluation_lines(ev: dict[str, Any], width: int = 100) -> list[str]:
    lines = [
        f"{ev['reference']}: recommendation {ev['recommendation'].upper().replace('_', ' ')}"
        f"  (rule set {ev['rule_set']})"
    ]
    if not ev["findings"]:
        lines.append("  No rule fired: nothing stands in the way.")
    for f in ev["findings"]:
        outcome = f["outcome"] + (f" (override {f['override']})" if f["override"] else "")
        lines.append(f"  {f['rule']}  {outcome:<28} {f['title']}")
        for chunk in textwrap.wrap(f["explanation"], width - 10) or [""]:
            lines.append(f"         {chunk}")
        if f["missing"]:
            lines.append(f"         missing: {', '.join(f['missing'])}")
        for chunk in textwrap.wrap("source: " + f["source"], width - 10):
            lines.append(f"         {chunk}")
    if ev["conditions"]:
        lines.append("  Conditions:")
        for c in ev["conditions"]:
            lines.append(f"    - [{c['rule']}] {c['text']}")
    missing = list(dict.fromkeys(m for f in ev["findings"] for m in f["missing"]))
    if missing:
        lines.append("  Missing facts (ask sales): " + ", ".join(missing))
    return lines


def show_text(data: Mapping[str, Any]) -> str:
    """`reviewer show` for a person: the request, its evaluation, versions, decisions and
    events; each decision names the version and rule set it was made on."""
    doc = data["document"]
    customer = doc["customer"]
    lines = [
        f"{data['reference']}  status {data['status']}  version {data['version']}  "
        f"assignee {data['assignee'] or '-'}",
        f"  {doc.get('title', '(no title)')}",
        f"  customer: {customer['name']} ({customer.get('country', '?')}, "
        f"{customer.get('org_type', 'org type unknown')})",
        "",
        *_evaluation_lines(data["evaluation"]),
        "",
        "Versions:",
    ]
    for v in data["versions"]:
        current = "  (current)" if v["version"] == data.get("document_version") else ""
        lines.append(
            f"  v{v['version']}  {v['created_at']}  by {v['created_by']}  "
            f"sha256 {v['sha256'][:16]}...{current}"
        )
    lines.append("Decisions:" if data["decisions"] else "Decisions: none yet")
    latest = data.get("document_version")
    for d in data["decisions"]:
        state = "final" if d["final"] else ("rejected at check" if d["rejected"] else "awaiting check")
        stale = "" if d["request_version"] == latest else "  (an earlier version)"
        lines.append(
            f"  #{d['number']} {d['outcome']} ({state}) by {d['decider']}"
            + (f", checked by {d['checker']}" if d["checker"] else "")
            + f"  on version {d['request_version']}{stale} under {d['rule_set']} "
            f"(recommendation then: {d['recommendation']})"
        )
        for chunk in textwrap.wrap(d["justification"], 90):
            lines.append(f"      {chunk}")
        if d["rejected"] and d.get("reject_reason"):
            lines.append(f"      rejected: {d['reject_reason']}")
        for c in d["conditions"]:
            lines.append(
                f"      condition {c['id']} [{c['rule']}] {c['text']}  due {c['due']}  {c['status']}"
            )
        if d["re_review"]:
            lines.append(f"      re-review by {d['re_review']}")
        if d["record_hash"]:
            lines.append(f"      record hash {d['record_hash']} (event {d['event_seq']})")
    lines.append("Events:")
    for e in data["events"]:
        lines.append(f"  {e['seq']:>6}  {e['time']}  {e['actor']:<16} {e['action']}")
    return _joined(lines)
