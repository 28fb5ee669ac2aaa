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
from dataclasses import dataclass
from pathlib import Path

from reviewer import settings
from reviewer.errors import EnvironmentProblem, NotPermitted
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
    return Database(url)


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
) -> Context:
    """Open the database the user asked for (`--database`, else `REVIEWER_DATABASE_URL`, else
    the settings file, else the data folder) and decide who is acting.

    `write`: migrate to head and, with `first_account`, initialise a new SQLite file.
    Otherwise the database must exist and (with `check_schema`) be at head."""
    user_settings = settings.UserSettings.load()
    db = Database(settings.resolve_database_url(url))
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
    db = Database(settings.resolve_database_url(url))
    if _missing(db):
        return None
    db.require_current()
    return db
