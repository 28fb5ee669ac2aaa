"""The review workflow (`shared/design/workflow.md`): the status table, the decision rules with
four eyes, conditions as obligations, optimistic concurrency.

Every action is a *check* and an *apply*. The check reads and raises (NotPermitted naming the
finding or requirement in the way, InvalidInput, NotFound) and never writes; the apply writes
and appends one audit event. An action runs its check on the locked request inside the
caller's writing transaction, then applies; `options` runs the same checks, unlocked, in one
read transaction, to tell the window which actions are open and why the others are closed.
So each rule lives in exactly one place, and looking never locks anything.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import ConflictError, IntegrityProblem, InvalidInput, NotFound, NotPermitted
from reviewer.models import (
    Account,
    AuditEvent,
    Condition,
    ConditionStatus,
    Decision,
    Outcome,
    Request,
    RuleSetState,
    RuleSetVersion,
    Status,
)
from reviewer.rules import RuleSet, evaluate_with, stored_with
from reviewer.services import totals
from reviewer.services.accounts import require_account
from reviewer.services.audit import Actor, Chain, body_hash, record_hash, utc_now
from reviewer.services.evaluations import active_rules, fresh_evaluation, verified_rules
from reviewer.services.queries import due_for_rereview, get_request
from reviewer.vocabulary import Recommendation, Role

MIN_JUSTIFICATION = 30
# How a rejection by a rule-set activation, or by a customer's re-evaluation, begins.
ACTIVATED = ("rule set ", "re-evaluated after ")
DECIDER_ROLES = {Role.REVIEWER.value, Role.SENIOR.value}


@dataclass
class Subject:
    """What an action acts on, looked up once: the actor's account and the request."""

    session: Session
    actor: Actor
    account: Account
    req: Request
    roles: set[str] = field(init=False)

    _evaluation: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.roles = set(self.account.role_names)

    def evaluation(self) -> dict[str, Any]:
        """The request's verified evaluation, computed once for all the checks that ask."""
        if self._evaluation is None:
            self._evaluation = fresh_evaluation(self.session, self.req)
        return self._evaluation


def _subject(session: Session, actor: Actor, reference: str, *, lock: bool) -> Subject:
    account = require_account(session, actor)  # who you are comes before what you asked for
    return Subject(session, actor, account, get_request(session, reference, lock=lock))


def _begin(session: Session, actor: Actor, reference: str, expect_version: int | None) -> Subject:
    """The subject of a writing action: the request locked, its version as expected."""
    s = _subject(session, actor, reference, lock=True)
    _check_version(session, s.req, expect_version)
    return s


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


def _touch(req: Request, chain: Chain, action: str, payload: dict[str, Any]) -> int:
    now = utc_now()
    req.version += 1
    req.updated_at = now
    return chain.append(action, req.reference, {"version": req.version, **payload}, time=now)


def _record(s: Subject, action: str, payload: dict[str, Any]) -> int:
    with Chain(s.session, s.actor) as chain:
        return _touch(s.req, chain, action, payload)


# --------------------------------------------------------------------------- checks: state


def _require_status(req: Request, *allowed: Status, action: str) -> None:
    if req.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise NotPermitted(f"{action}: {req.reference} is {req.status.value}, not {wanted}")


def _require_decider(account: Account, action: str) -> None:
    if not DECIDER_ROLES & set(account.role_names):
        raise NotPermitted(f"{action}: {account.name} has neither the reviewer nor the senior role")


def _require_assignee(s: Subject, action: str) -> None:
    if s.req.assignee_id != s.account.id:
        who = s.req.assignee.name if s.req.assignee else "nobody"
        raise NotPermitted(f"{action}: {s.req.reference} is assigned to {who}, not to "
                           f"{s.account.name}")  # fmt: skip


def _check_justification(text: str, what: str = "justification") -> str:
    text = (text or "").strip()
    short = rq.too_short(text, what, MIN_JUSTIFICATION)
    if short:
        raise NotPermitted(short)
    if "\x00" in text:
        raise InvalidInput([f"{what}: NUL characters are not allowed"])
    return text


def check_claim(s: Subject) -> None:
    _require_decider(s.account, "claim")
    _require_status(s.req, Status.NEW, action="claim")


def check_release(s: Subject) -> None:
    _require_status(s.req, Status.IN_REVIEW, action="release")
    _require_assignee(s, "release")


def check_take_over(s: Subject) -> None:
    _require_status(s.req, Status.IN_REVIEW, action="take over")
    if Role.SENIOR not in s.roles:
        raise NotPermitted(f"take over: only a senior may take over a claim ({s.account.name} "
                           "is not a senior)")  # fmt: skip
    if s.req.assignee_id == s.account.id:
        raise NotPermitted(f"take over: {s.req.reference} is already assigned to you")


def check_reopen(s: Subject, reason: str) -> str:
    _require_status(s.req, Status.DECIDED, action="reopen")
    if Role.SENIOR not in s.roles:
        raise NotPermitted(f"reopen: only a senior may reopen a decided request "
                           f"({s.account.name} is not a senior)")  # fmt: skip
    return _check_justification(reason, "reason")


def _in_force(s: Subject) -> Decision | None:
    """The request's decision in force: its last final decision that was not rejected."""
    return s.session.execute(
        select(Decision).where(Decision.request_id == s.req.id, Decision.final.is_(True),
                               Decision.rejected.is_(False))
        .order_by(Decision.number.desc()).limit(1)
    ).scalars().first()  # fmt: skip


def check_rereview(s: Subject, reason: str) -> tuple[str, Decision]:
    """A re-review starts on a decided request whose decision in force is an approval due
    for re-review (its date has come, or one of its open conditions is overdue: the same
    query as `reviewer rereview`), by a reviewer or a senior, with a reason."""
    _require_decider(s.account, "re-review")
    _require_status(s.req, Status.DECIDED, action="re-review")
    decision = _in_force(s)
    if decision is None or decision.outcome not in (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS):
        what = f"decision {decision.number} is {decision.outcome.value}" if decision else "it has no decision"
        raise NotPermitted(f"re-review: {s.req.reference} {what}: only an approval in force is "
                           "re-reviewed")  # fmt: skip
    if not due_for_rereview(s.session, s.req.id, _today()):
        raise NotPermitted(f"re-review: {s.req.reference} is not due: its approval (decision "
                           f"{decision.number}) is re-reviewed from {decision.re_review_on}, and "
                           "none of its conditions is overdue")  # fmt: skip
    return _check_justification(reason, "reason"), decision


# --------------------------------------------------------------------------- claims


def claim(session: Session, actor: Actor, reference: str, expect_version: int | None = None
          ) -> Request:  # fmt: skip
    s = _begin(session, actor, reference, expect_version)
    check_claim(s)
    s.req.status = Status.IN_REVIEW
    s.req.assignee_id = s.account.id
    _record(s, "claim", {"assignee": s.account.name})
    return s.req


MAX_NOTE = 4000


def add_note(session: Session, actor: Actor, reference: str, text: str) -> int:
    """A note on a request by any account: an audit event (text, author, time), never edited
    or deleted (a correction is a new note). It leaves the request's version as it is, so a
    note never makes a reviewer's open decision conflict. Returns the event's number."""
    s = _subject(session, actor, reference, lock=False)
    text = text.strip()
    if not rq.visible_length(text) or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidInput([f"note on {reference}: 1 to {MAX_NOTE} characters of text (invisible "
                            "characters alone are no note)"])  # fmt: skip
    with Chain(session, actor) as chain:
        return chain.append("note", s.req.reference, {"text": text})


def release(session: Session, actor: Actor, reference: str, expect_version: int | None = None
            ) -> Request:  # fmt: skip
    s = _begin(session, actor, reference, expect_version)
    check_release(s)
    s.req.status = Status.NEW
    s.req.assignee_id = None
    _record(s, "release", {})
    return s.req


def take_over(session: Session, actor: Actor, reference: str, expect_version: int | None = None
              ) -> Request:  # fmt: skip
    s = _begin(session, actor, reference, expect_version)
    check_take_over(s)
    previous = s.req.assignee.name if s.req.assignee else None
    s.req.assignee_id = s.account.id
    _record(s, "take_over", {"assignee": s.account.name, "previous": previous})
    return s.req


def reopen(session: Session, actor: Actor, reference: str, reason: str,
           expect_version: int | None = None) -> Request:  # fmt: skip
    s = _begin(session, actor, reference, expect_version)
    text = check_reopen(s, reason)
    s.req.status = Status.IN_REVIEW
    s.req.assignee_id = s.account.id
    _record(s, "reopen", {"assignee": s.account.name, "reason": text})
    _customer_changed(s, f"reopening of {s.req.reference}")
    return s.req


def start_rereview(session: Session, actor: Actor, reference: str, reason: str,
                   expect_version: int | None = None) -> Request:  # fmt: skip
    """Start the re-review of an approval due for it: the request is in review again,
    assigned to the actor, and evaluated afresh from its verified document under the active
    rule set. The decision under re-review and its conditions stay as they are, on record."""
    s = _begin(session, actor, reference, expect_version)
    text, decision = check_rereview(s, reason)
    if rq.sha256_hex(s.req.document) != s.req.document_sha256:
        raise IntegrityProblem(f"{s.req.reference}: its stored document differs from its hash; "
                               "nothing was re-reviewed (run reviewer verify)")  # fmt: skip
    active = active_rules(session)
    if active.pk is None:
        raise NotFound("no rule set is active: there is nothing to re-review against")
    doc = json.loads(s.req.document)
    # its own figures, as an import does
    evaluation = evaluate_with(active.ruleset, doc, None, active.ruleset.sooner_by_nodes(1))
    s.req.rule_set_pk = active.pk
    s.req.evaluation = rq.compact_json(stored_with(active.ruleset, evaluation, None, doc))
    s.req.recommendation = evaluation.recommendation
    s.req.status = Status.IN_REVIEW
    s.req.assignee_id = s.account.id
    _record(s, "rereview", {"assignee": s.account.name, "reason": text,
                            "rule_set": active.ruleset.key, "decision": decision.number})  # fmt: skip
    _customer_changed(s, f"re-review of {s.req.reference}")  # its own totals too
    return s.req


def _customer_changed(s: Subject, why: str) -> None:
    """The request joined or left its customer's counting requests (or may have): evaluate
    the customer's open requests again, this one without another event."""
    if s.req.customer_id is not None:
        refresh_customers(s.session, s.actor, {s.req.customer_id: why}, fresh=[s.req.reference])


# --------------------------------------------------------------------------- decisions


@dataclass
class Requirement:
    """Who must decide and who must check, from the findings."""

    decider_senior: bool
    checker: str | None  # None, "any" (a different reviewer or senior), "senior"
    reason: str


def approval_requirement(evaluation: dict[str, Any]) -> Requirement:
    """What an approval needs, or NotPermitted naming the finding in the way."""
    findings = evaluation["findings"]
    for f in findings:
        if f["outcome"] == Recommendation.REFUSE and f["override"] == "never":
            raise NotPermitted(f"{f['rule']} refuses with override never: approval is impossible")
    for f in findings:
        if f["outcome"] == Recommendation.NEEDS_INFORMATION:
            missing = f", missing {', '.join(f['missing'])}" if f["missing"] else ""
            raise NotPermitted(f"{f['rule']} needs information{missing}: approval is impossible; "
                               "return the request for information")  # fmt: skip
    committee = [f["rule"] for f in findings if f["outcome"] == Recommendation.REFUSE]
    if committee:
        return Requirement(True, "senior", f"{committee[0]} refuses with override committee: "
                           "approval needs two different seniors")  # fmt: skip
    rec = evaluation["recommendation"]
    if rec == Recommendation.ESCALATE_SENIOR:
        return Requirement(True, "any", "the recommendation is escalate_senior: a senior "
                           "decides and a different account checks")  # fmt: skip
    if rec == Recommendation.ESCALATE_SECOND:
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
        """`TEXT` or `TEXT@YYYY-MM-DD`. What follows the last `@` is a due date when it looks
        like one (a digit, and nothing but digits, `-`, `/` and `.`): then it must be a real
        date written YYYY-MM-DD (else ValueError, saying why), never part of the text. After
        any other `@` (`report to dpo@example.com`) the whole is text."""
        text, sep, when = spec.rpartition("@")
        when = when.strip()
        digits = "0123456789"
        if not sep or not any(c in digits for c in when) or any(c not in digits + "-/." for c in when):
            return cls(spec.strip())
        if [len(part) for part in when.split("-")] != [4, 2, 2] or "/" in when or "." in when:
            raise ValueError(f"the due date {when!r} is not written YYYY-MM-DD")
        try:
            due = dt.date.fromisoformat(when)
        except ValueError:
            raise ValueError(f"the due date {when!r} is not a real date") from None
        return cls(text.strip(), due)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _one_year_after(day: dt.date) -> dt.date:
    """The default re-review date (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass
class DecisionPlan:
    """A decision that passed every check, ready to be written."""

    kind: Outcome
    text: str
    evaluation: dict[str, Any]
    need: Requirement
    review_on: dt.date | None
    conditions: list[ConditionInput]


def check_decide(
    s: Subject, outcome: str, justification: str,
    conditions: list[ConditionInput] | None = None, re_review: dt.date | None = None,
) -> DecisionPlan:  # fmt: skip
    """Everything `decide` requires, checked without writing."""
    _require_decider(s.account, "decide")
    _require_status(s.req, Status.IN_REVIEW, action="decide")
    _require_assignee(s, "decide")
    try:
        kind = Outcome(outcome)
    except ValueError:
        raise InvalidInput([f"unknown outcome {outcome!r}"]) from None
    if kind is Outcome.RETURN_FOR_INFORMATION:
        raise InvalidInput(["use return to send a request back for information"])
    text = _check_justification(justification)
    evaluation = s.evaluation()
    extra = conditions or []
    today = _today()
    if kind is Outcome.REFUSE:
        if extra:
            raise InvalidInput(["a refusal carries no conditions"])
        if evaluation["recommendation"] == Recommendation.ESCALATE_SENIOR \
                and Role.SENIOR not in s.roles:  # fmt: skip
            raise NotPermitted("the recommendation is escalate_senior: a refusal needs a senior")
        return DecisionPlan(kind, text, evaluation,
                            Requirement(False, None, "a refusal needs one reviewer"), None, [])  # fmt: skip
    need = approval_requirement(evaluation)
    if need.decider_senior and Role.SENIOR not in s.roles:
        raise NotPermitted(f"{need.reason}; {s.account.name} is not a senior")
    carried = [ConditionInput(x["text"], None, x["rule"]) for x in evaluation["conditions"]]
    all_conditions = carried + extra
    if kind is Outcome.APPROVE and all_conditions:
        raise NotPermitted("plain approve is impossible while there are conditions "
                           f"({len(all_conditions)}): use approve_with_conditions")  # fmt: skip
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
    return DecisionPlan(kind, text, evaluation, need, review_on, all_conditions)


def _next_decision_number(session: Session, req: Request) -> int:
    """Decisions are numbered within their request from 1 (the PDF's `-dN`)."""
    return (
        1
        + session.execute(
            select(func.count()).select_from(Decision).where(Decision.request_id == req.id)
        ).scalar_one()
    )


def decide(
    session: Session,
    actor: Actor,
    reference: str,
    outcome: str,
    justification: str,
    conditions: list[ConditionInput] | None = None,
    re_review: dt.date | None = None,
    expect_version: int | None = None,
) -> Decision:
    """Record a decision: approve, approve_with_conditions or refuse (see `return_request`)."""
    s = _begin(session, actor, reference, expect_version)
    plan = check_decide(s, outcome, justification, conditions, re_review)
    number = _next_decision_number(session, s.req)
    decision = Decision(
        request_id=s.req.id, number=number, outcome=plan.kind, final=False, rejected=False,
        checker_needed=plan.need.checker, request_version=s.req.document_version,
        snapshot=s.req.document, snapshot_sha256=s.req.document_sha256,
        rule_set_key=plan.evaluation["rule_set"],
        rule_set_sha256=plan.evaluation["rule_set_sha256"],
        evaluation=rq.compact_json(plan.evaluation), justification=plan.text,
        re_review_on=plan.review_on, decider_id=s.account.id,
        decider_roles=",".join(sorted(s.roles)), decided_at=utc_now(),
    )  # fmt: skip
    session.add(decision)
    session.flush()
    for cond in plan.conditions:
        session.add(Condition(decision_id=decision.id, request_id=s.req.id, rule=cond.rule,
                              text=cond.text, due_on=cond.due or plan.review_on,
                              status=ConditionStatus.OPEN))  # fmt: skip
    session.flush()
    s.req.status = Status.AWAITING_SECOND if plan.need.checker else Status.DECIDED
    payload: dict[str, Any] = {"decision": number, "outcome": plan.kind.value,
                               "checker_needed": plan.need.checker}  # fmt: skip
    if plan.need.checker is None:
        decision.final = True
        decision.record_hash = record_hash(session, decision, s.req.reference)
        payload["record_hash"] = decision.record_hash
    else:  # the body its check will confirm, and nothing else
        payload["body_sha256"] = body_hash(session, decision, s.req.reference)
    seq = _record(s, "decide", payload)
    if decision.final:
        decision.event_seq = seq
        _customer_changed(s, f"decision on {s.req.reference}")
    return decision


def check_return(s: Subject, reason: str) -> tuple[str, dict[str, Any]]:
    _require_decider(s.account, "return")
    _require_status(s.req, Status.IN_REVIEW, action="return")
    _require_assignee(s, "return")
    text = _check_justification(reason, "reason")
    return text, s.evaluation()


def return_request(session: Session, actor: Actor, reference: str, reason: str,
                   expect_version: int | None = None) -> Decision:  # fmt: skip
    """Return for information: a decision whose justification is the reason."""
    s = _begin(session, actor, reference, expect_version)
    text, evaluation = check_return(s, reason)
    number = _next_decision_number(session, s.req)
    decision = Decision(
        request_id=s.req.id, number=number, outcome=Outcome.RETURN_FOR_INFORMATION, final=True,
        rejected=False, checker_needed=None, request_version=s.req.document_version,
        snapshot=s.req.document, snapshot_sha256=s.req.document_sha256,
        rule_set_key=evaluation["rule_set"], rule_set_sha256=evaluation["rule_set_sha256"],
        evaluation=rq.compact_json(evaluation), justification=text, re_review_on=None,
        decider_id=s.account.id, decider_roles=",".join(s.account.role_names),
        decided_at=utc_now(),
    )  # fmt: skip
    session.add(decision)
    session.flush()
    decision.record_hash = record_hash(session, decision, s.req.reference)
    s.req.status = Status.RETURNED
    s.req.assignee_id = None
    decision.event_seq = _record(s, "return", {
        "decision": number, "outcome": decision.outcome.value,
        "record_hash": decision.record_hash})  # fmt: skip
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


def _rejected_by_activation(s: Subject) -> None:
    """A check of an approval that a rule-set activation rejected names the finding."""
    last = s.session.execute(
        select(Decision).where(Decision.request_id == s.req.id).order_by(Decision.number.desc())
    ).scalars().first()  # fmt: skip
    if last is not None and last.rejected and (last.reject_reason or "").startswith(ACTIVATED):
        raise NotPermitted(f"check: {s.req.reference} has no decision awaiting a check: its "
                           f"approval was rejected because {last.reject_reason}")  # fmt: skip


def _confirmable(s: Subject, decision: Decision) -> None:
    """A confirmation confirms the body its decider recorded, under what the verified rule set
    says now: an approval it no longer allows cannot be confirmed."""
    if decision.outcome is not Outcome.REFUSE:
        need = approval_requirement(s.evaluation())
        if need.decider_senior and Role.SENIOR not in (decision.decider_roles or "").split(","):
            raise NotPermitted(f"{need.reason}; the decider is not a senior")
        if need.checker == Role.SENIOR and Role.SENIOR not in s.roles:
            raise NotPermitted(f"{need.reason}; {s.account.name} is not a senior")
    recorded = _decide_payload(s, decision.number).get("body_sha256")
    if recorded is not None and recorded != body_hash(s.session, decision, s.req.reference):
        raise IntegrityProblem(
            f"{s.req.reference} decision {decision.number} differs from the decision its decider "
            "recorded (changed while awaiting its check); nothing was confirmed (run reviewer "
            "verify)"
        )


def _decide_payload(s: Subject, number: int) -> dict[str, Any]:
    for (text,) in s.session.execute(
        select(AuditEvent.payload).where(AuditEvent.reference == s.req.reference,
                                         AuditEvent.action == "decide")
        .order_by(AuditEvent.seq.desc())
    ):  # fmt: skip
        payload: dict[str, Any] = json.loads(text)
        if payload.get("decision") == number:
            return payload
    return {}


def check_check(s: Subject, confirm: bool, reason: str = "") -> tuple[Decision, str]:
    """What the second pair of eyes requires; returns the pending decision and the reason."""
    if s.req.status is not Status.AWAITING_SECOND:
        _rejected_by_activation(s)
    _require_status(s.req, Status.AWAITING_SECOND, action="check")
    decision = pending_decision(s.session, s.req)
    if decision.decider_id == s.account.id:
        raise NotPermitted("a checker must be a different account: nobody checks their own "
                           "decision")  # fmt: skip
    _require_decider(s.account, "check")
    if decision.checker_needed == Role.SENIOR and Role.SENIOR not in s.roles:
        raise NotPermitted("this approval overrides a committee refusal: the checker must be "
                           f"a second senior ({s.account.name} is not a senior)")  # fmt: skip
    if confirm:
        _confirmable(s, decision)
    return decision, ("" if confirm else _check_justification(reason, "reason"))


def check(session: Session, actor: Actor, reference: str, confirm: bool, reason: str = "",
          expect_version: int | None = None) -> Decision:  # fmt: skip
    """The second pair of eyes: confirm (the decision becomes final) or reject it."""
    s = _begin(session, actor, reference, expect_version)
    decision, text = check_check(s, confirm, reason)
    decision.checker_id = s.account.id
    decision.checker_roles = ",".join(sorted(s.roles))
    decision.checked_at = utc_now()
    if confirm:
        decision.final = True
        session.flush()
        decision.record_hash = record_hash(session, decision, s.req.reference)
        s.req.status = Status.DECIDED
        decision.event_seq = _record(s, "check", {
            "decision": decision.number, "result": "confirm",
            "record_hash": decision.record_hash})  # fmt: skip
        _customer_changed(s, f"decision on {s.req.reference}")
    else:
        decision.rejected = True
        decision.reject_reason = text
        s.req.status = Status.IN_REVIEW
        _record(s, "check", {"decision": decision.number, "result": "reject", "reason": text})
    return decision


# --------------------------------------------------------------------------- conditions


def mark_condition(session: Session, actor: Actor, condition_id: int, status: str, note: str
                   ) -> Condition:  # fmt: skip
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
    if decision is None or req is None:
        raise NotFound(f"condition {condition_id} belongs to no decision")
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
    with Chain(session, actor) as chain:
        _touch(req, chain, "condition", {"condition": condition_id, "status": new.value,
                                         "note": cond.note})  # fmt: skip
    return cond


# --------------------------------------------------------------------------- what is allowed


class Allowed(NamedTuple):
    """Whether an action is open to the actor now, and if not, why (one line)."""

    ok: bool
    reason: str


PLACEHOLDER = "placeholder justification long enough for the rules"
_PROBES: dict[str, Callable[[Subject], object]] = {
    "claim": check_claim,
    "release": check_release,
    "take_over": check_take_over,
    "approve": lambda s: check_decide(s, Outcome.APPROVE, PLACEHOLDER),
    "approve_with_conditions": lambda s: check_decide(
        s, Outcome.APPROVE_WITH_CONDITIONS, PLACEHOLDER,
        [ConditionInput("a condition of the reviewer")]),
    "refuse": lambda s: check_decide(s, Outcome.REFUSE, PLACEHOLDER),
    "return": lambda s: check_return(s, PLACEHOLDER),
    "confirm": lambda s: check_check(s, True),
    "reject": lambda s: check_check(s, False, PLACEHOLDER),
    "reopen": lambda s: check_reopen(s, PLACEHOLDER),
    "rereview": lambda s: check_rereview(s, PLACEHOLDER),
}  # fmt: skip
ACTIONS = tuple(_PROBES)


def options(session: Session, actor: Actor, reference: str) -> dict[str, Allowed]:
    """For each action on a request: whether the actor may take it now, and why not.

    The actions' own checks run on the unlocked request in the caller's read transaction:
    nothing is written or locked, and the answer is exactly what the actions decide."""
    try:
        s = _subject(session, actor, reference, lock=False)
    except (NotPermitted, NotFound) as exc:
        closed = Allowed(False, str(exc).splitlines()[0])
        return dict.fromkeys(ACTIONS, closed)
    out: dict[str, Allowed] = {}
    for name, probe in _PROBES.items():
        try:
            probe(s)
        except (NotPermitted, NotFound, InvalidInput, IntegrityProblem) as exc:
            out[name] = Allowed(False, str(exc).splitlines()[0])
        else:
            out[name] = Allowed(True, "")
    return out


# --------------------------------------------------------------------------- activation


def reject_forbidden_approvals(session: Session, actor: Actor, rule_set: str,
                               only: list[str] | None = None, chain: Chain | None = None
                               ) -> list[str]:  # fmt: skip
    """After a rule-set activation (in its transaction): every approval awaiting its check
    that the new evaluation no longer allows (a refusal with override never, information
    needed, or a decider or checker role it now lacks) is rejected with the reason
    `rule set X activated: <finding>`, by the activating admin; its request returns to
    in_review with its decider as assignee. Returns the references. With `only`, just those
    requests are looked at and `rule_set` is the whole prefix of the reason (a customer's
    re-evaluation, `services.customers.refresh`), written to `chain` when given."""
    query = (
        select(Decision, Request).join(Request, Request.id == Decision.request_id)
        .where(Request.status == Status.AWAITING_SECOND, Decision.final.is_(False),
               Decision.rejected.is_(False))
        .order_by(Request.reference)
        .execution_options(populate_existing=True)
    )  # fmt: skip
    if only is not None:
        query = query.where(Request.reference.in_(only))
    rejected = []
    for decision, req in session.execute(query).all():
        if decision.outcome is Outcome.REFUSE:
            continue
        reason = _forbidden(session, req, decision)
        if reason is None:
            continue
        text = f"{rule_set}: {reason}" if only is not None else f"rule set {rule_set} activated: {reason}"
        decision.rejected, decision.reject_reason = True, text
        decision.checked_at = utc_now()
        req.status = Status.IN_REVIEW
        req.assignee_id = decision.decider_id
        decider = session.get(Account, decision.decider_id)
        payload = {"decision": decision.number, "result": "reject", "reason": text,
                   "assignee": decider.name if decider else None}  # fmt: skip
        if chain is not None:
            _touch(req, chain, "check", payload)
        else:
            with Chain(session, actor) as own:
                _touch(req, own, "check", payload)
        rejected.append(req.reference)
    return rejected


def _forbidden(session: Session, req: Request, decision: Decision) -> str | None:
    try:
        need = approval_requirement(fresh_evaluation(session, req))
    except NotPermitted as exc:
        return str(exc)
    roles = (decision.decider_roles or "").split(",")
    if need.decider_senior and Role.SENIOR not in roles:
        return f"{need.reason}, and the decider is not a senior"
    if need.checker == Role.SENIOR and decision.checker_needed != Role.SENIOR:
        return f"{need.reason}: the check now needs a second senior"
    return None


# --------------------------------------------------------------------------- customers


class _Rules:
    """Verified compiled rule sets by primary key, looked up once per refresh."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_pk: dict[int, RuleSet] = {}

    def get(self, pk: int | None) -> RuleSet | None:
        if pk is None:
            return None
        if pk not in self.by_pk:
            row = self.session.get(RuleSetVersion, pk)
            if row is None:
                return None
            self.by_pk[pk] = verified_rules(self.session, row)
        return self.by_pk[pk]


def refresh_customers(session: Session, actor: Actor, triggers: dict[int | None, str],
                      fresh: Iterable[str] = (), chain: Chain | None = None,
                      moved: bool = False) -> list[str]:  # fmt: skip
    """Evaluate again, with the customer totals as they are now, every open request of these
    customers (`triggers`: customer -> what changed its set of requests). A request whose
    stored evaluation changes gets it, a new version and one `reevaluate` event naming its
    customer's trigger; the requests in `fresh` (stored or changed in this same transaction,
    whose own event has just been written) get their evaluation without another event; they
    were evaluated with their own figures (a new request), unless `moved` (a request linked or
    unlinked by hand, whose evaluation is of its former customer). A
    pending approval the new evaluation forbids is rejected, as after a rule-set activation.
    Open requests are read a chunk at a time, so memory stays flat for a customer of any size.
    Returns the references re-evaluated with an event."""
    ids = [c for c in triggers if c is not None]
    if not ids:
        return []
    session.flush()
    if chain is not None:
        return _reevaluate_customers(session, actor, chain, ids, set(fresh), triggers, moved)
    with Chain(session, actor) as own:
        return _reevaluate_customers(session, actor, own, ids, set(fresh), triggers, moved)


CUSTOMERS = 200  # customers whose figures are held at a time


def _reevaluate_customers(session: Session, actor: Actor, chain: Chain, ids: list[int],
                          fresh: set[str], triggers: dict[int | None, str], moved: bool
                          ) -> list[str]:  # fmt: skip
    done: list[str] = []
    for i in range(0, len(ids), CUSTOMERS):
        parts, open_ids = totals.figures(session, ids[i : i + CUSTOMERS], set() if moved else fresh)
        done += _reevaluate_open(session, actor, chain, open_ids, parts, fresh, triggers)
    return done


CHUNK = 100  # open requests parsed at a time by a customer re-evaluation


def _reevaluate_open(session: Session, actor: Actor, chain: Chain, open_ids: list[int],
                     parts: totals.LazyParts, fresh: set[str], triggers: dict[int | None, str]
                     ) -> list[str]:  # fmt: skip
    rules = _Rules(session)
    table: Any = Request.__table__
    quiet = (update(table).where(table.c.id == bindparam("rid"))
             .values(evaluation=bindparam("ev"), recommendation=bindparam("rec")))  # fmt: skip
    loud = (update(table).where(table.c.id == bindparam("rid"))
            .values(evaluation=bindparam("ev"), recommendation=bindparam("rec"),
                    version=bindparam("v"), updated_at=bindparam("t")))  # fmt: skip
    done: list[str] = []
    pending: list[tuple[str, int]] = []
    changed_ids: set[int] = set()
    now = utc_now()
    # The documents are read only as far as the active rule set's rules reading a total
    # read them; a request evaluated under another rule set gets its whole document.
    active = rules.get(session.execute(
        select(RuleSetVersion.id).where(RuleSetVersion.state == RuleSetState.ACTIVE)).scalar())  # fmt: skip
    facts = None if active is None else active.totals_facts
    for k in range(0, len(open_ids), CHUNK):
        quiet_rows, loud_rows = [], []
        for m in totals.load(session, open_ids[k : k + CHUNK], facts):
            ruleset = rules.get(m.rule_set_pk)
            if ruleset is None or not ruleset.reads_totals:
                parts.done(m.customer_id)
                continue
            whole = functools.partial(totals.whole_document, session, m.id)
            if (
                facts is not None
                and ruleset is not active
                and not set(ruleset.totals_facts or [""]) <= set(facts)
            ):
                m.doc = whole()
            mine = parts.of(m.customer_id)
            text, rec = ruleset.stored_again_text(m.evaluation, m.doc, mine, parts.section(m.customer_id),
                                                  parts.memo(m.customer_id), whole)  # fmt: skip
            parts.done(m.customer_id)
            if text == m.evaluation:
                continue
            changed_ids.add(m.id)
            if m.status is Status.AWAITING_SECOND:
                pending.append((m.reference, m.customer_id))
            if m.reference in fresh:
                quiet_rows.append({"rid": m.id, "ev": text, "rec": rec})
                continue
            loud_rows.append({"rid": m.id, "ev": text, "rec": rec,
                              "v": m.version + 1, "t": now})  # fmt: skip
            chain.append("reevaluate", m.reference, {
                "version": m.version + 1, "trigger": triggers[m.customer_id],
                "recommendation": rec}, time=now)  # fmt: skip
            done.append(m.reference)
        for stmt, rows in ((quiet, quiet_rows), (loud, loud_rows)):
            if rows:
                session.connection().execute(stmt, rows)
    for obj in list(session.identity_map.values()):  # what this session holds is stale now
        if isinstance(obj, Request) and obj.id in changed_ids:
            session.expire(obj)
    for ref, cid in pending:
        reject_forbidden_approvals(session, actor, f"re-evaluated after the {triggers[cid]}",
                                   only=[ref], chain=chain)  # fmt: skip
    return done
