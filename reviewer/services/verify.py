"""`reviewer verify`: the database's state is what its audit trail says it is.

The chain is checked event by event (sequence, previous hash, each event's hash, the head)
and *replayed*: accounts and roles, rule-set versions (hash, state, who imported, proposed
and approved them), organisation settings, each request's status, assignee, version counter
and document, each decision (outcome, final or rejected, and the hash of its body or of its
record) and each condition's status and note are rebuilt from the events alone, from the
start or from the last `baseline` event (which an upgrade writes with the state it starts
from). The tables are then compared with the replay, and every stored evaluation is
recomputed from the request's verified document under the verified active rule set. The
first item that differs is named first; at most 100 problems are listed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import LargeBinary, cast, func, inspect, select
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import IntegrityProblem, InvalidInput
from reviewer.models import (
    Account,
    Attachment,
    AttachmentChunk,
    AuditEvent,
    ChainHead,
    Condition,
    Customer,
    CustomerKey,
    Decision,
    Request,
    RequestVersion,
    RuleSetVersion,
    Setting,
)
from reviewer.rules import (
    Evaluation,
    RuleSet,
    compiled,
    evaluate_with,
    load_text,
    parts_of,
    stored_with,
    text_hash,
    totals_section,
)
from reviewer.rules.lang import CUSTOMER_TOTAL, TOTAL_FIELDS, Total
from reviewer.services import files, totals
from reviewer.services.audit import GENESIS, body_hash, event_hash, record_hash
from reviewer.services.importing import DOCUMENT_COLUMNS, document_columns
from reviewer.services.replay import AttachmentRecord, Replay

MAX_PROBLEMS = 100


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


def snapshot(session: Session) -> dict[str, Any]:
    """The payload of a `baseline` event: the state of the tables, in the replay's terms."""
    names = {a.id: a.name for a in session.execute(select(Account)).scalars()}
    requests = [
        [ref, status.value, names.get(assignee) if assignee else None, version, doc_version, sha]
        for ref, status, assignee, version, doc_version, sha in session.execute(
            select(Request.reference, Request.status, Request.assignee_id, Request.version,
                   Request.document_version, Request.document_sha256).order_by(Request.id))
    ]  # fmt: skip
    decisions = []
    for d, ref in session.execute(
        select(Decision, Request.reference).join(Request, Request.id == Decision.request_id)
        .order_by(Decision.id)
    ):  # fmt: skip
        pending = not d.final and not d.rejected
        decisions.append([ref, d.number, d.outcome.value, d.final, d.rejected, d.record_hash,
                          body_hash(session, d, ref) if pending else None])  # fmt: skip
    return {
        "accounts": [{"name": a.name, "active": a.active, "roles": a.role_names}
                     for a in session.execute(select(Account).order_by(Account.name)).scalars()],
        "rule_sets": [{"rule_set": r.key, "sha256": r.sha256, "state": r.state.value,
                       "imported_by": r.imported_by, "proposed_by": r.proposed_by,
                       "approved_by": r.approved_by}
                      for r in session.execute(select(RuleSetVersion).order_by(RuleSetVersion.id))
                      .scalars()],
        "settings": {s.key: s.value for s in session.execute(select(Setting)).scalars()},
        "requests": requests,
        "decisions": decisions,
        "conditions": [[c.id, c.status.value, c.note]
                       for c in session.execute(select(Condition).order_by(Condition.id)).scalars()
                       if c.status.value != "open" or c.note is not None],
        "attachments": _attachment_snapshot(session),
    }  # fmt: skip


def _attachment_snapshot(session: Session) -> list[list[Any]]:
    """Every attachment in the baseline's terms; none before revision 0007 made the table
    (migration 0005 writes a baseline with the models of today)."""
    if not inspect(session.connection()).has_table("attachments"):
        return []
    return [[ref, a.number, a.name, a.size, a.sha256, a.redacted]
            for a, ref in session.execute(select(Attachment, Request.reference)
                                          .join(Request, Request.id == Attachment.request_id)
                                          .order_by(Attachment.id))]  # fmt: skip


# --------------------------------------------------------------------------- verify


class _Problems(list[Problem]):
    def add(self, kind: str, where: str, message: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(Problem(kind, where, message))


def verify_chain_only(session: Session, problems: list[Problem]) -> int:
    """The chain's own checks without the replay (what verify did before it replayed the
    chain; the benchmark's anchor). Returns the number of events."""
    prev, count = GENESIS, 0
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().yield_per(2000):
        count += 1
        body = {
            "seq": ev.seq, "time": ev.time, "actor": ev.actor, "os_login": ev.os_login,
            "action": ev.action, "reference": ev.reference, "payload": json.loads(ev.payload),
        }  # fmt: skip
        if ev.seq != count or ev.prev_hash != prev or event_hash(prev, body) != ev.hash:
            problems.append(Problem("chain", str(ev.seq), "does not verify"))
            break
        prev = ev.hash
    session.expunge_all()
    return count


def verify(session: Session, anchor: tuple[int, str] | None = None, jobs: int | None = None
           ) -> VerifyReport:  # fmt: skip
    """Check the chain, replay it, and compare every table and stored evaluation with it.
    `jobs`: processes that recompute evaluations on a large database (default: one per core;
    the window passes 1, as it must not fork its threads)."""
    problems = _Problems()
    replay = Replay()
    prev = GENESIS
    expected_seq = 0
    count = 0
    anchor_seen = False
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for ev in events.yield_per(2000):
        count += 1
        expected_seq += 1
        if ev.seq != expected_seq:
            problems.add("chain", str(ev.seq), f"expected event {expected_seq} next")
            break
        if ev.prev_hash != prev:
            problems.add("chain", str(ev.seq), "prev_hash does not match the event before")
            break
        try:
            payload = json.loads(ev.payload)
        except ValueError:
            problems.add("chain", str(ev.seq), "payload is not valid JSON")
            break
        body = {
            "seq": ev.seq, "time": ev.time, "actor": ev.actor, "os_login": ev.os_login,
            "action": ev.action, "reference": ev.reference, "payload": payload,
        }  # fmt: skip
        if event_hash(prev, body) != ev.hash:
            problems.add("chain", str(ev.seq), "hash does not match the event's content (the "
                         f"{ev.action} event of {ev.reference or 'the database'})")  # fmt: skip
            break
        if anchor and ev.seq == anchor[0]:
            anchor_seen = True
            if ev.hash != anchor[1]:
                problems.add("anchor", str(ev.seq), "event hash differs from the anchor")
        try:
            replay.apply(ev.action, ev.actor, ev.reference, payload, ev.time)
        except (KeyError, TypeError, ValueError):
            problems.add("chain", str(ev.seq), f"the {ev.action} event's payload is malformed")
        prev = ev.hash
    session.expunge_all()
    head = session.get(ChainHead, 1)
    chain_ok = not problems
    if chain_ok:
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        if head_seq != expected_seq or head_hash != prev:
            problems.add("chain", str(head_seq), f"chain head (seq {head_seq}) does not match the "
                         f"last event (seq {expected_seq})")  # fmt: skip
    if anchor and not anchor_seen:
        problems.add("anchor", str(anchor[0]), "no event with that number")
    decisions = 0
    try:
        _verify_versions(session, problems, current_too=not chain_ok)
        decisions = _verify_decisions(session, problems, replay if chain_ok else None)
        if chain_ok:
            _verify_state(session, replay, problems)
            _verify_attachments(session, replay, problems)
            _verify_requests(session, replay, problems, jobs)
            if not problems:  # else a request's state is wrong, and every total it is in
                _verify_totals(session, problems)
    except (LookupError, ValueError) as exc:
        # A column holding what its type cannot read back (a status, an outcome or a date
        # edited by hand): the database was changed outside Reviewer.
        problems.add("database", "-", f"a stored value Reviewer never writes: {exc}")
    return VerifyReport(not problems, count, decisions, list(problems))


def _verify_decisions(session: Session, out: _Problems, replay: Replay | None) -> int:
    """Every decision: a final one against its record hash and its finalising event; a
    pending one against the body hash its decide event carries; each against the replay."""
    count = 0
    names = {a.id: a.name for a in session.execute(select(Account)).scalars()}
    rows = session.execute(
        select(Decision, Request.reference).join(Request, Request.id == Decision.request_id)
        .order_by(Decision.id)
    )  # fmt: skip
    seen: set[tuple[str, int]] = set()
    for decision, ref in rows:
        seen.add((ref, decision.number))
        label = f"{ref} decision {decision.number}"
        if rq.sha256_hex(decision.snapshot) != decision.snapshot_sha256:
            # The record hash covers the snapshot's hash: the text must still be what it hashes.
            out.add("decision", ref, f"{label}: the request snapshot it was made on differs "
                    "from its SHA-256 (changed after the decision)")  # fmt: skip
            continue
        if decision.final:
            count += 1
            if decision.record_hash != record_hash(session, decision, ref, names):
                out.add("decision", ref, f"{label}: the record does not match its "
                        "record hash (changed after it became final)")  # fmt: skip
                continue
            event = session.get(AuditEvent, decision.event_seq) if decision.event_seq else None
            payload = json.loads(event.payload) if event is not None else {}
            if event is None or event.reference != ref or \
                    payload.get("record_hash") != decision.record_hash:  # fmt: skip
                out.add("decision", ref, f"{label}: its finalising event "
                        f"{decision.event_seq} does not carry its record hash")  # fmt: skip
                continue
        if replay is None:
            continue
        expected = replay.decisions.get((ref, decision.number))
        if expected is None:
            out.add("decision", ref, f"{label} is not in the audit trail")
            continue
        state = (decision.outcome.value, decision.final, decision.rejected)
        if state != (expected.outcome, expected.final, expected.rejected):
            out.add("decision", ref, f"{label}: outcome {state[0]}, final {state[1]}, "
                    f"rejected {state[2]}; the audit trail says {expected.outcome}, final "
                    f"{expected.final}, rejected {expected.rejected}")  # fmt: skip
        elif not decision.final and expected.body_sha256 \
                and body_hash(session, decision, ref, names) != expected.body_sha256:  # fmt: skip
            # Awaiting its check, or rejected by it: the decision as its decider recorded it
            # (its conditions included) is what the decide event carries.
            state_text = "rejected" if decision.rejected else "awaiting its check"
            out.add("decision", ref, f"{label} ({state_text}) differs from the decision its "
                    "decide event recorded")  # fmt: skip
        elif decision.rejected and expected.reason is not None and decision.reject_reason != expected.reason:
            out.add("decision", ref, f"{label}: its rejection reads {decision.reject_reason!r}; "
                    f"the audit trail says {expected.reason!r}")  # fmt: skip
    if replay is not None:
        for ref, number in sorted(replay.decisions.keys() - seen):
            out.add("decision", ref, f"{ref} decision {number} of the audit trail is missing")
    return count


def _verify_versions(session: Session, out: _Problems, current_too: bool = True) -> None:
    """Every stored version against its hash and its event; with `current_too`, each
    request's current document against its version (verify does that in its one pass over
    the requests instead)."""
    rows = session.execute(
        select(Request.reference, RequestVersion.version, RequestVersion.document,
               RequestVersion.sha256, AuditEvent.payload, AuditEvent.reference)
        .join(Request, Request.id == RequestVersion.request_id)
        .outerjoin(AuditEvent, AuditEvent.seq == RequestVersion.event_seq)
        .order_by(RequestVersion.id)
    )  # fmt: skip
    for ref, version, document, sha, payload, ev_ref in rows.yield_per(2000):
        actual = rq.sha256_hex(document)
        if payload is None:
            out.add("request", ref, f"version {version} has no audit event")
        elif actual != sha:
            out.add("request", ref, f"version {version} document differs from its hash")
        else:
            data = json.loads(payload)
            if data.get("sha256") != actual or ev_ref != ref or data.get("version") != version:
                out.add("request", ref, f"version {version} differs from its audit event")
    if not current_too:
        return
    current = session.execute(
        select(Request.reference, Request.document_version, Request.document_sha256,
               Request.document, RequestVersion.sha256)
        .outerjoin(RequestVersion, (RequestVersion.request_id == Request.id)
                   & (RequestVersion.version == Request.document_version))
        .order_by(Request.id)
    )  # fmt: skip
    for ref, version, sha, document, version_sha in current.yield_per(2000):
        if version_sha is None or sha != version_sha or rq.sha256_hex(document) != sha:
            out.add("request", ref, f"the current document differs from version "
                    f"{version} and its audit event")  # fmt: skip


def _verify_state(session: Session, replay: Replay, out: _Problems) -> None:
    """Accounts, roles, rule sets, settings and conditions against the replay."""
    seen: set[str] = set()
    for account in session.execute(select(Account).order_by(Account.name)).scalars():
        seen.add(account.name)
        expected = replay.accounts.get(account.name)
        actual = (account.active, account.role_names)
        if expected is None:
            out.add("account", account.name, f"account {account.name} is not in the audit trail")
        elif actual != expected:
            out.add("account", account.name,
                    f"account {account.name}: {_account_text(actual)}; the audit trail says "
                    f"{_account_text(expected)}")  # fmt: skip
    for name in sorted(replay.accounts.keys() - seen):
        out.add("account", name, f"account {name} of the audit trail is missing")
    rule_seen: set[str] = set()
    for row in session.execute(select(RuleSetVersion).order_by(RuleSetVersion.id)).scalars():
        rule_seen.add(row.key)
        want = replay.rule_sets.get(row.key)
        if text_hash(row.content) != row.sha256:
            out.add("rule set", row.key, f"rule set {row.key}: its stored text does not match "
                    "its hash (changed outside Reviewer)")  # fmt: skip
        else:
            wrong = _rule_set_columns_problem(row)
            if wrong:
                out.add("rule set", row.key, wrong)
        if want is None:
            out.add("rule set", row.key, f"rule set {row.key} is not in the audit trail")
            continue
        actual_rs = (row.sha256, row.state.value, row.imported_by, row.proposed_by, row.approved_by)
        wanted = (want.sha256, want.state, want.imported_by, want.proposed_by, want.approved_by)
        for what, a, w in zip(("hash", "state", "imported by", "proposed by", "approved by"),
                              actual_rs, wanted, strict=True):  # fmt: skip
            if a != w:
                out.add("rule set", row.key, f"rule set {row.key}: {what} is {a}, the audit trail says {w}")
    for key in sorted(replay.rule_sets.keys() - rule_seen):
        out.add("rule set", key, f"rule set {key} of the audit trail is missing")
    stored = {s.key: s.value for s in session.execute(select(Setting)).scalars()}
    for key in sorted(stored.keys() | replay.settings.keys()):
        if stored.get(key) != replay.settings.get(key):
            out.add("setting", key, f"setting {key} is {stored.get(key)!r}, the audit trail says "
                    f"{replay.settings.get(key)!r}")  # fmt: skip
    for cond_id, cref, cstatus, note, by, at, own_request, decisions_request in session.execute(
        select(Condition.id, Request.reference, Condition.status, Condition.note,
               Condition.changed_by, Condition.changed_at, Condition.request_id, Decision.request_id)
        .join(Request, Request.id == Condition.request_id)
        .outerjoin(Decision, Decision.id == Condition.decision_id).order_by(Condition.id)
    ):  # fmt: skip
        want_status, want_note, want_by, want_at = replay.conditions.get(cond_id, ("open", None, None, None))
        if own_request != decisions_request:
            out.add("condition", cref, f"{cref} condition {cond_id} is not a condition of a "
                    f"decision on {cref}")  # fmt: skip
        elif (cstatus.value, note) != (want_status, want_note):
            out.add("condition", cref, f"{cref} condition {cond_id}: {cstatus.value} "
                    f"({note!r}); the audit trail says {want_status} ({want_note!r})")  # fmt: skip
        elif want_by is not None and (by != want_by or not _about(at, want_at)):
            out.add("condition", cref, f"{cref} condition {cond_id}: marked {cstatus.value} by "
                    f"{by} at {at}; the audit trail says by {want_by} at {want_at}")  # fmt: skip
    _verify_customers(session, replay, out)


def _rule_set_columns_problem(row: RuleSetVersion) -> str | None:
    """What a rule set's row says of its text that the text does not (its id, version, title
    or effective date edited by hand; `rules list` shows them)."""
    try:
        parsed = compiled(row)  # the cache the evaluations are checked with
    except (InvalidInput, IntegrityProblem):
        return None  # a text that does not load: named where it is used

    def day(value: dt.date | None) -> str | None:
        return None if value is None else value.isoformat()[:10]

    said = (parsed.id, parsed.version, parsed.title, day(parsed.effective_on))
    got = (row.rule_set_id, row.version, row.title, day(row.effective_on))
    for name, stored, want in zip(("id", "version", "title", "effective_on"), got, said, strict=True):
        if stored != want:
            return f"rule set {row.key}: its {name} column is {stored!r}, its text says {want!r}"
    return None


def _about(stored: str | None, event_time: str | None, seconds: float = 60) -> bool:
    """Whether a time stored beside an event is the event's own (within `seconds`: the two
    were taken one after the other in the same transaction)."""
    try:
        a = dt.datetime.fromisoformat(str(stored).replace("Z", "+00:00"))
        b = dt.datetime.fromisoformat(str(event_time).replace("Z", "+00:00"))
        return abs((a - b).total_seconds()) <= seconds
    except (TypeError, ValueError):
        return False


def _verify_customers(session: Session, replay: Replay, out: _Problems) -> None:
    """Customers (name, country, merged into) against the replay."""
    seen: set[int] = set()
    for c in session.execute(select(Customer).order_by(Customer.id)).scalars():
        seen.add(c.id)
        want = replay.customers.get(c.id)
        if want is None:
            out.add("customer", f"C-{c.id}", f"customer C-{c.id} is not in the audit trail")
        elif [c.name, c.country, c.merged_into] != want:
            out.add("customer", f"C-{c.id}", f"customer C-{c.id}: {c.name!r} ({c.country}, merged "
                    f"into {c.merged_into}); the audit trail says {want[0]!r} ({want[1]}, merged "
                    f"into {want[2]})")  # fmt: skip
    for cid in sorted(replay.customers.keys() - seen):
        out.add("customer", f"C-{cid}", f"customer C-{cid} of the audit trail is missing")
    rows = session.execute(select(CustomerKey.key, CustomerKey.customer_id))
    keys: dict[str, int] = {k: c for k, c in rows}
    for key in sorted(keys.keys() | replay.keys.keys()):
        held, said_to = keys.get(key), replay.keys.get(key)
        if held != said_to:
            said = "not in the audit trail" if said_to is None else f"C-{said_to} in the audit trail"
            now = "missing" if held is None else f"C-{held}"
            out.add("customer", key, f"match key {key!r} sends new requests to {now}; {said}")


def _account_text(state: tuple[bool, list[str]]) -> str:
    active, roles = state
    return f"{'active' if active else 'disabled'}, roles {', '.join(roles) or 'none'}"


def _verify_attachments(session: Session, replay: Replay, out: _Problems) -> None:
    """Every attachment against the replay (name, size, SHA-256, redacted) and its attach
    event; then, in one pass over the stored chunks (streamed, a few at a time), the size and
    SHA-256 of every attachment that is not redacted, against what the audit trail recorded,
    and no bytes left of a redacted one."""
    wanted: dict[int, tuple[str, AttachmentRecord]] = {}  # attachment id -> label, the trail's
    ids: set[int] = set()
    seen: set[tuple[str, int]] = set()
    rows = session.execute(
        select(Attachment.id, Request.reference, Attachment.number, Attachment.name, Attachment.size,
               Attachment.sha256, Attachment.redacted, Attachment.event_seq, AuditEvent.action,
               AuditEvent.reference, AuditEvent.payload, AuditEvent.actor, AuditEvent.time,
               Attachment.note, Attachment.added_by, Attachment.added_at, Attachment.redacted_by,
               Attachment.redacted_at, Attachment.redact_reason)
        .join(Request, Request.id == Attachment.request_id)
        .outerjoin(AuditEvent, AuditEvent.seq == Attachment.event_seq).order_by(Attachment.id)
    )  # fmt: skip
    for (aid, ref, number, name, size, sha, redacted, seq, action, ev_ref, payload, ev_actor, ev_time,
         note, added_by, added_at, redacted_by, redacted_at, reason) in rows:  # fmt: skip
        label = f"{ref} attachment {number}"
        ids.add(aid)
        seen.add((ref, number))
        want = replay.attachments.get((ref, number))
        if want is None:
            out.add("attachment", ref, f"{label} ({name}) is not in the audit trail")
            continue
        wanted[aid] = (label, want)
        checks = (("name", name, want.name), ("size", size, want.size), ("SHA-256", sha, want.sha256),
                  ("redacted", redacted, want.redacted))  # fmt: skip
        for what, got, said in checks:
            if got != said:
                out.add("attachment", ref, f"{label}: its {what} is {got!r}, the audit trail says {said!r}")
                break
        else:
            recorded = json.loads(payload or "{}")
            if action != "attach" or ev_ref != ref or recorded.get("number") != number:
                out.add("attachment", ref, f"{label}: its event {seq} is not the attach event that "
                        "recorded it")  # fmt: skip
            elif (note or None, added_by, added_at) != (recorded.get("note"), ev_actor, ev_time):
                out.add("attachment", ref, f"{label}: attached by {added_by} at {added_at} with "
                        f"note {note!r}; its attach event says by {ev_actor} at {ev_time} with "
                        f"note {recorded.get('note')!r}")  # fmt: skip
            elif want.redacted_by is not None and (redacted_by, redacted_at, reason) != (
                want.redacted_by,
                want.redacted_at,
                want.reason,
            ):
                out.add("attachment", ref, f"{label}: redacted by {redacted_by} at {redacted_at} "
                        f"({reason!r}); the audit trail says by {want.redacted_by} at "
                        f"{want.redacted_at} ({want.reason!r})")  # fmt: skip
    for ref, number in sorted(replay.attachments.keys() - seen):
        out.add("attachment", ref, f"{ref} attachment {number} of the audit trail is missing")

    def finish(aid: int | None, size: int, digest: Any) -> None:
        if aid is None:
            return
        if aid not in wanted:
            if aid not in ids:
                out.add("attachment", "-", f"bytes are stored for an attachment that does not "
                        f"exist (id {aid})")  # fmt: skip
            return
        label, want = wanted[aid]
        ref = label.partition(" ")[0]
        if want.redacted:
            out.add("attachment", ref, f"{label} was redacted, but bytes of it are still stored")
        elif (size, digest.hexdigest()) != (want.size, want.sha256):
            out.add("attachment", ref, f"{label}: its stored bytes ({size:,} bytes, sha256 "
                    f"{digest.hexdigest()[:16]}...) differ from what its attach event recorded "
                    f"({want.size:,} bytes, sha256 {want.sha256[:16]}...)")  # fmt: skip

    with_bytes: set[int] = set()
    current: int | None = None
    size, digest = 0, hashlib.sha256()
    chunks = session.execute(
        # As bytes whatever a hand edit stored (SQLite would give back text as text).
        select(AttachmentChunk.attachment_id, cast(AttachmentChunk.data, LargeBinary))
        .order_by(AttachmentChunk.attachment_id, AttachmentChunk.number)
        .execution_options(yield_per=4)  # a server-side cursor on PostgreSQL: never all in memory
    )  # fmt: skip
    for aid, data in chunks:
        if aid != current:
            finish(current, size, digest)
            current, size, digest = aid, 0, hashlib.sha256()
            with_bytes.add(aid)
        size += len(data)
        digest.update(data)
    finish(current, size, digest)
    for aid, (label, want) in wanted.items():
        if aid not in with_bytes and not want.redacted:
            out.add("attachment", label.partition(" ")[0], f"{label}: its bytes are missing")


def _verify_requests(session: Session, replay: Replay, out: _Problems, jobs: int | None = None
                     ) -> None:  # fmt: skip
    """One pass over the requests: each one's state against the replay, its current document
    against its hash and its version, and its stored evaluation against the verified active
    rule set's evaluation of that document."""
    names = {a.id: a.name for a in session.execute(select(Account)).scalars()}
    rows_by_key = {r.key: r for r in session.execute(select(RuleSetVersion)).scalars()}
    active = rows_by_key.get(replay.active or "")
    ruleset = None
    if active is None:
        out.add("rule set", replay.active or "-", "the audit trail's active rule set is not stored")
    else:
        try:
            ruleset = compiled(active)
        except (IntegrityProblem, InvalidInput) as exc:
            if text_hash(active.content) == active.sha256:  # else named above already
                out.add("rule set", active.key, str(exc).splitlines()[0])
    seen: set[str] = set()
    total = session.execute(select(func.count()).select_from(Request)).scalar_one()
    checker = _EvaluationCheck(ruleset, active.key if active else "", total, jobs)
    rows = session.execute(
        select(Request.reference, Request.status, Request.assignee_id, Request.version,
               Request.document_version, Request.document_sha256, Request.document,
               RequestVersion.sha256, Request.rule_set_pk, Request.evaluation,
               Request.recommendation, Request.customer_id, Request.customer_pinned,
               *COLUMNS_OF_DOCUMENT)
        .outerjoin(RequestVersion, (RequestVersion.request_id == Request.id)
                   & (RequestVersion.version == Request.document_version))
        .order_by(Request.id)
    )  # fmt: skip
    try:
        for (ref, status, assignee_id, version, doc_version, sha, document, version_sha, pk,
             evaluation, recommendation, customer_id, pinned, *columns) in rows.yield_per(2000):  # fmt: skip
            seen.add(ref)
            if version_sha is None or sha != version_sha or rq.sha256_hex(document) != sha:
                out.add("request", ref, f"the current document differs from version "
                        f"{doc_version} and its audit event")  # fmt: skip
                continue
            want = replay.requests.get(ref)
            if want is None:
                out.add("request", ref, f"{ref} is not in the audit trail")
                continue
            # An id no account has (foreign keys switched off by hand) is not "unassigned".
            assignee = (
                None
                if assignee_id is None
                else names.get(assignee_id, f"account id {assignee_id}, which no account has")
            )
            checks: tuple[tuple[str, object, object], ...] = (
                ("status", status.value, want.status), ("assignee", assignee, want.assignee),
                ("version", version, want.version),
                ("document version", doc_version, want.document_version),
                ("document hash", sha, want.sha256),
                ("customer", customer_id, replay.customer_of.get(ref, customer_id)),
                ("customer linked by hand", bool(pinned), ref in replay.pinned))  # fmt: skip
            differs = [(item, got, said) for item, got, said in checks if got != said]
            if differs:
                item, got, said = differs[0]
                out.add("request", ref, f"{ref}: {item} is {got}, the audit trail says {said}")
                continue
            if ruleset is None or active is None or want.kept is not None:
                # No evaluation is made again: the columns are checked against the document here.
                wrong = _columns_problem(ref, json.loads(document), tuple(columns))
                if wrong:
                    out.add("request", ref, wrong)
                    continue
            if ruleset is None or active is None:
                continue
            if pk != active.id:
                out.add("evaluation", ref, f"{ref} is evaluated under another rule set than the "
                        f"active {active.key}")  # fmt: skip
                continue
            if want.kept is not None:  # kept by an upgrade: as it was then
                if rq.sha256_hex(evaluation or "") != want.kept or \
                        json.loads(evaluation or "{}").get("recommendation") != recommendation:  # fmt: skip
                    out.add("evaluation", ref, f"{ref}: the stored evaluation differs from the "
                            "one the upgrade kept with its decision")  # fmt: skip
                continue
            checker.add(ref, document, evaluation, recommendation, tuple(columns))
    finally:
        problems = checker.finish()
    for kind, ref, message in problems:
        out.add(kind, ref, message)
    for ref in sorted(replay.requests.keys() - seen):
        out.add("request", ref, f"{ref} of the audit trail is missing")


def _verify_totals(session: Session, out: _Problems) -> None:
    """The customer totals stored in each open request's evaluation are those of its
    customer's open and approved requests now (a re-evaluation keeps them so); a decided
    request keeps the totals of its decision. Customers 500 at a time; only the totals part of
    each evaluation is read."""
    part = totals.json_value(session, Request.evaluation, CUSTOMER_TOTAL)
    ids = list(session.execute(
        select(Request.customer_id).where(Request.status.in_(files.OPEN),
                                          Request.customer_id.is_not(None)).distinct()
    ).scalars())  # fmt: skip
    for i in range(0, len(ids), 500):
        chunk = sorted(c for c in ids[i : i + 500] if c is not None)
        counted, _open = totals.counting_of(session, chunk)
        expected = {cid: parts_of(figures) for cid, figures in counted.items()}
        rows = session.execute(
            select(Request.reference, Request.customer_id, part)
            .where(Request.customer_id.in_(chunk), Request.status.in_(files.OPEN))
            .order_by(Request.reference)
        )  # fmt: skip
        agreed: set[tuple[int, str]] = set()  # the customer's totals as these texts: checked
        for ref, cid, text in rows:
            if text is None or (cid, text) in agreed:
                continue  # evaluated under a rule set that reads no customer total, or seen
            stored = json.loads(text)
            want = expected.get(cid, {})
            if stored == want:
                agreed.add((cid, text))
            elif _well_formed(stored):  # else named by the evaluation check
                got_refs = sorted({r for listed in stored.values() for r, _v in listed})
                want_refs = sorted({r for listed in want.values() for r, _v in listed})
                what = (f"requests {', '.join(got_refs)}; now {', '.join(want_refs)}"
                        if got_refs != want_refs else "the same requests with other figures")  # fmt: skip
                out.add("evaluation", ref, f"{ref}: the customer totals in its evaluation differ "
                        f"from customer C-{cid}'s open and approved requests ({what})")  # fmt: skip


PARALLEL_REQUESTS = 10_000  # from this many stored requests, evaluations are checked on every core
CHUNK = 500
_WORKER: list[tuple[RuleSet, str, _StoredTotals]] = []
# reference, document, evaluation, recommendation, the COLUMNS_OF_DOCUMENT
EvalRow = tuple[str, str, str | None, str | None, tuple[Any, ...]]
# The columns a request's row copies from its document, as an import writes them. Its search
# key is not among them: it is derived (folded), and databases kept from before the fold
# dropped invisible format characters hold keys of the older fold.
COLUMNS_OF_DOCUMENT = tuple(getattr(Request, name) for name in DOCUMENT_COLUMNS)


def _columns_problem(ref: str, doc: dict[str, Any], columns: tuple[Any, ...]) -> str | None:
    """What a request's row says of its document that the document does not (an edit of the
    queue's columns by hand), None when nothing."""

    def shown(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    for name, stored, want in zip(DOCUMENT_COLUMNS, columns, document_columns(doc), strict=True):
        if stored != want:
            return f"{ref}: its {name} column is {shown(stored)!r}, its document says {shown(want)!r}"
    return None


_FINDINGS = ',"findings":['


class _StoredTotals:
    """Stored customer totals seen before, by their JSON text. The open requests of a customer
    store the same totals, each listing every one of them: checking and summing them once per
    text, not once per request, keeps verify linear in a customer's requests (it was quadratic).
    At most LIMIT texts are kept (then it starts again)."""

    LIMIT = 4096

    def __init__(self) -> None:
        # text -> (the totals, well formed, the section the rule language reads, figures by
        # reference)
        self.seen: dict[str, tuple[Any, bool, dict[str, Total], dict[str, list[tuple[str, Any]]]]] = {}

    def evaluate(self, ruleset: RuleSet, doc: dict[str, Any], parts: Any, by_nodes: bool,
                 text: str) -> Evaluation | None:  # fmt: skip
        """`evaluate_with(ruleset, doc, parts, by_nodes)`, None when the totals are not as
        Reviewer writes them (`_well_formed`). `parts` were read from the evaluation `text`."""
        # Its text up to the findings names the totals: a cheap key, checked by equality (a
        # text edited by hand could name one twice, and JSON reads the last).
        at = text.find(_FINDINGS)
        key = text[:at] if at > 0 else text
        known = self.seen.get(key)
        if known is None or known[0] != parts:
            if len(self.seen) >= self.LIMIT:
                self.seen.clear()
            if not _well_formed(parts):
                known = (parts, False, {}, {})
            else:
                by_ref: dict[str, list[tuple[str, Any]]] = {}
                for name, listed in parts.items():
                    for r, v in listed:
                        by_ref.setdefault(r, []).append((name, v))
                known = (parts, True, totals_section(parts), by_ref)
            self.seen[key] = known
        _parts, well_formed, section, by_ref = known
        if not well_formed:
            return None
        scale = doc.get("scale") or {}
        if not ruleset.reads_totals or not all(
            v == scale.get(name)
            for name, v in by_ref.get(doc.get("reference"), ())  # type: ignore[arg-type]
        ):
            return evaluate_with(ruleset, doc, parts, by_nodes)
        # Its own part is its document's figures: `with_totals` would make this very section.
        full = dict(doc)
        full[CUSTOMER_TOTAL] = section
        return ruleset.evaluate_interpreted(full) if by_nodes else ruleset.evaluate(full)


def _evaluation_problems(ruleset: RuleSet, key: str, rows: list[EvalRow],
                         by_nodes: bool = False, memo: _StoredTotals | None = None
                         ) -> list[tuple[str, str, str]]:  # fmt: skip
    out = []
    memo = memo if memo is not None else _StoredTotals()
    for ref, document, evaluation, recommendation, columns in rows:
        stored = json.loads(evaluation) if evaluation is not None else None
        doc = json.loads(document)
        wrong = _columns_problem(ref, doc, columns)
        if wrong:
            out.append(("request", ref, wrong))
            continue
        # The customer totals it was made with (reproducible: a stored fact, whose own part
        # is this document's and whose other parts `_verify_totals` checks).
        parts = stored.get(CUSTOMER_TOTAL) if isinstance(stored, dict) else None
        fresh = evaluate_with(ruleset, doc, None, by_nodes) if parts is None else \
            memo.evaluate(ruleset, doc, parts, by_nodes, evaluation or "")  # fmt: skip
        if fresh is None:
            out.append(("evaluation", ref, f"{ref}: the customer totals stored in its evaluation are not a "
                        "list of references and figures per total"))  # fmt: skip
            continue
        if fresh.recommendation != recommendation or stored is None or \
                stored != stored_with(ruleset, fresh, parts, doc):  # fmt: skip
            out.append(("evaluation", ref, f"{ref}: the stored evaluation differs from {key}'s evaluation of "
                        f"its document (recommendation {recommendation}, the rule set says "
                        f"{fresh.recommendation})"))  # fmt: skip
    return out


def _well_formed(parts: Any) -> bool:
    """Stored customer totals as Reviewer writes them: each total's [reference, figure or
    null] pairs (a hand-edited shape is named, not a crash)."""
    return isinstance(parts, dict) and all(
        name in TOTAL_FIELDS and isinstance(listed, list) and all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
            and (pair[1] is None or (type(pair[1]) is int and pair[1] >= 0)) for pair in listed)
        for name, listed in parts.items())  # fmt: skip


def _init_worker(text: str, key: str) -> None:
    _WORKER[:] = [(load_text(text, origin=key), key, _StoredTotals())]


def _check_chunk(rows: list[EvalRow]) -> list[tuple[str, str, str]]:
    ruleset, key, memo = _WORKER[0]
    return _evaluation_problems(ruleset, key, rows, memo=memo)


class _EvaluationCheck:
    """Recomputes stored evaluations: in this process for a small database, in worker
    processes (one per core, a few chunks in flight) for a large one, results in order."""

    def __init__(self, ruleset: RuleSet | None, key: str, total: int, jobs: int | None) -> None:
        self.ruleset, self.key = ruleset, key
        self.by_nodes = ruleset is not None and ruleset.sooner_by_nodes(total)
        self.memo = _StoredTotals()
        self.chunk: list[EvalRow] = []
        self.problems: list[tuple[str, str, str]] = []
        self.pending: deque[Any] = deque()
        self.pool: Any = None
        jobs = jobs if jobs is not None else (os.cpu_count() or 1)
        if ruleset is not None and total >= PARALLEL_REQUESTS and jobs > 1:
            method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
            self.pool = multiprocessing.get_context(method).Pool(
                jobs, initializer=_init_worker, initargs=(ruleset.source_text, key)
            )
            self.jobs = jobs

    def add(self, ref: str, document: str, evaluation: str | None, recommendation: str | None,
            columns: tuple[Any, ...]) -> None:  # fmt: skip
        self.chunk.append((ref, document, evaluation, recommendation, columns))
        if len(self.chunk) >= CHUNK:
            self._send()

    def _send(self) -> None:
        rows, self.chunk = self.chunk, []
        if not rows or self.ruleset is None:
            return
        if self.pool is None:
            self.problems += _evaluation_problems(self.ruleset, self.key, rows, self.by_nodes, self.memo)
            return
        self.pending.append(self.pool.apply_async(_check_chunk, (rows,)))
        if len(self.pending) >= 3 * self.jobs:
            self.problems += self.pending.popleft().get()

    def finish(self) -> list[tuple[str, str, str]]:
        self._send()
        try:
            while self.pending:
                self.problems += self.pending.popleft().get()
        finally:
            self.close()
        return self.problems

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None
