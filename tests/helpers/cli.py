"""Paths of the repository and its test data, and the in-process `reviewer` runners the
database fixtures hand out: `Cli` on a SQLite file, `PgCli` on PostgreSQL (team mode)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from reviewer.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
EXAMPLES = DATA / "examples"
CORPUS = DATA / "corpus"
PG_OWNER_URL = os.environ.get("REVIEWER_TEST_PG_URL")
PG_LOGIN_URL = os.environ.get("REVIEWER_TEST_PG_URL2")
PG_APP_ROLE = os.environ.get("REVIEWER_TEST_PG_APP_ROLE", "reviewer_app")
DEFAULT_PG_USER = "admin1"


class Cli:
    """Runs `reviewer` in-process against one SQLite database and captures its output."""

    backend = "sqlite"

    def __init__(self, db_path: Path, capsys) -> None:
        self.db_path = db_path
        self.url = f"sqlite:///{db_path}"
        self.capsys = capsys

    def url_for(self, user: str | None) -> str:
        return self.url

    def user_args(self, user: str | None) -> list[str]:
        return ["--user", user] if user else []

    def __call__(self, *args: str, user: str | None = None):
        argv = [*args, "--database", self.url_for(user), *self.user_args(user)]
        self.capsys.readouterr()
        code = cli_main(argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    def dump(self) -> list[str]:
        """The logical dump of the database: its whole content as SQL text."""
        conn = sqlite3.connect(self.db_path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()

    def sql(self, statement: str, params: dict[str, Any] | None = None) -> list[tuple]:
        """Run SQL as the database owner (plain SQL on the file, as a tamperer would)."""
        with self.owner_connection() as conn:
            result = conn.execute(text(statement), params or {})
            return [tuple(r) for r in result] if result.returns_rows else [(result.rowcount,)]

    @contextlib.contextmanager
    def owner_connection(self) -> Iterator[Connection]:
        """A transaction as the database owner, committed at the end."""
        engine = create_engine(self.owner_url())
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()

    def owner_url(self) -> str:
        return self.url


# The columns of every table of the schema, in one catalogue query (reflecting them table by
# table made a dump of the database take 80 ms, and `refused` takes two per call).
COLUMNS = """
SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
 GROUP BY c.relname ORDER BY c.relname
"""


# The logins that are members of the application's group role (cluster-wide), but the owner.
MEMBERS = """
SELECT u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
  JOIN pg_roles u ON u.oid = m.member
 WHERE g.rolname = :group AND u.rolcanlogin AND u.rolname <> current_user ORDER BY 1
"""


@functools.cache
def owner_engine() -> Engine:
    """The owner's engine of this test process, for the helpers' own SQL (dumps, snapshots,
    resets): one pool instead of a new login per call."""
    assert PG_OWNER_URL
    # No server-side prepared statements: a test may change a table under a cached plan.
    return create_engine(PG_OWNER_URL, connect_args={"prepare_threshold": None})


class PgCli(Cli):
    """The same, on PostgreSQL: each test user acts through the database login of its name."""

    backend = "pg"

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.url = PG_OWNER_URL  # type: ignore[assignment]
        self.db_path = None  # type: ignore[assignment]

    def owner_url(self) -> str:
        return PG_OWNER_URL  # type: ignore[return-value]

    @contextlib.contextmanager
    def owner_connection(self) -> Iterator[Connection]:
        with owner_engine().begin() as conn:
            yield conn

    def url_for(self, user: str | None) -> str:
        url = make_url(PG_LOGIN_URL).set(username=user or DEFAULT_PG_USER)
        return url.render_as_string(hide_password=False)

    def user_args(self, user: str | None) -> list[str]:
        return []

    def dump(self) -> list[str]:
        """Every row of every table of the schema, as text, in a fixed order."""
        with owner_engine().connect() as conn:
            out = []
            for table, cols in conn.execute(text(COLUMNS)):
                order = ", ".join(f'"{c}"' for c in cols)
                for row in conn.execute(text(f'SELECT * FROM public."{table}" ORDER BY {order}')):
                    out.append(f"{table}: {json.dumps([str(v) for v in row])}")
            return out

    def reset(self) -> None:
        """An empty schema, migrated by the owner, initialised with the first account."""
        with self.owner_connection() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {PG_APP_ROLE}"))
            # Memberships of the group role are cluster-wide: a fresh schema starts with
            # none, so each login has exactly the rights this test's accounts give it.
            for login in conn.execute(text(MEMBERS), {"group": PG_APP_ROLE}).scalars().all():
                conn.execute(text(f'REVOKE {PG_APP_ROLE} FROM "{login}"'))

    def initialise(self) -> None:
        for args in (("db", "upgrade"), ("db", "init", "--admin", DEFAULT_PG_USER)):
            self.capsys.readouterr()
            code = cli_main([*args, "--database", self.owner_url()])
            _out, err = self.capsys.readouterr()
            assert code == 0, err


def _require_pg() -> None:
    if PG_OWNER_URL and PG_LOGIN_URL:
        return
    message = (
        "PostgreSQL tests need REVIEWER_TEST_PG_URL (owner) and REVIEWER_TEST_PG_URL2 "
        "(a reviewer login); see the README, Team mode"
    )
    if os.environ.get("REVIEWER_REQUIRE_PG") == "1":
        pytest.fail(message + " (REVIEWER_REQUIRE_PG=1: a skip is a failure)")
    pytest.skip(message)
