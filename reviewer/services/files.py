"""Request files read and validated, stored nowhere: the two passes of `reviewer evaluate`,
`explain` of files, and the checks an import makes before its transaction.

Nothing here touches a database, so `evaluate` without one starts with this module, the
readers and the rules alone (no SQLAlchemy: see `reviewer.cli`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from reviewer import intake
from reviewer import request as rq
from reviewer.errors import InvalidInput, NotPermittedLines
from reviewer.rules import Parts
from reviewer.rules.lang import TOTAL_FIELDS
from reviewer.vocabulary import ORG_SETTINGS, Outcome, Status


class ErrorList:
    """Import errors in the `cli.md` form; keeps the first 100 lines and counts the rest."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.total = 0
        self.refusals = 0  # errors that are refusals by the status table, not bad input

    def add(self, line: str) -> None:
        self.total += 1
        if len(self.lines) < 100:
            self.lines.append(line)

    def __bool__(self) -> bool:
        return self.total > 0

    def error(self) -> InvalidInput:
        if self.refusals == self.total:
            return NotPermittedLines(self.lines, self.total)
        return InvalidInput(self.lines, self.total)


def validate_record(rec: intake.Record) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Parse (if needed) and validate one record: the document, or its problems."""
    rec.parse_text()
    if rec.problems and rec.raw is None:
        return None, rec.problems
    doc, problems = rq.validate(rec.raw)
    if rec.problems or problems or doc is None:
        return None, rec.problems + problems
    return doc, []


DEFAULT_LIMIT_MB = int(ORG_SETTINGS["max_import_mb"].default)


def limit_mb(setting: str | None) -> int:
    """The largest file an import reads, in MB, as the organisation setting max_import_mb
    gives it (the default when it is not set or not a positive whole number)."""
    return int(setting) if setting and setting.isdigit() and int(setting) > 0 else DEFAULT_LIMIT_MB


def check_inputs(paths: Iterable[str], limit_mb: int | None = None) -> None:
    """Refuse (InvalidInput, exit 3, naming each file) what is not a regular, readable file of
    at most `limit_mb` MB: before any transaction, so a FIFO or a device never holds up the
    write lock and an oversized file is refused at once."""
    problems = intake.check_files(paths, limit_mb)
    if problems:
        errors = ErrorList()
        for line in problems:
            errors.add(line)
        raise errors.error()


def read_valid(paths: Iterable[str], limit_mb: int | None = None) -> list[dict[str, Any]]:
    """Every request of the files, validated and stored nowhere; all or nothing: InvalidInput
    lists every problem as FILE:RECORD: FIELD: message."""
    return list(valid_requests(check_files(list(paths), limit_mb), limit_mb))


HOLD_BYTES = 32 * 1024 * 1024  # input up to this size is read once, its requests held


@dataclass
class Checked:
    """What the first pass over request files found: each file's identity when it was read
    (device, inode, size, modification time), the requests themselves when held, and the
    figures of each request for customer totals (`slim`: `Figures`)."""

    paths: list[str]
    seen: list[tuple[int, int, int, int] | None]
    held: list[dict[str, Any]] | None
    slim: list[Figures]


Figures = tuple[str, str, tuple[Any, ...]]
"""A request as its customer's totals need it: its customer's key (`request.customer_key`),
its reference, and its figures in the order of `TOTAL_FIELDS` (None where unknown)."""


def figures_of(doc: dict[str, Any]) -> Figures:
    c, scale = doc["customer"], doc.get("scale") or {}
    return (rq.customer_key(c["name"], c.get("country")), doc["reference"],
            tuple(scale.get(name) for name in TOTAL_FIELDS))  # fmt: skip


def _identity(path: str) -> tuple[int, int, int, int] | None:
    """None when it cannot be looked at (reading it says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def check_files(paths: list[str], limit_mb: int | None, hold_bytes: int | None = None,
                figures: bool = False) -> Checked:  # fmt: skip
    """The first pass of `reviewer evaluate`: every request of the files validated, all or
    nothing (InvalidInput lists every problem as FILE:RECORD: FIELD: message, before anything
    is written). Files of at most `hold_bytes` in all (None: any size; `reviewer evaluate`
    gives HOLD_BYTES) have their requests held; larger input is read again by
    `valid_requests`, so memory stays flat. With `figures`, each request's `Figures` are kept
    (for the customer totals: a few hundred bytes a request, the documents let go)."""
    errors = ErrorList()
    for line in intake.check_files(paths, limit_mb):  # not a file, too large, given twice
        errors.add(line)
    if errors:
        raise errors.error()
    seen = [_identity(p) for p in paths]
    refs: set[str] = set()  # each request once: twice, it would count twice in its customer's totals
    hold = hold_bytes is None or sum(s[2] for s in seen if s is not None) <= hold_bytes
    held: list[dict[str, Any]] = []
    slim: list[Figures] = []
    for path in paths:
        try:
            for rec in intake.read_records(path, limit_mb=limit_mb):
                doc, problems = validate_record(rec)
                if doc is None:
                    for field, msg in problems:
                        errors.add(intake.format_problem(rec.file, rec.label, field, msg))
                    errors.total += rec.more
                    continue
                if doc["reference"] in refs:
                    errors.add(intake.format_problem(rec.file, rec.label, "reference",
                                                     f"duplicate reference {doc['reference']!r}: "
                                                     "given more than once"))  # fmt: skip
                    continue
                refs.add(doc["reference"])
                if hold:
                    held.append(doc)
                if figures:
                    slim.append(figures_of(doc))
        except intake.FileProblem as exc:
            errors.add(str(exc))
    if errors:
        raise errors.error()
    return Checked(paths, seen, held if hold else None, slim)


def valid_requests(checked: Checked, limit_mb: int | None) -> Iterator[dict[str, Any]]:
    """The validated requests of the files `check_files` found all valid, in order: the held
    ones, or the files read again. A file that changed since it was checked raises
    InvalidInput naming it (what was yielded before came from the file as checked, record by
    record)."""
    if checked.held is not None:
        yield from checked.held
        return
    for path, seen in zip(checked.paths, checked.seen, strict=True):
        changed = InvalidInput([f"{path}: changed while it was read; nothing more was evaluated: "
                                "evaluate it again"])  # fmt: skip
        try:
            if _identity(path) != seen:
                raise changed
            for rec in intake.read_records(path, limit_mb=limit_mb):
                doc, _problems = validate_record(rec)
                if doc is None:
                    raise changed
                yield doc
            if _identity(path) != seen:
                raise changed
        except (OSError, intake.FileProblem) as exc:
            raise changed from exc


# Which of a customer's requests count towards its totals (`services.totals`): the open ones
# and the decided ones whose standing decision approves.
OPEN = (Status.NEW, Status.IN_REVIEW, Status.RETURNED, Status.AWAITING_SECOND)
APPROVALS = (Outcome.APPROVE, Outcome.APPROVE_WITH_CONDITIONS)
COUNTED = frozenset((*OPEN, Status.DECIDED))


def figures_row(reference: str, values: Iterable[Any]) -> dict[str, Any]:
    """A stored request's part of its customer's totals: its reference and its five figures
    (in the order of `TOTAL_FIELDS`) as the database read them from its document."""
    figures = zip(TOTAL_FIELDS, values, strict=True)
    return {"reference": reference, "scale": {k: None if v is None else int(v) for k, v in figures}}


class FileTotals:
    """The customer totals of requests read from files, by reference (`get`): the files'
    requests of the same customer (folded name and country), plus `stored` (by customer key,
    the figures of a database's requests that count, as `services.totals` reads them). Each
    request's totals are made when it is evaluated and let go after it, so what is held is a
    reference and five figures a request, not a customer's parts for each of its requests
    (100,000 requests: tens of MB, where the parts took hundreds)."""

    def __init__(
        self, slim: Iterable[Figures], stored: dict[str, list[dict[str, Any]]] | None = None
    ) -> None:
        self.members: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        for key, reference, figures in slim:
            self.members.setdefault(key, []).append((reference, figures))
        self.key_of: dict[str, str] = {}
        for key, group in self.members.items():
            for reference, _figures in group:
                self.key_of[reference] = key
            group += [(f["reference"], tuple(f["scale"].get(name) for name in TOTAL_FIELDS))
                      for f in (stored or {}).get(key, [])]  # fmt: skip
            group.sort(key=lambda m: str(m[0]))

    def get(self, reference: str) -> Parts | None:
        """The totals of the request of the files with this reference (`rules.Parts`: each
        total's references and figures, by reference), None for a reference not in them."""
        key = self.key_of.get(reference)
        if key is None:
            return None
        members = self.members[key]
        return {name: [[ref, figures[i]] for ref, figures in members]
                for i, name in enumerate(TOTAL_FIELDS)}  # fmt: skip


def customer_keys(slim: Iterable[Figures]) -> list[str]:
    """The customers' keys of these requests, each once, in the order they first come."""
    return list(dict.fromkeys(key for key, _reference, _figures in slim))


def with_stored(slim: list[Figures], ids: dict[str, int], counted: dict[int, list[dict[str, Any]]]
                ) -> FileTotals:  # fmt: skip
    """The totals of the files' requests with a database's: `ids` the stored customers of
    their keys (key -> customer id), `counted` those customers' requests that count (by id,
    `figures_row`s); a stored request the files give again counts as the files give it."""
    in_files = {reference for _key, reference, _figures in slim}
    stored = {key: [f for f in counted.get(cid, []) if f["reference"] not in in_files]
              for key, cid in ids.items()}  # fmt: skip
    return FileTotals(slim, stored)
