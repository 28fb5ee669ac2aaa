"""Plain-text reports for people at a terminal.

Every line is escaped as it is joined (`request.terminal_safe`): text from a request, a rule
set or an account (names, titles, explanations, justifications) can hold control or bidi
characters, which would otherwise recolour or reorder what the reviewer reads; each value
stays on its line.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Collection, Mapping
from typing import Any

from reviewer.request import terminal_safe
from reviewer.rules import RANK
from reviewer.vocabulary import Recommendation, field_label, size_words, value_label


def roles_text(roles: str | None) -> str:
    """Stored roles (`admin,reviewer,senior`) as a person reads them: `admin, reviewer, senior`."""
    return ", ".join(r.strip() for r in (roles or "").split(",") if r.strip())


def utc_text(stamp: str | None) -> str:
    """An event time (`2026-12-01T20:09:33.123456Z`) as `2026-12-01 20:09 UTC`."""
    if not stamp:
        return "—"
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 and stamp[10] == "T" else stamp


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
    shown = data.get("attachments") or []
    lines.append("Attachments:" if shown else "Attachments: none")
    for a in shown:
        redacted = f"  REDACTED: {a['redact_reason']}" if a["redacted"] else ""
        lines.append(f"  {a['number']:>3}  {a['name']}  {size_words(a['size'], exact=True)}  sha256 "
                     f"{a['sha256']}  {utc_text(a['time'])}  by {a['author']}{redacted}")  # fmt: skip
    lines.append("Events:")
    for e in data["events"]:
        lines.append(f"  {e['seq']:>6}  {e['time']}  {e['actor']:<16} {e['action']}")
    return _joined(lines)


# --------------------------------------------------------------------------- judgement


NO_LOWER = "no change of one or two known facts gives a lower recommendation."
NOTHING = "Nothing stands in the way: no fact is needed and none would change it."
TRUNCATED = ("Cut short: the request is too large to try every change; what is listed holds, "
             "but more may exist.")  # fmt: skip


def json_value(value: Any) -> str:
    """A request-format value as it is written in a file (JSON)."""
    return json.dumps(value, ensure_ascii=False)


def _changes(changes: Mapping[str, Any]) -> str:
    return " and ".join(f"{path} = {json_value(v)}" for path, v in changes.items())


def rules_moved(w: Mapping[str, Any], arrow: str = "->", words: bool = False) -> list[str]:
    """What a what-if does to the rules: `HR-19 stops`, `HR-27 starts`, and for a rule that
    fires before and after with another outcome `HR-05 refuse -> escalate_senior`."""

    def shown(outcome: str) -> str:
        return Recommendation.label_of(outcome) if words else outcome

    return ([f"{r} stops" for r in w["rules_stop"]] + [f"{r} starts" for r in w["rules_start"]]
            + [f"{r} {shown(a)} {arrow} {shown(b)}" for r, a, b in w.get("_changed", ())])  # fmt: skip


def explanation_lines(e: Mapping[str, Any], titles: Mapping[str, str], words: bool = False) -> list[str]:
    """Decisive facts, what would change it and what no change lifts, for a person (and the
    PDF record, `words`: recommendations in the vocabulary's words, not their codes).
    `titles`: rule id -> title."""

    def rec(code: str) -> str:
        return Recommendation.label_of(code) if words else code

    lines: list[str] = []
    if e["decisive"]:
        lines.append("Decisive facts (ask sales for these):")
        for d in e["decisive"]:
            lines.append(f"  {d['field']} ({field_label(d['field'])}):")
            for o in d["options"]:
                left = o.get("_missing", [])
                settles = f"settles {', '.join(o['rules'])}" if o["rules"] else "settles nothing"
                if o["recommendation"] == "needs_information":
                    open_ = left[:4]
                    more = f" ({', '.join(open_)}{', ...' if len(left) > 4 else ''})" if open_ else ""
                    lines.append(
                        f"    = {json_value(o['value'])} -> {rec('needs_information')} still{more}; {settles}"
                    )
                else:
                    lines.append(f"    = {json_value(o['value'])} -> {rec(o['recommendation'])} ({settles})")
    if e["what_if"]:
        lines.append("What would change it:")
        for w in e["what_if"]:
            moved = ", ".join(rules_moved(w, words=words))
            lines.append(f"  {_changes(w['set'])} -> {rec(w['recommendation'])} ({moved})")
    elif e["recommendation"] != "approve":
        lines.append(f"What would change it: {NO_LOWER}")
    for n in e["no_change"]:
        title = titles.get(n["rule"], "")
        lines.append(f"No change: {n['rule']} {title}: {n['reason']}")
    if e.get("_truncated"):
        lines.append(TRUNCATED)
    return lines


def explanation_text(e: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    head = f"{e['reference']}: recommendation {e['recommendation'].upper().replace('_', ' ')}"
    body = explanation_lines(e, titles) or [NOTHING]
    return _joined([head, *("  " + line for line in body)])


def information_request(
    e: Mapping[str, Any], doc: Mapping[str, Any], titles: Mapping[str, str], asking: Collection[str] = ()
) -> str:
    """The drafted request for information to sales: the decisive missing facts in plain
    words, each with why it matters (the rules it settles, and what its answers would lead
    to). `asking`: the rules that only ask for facts (outcome needs_information, as HR-29).
    The reviewer edits it before it is sent."""
    # Each value from the request or the rule set stays on its line (no forged lines).
    ref = terminal_safe(str(doc.get("reference", "")))
    customer = terminal_safe(str(doc.get("customer", {}).get("name", "")))
    titles = {k: terminal_safe(v) for k, v in titles.items()}
    if e["recommendation"] != "needs_information":
        return (f"Request {ref} ({customer}) needs no information from sales: its recommendation "
                f"is {value_label(e['recommendation'])}, and no missing fact would change that.")  # fmt: skip
    lines = [f"Request {ref} ({customer}): we need the following before we can review it.", ""]
    if not e["decisive"]:
        lines.append("Please complete the missing facts: " + ", ".join(
            field_label(m) + f" ({m})" for m in e.get("_missing", [])) + ".")  # fmt: skip
    for i, d in enumerate(e["decisive"], 1):
        rules = list(dict.fromkeys(r for o in d["options"] for r in o["rules"]))
        # A rule that only asks (HR-29) says less than the rules the answer settles.
        deciding = [r for r in rules if r not in asking]
        outcomes = sorted({o["recommendation"] for o in d["options"]}, key=lambda o: -RANK[o])
        lines.append(f"{i}. {field_label(d['field'])} ({d['field']})")
        if deciding:
            why = "; ".join(f"{r} ({titles.get(r, r)})" for r in deciding)
            lines.append(f"   Why it matters: the answer decides {why}.")
        else:
            why = "; ".join(f"{r}, {titles.get(r, r)}" for r in rules)
            lines.append(f"   Why it matters: the rule set needs it before any decision ({why}).")
        answers = [_answer(o["value"]) for o in d["options"] if o["rules"]]
        if answers:
            lines.append("   Answers that change the review: " + "; ".join(answers) + ".")
        if len(outcomes) > 1:
            lines.append("   Depending on the answer the request may be "
                         + " or ".join(value_label(o) for o in outcomes) + ".")  # fmt: skip
    lines += ["", "Please answer each point (or say that it does not apply), update the request "
              "and send it back to the review team."]  # fmt: skip
    return "\n".join(lines)


def _answer(value: Any) -> str:
    """A candidate value in words: `["identification"]` -> `identification`."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if not value:
            return "none at all"
        if all(isinstance(v, dict) for v in value):
            return "at least one (with its details)"
        return ", ".join(_answer(v) for v in value) if all(isinstance(v, str) for v in value) else "a list"
    if isinstance(value, str):
        return value_label(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def customer_text(data: Mapping[str, Any]) -> str:
    """A customer whole (`customers.detail`): its requests, their standing decisions and open
    conditions, and its deployment in total over the requests that count."""
    lines = [
        f"{data['number']} {data['name']} ({data['country'] or 'no country'}), recorded "
        f"{utc_text(data['created_at'])} by {data['created_by']}"
    ]
    if data["merged_from"]:
        lines.append(f"  merged into it: {', '.join(data['merged_from'])}")
    lines.append("  Deployment in total (open and approved requests):")
    for name, t in data["total"].items():
        figure = f"{t['total']:,}" if t["complete"] else f"at least {t['total']:,} (some unknown)"
        lines.append(f"    {field_label('scale.' + name)}: {figure}")
    lines.append(f"  Requests ({len(data['requests'])}):")
    for r in data["requests"]:
        counts = "" if r["counts"] else "  (not counted)"
        pinned = "  (linked by hand)" if r["pinned"] else ""
        rec = Recommendation.label_of(r["recommendation"]) if r["recommendation"] else "—"
        lines.append(f"    {r['reference']}  {r['status']}  recommendation {rec}{counts}{pinned}")
        d = r["decision"]
        if d is not None:
            lines.append(
                f"      decision {d['number']}: {d['outcome']} ({utc_text(d['decided_at'])})"
                + (f", re-review {d['re_review']}" if d["re_review"] else "")
            )
        p = r["pending_decision"]
        if p is not None:
            lines.append(f"      decision {p['number']}: {p['outcome']}, awaiting its check")
        for c in r["open_conditions"]:
            due = f" due {c['due']}" + (" (OVERDUE)" if c["overdue"] else "") if c["due"] else ""
            lines.append(f"      open condition {c['id']} [{c['rule']}]{due}: {c['text']}")
    return _joined(lines)
