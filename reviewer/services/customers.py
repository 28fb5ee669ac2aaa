"""Customers seen whole: requests matched on the folded name and country, linked and unlinked
by hand, merged (each audited); a change of a customer's set of requests re-evaluates its
open requests (`workflow.refresh_customers`). The totals themselves: `services.totals`."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, TypedDict

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import InvalidInput, NotFound, NotPermitted
from reviewer.models import Condition, ConditionStatus, Customer, CustomerKey, Decision, Request, Status
from reviewer.rules import parts_of
from reviewer.rules.lang import TOTAL_FIELDS, Total
from reviewer.services import files, totals
from reviewer.services.accounts import require_account
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.services.queries import get_request
from reviewer.services.workflow import refresh_customers as refresh
from reviewer.vocabulary import Role

LINKERS = {Role.REVIEWER.value, Role.SENIOR.value}


# --------------------------------------------------------------------------- matching


class Matcher:
    """Finds or makes the customer of each (name, country) within one transaction; a new
    customer is one `customer_add` event. Lookups are batched by the caller (`prefetch`)."""

    def __init__(self, session: Session, chain: Chain) -> None:
        self.session, self.chain = session, chain
        self.ids: dict[str, int] = {}

    def prefetch(self, items: Iterable[tuple[str, str | None, str]]) -> None:
        """Look up the customers of these (name, country, reference), and make those not
        found in one statement (a `customer_add` event each, naming its first request)."""
        firsts: dict[str, tuple[str, str | None, str]] = {}
        for name, country, reference in items:
            key = rq.customer_key(name, country)
            if key not in self.ids:
                firsts.setdefault(key, (name, country, reference))
        wanted = list(firsts)
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            self.ids.update(self.session.execute(
                select(CustomerKey.key, CustomerKey.customer_id).where(CustomerKey.key.in_(part))
            ).all())  # fmt: skip
        missing = [(k, *firsts[k]) for k in wanted if k not in self.ids]
        if not missing:
            return
        table: Any = Customer.__table__
        now, who = utc_now(), self.chain.actor.name
        ids = self.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{"name": n, "country": c, "created_at": now, "created_by": who} for _k, n, c, _r in missing],
        ).scalars().all()  # fmt: skip
        made = list(zip(missing, ids, strict=True))
        self.session.execute(insert(CustomerKey.__table__),  # type: ignore[arg-type]
                             [{"key": m[0], "customer_id": cid} for m, cid in made])  # fmt: skip
        for (key, name, country, reference), cid in made:
            self.ids[key] = cid
            payload = {"customer": cid, "name": name, "country": country, "key": key}
            self.chain.append("customer_add", reference, payload, time=now)

    def customer_of(self, name: str, country: str | None, reference: str) -> int:
        key = rq.customer_key(name, country)
        if key not in self.ids:  # not prefetched with its batch
            self.prefetch([(name, country, reference)])
        return self.ids[key]


def _own_customer(session: Session, chain: Chain, name: str, country: str | None, reference: str) -> int:
    """A customer of one request unlinked by hand: no match key sends new requests to it."""
    table: Any = Customer.__table__
    cid: int = session.execute(
        insert(table).values(name=name, country=country, created_at=utc_now(),
                             created_by=chain.actor.name).returning(table.c.id)
    ).scalar_one()  # fmt: skip
    chain.append("customer_add", reference, {"customer": cid, "name": name,
                                             "country": country, "key": None})  # fmt: skip
    return cid


# --------------------------------------------------------------------------- hand links


def resolve(session: Session, spec: str) -> Customer:
    """A customer by number (`12` or `C-12`) or by name (folded; one match, else the
    candidates); a merged customer resolves to the one it was merged into."""
    text = spec.strip()
    if not rq.fold(text).strip():
        raise NotFound("no customer given (give its number, as `reviewer customers` lists, or its name)")
    number = text[2:] if text.upper().startswith("C-") else text
    customer: Customer | None = None
    if number.isascii() and number.isdigit() and len(number) <= 18:  # an id SQLite can hold
        customer = session.get(Customer, int(number))
    if customer is None:
        key = " ".join(rq.fold(text).split())
        found = [c for c in session.execute(select(Customer).where(Customer.merged_into.is_(None))
                                            .order_by(Customer.id)).scalars()
                 if " ".join(rq.fold(c.name).split()) == key]  # fmt: skip
        if len(found) > 1:
            listed = ", ".join(f"C-{c.id} ({c.country or 'no country'})" for c in found[:10])
            raise InvalidInput([f"customer {spec!r}: {len(found)} customers have that name "
                                f"({listed}): give the number"])  # fmt: skip
        customer = found[0] if found else None
    if customer is None:
        shown = spec if len(spec) <= 80 else spec[:80] + "..."
        raise NotFound(f"no customer {shown!r} (give its number, as `reviewer customers` lists, "
                       "or its name)")  # fmt: skip
    seen = {customer.id}
    while customer.merged_into is not None:
        nxt = session.get(Customer, customer.merged_into)
        if nxt is None or nxt.id in seen:
            break
        seen.add(nxt.id)
        customer = nxt
    return customer


def _require_linker(session: Session, actor: Actor, what: str) -> None:
    account = require_account(session, actor)
    if not LINKERS & set(account.role_names):
        raise NotPermitted(f"{what}: {account.name} has neither the reviewer nor the senior role")


def _locked_request(session: Session, reference: str) -> Request:
    return get_request(session, reference, lock=True)


def link(session: Session, actor: Actor, reference: str, spec: str) -> Customer:
    """Put a request under a customer by hand (pinned: a new version keeps the link); both
    customers' open requests are evaluated again."""
    _require_linker(session, actor, "link")
    req = _locked_request(session, reference)
    customer = resolve(session, spec)
    previous = req.customer_id
    if previous == customer.id:
        raise NotPermitted(f"link: {reference} already belongs to customer C-{customer.id}")
    _move(session, actor, req, customer.id, "customer_link", previous)
    why = f"link of {reference} to customer C-{customer.id}"
    refresh(session, actor, {customer.id: why, previous: why}, fresh=[reference], moved=True)
    return customer


def unlink(session: Session, actor: Actor, reference: str, spec: str) -> Customer:
    """Take a request out of a customer by hand: it becomes a customer of its own (pinned);
    the customer's other open requests are evaluated again. Returns the new customer."""
    _require_linker(session, actor, "unlink")
    req = _locked_request(session, reference)
    customer = resolve(session, spec)
    if req.customer_id != customer.id:
        raise NotPermitted(f"unlink: {reference} does not belong to customer C-{customer.id}")
    with Chain(session, actor) as chain:
        doc = json.loads(req.document)
        new_id = _own_customer(session, chain, doc["customer"]["name"],
                               doc["customer"].get("country"), reference)  # fmt: skip
    _move(session, actor, req, new_id, "customer_unlink", customer.id)
    why = f"unlink of {reference} from customer C-{customer.id}"
    refresh(session, actor, {customer.id: why, new_id: why}, fresh=[reference], moved=True)
    new = session.get(Customer, new_id)
    assert new is not None
    return new


def _move(session: Session, actor: Actor, req: Request, customer_id: int, action: str,
          previous: int | None) -> None:  # fmt: skip
    req.customer_id = customer_id
    req.customer_pinned = True
    now = utc_now()
    req.version += 1
    req.updated_at = now
    with Chain(session, actor) as chain:
        chain.append(action, req.reference, {"version": req.version, "customer": customer_id,
                                             "previous": previous}, time=now)  # fmt: skip


def merge(session: Session, actor: Actor, source_spec: str, target_spec: str) -> Customer:
    """Merge one customer into another: its requests and match keys move; it keeps its row,
    pointing to the target. The target's open requests are evaluated again."""
    _require_linker(session, actor, "merge")
    source, target = resolve(session, source_spec), resolve(session, target_spec)
    if source.id == target.id:
        raise NotPermitted(f"merge: C-{source.id} and C-{target.id} are the same customer")
    moved = list(session.execute(
        select(Request.reference).where(Request.customer_id == source.id).order_by(Request.reference)
    ).scalars())  # fmt: skip
    session.execute(update(Request).where(Request.customer_id == source.id)
                    .values(customer_id=target.id))  # fmt: skip
    session.execute(update(CustomerKey).where(CustomerKey.customer_id == source.id)
                    .values(customer_id=target.id))  # fmt: skip
    source.merged_into = target.id
    session.flush()
    with Chain(session, actor) as chain:
        chain.append("customer_merge", None, {"customer": source.id, "into": target.id,
                                              "requests": moved})  # fmt: skip
    refresh(session, actor, {target.id: f"merge of customer C-{source.id} into C-{target.id}"})
    return target


# --------------------------------------------------------------------------- views


class CustomerRow(TypedDict):
    """A customer as `reviewer customers` lists it."""

    id: int
    number: str
    name: str
    country: str | None
    requests: int
    open: int
    approved: int


def customer_rows(session: Session, search: str | None = None) -> list[CustomerRow]:
    """Every customer not merged into another (by name), with its number of requests, of
    open ones and of approved ones; `search`: those whose folded name contains it."""
    counts: dict[int | None, Counter[str]] = {}
    last = totals.standing()
    for cid, status, n in session.execute(
        select(Request.customer_id, Request.status, func.count()).where(Request.customer_id.is_not(None))
        .group_by(Request.customer_id, Request.status)
    ):  # fmt: skip
        c = counts.setdefault(cid, Counter())
        c["requests"] += n
        if status in files.OPEN:
            c["open"] += n
    for cid, n in session.execute(
        select(Request.customer_id, func.count()).join(last, last.c.request_id == Request.id)
        .join(Decision, (Decision.request_id == Request.id) & (Decision.number == last.c.n))
        .where(Request.status == Status.DECIDED, Decision.outcome.in_(files.APPROVALS))
        .group_by(Request.customer_id)
    ):  # fmt: skip
        counts.setdefault(cid, Counter())["approved"] += n
    wanted = " ".join(rq.fold(search).split()) if search else None
    out: list[CustomerRow] = []
    for cid, name, country in session.execute(
        select(Customer.id, Customer.name, Customer.country).where(Customer.merged_into.is_(None))
    ):  # fmt: skip
        if wanted is not None and wanted not in " ".join(rq.fold(name).split()):
            continue
        c = counts.get(cid, Counter())
        out.append(CustomerRow(id=cid, number=f"C-{cid}", name=name, country=country,
                               requests=c["requests"], open=c["open"], approved=c["approved"]))  # fmt: skip
    out.sort(key=lambda r: (rq.fold(r["name"]), r["country"] or "", r["id"]))
    return out


def detail(session: Session, customer: Customer) -> dict[str, Any]:
    """`reviewer customer C --format json` and the customer view: every request of the
    customer with its standing decision and open conditions, which of them count, and its
    deployment in total (the sums HR-30 reads, over the requests that count)."""
    reqs = list(session.execute(select(Request).where(Request.customer_id == customer.id)
                                .order_by(Request.reference)).scalars())  # fmt: skip
    ids = [r.id for r in reqs]
    standing: dict[int, Decision] = {}
    last: dict[int, Decision] = {}
    conditions: dict[int, list[Condition]] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        for dec in session.execute(select(Decision).where(Decision.request_id.in_(part))
                                   .order_by(Decision.number)).scalars():  # fmt: skip
            last[dec.request_id] = dec
            if dec.final and not dec.rejected:
                standing[dec.request_id] = dec
        for cond in session.execute(
            select(Condition).where(Condition.request_id.in_(part),
                                    Condition.status == ConditionStatus.OPEN).order_by(Condition.id)
        ).scalars():  # fmt: skip
            conditions.setdefault(cond.request_id, []).append(cond)
    counted, _open = totals.counting(session, Request.customer_id == customer.id)
    counting = {f["reference"] for f in counted.get(customer.id, [])}
    today = dt.datetime.now(dt.UTC).date()
    requests: list[dict[str, Any]] = []
    for r in reqs:
        doc = json.loads(r.document)
        d = standing.get(r.id)
        conds = [] if d is None else [c for c in conditions.get(r.id, []) if c.decision_id == d.id]
        pending: Decision | None = last.get(r.id)
        requests.append({
            "reference": r.reference, "title": r.title, "status": r.status.value,
            "version": r.version, "received_on": r.received_on.isoformat(),
            "recommendation": r.recommendation, "pinned": r.customer_pinned,
            "counts": r.reference in counting,
            "scale": {k: (doc.get("scale") or {}).get(k) for k in TOTAL_FIELDS},
            "decision": None if d is None else {
                "number": d.number, "outcome": d.outcome.value, "decided_at": d.decided_at,
                "checked_at": d.checked_at,
                "re_review": d.re_review_on.isoformat() if d.re_review_on else None},
            "pending_decision": None if pending is None or pending is d or pending.final else {
                "number": pending.number, "outcome": pending.outcome.value,
                "decided_at": pending.decided_at},
            "open_conditions": [{
                "id": c.id, "rule": c.rule, "text": c.text,
                "due": c.due_on.isoformat() if c.due_on else None,
                "overdue": c.due_on is not None and c.due_on < today} for c in conds],
        })  # fmt: skip
    parts = parts_of(counted.get(customer.id, []))
    total = {}
    for name, listed in parts.items():
        t = Total(tuple((str(ref), v) for ref, v in listed))
        total[name] = {"total": t.known, "complete": t.complete,
                       "parts": [{"reference": ref, "value": v} for ref, v in listed]}  # fmt: skip
    merged = list(session.execute(select(Customer.id).where(Customer.merged_into == customer.id)
                                  .order_by(Customer.id)).scalars())  # fmt: skip
    return {
        "id": customer.id, "number": f"C-{customer.id}", "name": customer.name,
        "country": customer.country, "created_at": customer.created_at,
        "created_by": customer.created_by, "merged_from": [f"C-{m}" for m in merged],
        "requests": requests, "total": total,
    }  # fmt: skip
