"""Reading: the request queue as the desktop shows it (filters, search and sorting done in SQL
on indexed columns, returning ids; rows fetched a page at a time), a request with its
history (`show`), conditions, the dashboard and the status line. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from reviewer import ageing
from reviewer.errors import NotFound
from reviewer.models import (
    WAITS,
    Account,
    Attachment,
    AuditEvent,
    Condition,
    ConditionStatus,
    Decision,
    Outcome,
    Request,
    RequestVersion,
    RuleSetState,
    RuleSetVersion,
    Status,
)
from reviewer.request import fold
from reviewer.rules import compiled, expand_evaluation
from reviewer.services.settings import get_setting
from reviewer.vocabulary import View, event_words

# The day a request started waiting on us (its received_on) while it does, else NULL: the
# queue's "Waiting" column shows its age in working days (`ageing`).
WAITING_SINCE = case((Request.status.in_(ageing.WAITING), Request.received_on), else_=None)
# In the order a reviewer scans a queue: what it is, what the rules say, where it stands, who
# has it, whose it is, when it came and how long it has waited; then the rest.
COLUMNS: list[tuple[str, Any]] = [
    ("Reference", Request.reference),
    ("Recommendation", Request.recommendation),
    ("Status", Request.status),
    ("Assignee", Account.name),
    ("Customer", Request.customer_name),
    ("Received", Request.received_on),
    ("Waiting", WAITING_SINCE),
    ("Country", Request.country),
    ("Org type", Request.org_type),
    ("Updated", Request.updated_at),
]


def column_of(name: str) -> int:
    """The position of the queue column named `name` (every other module asks by name)."""
    return next(i for i, (header, _c) in enumerate(COLUMNS) if header == name)


RECEIVED_COLUMN = column_of("Received")
WAITING_COLUMN = column_of("Waiting")
FILTERS = tuple(View.values())


@dataclass(frozen=True)
class QueueQuery:
    """What the reviewer asked to see."""

    search: str = ""
    status: str | None = None
    recommendation: str | None = None
    view: str = "all"  # one of FILTERS
    sort_column: int = RECEIVED_COLUMN
    descending: bool = True


@dataclass(frozen=True)
class QueueWindow:
    """What a queue query selected, as the queue pages through it: how many requests, and
    the ids its search matched (read once, in no order; None without a search)."""

    query: QueueQuery
    user: str
    count: int
    hits: tuple[int, ...] | None = None
    requests: int = 0  # the requests in all, with a search (how dense its hits are)


@dataclass(frozen=True)
class _Part:
    """One stretch of the queue's order: the ids `select` selects, ordered by `keys` (each an
    expression and whether it ascends), the order of an index."""

    select: Any
    keys: tuple[tuple[Any, bool], ...]

    def ordered(self) -> Any:
        return self.select.order_by(*(k.asc() if up else k.desc() for k, up in self.keys))


def queue_window(session: Session, q: QueueQuery, user: str) -> QueueWindow:
    """The requests `q` selects: how many, and (for a search) the ids it matched, read in one
    scan that every page then reuses."""
    window = QueueWindow(q, user, 0)
    words = search_words(q.search)
    if words:
        # Matching runs on the covering index of the search key (an index-only scan).
        hits = tuple(_ids(session, select(Request.id).where(_matching(session, words))))
        window = QueueWindow(q, user, len(hits), hits, request_count(session))
        if not _filtered(q):
            return window
    return replace(window, count=_count(session, _selecting(session, window)))


def _matching(session: Session, words: list[str]) -> Any:
    """The requests whose search key holds every word: on SQLite a GLOB, its wildcards
    escaped (a third faster than instr, which counts characters), on PostgreSQL strpos."""
    if any("\x00" in word for word in words):
        return false()  # no search key holds a NUL (PostgreSQL's text cannot; GLOB stops at one)
    if _sqlite(session):
        return and_(*(Request.search_key.op("GLOB")(f"*{_glob_escaped(word)}*") for word in words))
    return and_(*(func.strpos(Request.search_key, word) > 0 for word in words))


def _glob_escaped(word: str) -> str:
    """`word` as a GLOB pattern matching itself ([*], [?] and [[] are the characters)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in word)


def queue_page(session: Session, window: QueueWindow, offset: int, limit: int | None) -> list[int]:
    """The ids of the window's rows from `offset` on (at most `limit`), in the queue's order:
    each part's rows walk its index, stopping at the page (no sort of a temporary table)."""
    ids: list[int] = []
    parts = _parts(session, window, walk=_walks(window, offset + (limit or window.count)))
    for number, part in enumerate(parts):
        if limit is not None and len(ids) >= limit:
            break
        if offset > 0 and number < len(parts) - 1:
            size = _count(session, part.select)
            if offset >= size:
                offset -= size
                continue
        want = None if limit is None else limit - len(ids)
        ids += _ids(session, part.ordered().offset(offset or None).limit(want))
        offset = 0
    return ids


def _walks(window: QueueWindow, rows: int) -> bool:
    """Whether the first `rows` of a search are read walking the order's index, each
    request's search key matched on the way (about rows * requests / hits requests read: its
    hits are dense), rather than its hits read by id and ordered (about as many as the hits)."""
    if window.hits is None:
        return False
    return rows * window.requests <= len(window.hits) ** 2


def queue_ids(session: Session, q: QueueQuery, user: str) -> list[int]:
    """Every id `q` selects, in the queue's order (one page of all of them)."""
    return queue_page(session, queue_window(session, q, user), 0, None)


def queue_position(session: Session, window: QueueWindow, rid: int) -> int | None:
    """The row of request `rid` in the window, None when the window does not hold it: the
    rows of the parts before its own, and the rows of its part that come before it."""
    if window.hits is not None and rid not in window.hits:
        return None
    before = 0
    parts = _parts(session, window)
    for number, part in enumerate(parts):
        values = session.execute(
            part.select.with_only_columns(*(k for k, _up in part.keys)).where(Request.id == rid)
        ).one_or_none()
        if values is not None:
            return before + _count(session, part.select.where(_precedes(session, part.keys, tuple(values))))
        if number < len(parts) - 1:
            before += _count(session, part.select)
    return None


def _precedes(session: Session, keys: tuple[tuple[Any, bool], ...], values: tuple[Any, ...]) -> Any:
    """The rows that come before the row of key `values` in the order of `keys` (NULL first
    when ascending on SQLite, last on PostgreSQL: each database's own order)."""
    sqlite = _sqlite(session)
    terms = []
    for k, (key, up) in enumerate(keys):
        value, nulls_first = values[k], up == sqlite
        if value is None:
            before: Any = false() if nulls_first else key.is_not(None)
        else:
            before = key < value if up else key > value
            if nulls_first:
                before = or_(before, key.is_(None))
        same = [
            e.is_(None) if v is None else e == v for (e, _up), v in zip(keys[:k], values[:k], strict=True)
        ]
        terms.append(and_(*same, before))
    return or_(*terms)


def _parts(session: Session, window: QueueWindow, walk: bool = False) -> list[_Part]:
    """The window's order, as one to three parts (`walk`: a search matched on the way)."""
    q = window.query
    column = COLUMNS[q.sort_column][1]
    up = not q.descending
    if q.sort_column == WAITING_COLUMN:
        # The longest wait first when descending: the earliest received_on of the requests
        # waiting on us, then those without an age (both ways), on an index either way.
        keys: tuple[tuple[Any, bool], ...] = (
            (WAITS, True),
            (Request.received_on, q.descending),
            (Request.id, True),
        )
        return [_Part(_selecting(session, window, walk=walk), keys)]
    if column is Account.name and _sqlite(session):
        # SQLite walks the accounts by name and each one's requests on the assignee index
        # (a join it would sort instead); the unassigned come first ascending, as NULL does.
        unassigned = _Part(
            _selecting(session, window, walk=walk).where(Request.assignee_id.is_(None)), ((Request.id, up),)
        )
        by_name = select(Request.id).select_from(Account).join(Request, Request.assignee_id == Account.id)
        assigned = _Part(_selecting(session, window, by_name, walk), ((Account.name, up), (Request.id, up)))
        # An assignee id no account has (foreign keys switched off by hand; verify names it)
        # has no name to sort by: those requests come last either way, by that id, so that
        # the queue still shows every request it counts. Last, the part is read (on the
        # assignee index) only at the end of the queue, and never counted to find a page.
        unnamed = _Part(
            _selecting(session, window, walk=walk).where(
                Request.assignee_id.is_not(None),
                ~select(Account.id).where(Account.id == Request.assignee_id).exists(),
            ),
            ((Request.assignee_id, up), (Request.id, up)),
        )
        return [unassigned, assigned, unnamed] if up else [assigned, unassigned, unnamed]
    base = (
        select(Request.id).outerjoin(Account, Account.id == Request.assignee_id)
        if column is Account.name
        else None
    )
    return [_Part(_selecting(session, window, base, walk), ((column, up), (Request.id, up)))]


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _ids(session: Session, query: Any) -> list[int]:
    """The ids a query selects, straight from the driver's cursor (no row objects)."""
    return [rid for (rid,) in session.connection().execute(query).cursor.fetchall()]


def _count(session: Session, query: Any) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _filtered(q: QueueQuery) -> bool:
    """Whether `q` narrows the queue by more than its search."""
    return bool(q.status or q.recommendation or q.view != View.ALL)


def view_counts(session: Session, user: str, views: tuple[str, ...]) -> dict[str, int]:
    """How many requests each of the queue's `views` shows `user` (the start page)."""
    return {v: _count(session, _selecting(session, QueueWindow(QueueQuery(view=v), user, 0)))
            for v in views}  # fmt: skip


def _among(session: Session, ids: tuple[int, ...]) -> Any:
    """Request.id among `ids` (a search's hits): one parameter, whatever their number."""
    if _sqlite(session):
        each = func.json_each(json.dumps(ids)).table_valued("value")
        return Request.id.in_(select(each.c.value))
    return Request.id == any_(bindparam("hits", list(ids), type_=ARRAY(Integer)))


def _selecting(session: Session, window: QueueWindow, query: Any = None, walk: bool = False) -> Any:
    """The ids of the requests the window selects, unordered (from `query`, by default the
    requests alone); a search as its hits, or with `walk` as its match."""
    q, user = window.query, window.user
    query = select(Request.id) if query is None else query
    if q.status:
        query = query.where(Request.status == Status(q.status))
    if q.recommendation:
        query = query.where(Request.recommendation == q.recommendation)
    if window.hits is not None:
        query = query.where(
            _matching(session, search_words(q.search)) if walk else _among(session, window.hits)
        )
    me = select(Account.id).where(Account.name == user).scalar_subquery()
    if q.view == View.MINE:
        query = query.where(Request.assignee_id == me)
    elif q.view == View.AWAITING_MY_CHECK:
        query = query.where(Request.status == Status.AWAITING_SECOND).where(
            exists().where(
                Decision.request_id == Request.id,
                Decision.final.is_(False),
                Decision.rejected.is_(False),
                Decision.decider_id != me,
            )
        )
    elif q.view == View.REREVIEW_DUE:
        today = dt.datetime.now(dt.UTC).date()
        query = query.where(Request.id.in_(select(_due_approval(today, today).c.request_id)))
    elif q.view == View.PAST_SERVICE_LEVEL:
        query = query.where(_past_level(session))
    elif q.view == View.CONDITIONS_OVERDUE:
        query = query.where(
            exists().where(
                Condition.request_id == Request.id,
                Condition.status == ConditionStatus.OPEN,
                Condition.due_on < dt.datetime.now(dt.UTC).date(),
            )
        )
    return query


def service_level(session: Session) -> int:
    """The organisation's service level in working days (the setting service_level_days)."""
    return ageing.service_level(get_setting(session, "service_level_days"))


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _past_level(session: Session, level: int | None = None) -> Any:
    """Waiting on us for more working days than the service level: received on or before
    the day from which that many plus one working days have passed (an indexed compare)."""
    level = service_level(session) if level is None else level
    since = ageing.received_by(_today(), level + 1)
    return Request.status.in_(ageing.WAITING) & (Request.received_on <= since)


def past_level_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Request).where(_past_level(session))).scalar_one()


class AgeDistribution(TypedDict):
    level: int
    labels: list[str]  # the buckets, youngest first (`ageing.bucket_labels`)
    counts: list[int]
    past: list[bool]  # whether each bucket is past the service level
    past_level: int  # requests waiting longer than the service level
    waiting: int


def age_distribution(session: Session) -> AgeDistribution:
    """The ages of the requests waiting on us in buckets, with the boundary of the service
    level: counted by day of receipt in SQL (a few hundred rows at most), bucketed here."""
    level, today = service_level(session), _today()
    edges = ageing.bucket_edges(level)
    counts = [0] * (len(edges) + 1)
    rows = session.execute(
        select(Request.received_on, func.count()).where(Request.status.in_(ageing.WAITING))
        .group_by(Request.received_on)
    )  # fmt: skip
    for received, n in rows:
        counts[ageing.bucket_of(ageing.working_days(received, today), edges)] += n
    past = [i > 0 and edges[i - 1] >= level for i in range(len(counts))]
    return AgeDistribution(level=level, labels=ageing.bucket_labels(level), counts=counts, past=past,
                           past_level=sum(n for n, p in zip(counts, past, strict=True) if p),
                           waiting=sum(counts))  # fmt: skip


APPROVALS = (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS)


def _due_approval(due_by: dt.date, today: dt.date) -> Any:
    """The approvals due for re-review: the final decision in force of a decided request (its
    last final one, not since reopened) approves, and its re-review date is on or before
    `due_by` or one of its conditions is open past its date (`today`)."""
    latest = (select(func.max(Decision.number)).where(Decision.request_id == Request.id,
                                                      Decision.final.is_(True),
                                                      Decision.rejected.is_(False))
              .correlate(Request).scalar_subquery())  # fmt: skip
    overdue = exists().where(Condition.decision_id == Decision.id,
                             Condition.status == ConditionStatus.OPEN, Condition.due_on < today)  # fmt: skip
    return (
        select(Decision.id.label("decision_id"), Decision.request_id.label("request_id"))
        .join(Request, Request.id == Decision.request_id)
        .where(Request.status == Status.DECIDED, Decision.number == latest,
               Decision.outcome.in_(APPROVALS), or_(Decision.re_review_on <= due_by, overdue))
        .subquery()
    )  # fmt: skip


class RereviewRow(TypedDict):
    reference: str
    customer: str
    decision: int
    outcome: str
    decided_at: str
    re_review_on: str | None
    overdue_conditions: int
    why: str


def rereview_due(session: Session, due_by: dt.date | None = None) -> list[RereviewRow]:
    """`reviewer rereview`: the approvals due for re-review by `due_by` (default today), the
    earliest date first; each says why (its date, its overdue conditions)."""
    today = dt.datetime.now(dt.UTC).date()
    due = _due_approval(due_by or today, today)
    overdue = (select(func.count()).select_from(Condition)
               .where(Condition.decision_id == Decision.id, Condition.status == ConditionStatus.OPEN,
                      Condition.due_on < today)
               .correlate(Decision).scalar_subquery())  # fmt: skip
    rows = session.execute(
        select(Decision, Request.reference, Request.customer_name, overdue)
        .join(due, due.c.decision_id == Decision.id)
        .join(Request, Request.id == Decision.request_id)
        .order_by(Decision.re_review_on, Request.reference)
    ).all()  # fmt: skip
    out: list[RereviewRow] = []
    for d, ref, customer, late in rows:
        reasons = []
        if d.re_review_on is not None and d.re_review_on <= (due_by or today):
            reasons.append(f"re-review date {d.re_review_on.isoformat()}")
        if late:
            reasons.append(f"{late} condition{'s' if late > 1 else ''} overdue")
        out.append(RereviewRow(reference=ref, customer=customer, decision=d.number,
                               outcome=d.outcome.value, decided_at=d.decided_at,
                               re_review_on=d.re_review_on.isoformat() if d.re_review_on else None,
                               overdue_conditions=late, why="; ".join(reasons)))  # fmt: skip
    return out


def due_for_rereview(session: Session, request_id: int, today: dt.date) -> bool:
    """Whether the request's approval in force is due for re-review today (`_due_approval`)."""
    due = _due_approval(today, today)
    found = session.execute(select(due.c.decision_id).where(due.c.request_id == request_id)).first()
    return found is not None


MIN_SEARCH = 2


def search_words(text: str) -> list[str]:
    """The folded words of a search; a search starts with its second character (one letter
    would match nearly everything and only slow the queue down)."""
    words = fold(text).split()
    return words if sum(len(w) for w in words) >= MIN_SEARCH else []


def queue_rows(session: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """The queue columns of the given requests, by id."""
    # An assignee id no account has (foreign keys switched off by hand) is shown as that,
    # not as the blank of an unassigned request.
    unnamed = case((and_(Request.assignee_id.is_not(None), Account.id.is_(None)),
                    literal("unknown account ") + cast(Request.assignee_id, String)),
                   else_=Account.name)  # fmt: skip
    rows = session.execute(
        select(Request.id, *[unnamed if c is Account.name else c for _n, c in COLUMNS])
        .outerjoin(Account, Account.id == Request.assignee_id)
        .where(Request.id.in_(ids))
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def counts(session: Session) -> dict[str, dict[str, int]]:
    """Requests by status and by recommendation (the status bar and the dashboard)."""
    by_status = dict(session.execute(select(Request.status, func.count()).group_by(Request.status)).all())
    by_rec = dict(
        session.execute(select(Request.recommendation, func.count()).group_by(Request.recommendation)).all()
    )
    return {
        "status": {getattr(k, "value", k): v for k, v in by_status.items()},
        "recommendation": {k or "none": v for k, v in by_rec.items()},
    }


def dashboard(session: Session, weeks: int = 12) -> dict[str, Any]:
    """The figures of the dashboard: requests by recommendation and status, final decisions
    per ISO week (the last `weeks`), open conditions past due, and the ages of the requests
    waiting on us (`age_distribution`)."""
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
        select(func.count())
        .select_from(Condition)
        .where(Condition.status == ConditionStatus.OPEN, Condition.due_on < today)
    ).scalar_one()
    data["conditions_open"] = session.execute(
        select(func.count()).select_from(Condition).where(Condition.status == ConditionStatus.OPEN)
    ).scalar_one()
    data["ages"] = age_distribution(session)
    return data


# --------------------------------------------------------------------------- one request


def get_request(session: Session, reference: str, lock: bool = False) -> Request:
    query = select(Request).where(Request.reference == reference)
    if lock:
        query = query.with_for_update()
    req = session.execute(query).scalar_one_or_none()
    if req is None:
        raise NotFound(f"no request with reference {reference!r}")
    return req


def request_id(session: Session, reference: str) -> int | None:
    return session.execute(select(Request.id).where(Request.reference == reference)).scalar_one_or_none()


def reference_of(session: Session, rid: int | None) -> str:
    reference = session.execute(select(Request.reference).where(Request.id == rid)).scalar_one_or_none()
    if reference is None:
        raise NotFound(f"no request with id {rid}")
    return reference


def current_version(session: Session, reference: str) -> int:
    return get_request(session, reference).version


def evaluation_of(session: Session, req: Request) -> dict[str, Any]:
    """The request's evaluation in the JSON of `cli.md`."""
    row = session.get(RuleSetVersion, req.rule_set_pk) if req.rule_set_pk else None
    if row is None or req.evaluation is None:
        raise NotFound(f"{req.reference} has no stored evaluation")
    return expand_evaluation(json.loads(req.evaluation), compiled(row), req.reference)


class ConditionInfo(TypedDict):
    id: int
    rule: str
    text: str
    due: str | None
    status: str


class ConditionRow(ConditionInfo):
    reference: str
    changed_by: str | None
    note: str | None


class DecisionInfo(TypedDict):
    number: int
    outcome: str
    final: bool
    rejected: bool
    reject_reason: str | None
    decider: str | None
    checker: str | None
    justification: str
    conditions: list[ConditionInfo]
    re_review: str | None
    request_version: int
    rule_set: str
    rule_set_sha256: str
    recommendation: str
    decided_at: str
    checked_at: str | None
    record_hash: str | None
    event_seq: int | None


class VersionRow(TypedDict):
    version: int
    sha256: str
    created_at: str
    created_by: str


class EventRow(TypedDict):
    seq: int
    time: str
    actor: str
    action: str
    words: str  # the event in words (vocabulary.event_words)


class NoteRow(TypedDict):
    time: str
    author: str
    text: str


class AttachmentRow(TypedDict):
    """An attachment as `show` and `reviewer attachments` list it (never its bytes)."""

    number: int
    name: str
    size: int
    sha256: str
    time: str
    author: str
    redacted: bool
    note: str | None
    redacted_by: str | None
    redacted_at: str | None
    redact_reason: str | None


class RequestData(TypedDict):
    """`reviewer show REF --format json`, and what the request view shows."""

    reference: str
    status: str
    version: int
    document_version: int
    assignee: str | None
    document: dict[str, Any]
    evaluation: dict[str, Any]
    versions: list[VersionRow]
    decisions: list[DecisionInfo]
    events: list[EventRow]
    notes: list[NoteRow]
    attachments: list[AttachmentRow]


def condition_info(cond: Condition) -> ConditionInfo:
    return ConditionInfo(id=cond.id, rule=cond.rule, text=cond.text,
                         due=cond.due_on.isoformat() if cond.due_on else None,
                         status=cond.status.value)  # fmt: skip


def _name(session: Session, account_id: int | None) -> str | None:
    account = session.get(Account, account_id) if account_id is not None else None
    return account.name if account else None


def attachment_rows(session: Session, request_id: int) -> list[AttachmentRow]:
    """A request's attachments in the order attached (1, 2, ...)."""
    return [AttachmentRow(number=a.number, name=a.name, size=a.size, sha256=a.sha256,
                          time=a.added_at, author=a.added_by, redacted=a.redacted, note=a.note,
                          redacted_by=a.redacted_by, redacted_at=a.redacted_at,
                          redact_reason=a.redact_reason)
            for a in session.execute(select(Attachment).where(Attachment.request_id == request_id)
                                     .order_by(Attachment.number)).scalars()]  # fmt: skip


def show(session: Session, reference: str) -> RequestData:
    """The request, its status, versions, evaluation, decisions, conditions and events."""
    req = get_request(session, reference)
    decisions: list[DecisionInfo] = []
    for d in session.execute(select(Decision).where(Decision.request_id == req.id)
                             .order_by(Decision.number)).scalars():  # fmt: skip
        conds = session.execute(select(Condition).where(Condition.decision_id == d.id)
                                .order_by(Condition.id)).scalars()  # fmt: skip
        decisions.append(DecisionInfo(
            number=d.number, outcome=d.outcome.value, final=d.final,
            rejected=d.rejected, reject_reason=d.reject_reason,
            decider=_name(session, d.decider_id), checker=_name(session, d.checker_id),
            justification=d.justification,
            conditions=[condition_info(x) for x in conds],
            re_review=d.re_review_on.isoformat() if d.re_review_on else None,
            request_version=d.request_version, rule_set=d.rule_set_key,
            rule_set_sha256=d.rule_set_sha256,
            recommendation=json.loads(d.evaluation)["recommendation"],
            decided_at=d.decided_at, checked_at=d.checked_at,
            record_hash=d.record_hash, event_seq=d.event_seq,
        ))  # fmt: skip
    versions = [VersionRow(version=v.version, sha256=v.sha256, created_at=v.created_at,
                           created_by=v.created_by)
                for v in session.execute(select(RequestVersion).where(
                    RequestVersion.request_id == req.id).order_by(RequestVersion.version)
                ).scalars()]  # fmt: skip
    rows = session.execute(
        select(AuditEvent).where(AuditEvent.reference == reference).order_by(AuditEvent.seq)
    ).scalars()
    events: list[EventRow] = []
    notes: list[NoteRow] = []
    for e in rows:
        payload = json.loads(e.payload)
        events.append(EventRow(seq=e.seq, time=e.time, actor=e.actor, action=e.action,
                               words=event_words(e.action, payload)))  # fmt: skip
        if e.action == "note":
            notes.append(NoteRow(time=e.time, author=e.actor, text=str(payload.get("text", ""))))
    return RequestData(
        reference=req.reference, status=req.status.value, version=req.version,
        document_version=req.document_version,
        assignee=req.assignee.name if req.assignee else None,
        document=json.loads(req.document), evaluation=evaluation_of(session, req),
        versions=versions, decisions=decisions, events=events, notes=notes,
        attachments=attachment_rows(session, req.id),
    )  # fmt: skip


def list_conditions(session: Session, overdue: bool = False) -> list[ConditionRow]:
    """Conditions of final decisions, by due date; `overdue`: open ones past their date."""
    query = (select(Condition, Request.reference).join(Request, Request.id == Condition.request_id)
             .join(Decision, Decision.id == Condition.decision_id)
             .where(Decision.final.is_(True), Decision.rejected.is_(False))
             .order_by(Condition.due_on, Condition.id))  # fmt: skip
    if overdue:
        query = query.where(
            Condition.status == ConditionStatus.OPEN, Condition.due_on < dt.datetime.now(dt.UTC).date()
        )
    return [ConditionRow(reference=ref, **condition_info(cond), changed_by=cond.changed_by,
                         note=cond.note) for cond, ref in session.execute(query)]  # fmt: skip


def iter_documents(session: Session, refs: list[str] | None) -> Iterator[dict[str, Any]]:
    """Stored documents (all by reference, or the given ones in their order). An unknown
    reference is NotFound here, before the first document: nothing is written of an export
    that cannot be whole."""
    if refs:
        found: dict[str, str] = {
            ref: text
            for ref, text in session.execute(
                select(Request.reference, Request.document).where(Request.reference.in_(refs))
            )
        }
        missing = [r for r in refs if r not in found]
        if missing:
            raise NotFound(f"no request with reference {', '.join(missing)}")
        return (json.loads(found[ref]) for ref in refs)
    rows = session.execute(select(Request.document).order_by(Request.reference))
    return (json.loads(text) for (text,) in rows.yield_per(1000))


def request_count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Request)).scalar_one()


def status_line(session: Session, user: str, database: str) -> str:
    """The window's status bar: requests, database, user and roles, active rule set."""
    account = session.execute(select(Account).where(Account.name == user)).scalar_one_or_none()
    active = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.state == RuleSetState.ACTIVE)
    ).scalar_one_or_none()
    roles = ", ".join(account.role_names) if account else "no account"
    rules = active.key if active else "none"
    past = past_level_count(session)
    return (f"{request_count(session):,} requests ({past:,} past the service level of "
            f"{service_level(session)} working days)  |  database: {database}  |  "
            f"user: {user} ({roles})  |  rule set: {rules}")  # fmt: skip
