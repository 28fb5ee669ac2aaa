"""Customers seen whole: requests matched on the folded name and country, linked and unlinked
by hand, merged (each audited); a change of a customer's set of requests re-evaluates its
open requests (`workflow.refresh_customers`). The totals themselves: `services.totals`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import InvalidInput, NotFound, NotPermitted
from reviewer.models import Customer, CustomerKey, Request
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

    def prefetch(self, keys: Iterable[str]) -> None:
        wanted = [k for k in set(keys) if k not in self.ids]
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            self.ids.update(self.session.execute(
                select(CustomerKey.key, CustomerKey.customer_id).where(CustomerKey.key.in_(part))
            ).all())  # fmt: skip

    def customer_of(self, name: str, country: str | None, reference: str) -> int:
        key = rq.customer_key(name, country)
        cid = self.ids.get(key)
        if cid is None:
            cid = _new_customer(self.session, self.chain, name, country, key, reference)
            self.ids[key] = cid
        return cid


def _new_customer(session: Session, chain: Chain, name: str, country: str | None,
                  key: str | None, reference: str | None) -> int:  # fmt: skip
    # Core statements: an import that makes thousands of customers keeps no objects of them.
    table: Any = Customer.__table__
    cid: int = session.execute(
        insert(table).values(name=name, country=country, created_at=utc_now(),
                             created_by=chain.actor.name).returning(table.c.id)
    ).scalar_one()  # fmt: skip
    if key is not None:
        session.execute(insert(CustomerKey.__table__).values(key=key, customer_id=cid))  # type: ignore[arg-type]
    chain.append("customer_add", reference, {"customer": cid, "name": name,
                                             "country": country, "key": key})  # fmt: skip
    return cid


# --------------------------------------------------------------------------- hand links


def resolve(session: Session, spec: str) -> Customer:
    """A customer by number (`12` or `C-12`) or by name (folded; one match, else the
    candidates); a merged customer resolves to the one it was merged into."""
    text = spec.strip()
    number = text[2:] if text.upper().startswith("C-") else text
    customer: Customer | None = None
    if number.isdigit():
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
        raise NotFound(f"no customer {spec!r} (give its number, as `reviewer customers` lists, "
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
    refresh(session, actor, {customer.id: why, previous: why}, fresh=[reference])
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
        new_id = _new_customer(session, chain, doc["customer"]["name"],
                               doc["customer"].get("country"), None, reference)  # fmt: skip
    _move(session, actor, req, new_id, "customer_unlink", customer.id)
    why = f"unlink of {reference} from customer C-{customer.id}"
    refresh(session, actor, {customer.id: why, new_id: why}, fresh=[reference])
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
