"""Engines, sessions and migrations.

Writers and readers get separate engines: on SQLite the writer opens every transaction with
`BEGIN IMMEDIATE` (so the loser of a race waits on the busy timeout, then sees the stale
version), the reader with a plain deferred `BEGIN`, so reads never block behind a long
import in WAL mode. Services take a Session and never commit; callers use
`with db.write() as session:`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reviewer.errors import EnvironmentProblem, IntegrityProblem, NotPermitted
from reviewer.schema import HEAD, REVISIONS

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a writer waits for another to finish; REVIEWER_BUSY_TIMEOUT_MS changes it.
BUSY_TIMEOUT_MS = int(os.environ.get("REVIEWER_BUSY_TIMEOUT_MS", "10000"))


def _sqlite_pragmas(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (savepoints work).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _new_engine(url: str, kind: str) -> Engine:
    if kind == "server":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _sqlite_pragmas(engine, immediate=kind == "write")
    return engine


# A command's engines outlive it, one per URL and kind in a process (the last few): SQLAlchemy
# keeps its cache of compiled statements per engine, and compiling was 40% of a command's time
# when every command run in one process (scripts calling reviewer.cli.main, the tests) compiled
# every statement afresh. `Database.dispose` still closes every pooled connection; a forked
# process (import workers) makes its own. A window's Database keeps engines of its own.
@functools.lru_cache(maxsize=8)
def _shared_engine(pid: int, url: str, kind: str) -> Engine:
    """An engine of this process (`pid`: a forked one makes its own); one dropped from the
    cache is not disposed, a Database may still use it."""
    return _new_engine(url, kind)


def _engine(url: str, kind: str, shared: bool) -> Engine:
    return _shared_engine(os.getpid(), url, kind) if shared else _new_engine(url, kind)


def alembic_config(engine: Engine | None = None) -> Config:
    # Alembic is loaded only to migrate (it and the dialects it brings cost about 0.1 s at the
    # start of every command otherwise); which revisions exist is reviewer.models.migrations.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str | None:
    return HEAD


def known_revision(revision: str | None) -> bool:
    """Whether this program knows a schema revision (None: an empty database)."""
    return revision is None or revision in REVISIONS


class Database:
    """One database: URL, engines, session factories, schema state."""

    def __init__(self, url: str, *, shared_engines: bool = False) -> None:
        self.url = url
        self.sa_url = make_url(url)
        self.is_sqlite = self.sa_url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            path = self.sqlite_path
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise EnvironmentProblem(f"cannot create folder {path.parent}: {exc}") from exc
            self.write_engine = _engine(url, "write", shared_engines)
            self.read_engine = _engine(url, "read", shared_engines)
        else:
            self.write_engine = _engine(url, "server", shared_engines)
            self.read_engine = self.write_engine
        self.write_session = sessionmaker(self.write_engine, expire_on_commit=False)
        self.read_session = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def _version_table_query(self) -> str:
        if self.is_sqlite:
            # A view counts, as it does for inspect().has_table and for Alembic itself:
            # otherwise a hand-made view would make a database look new to us alone.
            return "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = 'alembic_version'"
        return "SELECT to_regclass('alembic_version') IS NOT NULL"

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        name = self.sa_url.database
        if not name or name == ":memory:":
            return None
        return Path(name)

    def session_user(self) -> str:
        """The database login this connection acts as (PostgreSQL)."""
        with translate_db_errors(self):
            with self.read_engine.connect() as conn:
                return str(conn.exec_driver_sql("SELECT session_user").scalar_one())

    def owner(self) -> str | None:
        """The owner of the database (PostgreSQL): the only login that migrates."""
        if self.is_sqlite:
            return None
        with translate_db_errors(self):
            with self.read_engine.connect() as conn:
                return str(
                    conn.exec_driver_sql(
                        "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database "
                        "WHERE datname = current_database()"
                    ).scalar_one()
                )

    def login_exists(self, name: str) -> bool:
        with translate_db_errors(self):
            with self.read_engine.connect() as conn:
                return (
                    conn.exec_driver_sql(
                        "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %(n)s AND rolcanlogin", {"n": name}
                    ).first()
                    is not None
                )

    def describe(self) -> str:
        if self.is_sqlite:
            return str(self.sqlite_path)
        return self.sa_url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    # ----------------------------------------------------------------- sessions

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A writing transaction: committed on success, rolled back on any error."""
        with translate_db_errors(self):
            with self.write_session.begin() as session:
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with translate_db_errors(self):
            with self.read_session() as session:
                yield session

    # ----------------------------------------------------------------- schema

    def current_revision(self) -> str | None:
        # A catalogue query, not inspect().has_table: every command asks, and reflection
        # costs milliseconds per call.
        with translate_db_errors(self):
            with self.read_engine.connect() as conn:
                if not conn.exec_driver_sql(self._version_table_query).scalar():
                    return None
                versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        if len(versions) > 1:
            listed = ", ".join(sorted(versions))
            raise EnvironmentProblem(
                f"the database {self.describe()} records several schema revisions ({listed}): "
                "not made by Reviewer"
            )
        return versions[0] if versions else None

    def is_current(self) -> bool:
        return self.current_revision() == head_revision()

    def require_current(self) -> None:
        """Reading commands never migrate: a schema behind the code stops them (exit 7), and
        one this program does not know (a newer Reviewer's) too."""
        current = self.current_revision()
        head = head_revision()
        self._require_known(current)
        if current != head:
            where = "empty" if current is None else f"at revision {current}"
            raise EnvironmentProblem(
                f"the database {self.describe()} is {where}, the program needs {head}: "
                "run reviewer db upgrade"
            )

    def _require_known(self, current: str | None) -> None:
        if not known_revision(current):
            raise EnvironmentProblem(
                f"the database {self.describe()} is at schema revision {current}, which this "
                f"program does not know (it knows up to {head_revision()}): a newer Reviewer made "
                "or upgraded it, or it was edited by hand; use that Reviewer. Nothing was changed"
            )

    def upgrade(self) -> tuple[bool, Path | None]:
        """Bring the schema to head. Returns (was_new, backup_path).

        On SQLite, a file that holds data is copied aside before any migration runs.
        """
        current = self.current_revision()
        head = head_revision()
        if current == head:
            return False, None
        self._require_known(current)  # never "downgraded" by a migration, nor copied aside again
        if not self.is_sqlite:
            owner, me = self.owner(), self.session_user()
            if owner != me:
                raise EnvironmentProblem(
                    f"the schema of {self.describe()} is at {current or 'nothing'}, the program "
                    f"needs {head}: only the database owner ({owner}) migrates; ask them to run "
                    "reviewer db upgrade"
                )
        backup = None
        path = self.sqlite_path
        if current is not None and path is not None and path.exists():
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            backup = path.with_name(f"{path.name}.{current}.{stamp}.bak")
            self._sqlite_backup(backup)
        from alembic import command  # only when migrating: see alembic_config

        with translate_db_errors(self):
            command.upgrade(alembic_config(self.write_engine), "head")
        return current is None, backup

    def _sqlite_backup(self, target: Path) -> None:
        assert self.sqlite_path is not None
        try:
            src = sqlite3.connect(self.sqlite_path)
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst)
            dst.close()
            src.close()
        except sqlite3.Error as exc:
            raise EnvironmentProblem(f"cannot copy {self.sqlite_path} to {target}: {exc}") from exc

    def backup_to(self, target: Path) -> None:
        """An online copy of a SQLite database (consistent even while others write)."""
        if self.sqlite_path is None:
            raise EnvironmentProblem("online backup is for SQLite files; on PostgreSQL use "
                                     "pg_dump -Fc (see the README, Team mode)")  # fmt: skip
        if target.exists():
            raise EnvironmentProblem(f"{target} already exists: choose a new file")
        tmp = target.with_name(f".{target.name}.part")
        try:
            self._sqlite_backup(tmp)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()

    def staged_copy(self, source: Path) -> Database:
        """A copy of a backup file beside this database, checked to be an intact Reviewer
        database, to verify and record the restore in before it replaces this one."""
        if self.sqlite_path is None:
            raise EnvironmentProblem("restore is for SQLite files")
        staged = self.sqlite_path.with_name(f".{self.sqlite_path.name}.restore")
        for leftover in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
            leftover.unlink(missing_ok=True)
        try:
            _copy_checked(source, staged)
        except EnvironmentProblem:
            staged.unlink(missing_ok=True)
            raise
        return Database(f"sqlite:///{staged}")

    def discard(self) -> None:
        """Close and delete this (staged) database file."""
        self.dispose()
        if self.sqlite_path is not None:
            for path in (self.sqlite_path, Path(f"{self.sqlite_path}-wal"),
                         Path(f"{self.sqlite_path}-shm")):  # fmt: skip
                path.unlink(missing_ok=True)

    def restore_from(self, source: Path) -> None:
        """Replace this SQLite database's content with a backup, in one step."""
        assert self.sqlite_path is not None
        self.dispose()
        _copy_checked(source, self.sqlite_path)

    def table_names(self) -> list[str]:
        with self.read_engine.connect() as conn:
            return inspect(conn).get_table_names()


def _copy_checked(source: Path, target: Path) -> None:
    """Copy an intact Reviewer database into `target` with SQLite's backup API (one step)."""
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise EnvironmentProblem(f"{source} is damaged: {ok}")
            tables = {r[0] for r in src.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables or "audit_events" not in tables:
                raise EnvironmentProblem(f"{source} is not a Reviewer database")
            dst = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.DatabaseError as exc:
        raise EnvironmentProblem(f"cannot restore from {source}: {exc}") from exc


def describe_db_error(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or exc.__class__.__name__
    return text.splitlines()[0]


@contextmanager
def translate_db_errors(db: Database) -> Iterator[None]:
    """Turn the driver's environment failures into EnvironmentProblem (exit 7), and a stored
    value no column type reads back (a status, an outcome or a date edited by hand) into
    IntegrityProblem (exit 1)."""
    try:
        yield
    except (LookupError, ValueError, TypeError) as exc:
        # SQLAlchemy's Enum raises LookupError itself; SQLite's dates, date.fromisoformat's
        # ValueError (a text) or TypeError (a number). Anything else is not a stored value.
        stored = ("Invalid isoformat string", "fromisoformat: argument")
        if type(exc) is not LookupError and not str(exc).startswith(stored):
            raise
        raise IntegrityProblem(f"database {db.describe()}: a stored value Reviewer never writes: {exc} "
                               "(it was changed outside Reviewer: run reviewer verify)") from exc  # fmt: skip
    except OperationalError as exc:
        if (refusal := _pg_refusal(db, exc)) is not None:
            raise refusal from exc
        msg = describe_db_error(exc)
        hint = _read_only_hint(db) if "unable to open" in msg.lower() else ""
        raise EnvironmentProblem(f"database {db.describe()}: {msg}" + (hint or _hint(msg))) from exc
    except DBAPIError as exc:
        if (refusal := _pg_refusal(db, exc)) is not None:
            raise refusal from exc
        msg = describe_db_error(exc)
        if any(
            w in msg.lower() for w in ("readonly", "read-only", "disk", "full", "locked", "not a database")
        ):
            raise EnvironmentProblem(f"database {db.describe()}: {msg}{_hint(msg)}") from exc
        raise


def _pg_refusal(db: Database, exc: DBAPIError) -> NotPermitted | None:
    """PostgreSQL (team mode): a login without database rights (no account, disabled, or
    not allowed what it tried), as NotPermitted with the server's words."""
    if db.is_sqlite:
        return None
    msg = describe_db_error(exc)
    detail = str(getattr(exc, "orig", exc))
    if "CONNECT privilege" in detail:
        login = db.sa_url.username or "this login"
        return NotPermitted(
            f"{msg}: no active account named {login!r} in {db.describe()} (the login has no "
            f"database rights); an admin can add it with `reviewer users add {login} --role "
            "reviewer`"
        )
    if getattr(exc.orig, "sqlstate", None) == "42501":
        return NotPermitted(f"refused by the database: {msg}")
    return None


def _read_only_hint(db: Database) -> str:
    """Why SQLite cannot open a file that exists: a read-only file system or file."""
    path = db.sqlite_path
    if path is None or not path.exists():
        return ""
    try:
        read_only_fs = bool(os.statvfs(path.parent).f_flag & os.ST_RDONLY)
    except OSError:
        read_only_fs = False
    if read_only_fs or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return (
            " (the database is read-only: its file or the file system holding it cannot "
            "be written; nothing was written)"
        )
    return ""


def _hint(msg: str) -> str:
    low = msg.lower()
    if "locked" in low:
        return " (another program holds the database; try again when it has finished)"
    if "readonly" in low or "read-only" in low:
        return " (the database file or its folder is read-only)"
    if "full" in low:
        return " (free some disk space and try again; nothing was written)"
    if "unable to open" in low:
        return " (check the path and its permissions)"
    if "not a database" in low or "image is malformed" in low:
        return (" (it is not a SQLite database, or it is damaged: check the path, or put back a "
                "verified backup with reviewer db restore)")  # fmt: skip
    if "malformed json" in low:
        return " (a stored document or evaluation was changed outside Reviewer: run reviewer verify)"
    return ""
