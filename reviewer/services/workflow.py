"""The review workflow (`shared/design/workflow.md`): accounts and roles, the status table,
the decision rules with four eyes, conditions as obligations, optimistic concurrency.

Every service takes a Session and the acting user, checks everything first, and only then
writes: a refused action raises before anything is added to the session, and the caller's
transaction (`db.write()`) rolls back on any error. Each action appends one audit event.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.errors import ConflictError, InvalidInput, NotFound, NotPermitted
from reviewer.models import (
    ROLES,
    Account,
    AccountRole,
    AuditEvent,
    Condition,
    ConditionStatus,
    Decision,
    Outcome,
    Request,
    RuleSetVersion,
    Status,
)
from reviewer.rules import expand_evaluation
from reviewer.services.importing import _compiled, find_account, require_account

MIN_JUSTIFICATION = 30
DECIDER_ROLES = {"reviewer", "senior"}


# --------------------------------------------------------------------------- accounts


def _require_admin(session: Session, actor: Actor) -> Account:
    account = require_account(session, actor)
    if "admin" not in account.role_names:
        raise NotPermitted(f"{actor.name} is not an admin: only an admin manages accounts")
    return account


def _check_roles(roles: list[str]) -> None:
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise InvalidInput([f"unknown role {bad[0]!r}: roles are {', '.join(ROLES)}"])


def add_user(session: Session, actor: Actor, name: str, roles: list[str]) -> Account:
    _require_admin(session, actor)
    _check_roles(roles)
    if not roles:
        raise InvalidInput(["an account needs at least one role (--role)"])
    if not name.strip() or len(name) > 128:
        raise InvalidInput(["an account name is 1 to 128 characters"])
    if find_account(session, name) is not None:
        raise InvalidInput([f"an account named {name!r} already exists"])
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and session.execute(
        sql_text("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :n AND rolcanlogin"),
        {"n": name},
    ).first() is None:
        raise NotFound(f"no database login named {name!r}: accounts map existing logins; "
                       "create the login first (see the README, Team mode)")  # fmt: skip
    account = Account(name=name, active=True, created_at=utc_now())
    account.roles = [AccountRole(role=r) for r in sorted(set(roles))]
    session.add(account)
    session.flush()
    chain = Chain(session, actor)
    chain.append("users_add", None, {"account": name, "roles": sorted(set(roles))})
    chain.close()
    return account


def _active_admins(session: Session) -> int:
    return session.execute(
        select(func.count()).select_from(Account).join(AccountRole)
        .where(Account.active.is_(True), AccountRole.role == "admin")
    ).scalar_one()  # fmt: skip


def change_role(session: Session, actor: Actor, name: str, add: str | None, remove: str | None
                ) -> Account:
    _require_admin(session, actor)
    account = _account(session, name)
    role = add or remove
    assert role is not None
    _check_roles([role])
    have = set(account.role_names)
    if add:
        if add in have:
            raise InvalidInput([f"{name} already has the role {add}"])
        account.roles.append(AccountRole(role=add))
    else:
        if remove not in have:
            raise InvalidInput([f"{name} does not have the role {remove}"])
        if remove == "admin" and _active_admins(session) <= 1:
            raise NotPermitted("the last active admin cannot lose the admin role")
        account.roles = [r for r in account.roles if r.role != remove]
    session.flush()
    chain = Chain(session, actor)
    chain.append("users_role", None, {"account": name, "add": add, "remove": remove,
                                      "roles": account.role_names})  # fmt: skip
    chain.close()
    return account


def disable_user(session: Session, actor: Actor, name: str) -> Account:
    _require_admin(session, actor)
    account = _account(session, name)
    if not account.active:
        raise InvalidInput([f"{name} is already disabled"])
    if "admin" in account.role_names and _active_admins(session) <= 1:
        raise NotPermitted("the last active admin cannot be disabled")
    account.active = False
    chain = Chain(session, actor)
    chain.append("users_disable", None, {"account": name})
    chain.close()
    return account


def _account(session: Session, name: str) -> Account:
    account = find_account(session, name)
    if account is None:
        raise NotFound(f"no account named {name!r}")
    return account


def list_users(session: Session) -> list[dict[str, Any]]:
    accounts = session.execute(select(Account).order_by(Account.name)).scalars()
    return [{"name": a.name, "roles": a.role_names, "active": a.active,
             "created_at": a.created_at} for a in accounts]  # fmt: skip


# --------------------------------------------------------------------------- requests


def get_request(session: Session, reference: str, lock: bool = False) -> Request:
    query = select(Request).where(Request.reference == reference)
    if lock:
        query = query.with_for_update()
    req = session.execute(query).scalar_one_or_none()
    if req is None:
        raise NotFound(f"no request with reference {reference!r}")
    return req


def current_version(session: Session, reference: str) -> int:
    return get_request(session, reference).version


def _check_version(session: Session, req: Request, expected: int | None) -> None:
    if expected is None or expected == req.version:
        return
    last = session.execute(
        select(AuditEvent.actor, AuditEvent.time).where(AuditEvent.reference == req.reference)
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).first()  # fmt: skip
    who, when = (last.actor, last.time) if last else ("someone", req.updated_at)
    raise ConflictError(
        f"{req.reference} changed by {who} at {when} (version {req.version}, you read "
        f"version {expected}): reload and try again"
    )


def _require_status(req: Request, *allowed: Status, action: str) -> None:
    if req.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise NotPermitted(f"{action}: {req.reference} is {req.status.value}, not {wanted}")


def _require_decider(account: Account, action: str) -> None:
    if not DECIDER_ROLES & set(account.role_names):
        raise NotPermitted(f"{action}: {account.name} has neither the reviewer nor the senior role")


def _touch(req: Request, chain: Chain, action: str, payload: dict[str, Any]) -> int:
    now = utc_now()
    req.version += 1
    req.updated_at = now
    return chain.append(action, req.reference, {"version": req.version, **payload}, time=now)


@dataclass
class Context:
    """What a workflow action needs, looked up and checked once."""

    session: Session
    actor: Actor
    account: Account
    req: Request


def _begin(session: Session, actor: Actor, reference: str, expect_version: int | None
           ) -> Context:
    account = require_account(session, actor)
    req = get_request(session, reference, lock=True)
    _check_version(session, req, expect_version)
    return Context(session, actor, account, req)


def claim(session: Session, actor: Actor, reference: str, expect_version: int | None = None
          ) -> Request:
    c = _begin(session, actor, reference, expect_version)
    _require_decider(c.account, "claim")
    _require_status(c.req, Status.NEW, action="claim")
    c.req.status = Status.IN_REVIEW
    c.req.assignee_id = c.account.id
    _finish(c, "claim", {"assignee": c.account.name})
    return c.req


def release(session: Session, actor: Actor, reference: str, expect_version: int | None = None
            ) -> Request:
    c = _begin(session, actor, reference, expect_version)
    _require_status(c.req, Status.IN_REVIEW, action="release")
    _require_assignee(c, "release")
    c.req.status = Status.NEW
    c.req.assignee_id = None
    _finish(c, "release", {})
    return c.req


def take_over(session: Session, actor: Actor, reference: str, expect_version: int | None = None
              ) -> Request:
    c = _begin(session, actor, reference, expect_version)
    _require_status(c.req, Status.IN_REVIEW, action="take over")
    if "senior" not in c.account.role_names:
        raise NotPermitted(f"take over: only a senior may take over a claim ({c.account.name} "
                           "is not a senior)")  # fmt: skip
    previous = c.req.assignee.name if c.req.assignee else None
    if c.req.assignee_id == c.account.id:
        raise NotPermitted(f"take over: {c.req.reference} is already assigned to you")
    c.req.assignee_id = c.account.id
    _finish(c, "take_over", {"assignee": c.account.name, "previous": previous})
    return c.req


def _require_assignee(c: Context, action: str) -> None:
    if c.req.assignee_id != c.account.id:
        who = c.req.assignee.name if c.req.assignee else "nobody"
        raise NotPermitted(f"{action}: {c.req.reference} is assigned to {who}, not to "
                           f"{c.account.name}")  # fmt: skip


def _finish(c: Context, action: str, payload: dict[str, Any]) -> int:
    chain = Chain(c.session, c.actor)
    seq = _touch(c.req, chain, action, payload)
    chain.close()
    return seq


# --------------------------------------------------------------------------- decisions


@dataclass
class Requirement:
    """Who must decide and who must check, from the findings."""

    decider_senior: bool
    checker: str | None  # None, "any" (a different reviewer or senior), "senior"
    reason: str


def evaluation_of(session: Session, req: Request) -> dict[str, Any]:
    """The request's evaluation in the JSON of `cli.md`."""
    row = session.get(RuleSetVersion, req.rule_set_pk) if req.rule_set_pk else None
    if row is None or req.evaluation is None:
        raise NotFound(f"{req.reference} has no stored evaluation")
    ruleset = _compiled(row.sha256, row.content)
    return expand_evaluation(json.loads(req.evaluation), ruleset, req.reference)


def approval_requirement(evaluation: dict[str, Any]) -> Requirement:
    """What an approval needs, or NotPermitted naming the finding in the way."""
    findings = evaluation["findings"]
    for f in findings:
        if f["outcome"] == "refuse" and f["override"] == "never":
            raise NotPermitted(f"{f['rule']} refuses with override never: approval is impossible")
    for f in findings:
        if f["outcome"] == "needs_information":
            missing = f", missing {', '.join(f['missing'])}" if f["missing"] else ""
            raise NotPermitted(f"{f['rule']} needs information{missing}: approval is impossible; "
                               "return the request for information")  # fmt: skip
    committee = [f["rule"] for f in findings if f["outcome"] == "refuse"]
    if committee:
        return Requirement(True, "senior", f"{committee[0]} refuses with override committee: "
                           "approval needs two different seniors")  # fmt: skip
    rec = evaluation["recommendation"]
    if rec == "escalate_senior":
        return Requirement(True, "any", "the recommendation is escalate_senior: a senior "
                           "decides and a different account checks")  # fmt: skip
    if rec == "escalate_second":
        return Requirement(False, "any", "the recommendation is escalate_second: a different "
                           "account checks")  # fmt: skip
    return Requirement(False, None, f"the recommendation is {rec}: one reviewer decides")


@dataclass
class ConditionInput:
    text: str
    due: dt.date | None = None
    rule: str = "reviewer"

    @classmethod
    def parse(cls, spec: str) -> ConditionInput:
        """`TEXT` or `TEXT@YYYY-MM-DD`."""
        text, sep, when = spec.rpartition("@")
        if sep and len(when) == 10:
            try:
                return cls(text.strip(), dt.date.fromisoformat(when))
            except ValueError:
                pass
        return cls(spec.strip())


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _one_year_after(day: dt.date) -> dt.date:
    """The default re-review date (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _check_justification(text: str, what: str = "justification") -> str:
    text = (text or "").strip()
    if len(text) < MIN_JUSTIFICATION:
        raise NotPermitted(f"a {what} needs at least {MIN_JUSTIFICATION} characters "
                           f"(got {len(text)})")  # fmt: skip
    if "\x00" in text:
        raise InvalidInput([f"{what}: NUL characters are not allowed"])
    return text


def _next_decision_number(session: Session, req: Request) -> int:
    """Decisions are numbered within their request from 1 (the PDF's `-dN`)."""
    return 1 + session.execute(
        select(func.count()).select_from(Decision).where(Decision.request_id == req.id)
    ).scalar_one()


def decide(
    session: Session, actor: Actor, reference: str, outcome: str, justification: str,
    conditions: list[ConditionInput] | None = None, re_review: dt.date | None = None,
    expect_version: int | None = None,
) -> Decision:
    """Record a decision: approve, approve_with_conditions or refuse (see `return_request`)."""
    c = _begin(session, actor, reference, expect_version)
    _require_decider(c.account, "decide")
    _require_status(c.req, Status.IN_REVIEW, action="decide")
    _require_assignee(c, "decide")
    try:
        kind = Outcome(outcome)
    except ValueError:
        raise InvalidInput([f"unknown outcome {outcome!r}"]) from None
    if kind is Outcome.RETURN_FOR_INFORMATION:
        raise InvalidInput(["use return to send a request back for information"])
    text = _check_justification(justification)
    evaluation = evaluation_of(session, c.req)
    roles = set(c.account.role_names)
    extra = conditions or []
    today = _today()
    if kind is Outcome.REFUSE:
        if extra:
            raise InvalidInput(["a refusal carries no conditions"])
        if evaluation["recommendation"] == "escalate_senior" and "senior" not in roles:
            raise NotPermitted("the recommendation is escalate_senior: a refusal needs a senior")
        need = Requirement(False, None, "a refusal needs one reviewer")
        review_on = None
    else:
        need = approval_requirement(evaluation)
        if need.decider_senior and "senior" not in roles:
            raise NotPermitted(f"{need.reason}; {c.account.name} is not a senior")
        carried = [ConditionInput(x["text"], None, x["rule"]) for x in evaluation["conditions"]]
        all_conditions = carried + extra
        if kind is Outcome.APPROVE and all_conditions:
            raise NotPermitted("plain approve is impossible while there are conditions "
                               f"({len(all_conditions)}): use approve_with_conditions")
        if kind is Outcome.APPROVE_WITH_CONDITIONS and not all_conditions:
            raise NotPermitted("approve_with_conditions needs at least one condition "
                               "(add one with --condition, or approve)")  # fmt: skip
        review_on = re_review or _one_year_after(today)
        if review_on <= today:
            raise InvalidInput([f"re-review date {review_on} must be after today ({today})"])
        for cond in all_conditions:
            if not cond.text or len(cond.text) > 2000:
                raise InvalidInput(["a condition needs a text of 1 to 2000 characters"])
            if cond.due is not None and cond.due < today:
                raise InvalidInput([f"condition due date {cond.due} is in the past"])
        extra = all_conditions
    number = _next_decision_number(session, c.req)
    now = utc_now()
    decision = Decision(
        request_id=c.req.id, number=number, outcome=kind, final=False, rejected=False,
        checker_needed=need.checker, request_version=c.req.document_version, snapshot=c.req.document,
        snapshot_sha256=c.req.document_sha256, rule_set_key=evaluation["rule_set"],
        rule_set_sha256=evaluation["rule_set_sha256"], evaluation=rq.compact_json(evaluation),
        justification=text, re_review_on=review_on, decider_id=c.account.id,
        decider_roles=",".join(sorted(roles)), decided_at=now,
    )  # fmt: skip
    session.add(decision)
    session.flush()
    for cond in extra:
        session.add(Condition(decision_id=decision.id, request_id=c.req.id, rule=cond.rule,
                              text=cond.text, due_on=cond.due or review_on,
                              status=ConditionStatus.OPEN))  # fmt: skip
    session.flush()
    c.req.status = Status.AWAITING_SECOND if need.checker else Status.DECIDED
    payload: dict[str, Any] = {"decision": number, "outcome": kind.value,
                               "checker_needed": need.checker}  # fmt: skip
    chain = Chain(session, actor)
    if need.checker is None:
        decision.final = True
        decision.record_hash = record_hash(session, decision, c.req.reference)
        payload["record_hash"] = decision.record_hash
    seq = _touch(c.req, chain, "decide", payload)
    if decision.final:
        decision.event_seq = seq
    chain.close()
    return decision


def return_request(session: Session, actor: Actor, reference: str, reason: str,
                   expect_version: int | None = None) -> Decision:
    """Return for information: a decision whose justification is the reason."""
    c = _begin(session, actor, reference, expect_version)
    _require_decider(c.account, "return")
    _require_status(c.req, Status.IN_REVIEW, action="return")
    _require_assignee(c, "return")
    text = _check_justification(reason, "reason")
    evaluation = evaluation_of(session, c.req)
    number = _next_decision_number(session, c.req)
    decision = Decision(
        request_id=c.req.id, number=number, outcome=Outcome.RETURN_FOR_INFORMATION, final=True,
        rejected=False, checker_needed=None, request_version=c.req.document_version,
        snapshot=c.req.document, snapshot_sha256=c.req.document_sha256,
        rule_set_key=evaluation["rule_set"], rule_set_sha256=evaluation["rule_set_sha256"],
        evaluation=rq.compact_json(evaluation), justification=text, re_review_on=None,
        decider_id=c.account.id, decider_roles=",".join(c.account.role_names),
        decided_at=utc_now(),
    )  # fmt: skip
    session.add(decision)
    session.flush()
    decision.record_hash = record_hash(session, decision, c.req.reference)
    c.req.status = Status.RETURNED
    c.req.assignee_id = None
    chain = Chain(session, actor)
    decision.event_seq = _touch(c.req, chain, "return", {
        "decision": number, "outcome": decision.outcome.value,
        "record_hash": decision.record_hash})  # fmt: skip
    chain.close()
    return decision


def pending_decision(session: Session, req: Request) -> Decision:
    decision = session.execute(
        select(Decision).where(Decision.request_id == req.id, Decision.final.is_(False),
                               Decision.rejected.is_(False))
        .order_by(Decision.number.desc())
    ).scalars().first()  # fmt: skip
    if decision is None:
        raise NotFound(f"{req.reference} has no decision awaiting a check")
    return decision


def check(session: Session, actor: Actor, reference: str, confirm: bool, reason: str = "",
          expect_version: int | None = None) -> Decision:
    """The second pair of eyes: confirm (the decision becomes final) or reject it."""
    c = _begin(session, actor, reference, expect_version)
    _require_status(c.req, Status.AWAITING_SECOND, action="check")
    decision = pending_decision(session, c.req)
    if decision.decider_id == c.account.id:
        raise NotPermitted("a checker must be a different account: nobody checks their own "
                           "decision")  # fmt: skip
    roles = set(c.account.role_names)
    _require_decider(c.account, "check")
    if decision.checker_needed == "senior" and "senior" not in roles:
        raise NotPermitted("this approval overrides a committee refusal: the checker must be "
                           f"a second senior ({c.account.name} is not a senior)")  # fmt: skip
    now = utc_now()
    chain = Chain(session, actor)
    if confirm:
        decision.checker_id = c.account.id
        decision.checker_roles = ",".join(sorted(roles))
        decision.checked_at = now
        decision.final = True
        session.flush()
        decision.record_hash = record_hash(session, decision, c.req.reference)
        c.req.status = Status.DECIDED
        decision.event_seq = _touch(c.req, chain, "check", {
            "decision": decision.number, "result": "confirm",
            "record_hash": decision.record_hash})  # fmt: skip
    else:
        text = _check_justification(reason, "reason")
        decision.rejected = True
        decision.reject_reason = text
        decision.checker_id = c.account.id
        decision.checker_roles = ",".join(sorted(roles))
        decision.checked_at = now
        c.req.status = Status.IN_REVIEW
        _touch(c.req, chain, "check", {"decision": decision.number, "result": "reject",
                                       "reason": text})  # fmt: skip
    chain.close()
    return decision


def reopen(session: Session, actor: Actor, reference: str, reason: str,
           expect_version: int | None = None) -> Request:
    c = _begin(session, actor, reference, expect_version)
    _require_status(c.req, Status.DECIDED, action="reopen")
    if "senior" not in c.account.role_names:
        raise NotPermitted(f"reopen: only a senior may reopen a decided request "
                           f"({c.account.name} is not a senior)")  # fmt: skip
    text = _check_justification(reason, "reason")
    c.req.status = Status.IN_REVIEW
    c.req.assignee_id = c.account.id
    _finish(c, "reopen", {"assignee": c.account.name, "reason": text})
    return c.req


def mark_condition(session: Session, actor: Actor, condition_id: int, status: str, note: str
                   ) -> Condition:
    account = require_account(session, actor)
    _require_decider(account, "mark condition")
    cond = session.get(Condition, condition_id, with_for_update=True)
    if cond is None:
        raise NotFound(f"no condition with id {condition_id}")
    try:
        new = ConditionStatus(status)
    except ValueError:
        raise InvalidInput([f"a condition is marked met or lapsed, not {status!r}"]) from None
    if new is ConditionStatus.OPEN:
        raise InvalidInput(["a condition is marked met or lapsed"])
    decision = session.get(Decision, cond.decision_id)
    req = session.get(Request, cond.request_id)
    assert decision is not None and req is not None
    if req.status is not Status.DECIDED or not decision.final:
        raise NotPermitted(f"mark condition: {req.reference} is {req.status.value}, not decided")
    if cond.status is not ConditionStatus.OPEN:
        raise NotPermitted(f"condition {condition_id} is already {cond.status.value}")
    if not (note or "").strip():
        raise InvalidInput(["a note is required (--note)"])
    cond.status = new
    cond.note = note.strip()
    cond.changed_by = account.name
    cond.changed_at = utc_now()
    chain = Chain(session, actor)
    _touch(req, chain, "condition", {"condition": condition_id, "status": new.value,
                                     "note": cond.note})  # fmt: skip
    chain.close()
    return cond


def list_conditions(session: Session, overdue: bool = False) -> list[dict[str, Any]]:
    query = (select(Condition, Request.reference).join(Request, Request.id == Condition.request_id)
             .join(Decision, Decision.id == Condition.decision_id)
             .where(Decision.final.is_(True), Decision.rejected.is_(False))
             .order_by(Condition.due_on, Condition.id))  # fmt: skip
    if overdue:
        query = query.where(Condition.status == ConditionStatus.OPEN,
                            Condition.due_on < _today())
    return [_condition_json(cond, ref) for cond, ref in session.execute(query)]


def _condition_json(cond: Condition, reference: str | None = None) -> dict[str, Any]:
    out = {"id": cond.id, "rule": cond.rule, "text": cond.text,
           "due": cond.due_on.isoformat() if cond.due_on else None,
           "status": cond.status.value}  # fmt: skip
    if reference is not None:
        out = {"reference": reference, **out, "changed_by": cond.changed_by, "note": cond.note}
    return out


# --------------------------------------------------------------------------- record hash


def record_body(session: Session, decision: Decision, reference: str) -> dict[str, Any]:
    """Everything a final decision's record hash covers, the checker included."""
    def name(account_id: int | None) -> str | None:
        if account_id is None:
            return None
        acc = session.get(Account, account_id)
        return acc.name if acc else None

    conditions = session.execute(
        select(Condition).where(Condition.decision_id == decision.id).order_by(Condition.id)
    ).scalars()
    return {
        "reference": reference, "number": decision.number,
        "outcome": decision.outcome.value,
        "request_version": decision.request_version,
        "snapshot_sha256": decision.snapshot_sha256,
        "rule_set": decision.rule_set_key, "rule_set_sha256": decision.rule_set_sha256,
        "evaluation_sha256": rq.sha256_hex(decision.evaluation),
        "conditions": [{"rule": c.rule, "text": c.text,
                        "due": c.due_on.isoformat() if c.due_on else None}
                       for c in conditions],
        "justification": decision.justification,
        "re_review": decision.re_review_on.isoformat() if decision.re_review_on else None,
        "decider": name(decision.decider_id), "decider_roles": decision.decider_roles,
        "decided_at": decision.decided_at,
        "checker": name(decision.checker_id), "checker_roles": decision.checker_roles,
        "checked_at": decision.checked_at,
    }  # fmt: skip


def record_hash(session: Session, decision: Decision, reference: str) -> str:
    return rq.sha256_hex(rq.canonical_json(record_body(session, decision, reference)))


# --------------------------------------------------------------------------- show


def show(session: Session, reference: str) -> dict[str, Any]:
    """The request, its status, versions, evaluation, decisions, conditions and events."""
    req = get_request(session, reference)
    decisions = []
    for d in session.execute(select(Decision).where(Decision.request_id == req.id)
                             .order_by(Decision.number)).scalars():  # fmt: skip
        conds = session.execute(select(Condition).where(Condition.decision_id == d.id)
                                .order_by(Condition.id)).scalars()  # fmt: skip
        decider = session.get(Account, d.decider_id)
        checker = session.get(Account, d.checker_id) if d.checker_id else None
        decisions.append({
            "number": d.number, "outcome": d.outcome.value, "final": d.final,
            "rejected": d.rejected, "reject_reason": d.reject_reason,
            "decider": decider.name if decider else None,
            "checker": checker.name if checker else None,
            "justification": d.justification,
            "conditions": [_condition_json(x) for x in conds],
            "re_review": d.re_review_on.isoformat() if d.re_review_on else None,
            "request_version": d.request_version, "rule_set": d.rule_set_key,
            "rule_set_sha256": d.rule_set_sha256, "recommendation":
                json.loads(d.evaluation)["recommendation"],
            "decided_at": d.decided_at, "checked_at": d.checked_at,
            "record_hash": d.record_hash, "event_seq": d.event_seq,
        })  # fmt: skip
    from reviewer.models import RequestVersion

    versions = [{"version": v.version, "sha256": v.sha256, "created_at": v.created_at,
                 "created_by": v.created_by}
                for v in session.execute(select(RequestVersion).where(
                    RequestVersion.request_id == req.id).order_by(RequestVersion.version)
                ).scalars()]  # fmt: skip
    events = [{"seq": e.seq, "time": e.time, "actor": e.actor, "action": e.action}
              for e in session.execute(select(AuditEvent).where(
                  AuditEvent.reference == reference).order_by(AuditEvent.seq)).scalars()]
    return {
        "reference": req.reference, "status": req.status.value, "version": req.version,
        "document_version": req.document_version,
        "assignee": req.assignee.name if req.assignee else None,
        "document": json.loads(req.document), "evaluation": evaluation_of(session, req),
        "versions": versions, "decisions": decisions, "events": events,
    }  # fmt: skip



# --------------------------------------------------------------------------- demo decisions

DEMO_ACCOUNTS = {
    "demo.reviewer1": ["reviewer"], "demo.reviewer2": ["reviewer"],
    "demo.senior1": ["reviewer", "senior"], "demo.senior2": ["reviewer", "senior"],
}  # fmt: skip


def seed_decisions(session: Session, admin: Actor, count: int, seed: int) -> int:
    """Make `count` realistic decisions on new requests through the services above, with
    demo accounts: approvals (with their checks), refusals and returns, as the findings
    allow. Returns how many requests were decided or returned."""
    import random

    rng = random.Random(seed)
    for name, roles in DEMO_ACCOUNTS.items():
        if find_account(session, name) is None:
            add_user(session, admin, name, roles)
    def actor(name: str) -> Actor:
        return Actor(name, admin.os_login)

    reviewers = ["demo.reviewer1", "demo.reviewer2"]
    seniors = ["demo.senior1", "demo.senior2"]
    refs = session.execute(select(Request.reference).where(Request.status == Status.NEW)
                           .order_by(Request.reference)).scalars().all()  # fmt: skip
    made = 0
    for ref in refs:
        if made >= count:
            break
        req = get_request(session, ref)
        evaluation = evaluation_of(session, req)
        findings = evaluation["findings"]
        title = (json.loads(req.document).get("title") or "this request").lower()
        never = [f["rule"] for f in findings if f["outcome"] == "refuse" and f["override"] == "never"]
        info = [f for f in findings if f["outcome"] == "needs_information"]
        senior_needed = evaluation["recommendation"] == "escalate_senior"
        if never:
            decider = rng.choice(seniors if senior_needed else reviewers + seniors)
            claim(session, actor(decider), ref)
            decide(session, actor(decider), ref, "refuse",
                   f"Refused: {never[0]} forbids this sale; {title} cannot go ahead as asked.")
        elif info:
            decider = rng.choice(reviewers + seniors)
            claim(session, actor(decider), ref)
            missing = ", ".join(info[0]["missing"][:4]) or "the facts the rules ask for"
            return_request(session, actor(decider), ref,
                           f"Returned to sales: please supply {missing} before we can decide.")
        else:
            need = approval_requirement(evaluation)
            decider = rng.choice(seniors) if need.decider_senior else rng.choice(reviewers + seniors)
            claim(session, actor(decider), ref)
            outcome = "approve_with_conditions" if evaluation["conditions"] else "approve"
            decide(session, actor(decider), ref, outcome,
                   f"Approved: {title} stays within the approved uses; "
                   "the rule set's conditions are part of the contract.")
            if need.checker:
                pool = seniors if need.checker == "senior" else reviewers + seniors
                checker = rng.choice([p for p in pool if p != decider])
                if rng.random() < 0.1:
                    check(session, actor(checker), ref, False,
                          "Rejected at check: the justification must name the safeguards.")
                    decide(session, actor(decider), ref, outcome,
                           f"Approved after check: {title} with human review, testing and "
                           "training as conditions of the contract.")
                check(session, actor(checker), ref, True)
        made += 1
    return made


# --------------------------------------------------------------------------- what is allowed

PLACEHOLDER = "placeholder justification long enough for the rules"


def options(db: Any, actor: Actor, reference: str) -> dict[str, tuple[bool, str]]:
    """For each action on a request: (allowed, reason). Each action is tried in a writing
    transaction that is always rolled back, so the answer is exactly what the services decide
    (nothing is duplicated, nothing is written)."""
    trials: dict[str, Any] = {
        "claim": lambda s: claim(s, actor, reference),
        "release": lambda s: release(s, actor, reference),
        "take_over": lambda s: take_over(s, actor, reference),
        "approve": lambda s: decide(s, actor, reference, "approve", PLACEHOLDER),
        "approve_with_conditions": lambda s: decide(
            s, actor, reference, "approve_with_conditions", PLACEHOLDER,
            [ConditionInput("a condition of the reviewer")]),
        "refuse": lambda s: decide(s, actor, reference, "refuse", PLACEHOLDER),
        "return": lambda s: return_request(s, actor, reference, PLACEHOLDER),
        "confirm": lambda s: check(s, actor, reference, True),
        "reject": lambda s: check(s, actor, reference, False, PLACEHOLDER),
        "reopen": lambda s: reopen(s, actor, reference, PLACEHOLDER),
    }
    from sqlalchemy.exc import OperationalError

    out: dict[str, tuple[bool, str]] = {}
    for name, trial in trials.items():
        session = db.probe_session()
        try:
            with session.begin():
                trial(session)
                out[name] = (True, "")
                session.rollback()
        except (NotPermitted, NotFound, ConflictError, InvalidInput) as exc:
            out[name] = (False, str(exc).splitlines()[0])
        except OperationalError as exc:
            # Another writer holds the database (a long import, say): the services check
            # everything before their first write, so reaching it means the action is allowed.
            if "locked" not in str(exc).lower():
                raise
            out[name] = (True, "")
        finally:
            session.close()
    return out
