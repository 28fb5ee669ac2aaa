"""How long a request has waited on the review team, in working days, and the service level
it is measured against (the organisation setting `service_level_days`). Pure: no database,
no Qt; the queue, the status bar and the dashboard count with it.

A working day is Monday to Friday. There is no holiday calendar: a public holiday counts as
a working day (the age is a little high around holidays, never low).

A request has an age while it waits on us: `new`, `in_review` and `awaiting_second`. A
`returned` request waits on sales, and a `decided` one waits on nobody: neither has an age.
"""

from __future__ import annotations

import datetime as dt

from reviewer.vocabulary import ORG_SETTINGS, Status

WAITING = (Status.NEW, Status.IN_REVIEW, Status.AWAITING_SECOND)
DEFAULT_SERVICE_LEVEL = int(ORG_SETTINGS["service_level_days"].default)
BUCKET_EDGES = (2, 5, 10, 20)  # 0–2, 3–5, 6–10, 11–20, over 20; 10 is the service level


def _weekdays_before(n: int) -> int:
    """Working days among the `n` days from a Monday on (that Monday counted, day n not)."""
    weeks, rest = divmod(n, 7)
    return weeks * 5 + min(rest, 5)


def working_days(start: dt.date, end: dt.date) -> int:
    """The working days from `start` up to `end`: the weekdays d with start <= d < end, so a
    request received today has waited 0, one received on Friday has waited 1 on Monday (and
    one received on Saturday 0). 0 when `end` is not after `start`. O(1)."""
    n = (end - start).days
    if n <= 0:
        return 0
    w = start.weekday()  # days since the Monday of start's week
    return _weekdays_before(w + n) - _weekdays_before(w)


def received_by(end: dt.date, days: int) -> dt.date:
    """The latest day `start` with working_days(start, end) >= days (days >= 1): a request
    received on or before it has waited at least `days` working days by `end`, one received
    after it fewer. O(1): what the queue's SQL compares `received_on` with."""
    if days <= 0:
        return end
    weeks, rest = divmod(days - 1, 5)
    day = end - dt.timedelta(weeks=weeks)  # same weekday, 5 * weeks working days back
    # Then step back to the (rest + 1)-th working day before `day`: at most 6 + 2 days.
    need = rest + 1
    while need:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            need -= 1
    return day


def service_level(value: str | None) -> int:
    """The setting's value as a number of working days (the default if it is not one)."""
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return DEFAULT_SERVICE_LEVEL


def past_level(age: int, level: int) -> bool:
    """Past the service level: waited more working days than it allows."""
    return age > level


def bucket_edges(level: int) -> list[int]:
    """The upper ends of the age buckets of the dashboard: 0–2, 3–5, 6–10, 11–20 and over 20
    working days, with the boundary at 10 moved to the service level."""
    return sorted({*(e for e in BUCKET_EDGES if e != 10), level})


def bucket_labels(level: int) -> list[str]:
    """The labels of the buckets of `bucket_edges`, the last one `over N`."""
    labels, low = [], 0
    for high in bucket_edges(level):
        labels.append(f"{low}–{high}" if high > low else f"{high}")
        low = high + 1
    return [*labels, f"over {low - 1}"]


def bucket_of(age: int, edges: list[int]) -> int:
    """The index of the bucket an age falls in (len(edges): over the last edge)."""
    for i, high in enumerate(edges):
        if age <= high:
            return i
    return len(edges)
