"""Backup and restore of a SQLite database (admin only; a team on PostgreSQL uses pg_dump).

These take the `Database` rather than a session: a backup copies the whole file online and a
restore replaces it, around any transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.errors import EnvironmentProblem, UsageError
from reviewer.models.db import Database
from reviewer.services.accounts import require_admin
from reviewer.services.audit import Actor, Chain, VerifyReport, verify


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


def restore(db: Database, actor: Actor, source: Path) -> Restored:
    """Replace the database by a backup; a current schema is verified and the restore audited."""
    _sqlite_file(db)
    _require_admin(db, actor)
    if not source.exists():
        raise EnvironmentProblem(f"no backup at {source}")
    db.restore_from(source)  # closes every connection first; the next ones see the backup
    if not db.is_current():
        return Restored(db.current_revision(), None)
    with db.read() as session:
        report = verify(session)
    with db.write() as session, Chain(session, actor) as chain:
        chain.append("restore", None, {"from": str(source)})
    return Restored(db.current_revision(), report)
