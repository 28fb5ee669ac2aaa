"""Backup and restore of a SQLite database (admin only; a team on PostgreSQL uses pg_dump).

These take the `Database` rather than a session: a backup copies the whole file online and a
restore replaces it, around any transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import EnvironmentProblem, IntegrityProblem, UsageError
from reviewer.models.db import Database, head_revision, known_revision
from reviewer.services.accounts import require_admin
from reviewer.services.audit import Actor, Chain
from reviewer.services.verify import VerifyReport, verify


def _sqlite_file(db: Database) -> Path:
    if not db.is_sqlite:
        raise UsageError("on PostgreSQL, back up with pg_dump -Fc and restore with pg_restore "
                         "(see the README, Team mode)")  # fmt: skip
    path = db.sqlite_path
    if path is None or not path.exists():
        raise EnvironmentProblem(f"no database at {path}")
    return path


def _require_admin(db: Database, actor: Actor) -> None:
    with db.read() as session:
        require_admin(session, actor, "backs up or restores")


def backup(db: Database, actor: Actor, target: Path) -> None:
    """An online copy of the database file (consistent even while others write)."""
    _sqlite_file(db)
    _require_admin(db, actor)
    db.backup_to(target)


@dataclass
class Restored:
    revision: str | None
    report: VerifyReport | None  # None when the backup's schema is behind (not verified)
    forced: bool = False


def restore(db: Database, actor: Actor, source: Path, force: bool = False) -> Restored:
    """Replace the database by a backup, in one step that carries its own `restore` event.

    The backup is copied aside and checked first: a schema this program does not know is
    refused (exit 7), a current one must verify (else exit 1, unless `force`, which the event
    records); the `restore` event is appended to the copy, and only then does the copy replace
    the database, so a kill at any moment leaves either the old database or the restored one
    with its event, never a restore unrecorded. Nothing of the old database changes before."""
    _sqlite_file(db)
    _require_admin(db, actor)
    if not source.exists():
        raise EnvironmentProblem(f"no backup at {source}")
    if not source.is_file():  # a FIFO or a device would block the copy
        raise EnvironmentProblem(f"{source} is not a regular file: not a backup")
    staged = db.staged_copy(source)
    try:
        revision = staged.current_revision()
        if not known_revision(revision):
            raise EnvironmentProblem(
                f"{source} was made by a newer Reviewer (schema revision {revision}; this one "
                f"knows up to {head_revision()}): nothing was restored; upgrade Reviewer first"
            )
        report = None
        if revision == head_revision():
            with staged.read() as session:
                report = verify(session)
            if not report.ok and not force:
                first = report.problems[0]
                raise IntegrityProblem(
                    f"{source} does not verify ({len(report.problems)} problems, the first: "
                    f"{first.kind} {first.seq_or_reference}: {first.message}); nothing was "
                    "restored (--force restores it anyway, and the restore event says so)"
                )
        forced = report is not None and not report.ok
        payload: dict[str, object] = {"from": str(source)}
        if forced and report is not None:
            payload.update(forced=True, problems=len(report.problems))
        with staged.write() as session, Chain(session, actor) as chain:
            chain.append("restore", None, payload)
        staged.dispose()
        db.restore_from(staged.sqlite_path or source)
    finally:
        staged.discard()
    return Restored(db.current_revision(), report, forced)
