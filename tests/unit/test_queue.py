"""The queue's filters, search and sorting in SQL (Qt-free), on both backends."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select, text

from reviewer.models import Request
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


def test_a_descending_sort_is_the_ascending_one_reversed(db_cli):
    """Requests of the same value keep the order of their ids, reversed with the sort (so an
    index serves a sort either way); the Waiting column keeps its own order of ages."""
    from reviewer.services.queries import COLUMNS, WAITING_COLUMN

    ok(db_cli, "seed-demo", "--count", "60", user=ADMIN)
    for ref in ("DEMO-000003", "DEMO-000007", "DEMO-000011"):
        ok(db_cli, "claim", ref, user=ADMIN)
    for column in range(len(COLUMNS)):
        up = refs(db_cli, QueueQuery(sort_column=column, descending=False))
        down = refs(db_cli, QueueQuery(sort_column=column, descending=True))
        assert sorted(up) == sorted(down) and len(up) == 60, COLUMNS[column][0]
        if column != WAITING_COLUMN:
            assert down == up[::-1], COLUMNS[column][0]


def test_the_ids_are_sqls_order_by(cli):
    """On SQLite the queue's order, walked an index at a time (the accounts by name, then
    each one's requests, for the assignee), is the plain ORDER BY's, for every column both
    ways, with a filter and a search."""
    import sqlite3

    from reviewer.services.queries import COLUMNS, WAITING_COLUMN

    ok(cli, "seed-demo", "--count", "80", user=ADMIN)
    for ref in ("DEMO-000004", "DEMO-000009"):
        ok(cli, "claim", ref, user=ADMIN)
    names = {"Reference": "reference", "Recommendation": "recommendation", "Status": "status",
             "Assignee": "a.name", "Customer": "customer_name", "Received": "received_on",
             "Country": "country", "Org type": "org_type", "Updated": "updated_at"}  # fmt: skip
    conn = sqlite3.connect(cli.db_path)
    db = Database(cli.url)
    try:
        for column, (header, _c) in enumerate(COLUMNS):
            if column == WAITING_COLUMN:
                continue
            for way in ("asc", "desc"):
                for q, where in ((QueueQuery(sort_column=column, descending=way == "desc"), ""),
                                 (QueueQuery(sort_column=column, descending=way == "desc", status="new"),
                                  "WHERE r.status = 'new'")):  # fmt: skip
                    plain = [i for (i,) in conn.execute(
                        f"SELECT r.id FROM requests r LEFT JOIN accounts a ON a.id = r.assignee_id {where} "
                        f"ORDER BY {names[header]} {way}, r.id {way}")]  # fmt: skip
                    with db.read() as session:
                        assert queue_ids(session, q, ADMIN) == plain, (header, way, where)
        with db.read() as session:
            found = queue_ids(session, QueueQuery(search="ltd", sort_column=0, descending=False), ADMIN)
        assert found and found == sorted(found, key=lambda i: conn.execute(
            "SELECT reference FROM requests WHERE id = ?", (i,)).fetchone()[0])  # fmt: skip
    finally:
        db.dispose()
        conn.close()


def test_pages_and_positions_are_those_of_the_whole_order(db_cli):
    """A window's pages, read from any row on, are its order's rows there, and the row of a
    request is where the order has it: every column both ways, with a filter, a view and a
    search, on both backends (NULLs come where each database puts them)."""
    from reviewer.services.queries import COLUMNS, queue_page, queue_position, queue_window

    ok(db_cli, "seed-demo", "--count", "45", user=ADMIN)
    for ref in ("DEMO-000003", "DEMO-000008", "DEMO-000021"):
        ok(db_cli, "claim", ref, user=ADMIN)
    db = Database(db_cli.owner_url())
    try:
        with db.read() as session:
            for column in range(len(COLUMNS)):
                for descending in (False, True):
                    for narrowed in ({}, {"status": "new"}, {"view": "mine"}, {"search": "in"}):
                        q = QueueQuery(sort_column=column, descending=descending, **narrowed)
                        window = queue_window(session, q, ADMIN)
                        everything = queue_page(session, window, 0, None)
                        where = (COLUMNS[column][0], descending, narrowed)
                        assert window.count == len(everything) == len(set(everything)), where
                        for offset in (0, 1, 3, 10, 44, 45, 60):
                            assert (
                                queue_page(session, window, offset, 7) == everything[offset : offset + 7]
                            ), where
                        rows = {0, 1, len(everything) - 2, len(everything) - 1, *range(0, len(everything), 4)}
                        for row in sorted(r for r in rows if 0 <= r < len(everything)):
                            assert queue_position(session, window, everything[row]) == row, where
                        outside = session.execute(
                            select(Request.id).where(Request.id.not_in(everything))
                        ).scalars()
                        for rid in list(outside)[:3]:
                            assert queue_position(session, window, rid) is None, where
                        if not narrowed:
                            assert len(everything) == 45
                        if narrowed == {"view": "mine"}:
                            assert len(everything) == 3
    finally:
        db.dispose()


def test_an_assignee_no_account_has_sorts_last_and_no_row_is_left_blank(cli):
    """With SQLite's foreign keys switched off by hand, requests whose assignee id no account
    has still appear when sorted by assignee: after the others either way (verify names
    them), each page and position that of the whole order, the count that of the rows; the
    column shows the id no account has, not the blank of an unassigned request."""
    import sqlite3

    from reviewer.services.queries import column_of, queue_page, queue_position, queue_window

    ok(cli, "seed-demo", "--count", "30", user=ADMIN)
    for ref in ("DEMO-000004", "DEMO-000009"):
        ok(cli, "claim", ref, user=ADMIN)
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for ref, account in (("DEMO-000021", 999), ("DEMO-000007", 998), ("DEMO-000012", 999)):
            conn.execute("UPDATE requests SET assignee_id = ? WHERE reference = ?", (account, ref))
        unnamed = [i for (i,) in conn.execute(
            "SELECT id FROM requests WHERE assignee_id >= 998 ORDER BY assignee_id, id")]  # fmt: skip
    conn.close()
    db = Database(cli.url)
    try:
        with db.read() as session:
            for descending in (False, True):
                for narrowed in ({}, {"status": "new"}, {"search": "in"}):
                    q = QueueQuery(sort_column=column_of("Assignee"), descending=descending, **narrowed)
                    window = queue_window(session, q, ADMIN)
                    everything = queue_page(session, window, 0, None)
                    where = (descending, narrowed)
                    assert window.count == len(everything) == len(set(everything)), where
                    selected = set(queue_ids(session, replace(q, sort_column=0), ADMIN))
                    tail = [i for i in (unnamed[::-1] if descending else unnamed) if i in selected]
                    assert tail and everything[len(everything) - len(tail) :] == tail, where
                    for offset in (0, 5, len(everything) - 4, len(everything) - 1):
                        page = queue_page(session, window, offset, 3)
                        assert page == everything[offset : offset + 3], where
                    for row, rid in enumerate(everything):
                        assert queue_position(session, window, rid) == row, where
            shown = queue_rows(
                session, queue_ids(session, QueueQuery(sort_column=0, descending=False), ADMIN)
            )
            assignees = {cells[0]: cells[column_of("Assignee")] for cells in shown.values()}
            assert assignees["DEMO-000021"] == assignees["DEMO-000012"] == "unknown account 999"
            assert assignees["DEMO-000007"] == "unknown account 998"
            assert assignees["DEMO-000004"] == ADMIN and assignees["DEMO-000001"] is None
    finally:
        db.dispose()
    code, out, _err = cli("verify", "--format", "json", user=ADMIN)
    assert code != 0 and "assignee is account id 999, which no account has" in out


def test_every_sort_walks_an_index(db_cli):
    """A page of the queue in any order is a walk of an index that stops at the page: never a
    sort of every request (SQLite's plan has no temporary B-tree for the order; PostgreSQL,
    told to avoid sorting, scans an index, sorting at most the ties it hands on)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from reviewer.services.queries import COLUMNS, _parts, queue_window

    ok(db_cli, "seed-demo", "--count", "20", user=ADMIN)
    db = Database(db_cli.owner_url())
    try:
        with db.read() as session:
            pg = session.get_bind().dialect.name == "postgresql"
            if pg:
                session.execute(text("SET LOCAL enable_sort = off"))
                session.execute(text("SET LOCAL enable_seqscan = off"))
            for column, (header, _c) in enumerate(COLUMNS):
                for descending in (False, True):
                    if pg and header == "Assignee":
                        continue  # PostgreSQL sorts the join by name (no target there)
                    window = queue_window(
                        session, QueueQuery(sort_column=column, descending=descending), ADMIN
                    )
                    for part in _parts(session, window):
                        page = part.ordered().limit(200)
                        dialect = postgresql.dialect() if pg else sqlite.dialect()
                        sql = str(page.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                        plan = " ".join(
                            str(r)
                            for r in session.execute(
                                text(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + sql)
                            )
                        )
                        where = (header, descending, plan)
                        if pg:
                            # a sort of the ties as the index hands them (incremental) is no sort of all
                            assert "Index" in plan and not re.search(
                                r"(?<!Incremental )Sort  \(cost", plan
                            ), where
                        else:
                            assert "TEMP B-TREE" not in plan and "USING" in plan, where
    finally:
        db.dispose()


def test_a_search_matches_its_characters_literally(db_cli):
    """The characters a pattern would read as wildcards (GLOB's on SQLite) match themselves;
    a NUL (pasted into the search box) matches nothing: no request holds one."""
    ok(db_cli, "seed-demo", "--count", "6", user=ADMIN)
    keys = {"DEMO-000001": "x a*b", "DEMO-000002": "x a?b", "DEMO-000003": "x a[b]", "DEMO-000004": "x axb",
            "DEMO-000005": "x a%b", "DEMO-000006": "x a_b"}  # fmt: skip
    for ref, key in keys.items():
        db_cli.sql("UPDATE requests SET search_key = :k WHERE reference = :r", {"k": key, "r": ref})
    for word, found in (("a*b", ["DEMO-000001"]), ("a?b", ["DEMO-000002"]), ("a[b", ["DEMO-000003"]),
                        ("a[b]", ["DEMO-000003"]), ("b]", ["DEMO-000003"]), ("a%b", ["DEMO-000005"]),
                        ("a_b", ["DEMO-000006"]), ("axb", ["DEMO-000004"]), ("x a", sorted(keys)),
                        ("x\x00", []), ("\x00\x00", []), ("x a\x00b", [])):  # fmt: skip
        assert refs(db_cli, QueueQuery(search=word, sort_column=0, descending=False)) == found, word
