"""The hash-chained audit trail (`workflow.md`, "Audit trail").

hash = sha256_hex(prev_hash + "\\n" + canonical_json({seq, time, actor, os_login, action,
reference, payload})); the one-row chain head holds the last seq and hash and is updated in
the same transaction, so deleting the newest event is detectable too.
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from reviewer.errors import ConflictError, InvalidInput, NotFound, NotPermitted, ReviewerError
from reviewer.models import (
    Account,
    AuditEvent,
    ChainHead,
    Condition,
    Decision,
)
from reviewer.request import canonical_json, compact_json, sha256_hex

GENESIS = "0" * 64


def utc_now() -> str:
    """UTC time as the audit trail stores it: YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Actor:
    """Who is acting: the account name, and the OS login recorded beside it."""

    name: str
    os_login: str | None


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return sha256_hex(prev_hash + "\n" + canonical_json(body))


def _fast_event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """event_hash for a body whose payload is flat and has no nulls."""
    flat = {k: v for k, v in body.items() if v is not None}
    return sha256_hex(prev_hash + "\n" + compact_json(flat))


def append_upgrade_event(session: Session, action: str, payload: dict[str, Any]) -> None:
    """Append one event in the name of `upgrade` (a migration, in its own transaction): the
    OS login that ran it is recorded, as for every event."""
    head = session.execute(select(ChainHead).where(ChainHead.id == 1)).scalar_one()
    try:
        login: str | None = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        login = None
    body = {"seq": head.seq + 1, "time": utc_now(), "actor": "upgrade", "os_login": login,
            "action": action, "reference": None, "payload": payload}  # fmt: skip
    digest = event_hash(head.hash, body)
    session.execute(
        insert(AuditEvent.__table__).values(  # type: ignore[arg-type]
            **{**body, "payload": canonical_json(payload)}, prev_hash=head.hash, hash=digest
        )
    )
    session.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=body["seq"], hash=digest))
    session.flush()


# One workflow event through the team-mode function (psycopg's placeholders).
APPEND_EVENT = "SELECT public.append_event(%s, %s, %s, %s, %s, %s, %s, %s)"


class Chain:
    """Appends events within the caller's transaction; used as a context manager.

    Entering it locks the chain head (row lock on PostgreSQL; on SQLite the writer already
    holds the database lock from BEGIN IMMEDIATE). Leaving it without an error writes the
    buffered events and the new head, so an append is never left without its close; on an
    error nothing more is written and the caller's transaction rolls back.

        with Chain(session, actor) as chain:
            chain.append("claim", reference, {...})

    On PostgreSQL (team mode) a login may not write audit_events or chain_head: the head is
    locked by `lock_chain_head()` and every event goes, one statement each, through a
    SECURITY DEFINER function that checks it follows the head and moves the head:
    `append_event`, or the admin function named by `via` (which also makes the change the
    event records, from its payload and `args`). The database's refusals become the app's
    errors (42501: NotPermitted, exit 5). On SQLite, `via` and `args` are ignored.
    """

    # SQLSTATE -> error class for what the database functions refuse; anything else is
    # InvalidInput (nothing was written).
    REFUSALS: dict[str, type[ReviewerError]] = {
        "42501": NotPermitted, "P0002": NotFound, "40001": ConflictError,
    }  # fmt: skip

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.team = session.get_bind().dialect.name == "postgresql"
        self._buffer: list[dict[str, Any]] = []
        self._calls: list[tuple[str, tuple[Any, ...]]] = []
        if self.team:
            locked = self._call(sql_text("SELECT seq, hash FROM public.lock_chain_head()"))
            self.seq, self.hash = int(locked[0]), str(locked[1])
            return
        head = session.execute(
            select(ChainHead)
            .where(ChainHead.id == 1)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if head is None:
            head = ChainHead(id=1, seq=0, hash=GENESIS)
            session.add(head)
            session.flush()
        self.seq = head.seq
        self.hash = head.hash

    def append(
        self, action: str, reference: str | None, payload: dict[str, Any], time: str | None = None,
        *, via: str = "append_event", args: tuple[Any, ...] = (),
    ) -> int:  # fmt: skip
        self.seq += 1
        body = {
            "seq": self.seq,
            "time": time or utc_now(),
            "actor": self.actor.name,
            "os_login": self.actor.os_login,
            "action": action,
            "reference": reference,
            "payload": payload,
        }
        # A flat payload without nulls is already canonical: skip the recursive null pass
        # (the import path appends one event per request).
        simple = all(type(v) is not dict and type(v) is not list and v is not None for v in payload.values())
        digest = _fast_event_hash(self.hash, body) if simple else event_hash(self.hash, body)
        row = dict(body)
        row["payload"] = compact_json(payload) if simple else canonical_json(payload)
        row["prev_hash"] = self.hash
        row["hash"] = digest
        self._buffer.append(row)
        if self.team:
            self._calls.append((via, args))
        self.hash = digest
        if len(self._buffer) >= 1000:
            self.flush()
        return self.seq

    def flush(self) -> None:
        if self._buffer and self.team:
            # One statement per event: a side-effect function never runs in a multi-row query.
            # Runs of plain `append_event` calls (an import's events) go to the driver as one
            # pipelined executemany: still a statement each, checked each by the function, in
            # one round trip instead of one each.
            plain: list[tuple[Any, ...]] = []
            for row, (via, args) in zip(self._buffer, self._calls, strict=True):
                tail = (row["seq"], row["time"], row["os_login"], row["action"], row["reference"],
                        row["payload"], row["prev_hash"], row["hash"])  # fmt: skip
                if via == "append_event" and not args:
                    plain.append(tail)
                    continue
                self._append_plain(plain)
                self._call(select(getattr(func.public, via)(*args, *tail)))
            self._append_plain(plain)
            self._buffer.clear()
            self._calls.clear()
        if self._buffer:
            self.session.execute(insert(AuditEvent.__table__), self._buffer)  # type: ignore[arg-type]
            self._buffer.clear()

    def _append_plain(self, rows: list[tuple[Any, ...]]) -> None:
        """`append_event` for each of `rows` (and empty them), pipelined by the driver."""
        if not rows:
            return
        cursor = self.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(APPEND_EVENT, rows)
        except Exception as exc:  # the driver's own error class: psycopg is optional
            self._refused(exc, exc)
            raise
        finally:
            cursor.close()
            rows.clear()

    def _call(self, statement: Executable) -> tuple[Any, ...]:
        """Run one statement of the database's audit functions; its refusals become ours."""
        try:
            return tuple(self.session.execute(statement).one())
        except DBAPIError as exc:
            self._refused(exc.orig, exc)
            raise

    def _refused(self, orig: BaseException | None, exc: BaseException) -> None:
        """Raise the app's error for a refusal of the database's functions (SQLSTATE); return
        for anything else (the caller re-raises it)."""
        state = getattr(orig, "sqlstate", None)
        if state is None or not (state in self.REFUSALS or state[:2] in ("22", "P0")):
            return
        diag = getattr(orig, "diag", None)
        message = getattr(diag, "message_primary", None) or str(orig).splitlines()[0]
        error = self.REFUSALS.get(state)
        if error is None:
            raise InvalidInput([f"refused by the database: {message}"]) from exc
        raise error(message) from exc

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        if kind is None:
            self.flush()
            if not self.team:  # on PostgreSQL each append moved the head
                self.session.execute(
                    update(ChainHead).where(ChainHead.id == 1).values(seq=self.seq, hash=self.hash)
                )


# --------------------------------------------------------------------------- record hash


def record_body(session: Session, decision: Decision, reference: str,
                names: dict[int, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Everything a final decision's record hash covers, the checker included (`names`:
    account names by id, when the caller has them all)."""

    def name(account_id: int | None) -> str | None:
        if account_id is None:
            return None
        if names is not None:
            return names.get(account_id)
        acc = session.get(Account, account_id)
        return acc.name if acc else None

    conditions = session.execute(
        select(Condition).where(Condition.decision_id == decision.id).order_by(Condition.id)
    ).scalars()
    return {
        "reference": reference, "number": decision.number,
        "outcome": decision.outcome.value,
        "request_version": decision.request_version,
        "snapshot_sha256": decision.snapshot_sha256,
        "rule_set": decision.rule_set_key, "rule_set_sha256": decision.rule_set_sha256,
        "evaluation_sha256": sha256_hex(decision.evaluation),
        "conditions": [{"rule": c.rule, "text": c.text,
                        "due": c.due_on.isoformat() if c.due_on else None}
                       for c in conditions],
        "justification": decision.justification,
        "re_review": decision.re_review_on.isoformat() if decision.re_review_on else None,
        "decider": name(decision.decider_id), "decider_roles": decision.decider_roles,
        "decided_at": decision.decided_at,
        "checker": name(decision.checker_id), "checker_roles": decision.checker_roles,
        "checked_at": decision.checked_at,
    }  # fmt: skip


def record_hash(session: Session, decision: Decision, reference: str,
                names: dict[int, str] | None = None) -> str:  # fmt: skip
    return sha256_hex(canonical_json(record_body(session, decision, reference, names)))


CHECK_FIELDS = ("checker", "checker_roles", "checked_at")


def body_hash(session: Session, decision: Decision, reference: str,
              names: dict[int, str] | None = None) -> str:  # fmt: skip
    """The hash of a decision as its decider recorded it: the record body without the check.
    The `decide` event carries it, and a check confirms only that body."""
    body = record_body(session, decision, reference, names)
    for key in CHECK_FIELDS:
        body[key] = None
    return sha256_hex(canonical_json(body))
