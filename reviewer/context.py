"""The application context: which database, who is acting, and the per-user settings.

`open_context` is the one place that opens a database or decides who is acting; the command
line, the window and the tests all go through it, from plain values (a URL, a user name,
whether the work writes).

Who is acting (`workflow.md`): on SQLite the OS login, or `--user` / `REVIEWER_USER`; on
PostgreSQL the database login (`session_user`), and naming anyone is refused.
Writing work brings the schema to head first (copying a SQLite file aside) and, on a new
SQLite file, creates the first account and activates the bundled rule set; reading work
never migrates and stops with exit 7 on a schema that is behind.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from reviewer import settings
from reviewer.errors import EnvironmentProblem, NotPermitted, UsageError
from reviewer.models.db import Database
from reviewer.services.accounts import bootstrap
from reviewer.services.audit import Actor


@dataclass(frozen=True)
class Context:
    """What every user action needs: the database, the acting user, the user's settings."""

    db: Database
    actor: Actor
    user_settings: settings.UserSettings
    created: bool = False  # this call created the database (and its first account)
    backup: Path | None = None  # the copy of the file made before migrating it


def open_database(url: str) -> Database:
    """A database by URL, for worker processes (pass `functools.partial(open_database, url)`)."""
    return Database(checked_url(url))


URL_FORMS = "sqlite:///PATH or postgresql+psycopg://LOGIN@HOST/DB"
_PASSWORD = re.compile(r"(//[^/:@]*:)[^@/]*@")


def _url_source(given: str | None) -> str:
    """Where the URL in use came from (the order of `settings.resolve_database_url`)."""
    if given:
        return "--database"
    if os.environ.get(settings.ENV_DATABASE):
        return settings.ENV_DATABASE
    return f"database_url in {settings.config_file()}"


def checked_url(url: str, source: str = "the database URL") -> str:
    """The URL, once it is known to name a database this program can open: a SQLite file or
    a PostgreSQL database, with a driver that is installed. Anything else (a plain path, a
    port that is no number, an unknown scheme) is a UsageError (exit 2) that says what a URL
    looks like, its password hidden."""
    try:
        parsed: URL | None = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    shown = _PASSWORD.sub(r"\1***@", url) if parsed is None else parsed.render_as_string(hide_password=True)
    problem = ""
    if parsed is None:
        problem = "not a database URL"
        if ":" not in url and url.strip():
            problem += f" (for a SQLite file there, write sqlite:///{Path(url).expanduser().absolute()})"
    elif parsed.get_backend_name() not in ("sqlite", "postgresql"):
        problem = "not a SQLite or PostgreSQL URL"
    elif parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        problem = "a SQLite URL needs the path of its file"
    else:
        try:
            parsed.get_dialect().import_dbapi()
        except (NoSuchModuleError, ImportError) as exc:
            problem = f"cannot use this driver ({exc})"
    if problem:
        raise UsageError(f"{source} {shown!r}: {problem}; a URL looks like {URL_FORMS}")
    return url


def os_login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return str(os.getuid())


def _named_user(user: str | None) -> str | None:
    return user or os.environ.get(settings.ENV_USER) or None


def _actor(db: Database, user: str | None) -> Actor:
    named = _named_user(user)
    if not db.is_sqlite:
        if named:
            raise NotPermitted(
                "--user and REVIEWER_USER are refused on PostgreSQL: you act as your database "
                "login; connect as that login instead"
            )
        return Actor(name=db.session_user(), os_login=os_login())
    login = os_login()
    return Actor(name=named or login, os_login=login)


def _missing(db: Database) -> bool:
    """A SQLite file that does not exist yet (connecting would create it, empty)."""
    return db.sqlite_path is not None and not db.sqlite_path.exists()


def open_context(
    url: str | None = None,
    user: str | None = None,
    write: bool = False,
    *,
    first_account: bool = True,
    check_schema: bool = True,
    shared_engines: bool = False,
) -> Context:
    """Open the database the user asked for (`--database`, else `REVIEWER_DATABASE_URL`, else
    the settings file, else the data folder) and decide who is acting.

    `write`: migrate to head and, with `first_account`, initialise a new SQLite file.
    Otherwise the database must exist and (with `check_schema`) be at head. `shared_engines`:
    the engines (and their compiled statements) of earlier commands in this process serve
    again (`models.db._engine`)."""
    user_settings = settings.UserSettings.load()
    db = Database(checked_url(settings.resolve_database_url(url), _url_source(url)),
                  shared_engines=shared_engines)  # fmt: skip
    try:
        return _open(db, user, write, first_account, check_schema, user_settings)
    except BaseException:
        db.dispose()  # nothing is left open by a refusal
        raise


def _open(db: Database, user: str | None, write: bool, first_account: bool, check_schema: bool,
          user_settings: settings.UserSettings) -> Context:  # fmt: skip
    if not db.is_sqlite and _named_user(user):
        _actor(db, user)  # refuses --user before anything else happens
    if not write:
        if _missing(db):
            raise EnvironmentProblem(f"no database at {db.sqlite_path}: import requests or run "
                                     "reviewer db upgrade first")  # fmt: skip
        if check_schema:
            db.require_current()
        return Context(db, _actor(db, user), user_settings)
    was_new, backup = db.upgrade()
    actor = _actor(db, user)
    created = was_new and db.is_sqlite and first_account
    if created:
        with db.write() as session:
            bootstrap(session, actor)
    return Context(db, actor, user_settings, created=created, backup=backup)


def existing_database(url: str | None = None) -> Database | None:
    """The database if one exists at head (for `evaluate`, which falls back to the bundled
    rule set without one); None for a SQLite file not created yet."""
    db = Database(checked_url(settings.resolve_database_url(url), _url_source(url)))
    if _missing(db):
        db.dispose()
        return None
    try:
        db.require_current()
    except BaseException:
        db.dispose()
        raise
    return db
