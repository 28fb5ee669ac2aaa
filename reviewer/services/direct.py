"""What `reviewer evaluate FILE` reads of a SQLite database, read with the standard library's
sqlite3 instead of SQLAlchemy (whose import alone takes several times a peer engine's whole
run of one request): the schema revision, the active rule set verified by its audit events,
the import size limit, and the customer totals.

It is the quick way for a database in good order, and only that: anything else (an error of
any kind, a lock, a file in rollback-journal mode, a schema that is not exactly the one the
migrations make, another revision, no active rule set or several, a rule set whose text,
hash or state is not what its events record, a value the database layer would not read back)
makes it give up, and `evaluate` reads the database the usual way (`services.evaluations`,
`services.totals`), which names the problem as every other command does. The file is opened
read-only (SQLite's `mode=ro`): no statement writes, no log is checkpointed, no journal is
rolled back; and the reader never waits for a lock (the usual way waits as it always has).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reviewer.errors import ReviewerError
from reviewer.rules import RuleSet, compiled
from reviewer.rules.lang import TOTAL_FIELDS
from reviewer.schema import HEAD, SQLITE_SCHEMA
from reviewer.services.files import (
    APPROVALS,
    COUNTED,
    Figures,
    FileTotals,
    customer_keys,
    figures_row,
    limit_mb,
    with_stored,
)
from reviewer.services.replay import RULE_SET_ACTIONS, Replay, rule_set_mismatch
from reviewer.vocabulary import RuleSetState, Status

CHUNK = 500
_STATUSES = frozenset(s.value for s in Status)
_COUNTED = frozenset(s.value for s in COUNTED)
_DECIDED = Status.DECIDED.value


class GiveUp(Exception):
    """The database is not in the order this reader knows: read it the usual way."""


@dataclass
class StoredRow:
    """A stored rule set as `rules.compiled` reads it."""

    key: str
    content: str
    sha256: str


class Direct:
    """One SQLite database, opened for reading."""

    def __init__(self, path: Path) -> None:
        # An absolute path in a file: URI, so that no name is read as a URI of its own.
        name = os.path.abspath(path)
        name.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a name that is not text
        self.conn = sqlite3.connect(f"file:{quote(name)}?mode=ro", uri=True, isolation_level=None, timeout=0)
        self.conn.execute("PRAGMA query_only = ON")

    def close(self) -> None:
        self.conn.close()

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def rules_and_limit(self) -> tuple[RuleSet, int]:
        """The active rule set, verified as `services.evaluations.active_rules` verifies it
        (its text hashes to its stored hash, which with its state is what its audit events
        record), and the import size limit; in one read transaction."""
        if self.rows("PRAGMA journal_mode") != [("wal",)]:
            raise GiveUp("not in WAL mode")  # the usual way sets it, or says why it cannot
        self.conn.execute("BEGIN")
        try:
            if schema_digest(self.conn) != SQLITE_SCHEMA:
                raise GiveUp("not the schema the migrations make")
            if self.rows("SELECT version_num FROM alembic_version") != [(HEAD,)]:
                raise GiveUp("another schema revision")
            active = self.rows("SELECT rule_set_id, version, sha256, content, state, effective_on "
                               "FROM rule_sets WHERE state = ?", (RuleSetState.ACTIVE.value,))  # fmt: skip
            if len(active) != 1:
                raise GiveUp("not one active rule set")
            rule_set_id, version, sha256, content, state, effective_on = active[0]
            if state != RuleSetState.ACTIVE.value or not _date_or_none(effective_on):
                raise GiveUp("a value the database layer would not read")
            row = StoredRow(f"{rule_set_id}@{version}", content, sha256)
            replay = Replay()
            marks = ", ".join("?" * len(RULE_SET_ACTIONS))
            for action, actor, payload in self.rows(
                f"SELECT action, actor, payload FROM audit_events WHERE action IN ({marks}) ORDER BY seq",
                RULE_SET_ACTIONS,
            ):
                replay.apply(action, actor, None, json.loads(payload))
            problem = rule_set_mismatch(replay.rule_sets, row.key, sha256, state)
            if problem is not None:
                raise GiveUp(problem)
            try:
                ruleset = compiled(row)
            except ReviewerError as exc:  # its text is not its hash, or does not compile
                raise GiveUp(str(exc)) from exc
            setting = self.rows("SELECT value FROM settings WHERE key = 'max_import_mb'")
            return ruleset, limit_mb(setting[0][0] if setting else None)
        finally:
            self.conn.execute("ROLLBACK")

    def file_totals(self, slim: list[Figures]) -> FileTotals:
        """`services.totals.file_totals` of these requests on this database: the files'
        requests of each customer, and its stored requests that count (open, or decided and
        approved by their standing decision) other than those the files give."""
        self.conn.execute("BEGIN")
        try:
            ids: dict[str, int] = {}
            for chunk in _chunks(customer_keys(slim)):
                ids.update(self.rows("SELECT key, customer_id FROM customer_keys WHERE key IN "
                                     f"({_marks(chunk)})", chunk))  # fmt: skip
            counted = self._counted(sorted(set(ids.values())))
        finally:
            self.conn.execute("ROLLBACK")
        return with_stored(slim, ids, counted)

    def _counted(self, customer_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """`services.totals.counting_of`: the figures of the requests that count, by customer."""
        scale = ", ".join(f"json_extract(document, '$.scale.{k}')" for k in TOTAL_FIELDS)
        counted: dict[int, list[dict[str, Any]]] = {}
        decided: dict[int, tuple[int, dict[str, Any]]] = {}
        for chunk in _chunks(customer_ids):
            for rid, ref, status, cid, *values in self.rows(
                f"SELECT id, reference, status, customer_id, {scale} FROM requests "
                f"WHERE customer_id IN ({_marks(chunk)}) ORDER BY id", chunk
            ):  # fmt: skip
                if status not in _STATUSES or not isinstance(ref, str):
                    raise GiveUp(f"a status or reference not known: {status!r}, {ref!r}")
                if status not in _COUNTED:
                    continue
                small = figures_row(ref, values)
                if status == _DECIDED:
                    decided[rid] = (cid, small)
                else:
                    counted.setdefault(cid, []).append(small)
        approvals = tuple(o.value for o in APPROVALS)
        for chunk in _chunks(list(decided)):
            for (rid,) in self.rows(
                "SELECT d.request_id FROM decisions d JOIN (SELECT request_id, max(number) AS n "
                f"FROM decisions WHERE request_id IN ({_marks(chunk)}) AND final = 1 AND rejected = 0 "
                "GROUP BY request_id) last ON last.request_id = d.request_id AND last.n = d.number "
                f"WHERE d.outcome IN ({_marks(approvals)})", [*chunk, *approvals]
            ):  # fmt: skip
                cid, small = decided[rid]
                counted.setdefault(cid, []).append(small)
        return counted


def schema_digest(conn: sqlite3.Connection) -> str:
    """The SHA-256 of a SQLite database's schema as its catalogue holds it (every table,
    index, view and trigger with its SQL): `reviewer.schema.SQLITE_SCHEMA` for a database
    the migrations made, whichever revision it was first made at."""
    rows = sorted(conn.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master"))
    return hashlib.sha256(json.dumps(rows).encode("utf-8")).hexdigest()


def _date_or_none(value: Any) -> bool:
    """Whether a stored date is one the database layer reads back (or NULL)."""
    if value is None:
        return True
    try:
        return isinstance(value, str) and len(value) == 10 and dt.date.fromisoformat(value) is not None
    except ValueError:
        return False


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def _marks(items: Iterable[Any]) -> str:
    return ", ".join("?" for _ in items)


def opened(path: Path) -> Direct | None:
    """The database at `path` opened for reading, or None."""
    with contextlib.suppress(sqlite3.Error, ValueError):
        return Direct(path)
    return None


READ_ERRORS = (GiveUp, sqlite3.Error, ValueError, KeyError, TypeError)
"""What makes `evaluate` read the database the usual way instead (json errors are
ValueErrors; a hand-edited row may hold anything)."""
