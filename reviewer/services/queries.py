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
    words = search_words(q.search)
    if words:
        # Matching runs on the covering index of the search key (an index-only scan); the
        # ordered query then keeps the ids it found.
        position = func.instr if session.get_bind().dialect.name == "sqlite" else func.strpos
        matching = select(Request.id)
        for word in words:
            matching = matching.where(position(Request.search_key, word) > 0)
        query = query.where(Request.id.in_(matching))
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


MIN_SEARCH = 2


def search_words(text: str) -> list[str]:
    """The folded words of a search; a search starts with its second character (one letter
    would match nearly everything and only slow the queue down)."""
    words = fold(text).split()
    return words if sum(len(w) for w in words) >= MIN_SEARCH else []


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


def dashboard(session: Session, weeks: int = 12) -> dict[str, Any]:
    """The figures of the dashboard: requests by recommendation and status, final decisions
    per ISO week (the last `weeks`), and open conditions past due."""
    data: dict[str, Any] = counts(session)
    today = dt.datetime.now(dt.UTC).date()
    start = today - dt.timedelta(weeks=weeks - 1, days=today.weekday())
    per_week: dict[str, int] = {}
    for w in range(weeks):
        monday = start + dt.timedelta(weeks=w)
        per_week[monday.isoformat()] = 0
    for (decided_at,) in session.execute(
        select(Decision.decided_at).where(Decision.final.is_(True),
                                          Decision.decided_at >= start.isoformat())
    ):  # fmt: skip
        day = dt.date.fromisoformat(decided_at[:10])
        monday = day - dt.timedelta(days=day.weekday())
        key = monday.isoformat()
        if key in per_week:
            per_week[key] += 1
    data["decisions_per_week"] = per_week
    data["conditions_overdue"] = session.execute(
        select(func.count()).select_from(Condition).where(
            Condition.status == ConditionStatus.OPEN, Condition.due_on < today)
    ).scalar_one()
    data["conditions_open"] = session.execute(
        select(func.count()).select_from(Condition).where(Condition.status == ConditionStatus.OPEN)
    ).scalar_one()
    return data
