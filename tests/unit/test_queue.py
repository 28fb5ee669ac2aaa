"""The queue's filters, search and sorting in SQL (Qt-free), on both backends."""

from __future__ import annotations

from reviewer.models.db import Database
from reviewer.services.queries import QueueQuery, counts, queue_ids, queue_rows
from tests.helpers.cli import EXAMPLES
from tests.helpers.workflow import ADMIN, JUST, ok


def refs(cli, q: QueueQuery, user: str = ADMIN) -> list[str]:
    db = Database(cli.owner_url())
    try:
        with db.read() as session:
            ids = queue_ids(session, q, user)
            rows = queue_rows(session, ids)
            return [rows[i][0] for i in ids]
    finally:
        db.dispose()


def test_filters_search_and_sort(db_cli):
    ok(db_cli, "import", *map(str, sorted(EXAMPLES.glob("p*.json"))), user=ADMIN)
    ok(db_cli, "users", "add", "rev2", "--role", "reviewer", user=ADMIN)
    everything = refs(db_cli, QueueQuery(sort_column=0, descending=False))
    assert everything == sorted(everything) and len(everything) == 12
    assert refs(db_cli, QueueQuery(sort_column=0, descending=True)) == everything[::-1]
    assert refs(db_cli, QueueQuery(search="müller")) == []
    assert refs(db_cli, QueueQuery(search="HARBOUR co")) == ["EX-0001"]  # case and words
    assert refs(db_cli, QueueQuery(search="policia")) == ["EX-0011"]  # accents folded
    assert refs(db_cli, QueueQuery(search="constabulary")) == ["EX-0009"]  # end-user names
    assert len(refs(db_cli, QueueQuery(search="e"))) == 12  # one letter does not filter
    assert set(refs(db_cli, QueueQuery(recommendation="refuse"))) == {"EX-0002", "EX-0003", "EX-0008"}
    ok(db_cli, "claim", "EX-0004", user=ADMIN)
    ok(
        db_cli,
        "decide",
        "EX-0004",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        user=ADMIN,
    )
    assert refs(db_cli, QueueQuery(status="awaiting_second")) == ["EX-0004"]
    assert refs(db_cli, QueueQuery(view="mine")) == ["EX-0004"]
    assert refs(db_cli, QueueQuery(view="awaiting my check")) == []  # not my own decision
    assert refs(db_cli, QueueQuery(view="awaiting my check"), user="rev2") == ["EX-0004"]
    ok(db_cli, "check", "EX-0004", "--confirm", user="rev2")
    assert refs(db_cli, QueueQuery(view="conditions overdue")) == []
    db_cli.sql("update conditions set due_on = '2026-01-01'")
    assert refs(db_cli, QueueQuery(view="conditions overdue")) == ["EX-0004"]
    db = Database(db_cli.owner_url())
    with db.read() as session:
        c = counts(session)
    db.dispose()
    assert c["status"]["decided"] == 1 and sum(c["recommendation"].values()) == 12
