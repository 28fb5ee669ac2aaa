"""Demo data: generated requests stored as an import would store them, and realistic decisions
made through the workflow's own actions by demo accounts (SQLite only)."""

from __future__ import annotations

import json
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewer import demo, intake
from reviewer.models import Request, Status
from reviewer.services.accounts import add_user, find_account, require_account
from reviewer.services.audit import Actor, Chain
from reviewer.services.customers import Matcher
from reviewer.services.files import ErrorList
from reviewer.services.importing import (
    BATCH,
    ImportResult,
    Prepared,
    Stored,
    prepare,
    store_batch,
)
from reviewer.services.queries import evaluation_of, get_request, request_count
from reviewer.services.rulesets import active_rules
from reviewer.services.workflow import (
    approval_requirement,
    check,
    claim,
    decide,
    return_request,
)


def seed_demo(
    session: Session, actor: Actor, count: int, seed: int, force: bool = False
) -> ImportResult | None:
    """Store `count` generated requests; None when the database already holds requests and
    `force` is not given (nothing is changed then)."""
    require_account(session, actor)
    existing = request_count(session)
    if existing and not force:
        return None
    start = 1
    if existing:
        refs = session.execute(select(Request.reference).where(Request.reference.like("DEMO-%"))).scalars()
        numbers = [int(r[5:]) for r in refs if r[5:].isdigit()]
        start = max(numbers, default=0) + 1
    rules = active_rules(session)
    errors = ErrorList()
    result = ImportResult()
    batch: list[Prepared] = []
    with Chain(session, actor) as chain:
        stored = Stored(Matcher(session, chain))
        for i, doc in enumerate(demo.generate(count, seed=seed, start=start), 1):
            batch.append(prepare(intake.Record("seed-demo", str(i), doc), rules.ruleset))
            if len(batch) >= BATCH:
                store_batch(session, batch, chain, rules, errors, False, result, stored)
                batch.clear()
        if batch:
            store_batch(session, batch, chain, rules, errors, False, result, stored)
        if errors:
            raise errors.error()
        stored.refresh(session, chain, rules)
    return result


DEMO_ACCOUNTS = {
    "demo.reviewer1": ["reviewer"], "demo.reviewer2": ["reviewer"],
    "demo.senior1": ["reviewer", "senior"], "demo.senior2": ["reviewer", "senior"],
}  # fmt: skip


def seed_decisions(session: Session, admin: Actor, count: int, seed: int) -> int:
    """Make `count` realistic decisions on new requests through the workflow's actions, with
    demo accounts: approvals (with their checks), refusals and returns, as the findings
    allow. Returns how many requests were decided or returned."""
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
            decide(
                session,
                actor(decider),
                ref,
                "refuse",
                f"Refused: {never[0]} forbids this sale; {title} cannot go ahead as asked.",
            )
        elif info:
            decider = rng.choice(reviewers + seniors)
            claim(session, actor(decider), ref)
            missing = ", ".join(info[0]["missing"][:4]) or "the facts the rules ask for"
            return_request(
                session,
                actor(decider),
                ref,
                f"Returned to sales: please supply {missing} before we can decide.",
            )
        else:
            need = approval_requirement(evaluation)
            decider = rng.choice(seniors) if need.decider_senior else rng.choice(reviewers + seniors)
            claim(session, actor(decider), ref)
            outcome = "approve_with_conditions" if evaluation["conditions"] else "approve"
            decide(
                session,
                actor(decider),
                ref,
                outcome,
                f"Approved: {title} stays within the approved uses; "
                "the rule set's conditions are part of the contract.",
            )
            if need.checker:
                pool = seniors if need.checker == "senior" else reviewers + seniors
                checker = rng.choice([p for p in pool if p != decider])
                if rng.random() < 0.1:
                    check(
                        session,
                        actor(checker),
                        ref,
                        False,
                        "Rejected at check: the justification must name the safeguards.",
                    )
                    decide(
                        session,
                        actor(decider),
                        ref,
                        outcome,
                        f"Approved after check: {title} with human review, testing and "
                        "training as conditions of the contract.",
                    )
                check(session, actor(checker), ref, True)
        made += 1
    return made
