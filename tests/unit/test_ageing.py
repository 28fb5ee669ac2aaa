"""Age and service level: working days (Monday to Friday, no holidays) in O(1), against a
day-by-day count; the queue's age, its sort and its "past service level" view, and the
dashboard's distribution, in SQL on SQLite, with dates relative to today."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from reviewer import ageing
from reviewer import request as rq
from reviewer.models.db import Database
from reviewer.services import queries
from reviewer.services.queries import WAITING_COLUMN, QueueQuery
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok

DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


def brute_force(start: dt.date, end: dt.date) -> int:
    return sum(1 for i in range((end - start).days) if (start + dt.timedelta(days=i)).weekday() < 5)


def received_ago(n: int, today: dt.date | None = None) -> dt.date:
    """The latest day from which n working days have passed by today (brute force)."""
    day, left = today or dt.datetime.now(dt.UTC).date(), n
    while left:
        day -= dt.timedelta(days=1)
        left -= day.weekday() < 5
    return day


@given(DAYS, DAYS)
def test_working_days_is_the_day_by_day_count(start, end):
    assert ageing.working_days(start, end) == brute_force(start, end)


@given(DAYS, st.integers(min_value=1, max_value=400))
def test_received_by_is_the_latest_day_that_many_working_days_back(end, n):
    day = ageing.received_by(end, n)
    assert ageing.working_days(day, end) >= n
    assert ageing.working_days(day + dt.timedelta(days=1), end) < n
    assert day == received_ago(n, end)


def test_a_few_days_by_hand():
    friday, saturday, monday = dt.date(2026, 11, 27), dt.date(2026, 11, 28), dt.date(2026, 11, 30)
    assert ageing.working_days(monday, monday) == 0
    assert ageing.working_days(friday, monday) == 1  # Friday counts, today does not
    assert ageing.working_days(saturday, monday) == 0
    assert ageing.working_days(monday, friday) == 0  # never negative
    assert ageing.working_days(monday - dt.timedelta(weeks=2), monday) == 10


def test_buckets_move_their_boundary_to_the_service_level():
    assert ageing.bucket_labels(10) == ["0–2", "3–5", "6–10", "11–20", "over 20"]
    assert ageing.bucket_labels(15) == ["0–2", "3–5", "6–15", "16–20", "over 20"]
    assert ageing.bucket_labels(3) == ["0–2", "3", "4–5", "6–20", "over 20"]
    assert ageing.bucket_labels(30) == ["0–2", "3–5", "6–20", "21–30", "over 30"]
    edges = ageing.bucket_edges(10)
    assert [ageing.bucket_of(a, edges) for a in (0, 2, 3, 10, 11, 20, 21, 300)] == [0, 0, 1, 2, 3, 3, 4, 4]


AGES = {"W-0": 0, "W-3": 3, "W-10": 10, "W-11": 11, "W-25": 25}  # working days waited


def _aged(cli) -> None:
    docs = []
    for ref, age in {**AGES, "W-DONE": 40, "W-BACK": 40}.items():
        doc = make({"received_on": received_ago(age).isoformat()})
        doc["reference"] = ref
        docs.append(doc)
    path = cli.db_path.parent / "aged.jsonl"
    path.write_text("".join(rq.canonical_json(d) + "\n" for d in docs))
    ok(cli, "import", str(path), user=ADMIN)
    ok(cli, "claim", "W-25", user=ADMIN)  # in review: still waiting on us
    ok(cli, "claim", "W-DONE", user=ADMIN)
    ok(cli, "decide", "W-DONE", "--outcome", "approve", "--justification", JUST, user=ADMIN)
    ok(cli, "claim", "W-BACK", user=ADMIN)
    ok(cli, "return", "W-BACK", "--reason", JUST, user=ADMIN)  # waits on sales


def read(cli, fn):
    db = Database(cli.url)
    try:
        with db.read() as session:
            return fn(session)
    finally:
        db.dispose()


def refs(cli, q: QueueQuery) -> list[str]:
    return read(cli, lambda s: [queries.reference_of(s, i) for i in queries.queue_ids(s, q, ADMIN)])


def test_the_queue_sorts_by_age_and_lists_those_past_the_level(cli):
    _aged(cli)
    longest = refs(cli, QueueQuery(sort_column=WAITING_COLUMN, descending=True))
    assert longest[:5] == ["W-25", "W-11", "W-10", "W-3", "W-0"]
    assert set(longest[5:]) == {"W-DONE", "W-BACK"}  # no age: after those that have one
    shortest = refs(cli, QueueQuery(sort_column=WAITING_COLUMN, descending=False))
    assert shortest[:5] == ["W-0", "W-3", "W-10", "W-11", "W-25"]
    assert refs(cli, QueueQuery(view="past service level")) == ["W-11", "W-25"]  # newest received first
    ages = read(cli, queries.age_distribution)
    assert ages["labels"] == ["0–2", "3–5", "6–10", "11–20", "over 20"]
    assert ages["counts"] == [1, 1, 1, 1, 1] and ages["past"] == [False, False, False, True, True]
    assert ages["past_level"] == 2 and ages["waiting"] == 5
    assert "(2 past the service level of 10 working days)" in read(
        cli, lambda s: queries.status_line(s, ADMIN, "here"))  # fmt: skip

    ok(cli, "settings", "set", "service_level_days", "3", user=ADMIN)
    assert refs(cli, QueueQuery(view="past service level")) == ["W-10", "W-11", "W-25"]
    ages = read(cli, lambda s: queries.dashboard(s)["ages"])
    assert ages["labels"] == ["0–2", "3", "4–5", "6–20", "over 20"]
    assert ages["counts"] == [1, 1, 0, 2, 1] and ages["past_level"] == 3


def test_the_setting_is_a_whole_number_of_working_days(cli):
    ok(cli, "db", "upgrade", user=ADMIN)
    assert ok(cli, "settings", "get", "service_level_days", user=ADMIN).strip() == "10"
    for bad in ("0", "366", "ten", "2.5", "-1"):
        code, _out, err = cli("settings", "set", "service_level_days", bad, user=ADMIN)
        assert code == 3 and "service_level_days: a whole number from 1 to 365" in err, err
    assert (
        ok(cli, "settings", "set", "service_level_days", " 015 ", user=ADMIN).strip()
        == "service_level_days = 15"
    )
    code, out, _ = cli("verify", "--format", "json", user=ADMIN)
    assert code == 0 and json.loads(out)["ok"]
