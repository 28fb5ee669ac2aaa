"""The rule-set lifecycle: versions, diff, backtest and four-eyes activation (`ruleset.md`).

A candidate is stored as a draft, proposed by one admin (with its backtest report), and
activated only by a different admin. Activation refreshes the stored evaluation of every
request under the new version in one transaction, with one audit event; decisions keep the
rule set they were made with.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import InvalidInput, NotFound, NotPermitted
from reviewer.models import Request, RuleSetState, RuleSetVersion
from reviewer.rules import RuleSet, evaluate_with, load_file, stored_with
from reviewer.services.accounts import require_admin, team_mode
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.services.evaluations import ActiveRules as ActiveRules
from reviewer.services.evaluations import active_rules as active_rules
from reviewer.services.evaluations import verified_rules
from reviewer.services.totals import AllParts
from reviewer.services.workflow import reject_forbidden_approvals


class VersionInfo(TypedDict):
    rule_set: str
    state: str
    title: str
    sha256: str
    effective_on: str | None
    imported_by: str | None
    imported_at: str | None
    proposed_by: str | None
    proposed_at: str | None
    approved_by: str | None
    approved_at: str | None


class BacktestReport(TypedDict):
    candidate: str
    active: str
    requests: int
    changed: int
    matrix: dict[str, int]
    changes: list[dict[str, Any]]  # reference, from, to, rules ("from" is a keyword)


def _require_admin(session: Session, actor: Actor) -> None:
    require_admin(session, actor, "manages rule sets")


def parse_key(key: str) -> tuple[str, int]:
    rs_id, sep, version = key.rpartition("@")
    if not sep or not rs_id or not version.isdigit():
        raise InvalidInput([f"{key!r} is not ID@VERSION (for example human-rights@2)"])
    return rs_id, int(version)


def get_version(session: Session, key: str) -> RuleSetVersion:
    rs_id, version = parse_key(key)
    row = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.rule_set_id == rs_id,
                                     RuleSetVersion.version == version)
    ).scalar_one_or_none()  # fmt: skip
    if row is None:
        raise NotFound(f"no rule set {key} in this database")
    return row


def resolve(session: Session, spec: str) -> RuleSet:
    """A rule set named by a file path or by ID@VERSION in the database."""
    if spec.endswith(".toml"):
        return load_file(spec)
    return verified_rules(session, get_version(session, spec))


def list_versions(session: Session) -> list[VersionInfo]:
    rows = session.execute(
        select(RuleSetVersion).order_by(RuleSetVersion.rule_set_id, RuleSetVersion.version)
    ).scalars()
    return [VersionInfo(
        rule_set=r.key, state=r.state.value, title=r.title, sha256=r.sha256,
        effective_on=r.effective_on.isoformat() if r.effective_on else None,
        imported_by=r.imported_by, imported_at=r.imported_at,
        proposed_by=r.proposed_by, proposed_at=r.proposed_at,
        approved_by=r.approved_by, approved_at=r.approved_at,
    ) for r in rows]  # fmt: skip


def import_version(session: Session, actor: Actor, path: str) -> tuple[RuleSetVersion, bool]:
    """Store a rule-set file as a draft. Returns (row, created)."""
    _require_admin(session, actor)
    ruleset = load_file(path)
    existing = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.rule_set_id == ruleset.id,
                                     RuleSetVersion.version == ruleset.version)
    ).scalar_one_or_none()  # fmt: skip
    if existing is not None:
        if existing.sha256 != ruleset.sha256:
            raise InvalidInput(
                [
                    f"{path}: {ruleset.key} is already stored with other content "
                    f"(sha256 {existing.sha256[:16]}...): give it a new version"
                ]
            )
        return existing, False
    now = utc_now()
    if team_mode(session):  # PostgreSQL: the database's admin function stores the draft
        with Chain(session, actor) as chain:
            chain.append("rules_import", None, {"rule_set": ruleset.key, "sha256": ruleset.sha256},
                         time=now, via="admin_import_rule_set",
                         args=(ruleset.id, ruleset.version, ruleset.title, ruleset.effective_on,
                               ruleset.source_text))  # fmt: skip
        return get_version(session, ruleset.key), True
    row = RuleSetVersion(
        rule_set_id=ruleset.id, version=ruleset.version, title=ruleset.title,
        effective_on=ruleset.effective_on, sha256=ruleset.sha256, content=ruleset.source_text,
        state=RuleSetState.DRAFT, imported_by=actor.name, imported_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    with Chain(session, actor) as chain:
        chain.append("rules_import", None, {"rule_set": ruleset.key, "sha256": ruleset.sha256},
                     time=now)  # fmt: skip
    return row, True


# --------------------------------------------------------------------------- diff


def _rule_fields(ruleset: RuleSet) -> dict[str, dict[str, Any]]:
    return {r.id: {k: v for k, v in r.raw.items() if k != "id"} for r in ruleset.rules}


def diff(a: RuleSet, b: RuleSet) -> dict[str, Any]:
    """Rules and parameters added, removed and changed (field by field) from A to B."""

    def changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        return {
            "added": {k: new[k] for k in sorted(new.keys() - old.keys())},
            "removed": {k: old[k] for k in sorted(old.keys() - new.keys())},
            "changed": {k: {"from": old[k], "to": new[k]} for k in sorted(old.keys() & new.keys())
                        if rq.canonical_json(_plain(old[k])) != rq.canonical_json(_plain(new[k]))},
        }  # fmt: skip

    ra, rb = _rule_fields(a), _rule_fields(b)
    rules = changes(ra, rb)
    rules["changed"] = {rid: changes(ra[rid], rb[rid])["changed"] for rid in rules["changed"]}
    return {
        "from": a.key,
        "to": b.key,
        "parameters": changes(a.parameters, b.parameters),
        "definitions": changes(a.definitions, b.definitions),
        "rules": rules,
    }


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def diff_text(d: dict[str, Any]) -> str:
    lines = [f"{d['from']} -> {d['to']}"]
    for part in ("parameters", "definitions", "rules"):
        section = d[part]
        for k, v in section["added"].items():
            lines.append(f"  + {part[:-1]} {k}: {_short(v)}")
        for k, v in section["removed"].items():
            lines.append(f"  - {part[:-1]} {k}: {_short(v)}")
        for k, v in section["changed"].items():
            if part == "rules":
                for field, ch in v.items():
                    lines.append(f"  ~ rule {k}.{field}: {_short(ch['from'])} -> {_short(ch['to'])}")
            else:
                lines.append(f"  ~ {part[:-1]} {k}: {_short(v['from'])} -> {_short(v['to'])}")
    if len(lines) == 1:
        lines.append("  no differences in parameters, definitions or rules")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = json.dumps(_plain(value), ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


# --------------------------------------------------------------------------- backtest


@dataclass
class Backtest:
    candidate: RuleSet
    active: RuleSet
    requests: int
    matrix: Counter[str]
    changes: list[dict[str, Any]]
    evaluations: dict[int, tuple[str, str]]  # request id -> (recommendation, stored JSON)

    def to_json(self) -> BacktestReport:
        return BacktestReport(
            candidate=self.candidate.key,
            active=self.active.key,
            requests=self.requests,
            changed=len(self.changes),
            matrix=dict(sorted(self.matrix.items())),
            changes=self.changes,
        )


def backtest(session: Session, candidate: RuleSet, keep: bool = False) -> Backtest:
    """Evaluate every stored request with the candidate and compare with the stored
    evaluation under the active version: what changes, from what to what, and why."""
    active = active_rules(session).ruleset
    matrix: Counter[str] = Counter()
    changes = []
    evaluations: dict[int, tuple[str, str]] = {}
    count = 0
    totals = AllParts(session) if candidate.reads_totals else None
    rows = session.execute(
        select(Request.id, Request.reference, Request.document, Request.recommendation,
               Request.evaluation, Request.customer_id).order_by(Request.reference)
    )  # fmt: skip
    for rid, ref, document, old_rec, old_eval, cid in rows.yield_per(2000):
        count += 1
        doc = json.loads(document)
        parts = totals.of(cid, doc) if totals is not None else None
        ev = evaluate_with(candidate, doc, parts)
        new_rec = ev.recommendation
        if keep:
            evaluations[rid] = (new_rec, rq.compact_json(stored_with(candidate, ev, parts, doc)))
        if new_rec == old_rec:
            continue
        matrix[f"{old_rec}->{new_rec}"] += 1
        old_outcomes = {f["rule"]: f["outcome"] for f in json.loads(old_eval)["findings"]} if old_eval else {}
        new_outcomes = {f.rule.id: f.outcome for f in ev.findings}
        causes = sorted(
            r for r in old_outcomes.keys() | new_outcomes.keys() if old_outcomes.get(r) != new_outcomes.get(r)
        )
        changes.append({"reference": ref, "from": old_rec, "to": new_rec, "rules": causes})
    return Backtest(candidate, active, count, matrix, changes, evaluations)


def backtest_text(report: BacktestReport, limit: int = 50) -> str:
    lines = [
        f"backtest of {report['candidate']} against {report['active']}: "
        f"{report['requests']} requests, {report['changed']} recommendations change"
    ]
    for pair, n in report["matrix"].items():
        lines.append(f"  {pair.replace('->', ' -> '):<40} {n}")
    for c in report["changes"][:limit]:
        lines.append(f"  {c['reference']:<24} {c['from']} -> {c['to']}  ({', '.join(c['rules'])})")
    if len(report["changes"]) > limit:
        lines.append(f"  ... and {len(report['changes']) - limit} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- four eyes


def propose(session: Session, actor: Actor, key: str) -> BacktestReport:
    """One admin proposes a draft; its backtest report is stored with the proposal."""
    _require_admin(session, actor)
    row = get_version(session, key)
    if row.state is not RuleSetState.DRAFT:
        raise NotPermitted(f"{key} is {row.state.value}: only a draft can be proposed")
    report = backtest(session, verified_rules(session, row)).to_json()
    now = utc_now()
    payload = {"rule_set": key, "sha256": row.sha256, "changed": report["changed"]}
    if team_mode(session):  # PostgreSQL: the database's admin function changes the row
        with Chain(session, actor) as chain:
            chain.append("rules_propose", None, payload, time=now, via="admin_propose_rule_set",
                         args=(rq.compact_json(report),))  # fmt: skip
        session.refresh(row)
        return report
    row.state, row.proposed_by, row.proposed_at = RuleSetState.PROPOSED, actor.name, now
    row.backtest = rq.compact_json(report)
    with Chain(session, actor) as chain:
        chain.append("rules_propose", None, payload, time=now)
    return report


def approve(session: Session, actor: Actor, key: str) -> BacktestReport:
    """A second admin activates a proposed version: every stored evaluation is refreshed in
    this transaction, with one audit event; returns what changed."""
    _require_admin(session, actor)
    row = get_version(session, key)
    if row.state is not RuleSetState.PROPOSED:
        raise NotPermitted(f"{key} is {row.state.value}: only a proposed version can be approved")
    if row.proposed_by == actor.name:
        raise NotPermitted(f"{key} was proposed by {actor.name}: a different admin must approve "
                           "it (four eyes)")  # fmt: skip
    report = backtest(session, verified_rules(session, row), keep=True)
    previous = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.state == RuleSetState.ACTIVE)
    ).scalar_one_or_none()
    now = utc_now()
    team = team_mode(session)  # PostgreSQL: the database's admin function changes the rows
    if not team:
        if previous is not None:
            previous.state = RuleSetState.RETIRED
        row.state, row.approved_by, row.approved_at = RuleSetState.ACTIVE, actor.name, now
        session.flush()
    params = [{"rid": rid, "rec": rec, "ev": text} for rid, (rec, text) in
              report.evaluations.items()]  # fmt: skip
    stmt = (update(Request.__table__)  # type: ignore[arg-type]
            .where(Request.__table__.c.id == bindparam("rid"))
            .values(recommendation=bindparam("rec"), evaluation=bindparam("ev"),
                    rule_set_pk=row.id, version=Request.__table__.c.version + 1,
                    updated_at=now))  # fmt: skip
    for i in range(0, len(params), 1000):
        session.connection().execute(stmt, params[i : i + 1000])
    summary = report.to_json()
    with Chain(session, actor) as chain:
        chain.append("rules_activate", None, {
            "rule_set": key, "sha256": row.sha256,
            "previous": previous.key if previous else None,
            "requests": summary["requests"], "changed": summary["changed"],
            "matrix": summary["matrix"]}, time=now,
            via="admin_activate_rule_set")  # fmt: skip
    if team:
        for changed in (row, previous):
            if changed is not None:
                session.refresh(changed)
    reject_forbidden_approvals(session, actor, key)
    return summary
