"""Evidence kept with a request (the case file): the documents a decision rests on, attached
by any account, numbered 1, 2, ... in the order attached.

A file is stored in the database a chunk (`CHUNK` bytes) at a time, never read whole into
memory, and at most the organisation setting `max_attachment_mb` megabytes: a larger one is
refused by its size before anything is read (InvalidInput, exit 3; nothing is written), and
so is one that grows past the limit while it is read. Each attachment is an audit event
(`attach`) carrying its name, size and SHA-256, so `verify` checks the bytes against the
trail. An admin may redact a file attached by mistake (`redact_attachment`): its bytes are
deleted, its name, size, hash and events stay. Reviewer never renders or runs an attachment:
it gives the bytes back (`save_attachment`) as they were attached, checked against their hash.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import LargeBinary, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import IntegrityProblem, InvalidInput, NotFound, NotPermitted
from reviewer.export.documents import link_new, write_problem, written_part
from reviewer.intake import FileProblem, open_regular
from reviewer.models import Attachment, AttachmentChunk, AuditEvent, Request
from reviewer.services.accounts import require_account, require_admin
from reviewer.services.audit import Actor, Chain, utc_now
from reviewer.services.queries import get_request
from reviewer.services.settings import get_setting
from reviewer.vocabulary import ORG_SETTINGS, size_words

CHUNK = 1024 * 1024  # bytes per stored chunk (1 MiB)
MB = 1024 * 1024
DEFAULT_LIMIT_MB = int(ORG_SETTINGS["max_attachment_mb"].default)
MAX_NAME = 255
MAX_NOTE = 4000
MIN_REASON = 30


@dataclass(frozen=True)
class Attached:
    """One attachment as the commands print it."""

    reference: str
    number: int
    name: str
    size: int
    sha256: str

    def line(self) -> str:
        return (f"{self.reference} attachment {self.number}: {self.name}, "
                f"{size_words(self.size, exact=True)}, sha256 {self.sha256}")  # fmt: skip


def attachment_limit(session: Session) -> int:
    """The largest file that may be attached, in MB (the setting max_attachment_mb)."""
    value = get_setting(session, "max_attachment_mb")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_LIMIT_MB


def over_limit(path: str, size: int, limit_mb: int) -> InvalidInput:
    return InvalidInput([f"{path}: {size_words(size, exact=True)} is over the attachment limit of "
                         f"{limit_mb} MB (setting max_attachment_mb); nothing was attached"])  # fmt: skip


def check_name(path: str) -> str:
    """The name an attachment keeps: the file's base name, 1 to 255 characters, none of them a
    control or format character (a bidirectional override could disguise the extension)."""
    name = os.path.basename(os.path.normpath(path)) if path else ""
    if not name or name in (".", "..") or len(name) > MAX_NAME:
        raise InvalidInput([f"{path}: an attachment's name (the file's name) has 1 to {MAX_NAME} characters"])
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            what = "not valid UTF-8" if unicodedata.category(ch) == "Cs" else f"U+{ord(ch):04X}"
            raise InvalidInput([f"{path}: the file's name holds a character an attachment's name may "
                                f"not ({what}): rename the file"])  # fmt: skip
    return name


def _open_regular(path: str, limit_mb: int) -> tuple[int, int]:
    """The file opened for reading (fd, size by fstat), once it is known to be a regular file
    (`intake.open_regular`: a FIFO, a device or a folder is refused without waiting on it)
    within the limit, and not empty."""
    size = 0

    def check(info: os.stat_result) -> None:
        nonlocal size
        size = info.st_size
        if size > limit_mb * MB:
            raise over_limit(path, size, limit_mb)
        if size == 0:
            raise InvalidInput([f"{path}: empty (0 bytes): there is nothing to attach"])

    try:
        fd = open_regular(path, check)
    except FileProblem as exc:
        raise InvalidInput([f"{exc}; nothing was attached"]) from exc
    return fd, size


def _chunks(path: str, fd: int, limit_mb: int) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, from its start; past the limit (the file grew
    while it was read) InvalidInput."""
    os.lseek(fd, 0, os.SEEK_SET)
    total = 0
    while True:
        try:
            data = os.read(fd, CHUNK)
        except OSError as exc:
            raise InvalidInput([f"{path}: cannot read: {exc.strerror or exc}; nothing was attached"]) from exc
        if not data:
            return
        total += len(data)
        if total > limit_mb * MB:
            raise InvalidInput([f"{path}: grew while it was read: over the attachment limit of "
                                f"{limit_mb} MB (setting max_attachment_mb); nothing was "
                                "attached"])  # fmt: skip
        yield data


def _digest(path: str, fd: int, limit_mb: int) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    for data in _chunks(path, fd, limit_mb):
        digest.update(data)
        size += len(data)
    return size, digest.hexdigest()


def attach(session: Session, actor: Actor, reference: str, path: str, note: str | None = None
           ) -> Attached:  # fmt: skip
    """Attach one file to a request, in the caller's transaction (several files in one
    transaction are all or nothing). Any active account may; the request's version stays
    as it is (an attachment never makes an open decision conflict), as with a note."""
    return attach_files(session, actor, reference, [path], note)[0]


def attach_files(session: Session, actor: Actor, reference: str, paths: Sequence[str],
                 note: str | None = None) -> list[Attached]:  # fmt: skip
    """Attach files to a request, in order, all or nothing: every file is checked (a regular
    file, within the limit, a name it may keep) before the first byte is stored."""
    require_account(session, actor)
    req = get_request(session, reference)
    if note is not None:
        note = note.strip()
        if not note or len(note) > MAX_NOTE or "\x00" in note:
            raise InvalidInput([f"attachment note: 1 to {MAX_NOTE} characters of text"])
    if not paths:
        raise InvalidInput(["no file to attach"])
    limit = attachment_limit(session)
    fds: list[int] = []
    try:
        for path in paths:
            fds.append(_open_regular(path, limit)[0])
        opened = [(path, check_name(path), fd) for path, fd in zip(paths, fds, strict=True)]
        with Chain(session, actor) as chain:
            number = session.execute(
                select(func.coalesce(func.max(Attachment.number), 0)).where(Attachment.request_id == req.id)
            ).scalar_one()  # fmt: skip
            done = []
            for path, name, fd in opened:
                number += 1
                done.append(_store(session, chain, actor, req, number, path, name, fd, limit, note))
    finally:
        for fd in fds:
            os.close(fd)
    return done


def _store(session: Session, chain: Chain, actor: Actor, req: Request, number: int, path: str,
           name: str, fd: int, limit: int, note: str | None) -> Attached:  # fmt: skip
    """Two passes over the open file: its hash and size first (so the row is written whole:
    in team mode a login may insert attachments but never change them), then its chunks,
    hashed again: a file that changed in between is refused."""
    size, sha = _digest(path, fd, limit)
    payload: dict[str, Any] = {"number": number, "name": name, "size": size, "sha256": sha}
    if note:
        payload["note"] = note
    now = utc_now()
    seq = chain.append("attach", req.reference, payload, time=now)
    row = Attachment(request_id=req.id, number=number, name=name, size=size, sha256=sha, note=note,
                     added_by=actor.name, added_at=now, redacted=False, event_seq=seq)  # fmt: skip
    session.add(row)
    session.flush()
    again, written = hashlib.sha256(), 0
    for i, data in enumerate(_chunks(path, fd, limit), 1):
        session.execute(insert(AttachmentChunk), [{"attachment_id": row.id, "number": i, "data": data}])
        again.update(data)
        written += len(data)
    if (written, again.hexdigest()) != (size, sha):
        raise InvalidInput([f"{path}: changed while it was read; nothing was attached"])
    return Attached(req.reference, number, name, size, sha)


# --------------------------------------------------------------------------- reading


def find(session: Session, reference: str, number: int) -> Attachment:
    req = get_request(session, reference)
    row = session.execute(
        select(Attachment).where(Attachment.request_id == req.id, Attachment.number == number)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{reference} has no attachment {number} (see `reviewer attachments {reference}`)")
    return row


def read_chunks(session: Session, reference: str, number: int) -> Iterator[bytes]:
    """The stored bytes of an attachment, a chunk at a time (one query per chunk: never more
    than one chunk in memory, on either database)."""
    row = find(session, reference, number)
    if row.redacted:
        raise _redacted(reference, row)
    return _stored_chunks(session, row.id)


def _stored_chunks(session: Session, attachment_id: int) -> Iterator[bytes]:
    numbers = list(session.execute(
        select(AttachmentChunk.number).where(AttachmentChunk.attachment_id == attachment_id)
        .order_by(AttachmentChunk.number)).scalars())  # fmt: skip
    for n in numbers:
        yield session.execute(  # as bytes, whatever a hand edit stored
            select(cast(AttachmentChunk.data, LargeBinary))
            .where(AttachmentChunk.attachment_id == attachment_id, AttachmentChunk.number == n)
        ).scalar_one()  # fmt: skip


def _redacted(reference: str, row: Attachment) -> NotFound:
    return NotFound(f"{reference} attachment {row.number} ({row.name}) was redacted by "
                    f"{row.redacted_by} at {row.redacted_at}: its bytes are no longer kept (reason: "
                    f"{row.redact_reason})")  # fmt: skip


def _check_event(session: Session, reference: str, row: Attachment) -> None:
    """The row is what its `attach` event recorded (verify checks that event's place in the
    chain): the bytes are then checked against the hash the trail carries."""
    event = session.get(AuditEvent, row.event_seq) if row.event_seq is not None else None
    wanted = {"number": row.number, "name": row.name, "size": row.size, "sha256": row.sha256}
    if event is None or event.action != "attach" or event.reference != reference or \
            {k: _payload(event).get(k) for k in wanted} != wanted:  # fmt: skip
        raise IntegrityProblem(f"{reference} attachment {row.number} differs from its attach "
                               "event (changed outside Reviewer: run `reviewer verify`); nothing "
                               "was written")  # fmt: skip


def _payload(event: AuditEvent) -> dict[str, Any]:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def save_attachment(session: Session, reference: str, number: int, out: Path) -> Attached:
    """Write an attachment's bytes to a new file `out`, whole or not at all: to `.NAME.part`
    beside it, checked against the SHA-256 and size its attach event recorded while it is
    written (IntegrityProblem, exit 1, and no file, if they differ), then linked into place.
    An existing `out` is refused (InvalidInput, exit 3): nothing is ever overwritten."""
    row = find(session, reference, number)
    if row.redacted:
        raise _redacted(reference, row)
    _check_event(session, reference, row)
    if not out.name or out.name in (".", ".."):
        raise InvalidInput([f"{out}: not a file name; nothing was written"])
    if os.path.lexists(out):
        kind = "" if out.is_symlink() or out.is_file() else " and is not a regular file"
        raise InvalidInput([f"{out}: already exists{kind}; nothing was written (choose a new file)"])
    try:
        with written_part(out, link_new) as fh:
            digest, size = hashlib.sha256(), 0
            for data in _stored_chunks(session, row.id):
                digest.update(data)
                size += len(data)
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if (size, digest.hexdigest()) != (row.size, row.sha256):
                raise IntegrityProblem(
                    f"{reference} attachment {number}: its stored bytes ({size_words(size, exact=True)}, "
                    f"sha256 {digest.hexdigest()[:16]}...) differ from the SHA-256 recorded when it "
                    "was attached (changed outside Reviewer: run `reviewer verify`); nothing was written"
                )
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise InvalidInput([f"{out}: already exists; nothing was written (choose a new file)"]) from exc
        raise write_problem(str(out), exc) from exc
    return Attached(reference, row.number, row.name, row.size, row.sha256)


def save_private_copy(session: Session, reference: str, number: int, folder: Path) -> Path:
    """Write an attachment into `folder` (a private temporary folder of the window) for the
    desktop's viewer, as a file only its owner can read and that nobody may run (mode 0600),
    named after the attachment with its extension kept."""
    row = find(session, reference, number)
    stem = "".join(ch if ch.isalnum() or ch in "-_.() " else "_" for ch in Path(row.name).stem)[:80]
    suffix = "".join(ch for ch in Path(row.name).suffix if ch.isalnum() or ch == ".")[:16]
    target = folder / f"{number}-{stem.strip(' .') or 'attachment'}{suffix}"
    if os.path.lexists(target):
        target.unlink()
    save_attachment(session, reference, number, target)
    os.chmod(target, 0o600)
    return target


# --------------------------------------------------------------------------- redaction


def redact(session: Session, actor: Actor, reference: str, number: int, reason: str) -> Attached:
    """An admin removes the bytes of a file attached by mistake (personal data that should
    never have been kept, the wrong file): its name, size, SHA-256, its attach event and the
    `redact_attachment` event, with the reason, stay."""
    require_admin(session, actor, "redacts an attachment")
    reason = (reason or "").strip()
    short = rq.too_short(reason, "reason", MIN_REASON)
    if short:  # as every other reason and justification (exit 5)
        raise NotPermitted(short)
    if "\x00" in reason or len(reason) > MAX_NOTE:
        raise InvalidInput([f"reason: {MIN_REASON} to {MAX_NOTE} characters, no NUL characters"])
    get_request(session, reference)  # an unknown reference is named as such
    with Chain(session, actor) as chain:  # the head locked first: two admins cannot both redact
        row = find(session, reference, number)
        if row.redacted:
            raise InvalidInput([f"{reference} attachment {number} was already redacted by "
                                f"{row.redacted_by} at {row.redacted_at}"])  # fmt: skip
        now = utc_now()
        chain.append("redact_attachment", reference, {"number": number, "reason": reason}, time=now)
        session.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id == row.id))
        row.redacted, row.redacted_by, row.redacted_at, row.redact_reason = True, actor.name, now, reason
        session.flush()
    return Attached(reference, row.number, row.name, row.size, row.sha256)
