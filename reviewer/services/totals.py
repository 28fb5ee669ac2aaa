"""Customer totals: which of a customer's requests count (open or approved) and their figures,
for HR-30's `customer_total.scale.<field>` (`rules.Parts`).

Which requests count towards a customer's totals: those that are open (new, in review,
returned, awaiting their check) and those approved (the last final decision not rejected is
an approval, and the request is decided: a reopened or re-reviewed one is open again). A
refused request no longer counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from reviewer.models import CustomerKey, Decision, Request, Status
from reviewer.rules import Parts, parts_of, totals_section
from reviewer.rules.lang import TOTAL_FIELDS, Total
from reviewer.services.files import (
    APPROVALS,
    COUNTED,
    Figures,
    FileTotals,
    customer_keys,
    figures_row,
    with_stored,
)

# --------------------------------------------------------------------------- totals


@dataclass
class Member:
    """A request of a customer, as the totals and the re-evaluation need it."""

    id: int
    reference: str
    status: Status
    document: str
    rule_set_pk: int | None
    evaluation: str | None
    customer_id: int
    version: int = 0
    doc: dict[str, Any] = field(default_factory=dict)


def standing(*where: Any) -> Any:
    """The number `n` of each request's standing decision, its last final one not rejected
    (of the requests `where` selects), as a subquery."""
    return (
        select(Decision.request_id, func.max(Decision.number).label("n"))
        .where(*where, Decision.final.is_(True), Decision.rejected.is_(False))
        .group_by(Decision.request_id).subquery()
    )  # fmt: skip


def _approved(session: Session, request_ids: list[int]) -> set[int]:
    """Of these decided requests, those whose standing decision approves."""
    if not request_ids:
        return set()
    last = standing(Decision.request_id.in_(request_ids))
    rows = session.execute(
        select(Decision.request_id).join(last, (last.c.request_id == Decision.request_id)
                                         & (last.c.n == Decision.number))
        .where(Decision.outcome.in_(APPROVALS))
    ).scalars()  # fmt: skip
    return set(rows)


def counting(session: Session, where: Any
              ) -> tuple[dict[int, list[dict[str, Any]]], list[tuple[int, int, str]]]:  # fmt: skip
    """Of the requests `where` selects (those with a customer): the figures of those that
    count, by customer (read by the database, no document parsed), and the open ones as
    (customer, id, reference); one streamed pass, then the approvals among the decided."""
    counted: dict[int, list[dict[str, Any]]] = {}
    open_ids: list[tuple[int, int, str]] = []
    decided: dict[int, tuple[int, dict[str, Any]]] = {}
    rows = session.execute(
        select(Request.id, Request.reference, Request.status, Request.customer_id,
               *_scale_columns(session))
        .where(where, Request.customer_id.is_not(None)).order_by(Request.id)
    )  # fmt: skip
    # The status is tested here, not in SQL: SQLite (without statistics) would search the
    # status index, walking every open request, instead of the customer's.
    for rid, ref, status, cid, *values in rows.yield_per(1000):
        if status not in COUNTED:
            continue
        small = figures_row(ref, values)
        if status is Status.DECIDED:
            decided[rid] = (cid, small)
        else:
            counted.setdefault(cid, []).append(small)
            open_ids.append((cid, rid, ref))
    keys = list(decided)
    for i in range(0, len(keys), 500):
        for rid in _approved(session, keys[i : i + 500]):
            cid, small = decided[rid]
            counted.setdefault(cid, []).append(small)
    return counted, open_ids


def counting_of(session: Session, customer_ids: Iterable[int]
                 ) -> tuple[dict[int, list[dict[str, Any]]], list[tuple[int, int, str]]]:  # fmt: skip
    """`counting` for these customers, 500 at a time."""
    counted: dict[int, list[dict[str, Any]]] = {}
    open_ids: list[tuple[int, int, str]] = []
    ids = sorted(set(customer_ids))
    for i in range(0, len(ids), 500):
        more, more_open = counting(session, Request.customer_id.in_(ids[i : i + 500]))
        counted.update(more)
        open_ids += more_open
    return counted, open_ids


class LazyParts:
    """Each customer's totals made when its first open request needs them and dropped after
    its last (the open requests come customer by customer)."""

    def __init__(self, counted: dict[int, list[dict[str, Any]]], open_ids: list[tuple[int, int]]) -> None:
        self.counted = counted
        self.remaining = Counter(cid for cid, _rid in open_ids)
        self.made: dict[int, Parts] = {}
        self.sections: dict[int, dict[str, Total]] = {}
        self.memos: dict[int, dict[Any, Any]] = {}

    def of(self, customer_id: int) -> Parts:
        parts = self.made.get(customer_id)
        if parts is None:
            parts = self.made[customer_id] = parts_of(self.counted.pop(customer_id, []))
        return parts

    def section(self, customer_id: int) -> dict[str, Total]:
        """What the rule language reads of those totals, made once for all the customer's
        requests (`rules.totals_section`)."""
        made = self.sections.get(customer_id)
        if made is None:
            made = self.sections[customer_id] = totals_section(self.of(customer_id))
        return made

    def memo(self, customer_id: int) -> dict[Any, Any]:
        """Findings kept across the customer's requests (`RuleSet.stored_again`)."""
        return self.memos.setdefault(customer_id, {})

    def done(self, customer_id: int) -> None:
        self.remaining[customer_id] -= 1
        if self.remaining[customer_id] <= 0:
            self.made.pop(customer_id, None)
            self.sections.pop(customer_id, None)
            self.memos.pop(customer_id, None)


def figures(session: Session, customer_ids: Iterable[int], fresh: set[str] = frozenset()  # type: ignore[assignment]
            ) -> tuple[LazyParts, list[int]]:  # fmt: skip
    """For these customers: the totals of each (from its counting requests' figures, read by
    the database), and the ids of their open requests, customer by customer."""
    counted, open_ids = counting_of(session, customer_ids)
    # A new request that is its customer's only one was evaluated with its own figures,
    # which are its totals: nothing to do for it.
    wanted = sorted((cid, rid) for cid, rid, ref in open_ids
                    if not (ref in fresh and len(counted.get(cid, ())) == 1))  # fmt: skip
    return LazyParts(counted, wanted), [rid for _cid, rid in wanted]


def load(session: Session, request_ids: list[int], facts: list[str] | None = None) -> list[Member]:
    """These requests in the order given, documents parsed (a chunk of `figures`' open
    requests). With `facts` (dotted paths to one value, `RuleSet.totals_facts`), no document
    is read whole: each `doc` holds the reference, the five figures and the values at those
    paths (an absent value and a null are one fact), read by the database as one JSON list
    (`whole_document` reads the rest when it is needed)."""
    paths = [] if facts is None else sorted({*(f"scale.{k}" for k in TOTAL_FIELDS), *facts})
    document = Request.document if facts is None else json_values(session, Request.document, paths)
    rows = session.execute(
        select(Request.id, Request.reference, Request.status, document, Request.rule_set_pk,
               Request.evaluation, Request.customer_id, Request.version)
        .where(Request.id.in_(request_ids))
    ).all()  # fmt: skip
    out = [Member(*r) for r in rows]
    order = {rid: i for i, rid in enumerate(request_ids)}
    out.sort(key=lambda m: order[m.id])
    for m in out:
        if facts is None:
            m.doc = json.loads(m.document)
            continue
        doc: dict[str, Any] = {"reference": m.reference}
        m.doc = doc
        for path, value in zip(paths, json.loads(m.document), strict=True):
            *heads, last = path.split(".")
            at: Any = doc
            for head in heads:
                at = at.setdefault(head, {})
            at[last] = value
        m.document = ""
    return out


def whole_document(session: Session, request_id: int) -> dict[str, Any]:
    """One stored request's document, parsed."""
    return json.loads(session.execute(select(Request.document).where(Request.id == request_id)).scalar_one())  # type: ignore[no-any-return]


def parts_for(session: Session, req: Request) -> Parts:
    """The customer totals of one request: its customer's counting requests, itself
    included whatever its status (for a request without a customer: itself alone)."""
    doc = json.loads(req.document)
    if req.customer_id is None:
        return parts_of([doc])
    counted, _open = counting(session, Request.customer_id == req.customer_id)
    others = [f for f in counted.get(req.customer_id, []) if f["reference"] != req.reference]
    return parts_of([*others, doc])


def json_value(session: Session, column: Any, *path: str) -> Any:
    """The value at `path` in a JSON text column, read by the database (PostgreSQL: as
    text; SQLite: a scalar, or an object or list as JSON text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_extract_path_text(cast(column, JSONB), *path)
    return func.json_extract(column, "$." + ".".join(path))


def json_values(session: Session, column: Any, paths: list[str]) -> Any:
    """The values at these dotted `paths` in a JSON text column as one JSON list (a null
    where a path is absent), read by the database."""
    if session.get_bind().dialect.name == "postgresql":
        doc = cast(column, JSONB)
        values = [func.jsonb_extract_path(doc, *p.split(".")) for p in paths]
        return cast(func.jsonb_build_array(*values), Text)
    return func.json_array(*(column.op("->")("$." + p) for p in paths))


def _scale_columns(session: Session) -> list[Any]:
    """The five figures, read by the database from the stored JSON (no document is parsed
    in Python for a total)."""
    return [json_value(session, Request.document, "scale", k) for k in TOTAL_FIELDS]


class AllParts:
    """Every customer's totals at once (a backtest or an activation evaluates every stored
    request): one pass keeps only the figures of the requests that count."""

    def __init__(self, session: Session) -> None:
        self.figures, _open = counting(session, Request.customer_id.is_not(None))

    def of(self, customer_id: int | None, doc: dict[str, Any]) -> Parts:
        """The totals of one request (itself included)."""
        others = [f for f in self.figures.get(customer_id, []) if f["reference"] != doc["reference"]] \
            if customer_id is not None else []  # fmt: skip
        return parts_of([*others, doc])


# --------------------------------------------------------------------------- files


def file_totals(slim: list[Figures], db: Any = None) -> FileTotals:
    """The customer totals of requests read from files (`reviewer evaluate FILE`), by
    reference: the files' requests of the same customer (folded name and country), plus, when
    a database exists (`db`, a `models.db.Database`), its open and approved requests of that
    customer (a stored request also in the files counts as the files give it). Without a
    database, `services.files.FileTotals` gives the same without loading this module."""
    if db is None or not db.is_current():
        return FileTotals(slim)
    keys = customer_keys(slim)
    with db.read() as session:
        ids: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            ids.update(session.execute(
                select(CustomerKey.key, CustomerKey.customer_id)
                .where(CustomerKey.key.in_(keys[i : i + 500]))).all())  # fmt: skip
        counted, _open = counting_of(session, ids.values())
    return with_stored(slim, ids, counted)
