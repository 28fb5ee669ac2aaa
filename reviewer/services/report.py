"""The transparency report (`reviewer report`): what the responsible-AI office publishes about
a period, as plain data (JSON-able), read with a few aggregate queries so that it stays quick
on a database of 100,000 requests; `write_report` renders it (ReportLab), signs it with the
workstation's key (pyHanko) when there is one, and writes it whole or not at all.

The counting rules, which the report prints in words (`export.report.COUNTING`):

- Dates are UTC days; the period [from, to] includes both days.
- *Requests received*: requests whose `received_on` falls in the period, by their current
  status. *At scale*: those whose stored evaluation has a finding of HR-19 (whatever its
  outcome); `at_scale_unknown` says how many of those findings are needs_information (the
  scale facts are missing, so the request may or may not be at scale).
- *Decisions made*: final decisions that were not rejected at a check (all four outcomes,
  returns for information included) whose finalising time (the confirming check when there
  was one, else the decision) falls in the period; counted apart from requests received.
  A reopened request's earlier decision stays counted in its own period.
- *Refusals by rule*: each refused decision made counts under every rule whose finding in the
  decision's recorded evaluation refuses, and once in the total; a refusal without any
  refusing finding counts under the reviewer's judgement. HR-01 first (even at 0), then by
  count (most first), then by rule id.
- *Escalations*: decisions made whose recorded recommendation was escalate_senior or
  escalate_second, by the roles recorded with the decider (senior when the decider held the
  senior role, else reviewer) and the checker (senior, reviewer, or no second check): roles,
  never names.
- *Median days from receipt to decision*: over the decisions made, the finalising day minus
  the request's `received_on`, in whole days.
- *Conditions*: the conditions of the decisions made, by their current status; *overdue*:
  open, with a due date before the day after the period or the day the report is made,
  whichever is earlier (a condition not yet due today is never overdue).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from reviewer.errors import InvalidInput
from reviewer.export.documents import write_whole
from reviewer.models import ChainHead, Condition, ConditionStatus, Decision, Outcome, Request, Status
from reviewer.services.audit import GENESIS
from reviewer.services.evaluations import active_rules
from reviewer.services.settings import get_setting
from reviewer.vocabulary import Recommendation, Role

MORATORIUM_RULE = "HR-01"  # the US police moratorium: always listed first
AT_SCALE_RULE = "HR-19"
ESCALATIONS = (Recommendation.ESCALATE_SENIOR, Recommendation.ESCALATE_SECOND)
NO_RULE = "reviewer's judgement (no refusing rule)"
DECIDER_ROLES = (Role.SENIOR.value, Role.REVIEWER.value)
CHECKER_ROLES = (Role.SENIOR.value, Role.REVIEWER.value, "none")


def _natural(rule: str) -> tuple[Any, ...]:
    """HR-2 before HR-10, whatever a rule set's ids look like."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", rule))


def _role_of(roles: str | None, absent: str | None = None) -> str:
    """The role a decision is counted under: senior when the account held it, else reviewer
    (`absent` when there was no such account)."""
    if roles is None:
        assert absent is not None
        return absent
    held = {r.strip() for r in roles.split(",")}
    return Role.SENIOR.value if Role.SENIOR.value in held else Role.REVIEWER.value


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def report_data(
    session: Session, start: dt.date, end: dt.date, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Every figure of the transparency report for the days [start, end] (UTC), as plain data.
    `now` is the moment of creation (UTC; default: now)."""
    if start > end:
        raise InvalidInput(
            [f"the period starts after it ends: --from {start.isoformat()} is after --to {end.isoformat()}"]
        )
    now = now or dt.datetime.now(dt.UTC)
    today = now.date()
    head = session.get(ChainHead, 1)
    # Read first: an event appended while the report reads can only come after this head.
    chain_head = {"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS}
    titles = active_rules(session).ruleset.titles
    received = Request.received_on.between(start, end)

    # ---- requests received, by current status, and at scale. A stored evaluation is compact
    # JSON with sorted keys, and its findings are the only objects with a "rule" (their
    # conditions are plain texts); a quote inside a string is escaped. So these patterns match
    # exactly a finding of the rule, and one whose outcome is needs_information (the rule's
    # override is null: HR-19 escalates, never refuses), without parsing a row.
    finding = Request.evaluation.like(f'%"rule":"{AT_SCALE_RULE}"%')
    unknown = Request.evaluation.like(
        f'%"outcome":"{Recommendation.NEEDS_INFORMATION.value}","override":null,"rule":"{AT_SCALE_RULE}"%'
    )
    by_status: Counter[Status] = Counter()
    at_scale = at_scale_unknown = 0
    for status, n, scale, scale_unknown in session.execute(
        select(
            Request.status,
            func.count(),
            func.sum(case((finding, 1), else_=0)),
            func.sum(case((unknown, 1), else_=0)),
        )
        .where(received)
        .group_by(Request.status)
    ):
        by_status[status] = n
        at_scale += int(scale or 0)
        at_scale_unknown += int(scale_unknown or 0)

    # ---- decisions made: final, not rejected, finalised (checked, else decided) in the period
    finalised = func.coalesce(Decision.checked_at, Decision.decided_at)
    final_day = func.substr(finalised, 1, 10)  # the stored stamps begin YYYY-MM-DD (UTC)
    made = and_(
        Decision.final.is_(True),
        Decision.rejected.is_(False),
        final_day.between(start.isoformat(), end.isoformat()),
    )
    # Stored evaluations are compact JSON: a quote inside a string is escaped, so this text
    # can only be the evaluation's own recommendation.
    recommendation = case(
        *((Decision.evaluation.like(f'%"recommendation":"{r.value}"%'), r.value) for r in ESCALATIONS),
        else_="",
    )
    by_outcome: Counter[Outcome] = Counter()
    escalated = {r.value: {"decided_by": Counter[str](), "checked_by": Counter[str]()} for r in ESCALATIONS}
    for outcome, rec, decider_roles, checker_roles, n in session.execute(
        select(Decision.outcome, recommendation, Decision.decider_roles, Decision.checker_roles, func.count())
        .where(made)
        .group_by(Decision.outcome, recommendation, Decision.decider_roles, Decision.checker_roles)
    ):
        by_outcome[outcome] += n
        if rec:
            escalated[rec]["decided_by"][_role_of(decider_roles)] += n
            escalated[rec]["checked_by"][_role_of(checker_roles, "none")] += n

    # ---- median days from receipt to decision (grouped: one row per pair of days)
    days: list[int] = []
    for day, received_on, n in session.execute(
        select(final_day, Request.received_on, func.count())
        .join(Request, Request.id == Decision.request_id)
        .where(made)
        .group_by(final_day, Request.received_on)
    ):
        days += [(dt.date.fromisoformat(day) - received_on).days] * n
    median = _whole(statistics.median(days)) if days else None

    # ---- refusals by rule (the recorded evaluations of the refusals made)
    per_rule: Counter[str] = Counter()
    recorded: dict[str, str] = {}  # each rule's title as the first refusal recorded it
    no_rule = refusals = 0
    for (text,) in session.execute(
        select(Decision.evaluation)
        .where(made, Decision.outcome == Outcome.REFUSE)
        .order_by(finalised, Decision.id)
    ):
        refusals += 1
        refusing = {}
        for f in json.loads(text)["findings"]:
            if f["outcome"] == Recommendation.REFUSE.value:
                refusing[f["rule"]] = f.get("title")
        for rule, title in refusing.items():
            per_rule[rule] += 1
            if title:
                recorded.setdefault(rule, title)
        no_rule += not refusing
    per_rule.setdefault(MORATORIUM_RULE, 0)
    order = sorted(per_rule, key=lambda r: (r != MORATORIUM_RULE, -per_rule[r], _natural(r)))

    # ---- conditions of the decisions made, by current status
    overdue_before = end + dt.timedelta(days=1) if end < today else today
    overdue = case(
        (and_(Condition.status == ConditionStatus.OPEN, Condition.due_on < overdue_before), 1), else_=0
    )
    conditions: dict[str, int] = dict.fromkeys(ConditionStatus.values(), 0)
    overdue_count = 0
    for status, n, late in session.execute(
        select(Condition.status, func.count(), func.sum(overdue))
        .where(Condition.decision_id.in_(select(Decision.id).where(made)))
        .group_by(Condition.status)
    ):
        conditions[status.value] = n
        overdue_count += int(late or 0)

    def count_by(counter: Counter[str], keys: tuple[str, ...]) -> dict[str, int]:
        return {k: counter[k] for k in keys}

    return {
        "organisation": get_setting(session, "organisation_name"),
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "chain_head": chain_head,
        "received": {
            "total": sum(by_status.values()),
            "by_status": [{"status": s.value, "label": s.label, "count": by_status[s]} for s in Status],
            "at_scale_rule": AT_SCALE_RULE,
            "at_scale_title": titles.get(AT_SCALE_RULE, AT_SCALE_RULE),
            "at_scale": at_scale,
            "at_scale_unknown": at_scale_unknown,
        },
        "decisions": {
            "total": sum(by_outcome.values()),
            "by_outcome": [{"outcome": o.value, "label": o.label, "count": by_outcome[o]} for o in Outcome],
        },
        "refusals": {
            "total": refusals,
            "by_rule": [
                {"rule": r, "title": recorded.get(r) or titles.get(r, r), "count": per_rule[r]} for r in order
            ],
            "no_rule": no_rule,
            "no_rule_label": NO_RULE,
        },
        "escalations": {
            "total": sum(sum(e["decided_by"].values()) for e in escalated.values()),
            "by_recommendation": [
                {
                    "recommendation": r.value,
                    "label": r.label,
                    "total": sum(escalated[r.value]["decided_by"].values()),
                    "decided_by": count_by(escalated[r.value]["decided_by"], DECIDER_ROLES),
                    "checked_by": count_by(escalated[r.value]["checked_by"], CHECKER_ROLES),
                }
                for r in ESCALATIONS
            ],
        },
        "days_to_decision": {"median": median, "count": len(days)},
        "conditions": {
            "total": sum(conditions.values()),
            **conditions,
            "overdue": overdue_count,
            "overdue_before": overdue_before.isoformat(),
        },
    }


def summary_text(data: dict[str, Any]) -> str:
    """The report's figures in a few lines (what `reviewer report` prints)."""
    rec, dec, ref = data["received"], data["decisions"], data["refusals"]
    esc, days, cond = data["escalations"], data["days_to_decision"], data["conditions"]
    period = data["period"]

    def listed(items: list[tuple[str, int]]) -> str:
        return ", ".join(f"{words} {n:,}" for words, n in items)

    def counts(rows: list[dict[str, Any]]) -> str:
        return listed([(r["label"], r["count"]) for r in rows])

    lines = [
        f"transparency report {period['from']} to {period['to']} of {data['organisation']}",
        f"requests received: {rec['total']:,} ({counts(rec['by_status'])}); "
        f"at scale ({rec['at_scale_rule']}): {rec['at_scale']:,}, of which scale facts missing "
        f"{rec['at_scale_unknown']:,}",
    ]
    if not dec["total"]:
        lines.append("decisions made: none (no decisions in this period)")
    else:
        rules = [(r["rule"], r["count"]) for r in ref["by_rule"]] + [("reviewer's judgement", ref["no_rule"])]
        escalated = "; ".join(
            f"{e['label']} {e['total']:,}: decided by a senior {e['decided_by']['senior']:,}, by a "
            f"reviewer {e['decided_by']['reviewer']:,}; checked by a senior {e['checked_by']['senior']:,}, "
            f"by a reviewer {e['checked_by']['reviewer']:,}, no second check {e['checked_by']['none']:,}"
            for e in esc["by_recommendation"]
        )
        lines += [
            f"decisions made: {dec['total']:,} ({counts(dec['by_outcome'])})",
            f"refusals: {ref['total']:,}; by rule: {listed(rules)}",
            f"escalated decisions: {esc['total']:,} ({escalated})",
            f"median days from receipt to decision: {days['median']} (over {days['count']:,} decisions)",
            f"conditions: {cond['total']:,} (met {cond['met']:,}, lapsed {cond['lapsed']:,}, open "
            f"{cond['open']:,}, overdue {cond['overdue']:,}: open and due before {cond['overdue_before']})",
        ]
    head = data["chain_head"]
    lines.append(f"chain head at creation: {head['seq']}:{head['hash']} (created {data['created_at']})")
    return "\n".join(lines)


def write_report(data: dict[str, Any], path: Path, key: Any = None) -> None:
    """Render the report (signed with `key`, a `signing.Key`, when there is one) to
    `.NAME.part` beside the file and rename it: the file appears whole or not at all. A folder
    that cannot be written or a full disk is an EnvironmentProblem (exit 7)."""
    # ReportLab and pyHanko are loaded by the report command only.
    from reviewer.export.report import render_report_bytes

    pdf = render_report_bytes(data, key.fingerprint if key is not None else None)
    if key is not None:
        from reviewer.export.signing import sign

        pdf = sign(pdf, key)
    write_whole(path, pdf)
