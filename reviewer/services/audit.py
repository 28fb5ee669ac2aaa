"""The hash-chained audit trail (`workflow.md`, "Audit trail").

hash = sha256_hex(prev_hash + "\\n" + canonical_json({seq, time, actor, os_login, action,
reference, payload})); the one-row chain head holds the last seq and hash and is updated in
the same transaction, so deleting the newest event is detectable too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reviewer.models import (
    Account,
    AuditEvent,
    ChainHead,
    Condition,
    Decision,
    Request,
    RequestVersion,
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


class Chain:
    """Appends events within the caller's transaction; used as a context manager.

    Entering it locks the chain head (row lock on PostgreSQL; on SQLite the writer already
    holds the database lock from BEGIN IMMEDIATE). Leaving it without an error writes the
    buffered events and the new head, so an append is never left without its close; on an
    error nothing more is written and the caller's transaction rolls back.

        with Chain(session, actor) as chain:
            chain.append("claim", reference, {...})
    """

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        head = session.execute(
            select(ChainHead).where(ChainHead.id == 1).with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if head is None:
            head = ChainHead(id=1, seq=0, hash=GENESIS)
            session.add(head)
            session.flush()
        self.seq = head.seq
        self.hash = head.hash
        self._buffer: list[dict[str, Any]] = []

    def append(
        self, action: str, reference: str | None, payload: dict[str, Any], time: str | None = None
    ) -> int:
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
        simple = all(type(v) is not dict and type(v) is not list and v is not None
                     for v in payload.values())
        digest = _fast_event_hash(self.hash, body) if simple else event_hash(self.hash, body)
        row = dict(body)
        row["payload"] = compact_json(payload) if simple else canonical_json(payload)
        row["prev_hash"] = self.hash
        row["hash"] = digest
        self._buffer.append(row)
        self.hash = digest
        if len(self._buffer) >= 1000:
            self.flush()
        return self.seq

    def flush(self) -> None:
        if self._buffer:
            self.session.execute(insert(AuditEvent.__table__), self._buffer)  # type: ignore[arg-type]
            self._buffer.clear()

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_rest: object) -> None:
        if kind is None:
            self.flush()
            self.session.execute(
                update(ChainHead).where(ChainHead.id == 1).values(seq=self.seq, hash=self.hash)
            )


# --------------------------------------------------------------------------- record hash


def record_body(session: Session, decision: Decision, reference: str) -> dict[str, Any]:
    """Everything a final decision's record hash covers, the checker included."""

    def name(account_id: int | None) -> str | None:
        if account_id is None:
            return None
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


def record_hash(session: Session, decision: Decision, reference: str) -> str:
    return sha256_hex(canonical_json(record_body(session, decision, reference)))


# --------------------------------------------------------------------------- verify


@dataclass
class Problem:
    kind: str
    seq_or_reference: str
    message: str


@dataclass
class VerifyReport:
    ok: bool
    events: int
    decisions: int
    problems: list[Problem]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "decisions": self.decisions,
            "problems": [p.__dict__ for p in self.problems],
        }


def verify(session: Session, anchor: tuple[int, str] | None = None) -> VerifyReport:
    """Check the chain, the request versions against their events, and the anchor."""
    problems: list[Problem] = []
    prev = GENESIS
    expected_seq = 0
    count = 0
    anchor_seen = False
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for ev in events.yield_per(2000):
        count += 1
        expected_seq += 1
        if ev.seq != expected_seq:
            problems.append(Problem("chain", str(ev.seq), f"expected event {expected_seq} next"))
            break
        if ev.prev_hash != prev:
            problems.append(Problem("chain", str(ev.seq), "prev_hash does not match the event before"))
            break
        try:
            payload = json.loads(ev.payload)
        except ValueError:
            problems.append(Problem("chain", str(ev.seq), "payload is not valid JSON"))
            break
        body = {
            "seq": ev.seq, "time": ev.time, "actor": ev.actor, "os_login": ev.os_login,
            "action": ev.action, "reference": ev.reference, "payload": payload,
        }  # fmt: skip
        if event_hash(prev, body) != ev.hash:
            problems.append(Problem("chain", str(ev.seq), "hash does not match the event's content"))
            break
        if anchor and ev.seq == anchor[0]:
            anchor_seen = True
            if ev.hash != anchor[1]:
                problems.append(Problem("anchor", str(ev.seq), "event hash differs from the anchor"))
        prev = ev.hash
    session.expunge_all()
    head = session.get(ChainHead, 1)
    if not problems:
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        if head_seq != expected_seq or head_hash != prev:
            problems.append(
                Problem("chain", str(head_seq), f"chain head (seq {head_seq}) does not match the "
                        f"last event (seq {expected_seq})")
            )
    if anchor and not anchor_seen:
        problems.append(Problem("anchor", str(anchor[0]), "no event with that number"))
    problems.extend(_verify_versions(session))
    decisions, decision_problems = _verify_decisions(session)
    problems.extend(decision_problems)
    return VerifyReport(not problems, count, decisions, problems)


def _verify_decisions(session: Session) -> tuple[int, list[Problem]]:
    """Every final decision: its record hash against its content, and its finalising event."""
    out: list[Problem] = []
    count = 0
    rows = session.execute(
        select(Decision, Request.reference).join(Request, Request.id == Decision.request_id)
        .where(Decision.final.is_(True)).order_by(Decision.id)
    )  # fmt: skip
    for decision, ref in rows:
        count += 1
        label = f"{ref} decision {decision.number}"
        if decision.record_hash != record_hash(session, decision, ref):
            out.append(Problem("decision", ref, f"{label}: the record does not match its "
                               "record hash (changed after it became final)"))  # fmt: skip
            continue
        event = session.get(AuditEvent, decision.event_seq) if decision.event_seq else None
        payload = json.loads(event.payload) if event is not None else {}
        if event is None or event.reference != ref or \
                payload.get("record_hash") != decision.record_hash:
            out.append(Problem("decision", ref, f"{label}: its finalising event "
                               f"{decision.event_seq} does not carry its record hash"))
    return count, out


def _verify_versions(session: Session) -> list[Problem]:
    out: list[Problem] = []
    rows = session.execute(
        select(Request.reference, RequestVersion.version, RequestVersion.document,
               RequestVersion.sha256, AuditEvent.payload, AuditEvent.reference)
        .join(Request, Request.id == RequestVersion.request_id)
        .outerjoin(AuditEvent, AuditEvent.seq == RequestVersion.event_seq)
        .order_by(RequestVersion.id)
    )  # fmt: skip
    for ref, version, document, sha, payload, ev_ref in rows.yield_per(2000):
        actual = sha256_hex(document)
        if payload is None:
            out.append(Problem("request", ref, f"version {version} has no audit event"))
        elif actual != sha:
            out.append(Problem("request", ref, f"version {version} document differs from its hash"))
        else:
            data = json.loads(payload)
            if data.get("sha256") != actual or ev_ref != ref or data.get("version") != version:
                out.append(Problem("request", ref, f"version {version} differs from its audit event"))
        if len(out) >= 100:
            break
    current = session.execute(
        select(Request.reference, Request.document_version, Request.document_sha256,
               Request.document, RequestVersion.sha256)
        .outerjoin(RequestVersion, (RequestVersion.request_id == Request.id)
                   & (RequestVersion.version == Request.document_version))
        .order_by(Request.id)
    )  # fmt: skip
    for ref, version, sha, document, version_sha in current.yield_per(2000):
        if version_sha is None or sha != version_sha or sha256_hex(document) != sha:
            out.append(Problem("request", ref, f"the current document differs from version "
                               f"{version} and its audit event"))  # fmt: skip
        if len(out) >= 100:
            break
    return out
