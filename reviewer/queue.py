"""The request queue as the desktop shows it: filters, search and sorting done in SQL on
indexed columns, returning ids; rows are fetched a page at a time. Qt-free."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from reviewer.models import (
    Account,
    Condition,
    ConditionStatus,
    Decision,
    Request,
    Status,
)
from reviewer.request import fold

COLUMNS: list[tuple[str, Any]] = [
    ("Reference", Request.reference),
    ("Received", Request.received_on),
    ("Customer", Request.customer_name),
    ("Country", Request.country),
    ("Org type", Request.org_type),
    ("Recommendation", Request.recommendation),
    ("Status", Request.status),
    ("Assignee", Account.name),
    ("Updated", Request.updated_at),
]
FILTERS = ("all", "mine", "awaiting my check", "conditions overdue")


@dataclass(frozen=True)
class QueueQuery:
    """What the reviewer asked to see."""

    search: str = ""
    status: str | None = None
    recommendation: str | None = None
    view: str = "all"  # one of FILTERS
    sort_column: int = 1
    descending: bool = True


def queue_ids(session: Session, q: QueueQuery, user: str) -> list[int]:
    """The ordered ids of the requests the query selects (one indexed query)."""
    column = COLUMNS[q.sort_column][1]
    order = column.desc() if q.descending else column.asc()
    query = select(Request.id).outerjoin(Account, Account.id == Request.assignee_id)
    if q.status:
        query = query.where(Request.status == Status(q.status))
    if q.recommendation:
        query = query.where(Request.recommendation == q.recommendation)
    if q.search.strip():
        for word in fold(q.search).split():
            query = query.where(Request.search_key.contains(word, autoescape=True))
    if q.view == "mine":
        query = query.where(Account.name == user)
    elif q.view == "awaiting my check":
        me = select(Account.id).where(Account.name == user).scalar_subquery()
        query = query.where(Request.status == Status.AWAITING_SECOND).where(
            exists().where(Decision.request_id == Request.id, Decision.final.is_(False),
                           Decision.rejected.is_(False), Decision.decider_id != me))
    elif q.view == "conditions overdue":
        query = query.where(exists().where(
            Condition.request_id == Request.id, Condition.status == ConditionStatus.OPEN,
            Condition.due_on < dt.datetime.now(dt.UTC).date()))
    return list(session.execute(query.order_by(order, Request.id)).scalars())


def queue_rows(session: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The queue columns of the given requests, by id."""
    rows = session.execute(
        select(Request.id, *[c for _n, c in COLUMNS])
        .outerjoin(Account, Account.id == Request.assignee_id)
        .where(Request.id.in_(ids))
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def counts(session: Session) -> dict[str, dict[str, int]]:
    """Requests by status and by recommendation (the status bar and the dashboard)."""
    by_status = dict(session.execute(select(Request.status, func.count()).group_by(Request.status)).all())
    by_rec = dict(session.execute(
        select(Request.recommendation, func.count()).group_by(Request.recommendation)).all())
    return {"status": {getattr(k, "value", k): v for k, v in by_status.items()},
            "recommendation": {k or "none": v for k, v in by_rec.items()}}
