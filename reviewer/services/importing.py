"""Importing requests: files (JSON, JSONL, CSV) and the intake form, validated and evaluated,
stored with one audit event each.

The caller owns the transaction (`db.write()`), so an import is all or nothing and a failure
leaves the database as it was. Large inputs are validated and evaluated by worker processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from reviewer import intake
from reviewer import request as rq
from reviewer.errors import ConflictError
from reviewer.models import Request, RequestVersion, Status
from reviewer.rules import RuleSet, evaluate_with, load_text, stored_with
from reviewer.services.accounts import require_account
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.services.customers import Matcher
from reviewer.services.files import ErrorList, check_inputs, limit_mb, validate_record
from reviewer.services.rulesets import ActiveRules, active_rules
from reviewer.services.settings import get_setting
from reviewer.services.workflow import refresh_customers

BATCH = 500


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return (f"imported {self.created} new, {self.updated} updated, "
                f"{self.unchanged} unchanged")  # fmt: skip


UPDATABLE = {Status.NEW: Status.NEW, Status.IN_REVIEW: Status.IN_REVIEW,
             Status.RETURNED: Status.NEW}  # fmt: skip
PARALLEL_BYTES = 4_000_000  # inputs larger than this are validated by worker processes
CHUNK = 250


@dataclass
class Prepared:
    """One record after validation and evaluation, ready to store (or its problems)."""

    file: str
    label: str
    problems: list[tuple[str, str]]
    more: int = 0  # problems counted but not listed (`intake.Record.more`)
    reference: str = ""
    text: str = ""
    sha: str = ""
    values: dict[str, Any] | None = None

    def where(self) -> str:
        return f"{self.file}:{self.label}" if self.label else self.file


def import_limit(session: Session) -> int:
    """The largest file an import reads, in MB (the organisation setting max_import_mb)."""
    return limit_mb(get_setting(session, "max_import_mb"))


def prepare(rec: intake.Record, ruleset: RuleSet) -> Prepared:
    """Parse (if needed), validate, canonicalise, hash and evaluate one record. Pure: it runs
    in worker processes for large imports."""
    doc, problems = validate_record(rec)
    if doc is None:
        return Prepared(rec.file, rec.label, problems, rec.more)
    ref = doc["reference"]
    text = rq.compact_json(doc)  # validated: no nulls, so this is its canonical JSON
    evaluation = evaluate_with(ruleset, doc, None)  # its customer's totals come when stored
    values = _row_values(doc, evaluation.recommendation)
    values["evaluation"] = rq.compact_json(stored_with(ruleset, evaluation, None, doc))
    return Prepared(rec.file, rec.label, [], 0, ref, text, rq.sha256_hex(text), values)


_WORKER_RULES: list[RuleSet] = []


def _init_worker(content: str) -> None:
    _WORKER_RULES[:] = [load_text(content, origin="database")]


def _prepare_chunk(chunk: list[intake.Record]) -> list[Prepared]:
    ruleset = _WORKER_RULES[0]
    return [prepare(rec, ruleset) for rec in chunk]


def _chunks(records: Iterator[intake.Record], size: int) -> Iterator[list[intake.Record]]:
    chunk: list[intake.Record] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prepared_stream(
    paths: list[str], ruleset: RuleSet, jobs: int, limit_mb: int | None = None
) -> Generator[Prepared, None, None]:
    """Prepared records in file order. With jobs > 1, worker processes parse, validate and
    evaluate chunks while this process stores; at most a few chunks are in flight, so memory
    stays flat however large the files."""
    if jobs <= 1:
        for rec in intake.read_all(paths, limit_mb=limit_mb):
            yield prepare(rec, ruleset)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(ruleset.source_text,)) as pool:
        pending: deque[Any] = deque()
        for chunk in _chunks(intake.read_all(paths, parse=False, limit_mb=limit_mb), CHUNK):
            pending.append(pool.apply_async(_prepare_chunk, (chunk,)))
            if len(pending) >= 3 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def default_jobs(paths: list[str]) -> int:
    """Worker processes for an import: all cores for large inputs, none for small ones."""
    try:
        size = sum(os.path.getsize(p) for p in paths)
    except OSError:
        return 1
    return (os.cpu_count() or 1) if size > PARALLEL_BYTES else 1


def import_files(
    session: Session,
    paths: Iterable[str],
    actor: Actor,
    *,
    update_existing: bool = False,
    progress: Callable[[int, int], None] | None = None,
    jobs: int | None = None,
    limit_mb: int | None = None,
) -> ImportResult:
    """Validate and store every request of the files, all or nothing (raises InvalidInput).
    A file larger than `limit_mb` (default: the setting max_import_mb) or that is not a
    regular file is refused before anything is read (see `check_inputs`, which callers run
    before the transaction too, and `intake.open_checked`)."""
    paths = list(paths)
    require_account(session, actor)
    if limit_mb is None:
        limit_mb = import_limit(session)
    check_inputs(paths, limit_mb)
    rules = active_rules(session)
    errors = ErrorList()
    seen: dict[str, str] = {}
    result = ImportResult()
    batch: list[Prepared] = []
    count = 0
    workers = default_jobs(paths) if jobs is None else jobs
    # closing(): on any error (a full disk while storing) the worker pool stops at once,
    # not when the suspended generator is collected at exit.
    records = prepared_stream(paths, rules.ruleset, workers, limit_mb)
    with Chain(session, actor) as chain, contextlib.closing(records) as stream:
        stored = Stored(Matcher(session, chain))
        for prep in stream:
            count += 1
            if progress is not None and count % 500 == 0:
                progress(count, 0)
            if prep.problems:
                for field, msg in prep.problems:
                    errors.add(intake.format_problem(prep.file, prep.label, field, msg))
                errors.total += prep.more
                continue
            ref = prep.reference
            if ref in seen:
                errors.add(
                    intake.format_problem(
                        prep.file,
                        prep.label,
                        "reference",
                        f"duplicate reference {ref!r}, first given at {seen[ref]}",
                    )
                )
                continue
            seen[ref] = prep.where()
            if errors:
                continue  # keep validating to report every error, but store no more
            batch.append(prep)
            if len(batch) >= BATCH:
                store_batch(session, batch, chain, rules, errors, update_existing, result, stored)
                batch.clear()
        if batch and not errors:
            store_batch(session, batch, chain, rules, errors, update_existing, result, stored)
        if errors:
            raise errors.error()
        stored.refresh(session, chain, rules)
    return result


class Stored:
    """What an import stored, by customer: the customers whose open requests are evaluated
    again at its end (when the rule set reads customer totals), with what triggered it."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.by_customer: dict[int | None, list[str]] = {}
        self.refs: list[str] = []

    def add(self, customer_id: int | None, reference: str) -> None:
        self.by_customer.setdefault(customer_id, []).append(reference)
        self.refs.append(reference)

    def refresh(self, session: Session, chain: Chain, rules: ActiveRules) -> None:
        if not rules.ruleset.reads_totals or not self.refs:
            return
        triggers: dict[int | None, str] = {}
        for cid, refs in self.by_customer.items():
            listed = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            triggers[cid] = f"import of {listed}"
        refresh_customers(session, chain.actor, triggers, fresh=self.refs, chain=chain)


DOCUMENT_COLUMNS = ("received_on", "title", "customer_name", "country", "org_type")
"""The columns of a request's row copied from its document (the queue's; verify compares them)."""


def document_columns(doc: dict[str, Any]) -> tuple[Any, ...]:
    """The values of DOCUMENT_COLUMNS for a validated document."""
    customer = doc["customer"]
    return (dt.date.fromisoformat(doc["received_on"]), doc.get("title"), customer["name"],
            customer.get("country"), customer.get("org_type"))  # fmt: skip


def _row_values(doc: dict[str, Any], recommendation: str) -> dict[str, Any]:
    return {**dict(zip(DOCUMENT_COLUMNS, document_columns(doc), strict=True)),
            "recommendation": recommendation, "search_key": rq.search_key(doc)}  # fmt: skip


def _matched(old: Any, sha: str) -> bool:
    return old is None or (not old.customer_pinned and old.document_sha256 != sha)


def store_batch(
    session: Session,
    batch: list[Prepared],
    chain: Chain,
    rules: ActiveRules,
    errors: ErrorList,
    update_existing: bool,
    result: ImportResult,
    stored: Stored | None = None,
) -> None:
    refs = [p.reference for p in batch]
    stored = stored or Stored(Matcher(session, chain))
    matcher = stored.matcher
    existing = {
        r.reference: r
        for r in session.execute(
            select(
                Request.id,
                Request.reference,
                Request.status,
                Request.version,
                Request.document_version,
                Request.document_sha256,
                Request.customer_id,
                Request.customer_pinned,
            ).where(Request.reference.in_(refs))
        )  # fmt: skip
    }
    # The customers of the new requests and of the new versions not linked by hand: made
    # together when unknown (an import of thousands of customers is one statement).
    matcher.prefetch((p.values["customer_name"], p.values["country"], p.reference) for p in batch
                     if p.values is not None and _matched(existing.get(p.reference), p.sha))  # fmt: skip
    new_rows: list[dict[str, Any]] = []
    new_meta: list[tuple[str, str, int]] = []
    version_rows: list[dict[str, Any]] = []
    for prep in batch:
        ref, text, sha = prep.reference, prep.text, prep.sha
        old = existing.get(ref)
        if old is not None and not update_existing:
            errors.add(
                intake.format_problem(
                    prep.file,
                    prep.label,
                    "reference",
                    f"{ref!r} is already stored (use --update to add a new version)",
                )
            )
            continue
        if old is not None and old.status not in UPDATABLE:
            errors.refusals += 1
            errors.add(
                intake.format_problem(
                    prep.file,
                    prep.label,
                    "reference",
                    f"{ref!r} is {old.status.value}: it cannot be changed until a senior reopens it",
                )
            )
            continue
        if errors:
            continue
        now = utc_now()
        values = dict(prep.values or {})
        values.update(updated_at=now, document=text, document_sha256=sha, rule_set_pk=rules.pk)
        if old is None:
            cid = matcher.customer_of(values["customer_name"], values["country"], ref)
            seq = chain.append("import", ref, {"version": 1, "sha256": sha, "customer": cid}, time=now)
            values.update(reference=ref, status=Status.NEW, version=1, document_version=1,
                          customer_id=cid)  # fmt: skip
            stored.add(cid, ref)
            new_rows.append(values)
            new_meta.append((ref, now, seq))
            result.created += 1
            continue
        if old.document_sha256 == sha:
            result.unchanged += 1
            continue
        version = old.document_version + 1
        status = UPDATABLE[old.status]
        cid = old.customer_id if old.customer_pinned else \
            matcher.customer_of(values["customer_name"], values["country"], ref)  # fmt: skip
        seq = chain.append("update", ref, {"version": version, "sha256": sha,
                                           "status": status.value, "customer": cid}, time=now)  # fmt: skip
        values["customer_id"] = cid
        stored.add(cid, ref)
        if old.customer_id != cid:
            stored.add(old.customer_id, ref)
        values.update(version=old.version + 1, document_version=version, status=status)
        if old.status is Status.RETURNED:
            values["assignee_id"] = None
        session.execute(update(Request).where(Request.id == old.id).values(**values))
        version_rows.append({
            "request_id": old.id, "version": version, "document": text, "sha256": sha,
            "created_at": now, "created_by": chain.actor.name, "event_seq": seq,
        })  # fmt: skip
        result.updated += 1
    if errors:
        return
    if new_rows:
        # executemany without RETURNING (which SQLite runs row by row), then one query for
        # the new ids: the references are unique and this transaction holds the write lock.
        session.execute(insert(Request.__table__), new_rows)  # type: ignore[arg-type]
        id_of: dict[str, int] = {
            ref: rid
            for ref, rid in session.execute(
                select(Request.reference, Request.id).where(Request.reference.in_([m[0] for m in new_meta]))
            )
        }
        for row, (ref, now, seq) in zip(new_rows, new_meta, strict=True):
            rid = id_of[ref]
            version_rows.append({
                "request_id": rid, "version": 1, "document": row["document"],
                "sha256": row["document_sha256"], "created_at": now,
                "created_by": chain.actor.name, "event_seq": seq,
            })  # fmt: skip
    if version_rows:
        session.execute(insert(RequestVersion.__table__), version_rows)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- intake form


def save_document(
    session: Session, actor: Actor, raw: dict[str, Any], expect_version: int | None = None
) -> ImportResult:
    """Store one request typed into the intake form: new (expect_version None) or a new
    version of a stored one, with the same rules as import and import --update, and the
    conflict check of every edit (changed by someone else since it was read: exit 4)."""
    require_account(session, actor)
    rules = active_rules(session)
    prep = prepare(intake.Record("intake form", "", raw), rules.ruleset)
    errors = ErrorList()
    if prep.problems:
        for field, msg in prep.problems:
            errors.add(intake.format_problem("intake form", "", field, msg))
        raise errors.error()
    existing = session.execute(
        select(Request).where(Request.reference == prep.reference).with_for_update()
    ).scalar_one_or_none()
    if existing is not None and expect_version is not None and existing.version != expect_version:
        raise ConflictError(
            f"{prep.reference} changed since you opened it (version "
            f"{existing.version}, you edited version {expect_version}): reload"
        )
    result = ImportResult()
    with Chain(session, actor) as chain:
        stored = Stored(Matcher(session, chain))
        store_batch(session, [prep], chain, rules, errors, expect_version is not None, result,
                    stored)  # fmt: skip
        if errors:
            raise errors.error()
        stored.refresh(session, chain, rules)
    return result
