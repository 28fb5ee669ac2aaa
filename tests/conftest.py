"""Shared fixtures. Qt runs offscreen; every test gets its own data and config folders.

Database tests take `db_cli`, which runs them on SQLite and, when REVIEWER_TEST_PG_URL (the
database owner) and REVIEWER_TEST_PG_URL2 (a reviewer login) are set, on PostgreSQL too.
Without them the PostgreSQL runs skip with a message; with REVIEWER_REQUIRE_PG=1 (CI) a skip
is a failure. On PostgreSQL a test user NAME acts through the database login NAME, which
shares the password of REVIEWER_TEST_PG_URL2 (the README's Team mode section and .ci/run
create them).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import sqlite3  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from reviewer.cli import main as cli_main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"
PG_OWNER_URL = os.environ.get("REVIEWER_TEST_PG_URL")
PG_LOGIN_URL = os.environ.get("REVIEWER_TEST_PG_URL2")
PG_APP_ROLE = os.environ.get("REVIEWER_TEST_PG_APP_ROLE", "reviewer_app")
DEFAULT_PG_USER = "admin1"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("REVIEWER_DATABASE_URL", raising=False)
    monkeypatch.delenv("REVIEWER_USER", raising=False)
    return home


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
        engine = create_engine(self.owner_url())
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params or {})
                return [tuple(r) for r in result] if result.returns_rows else \
                    [(result.rowcount,)]
        finally:
            engine.dispose()

    def owner_url(self) -> str:
        return self.url


class PgCli(Cli):
    """The same, on PostgreSQL: each test user acts through the database login of its name."""

    backend = "pg"

    def __init__(self, capsys) -> None:
        self.capsys = capsys
        self.url = PG_OWNER_URL  # type: ignore[assignment]
        self.db_path = None  # type: ignore[assignment]

    def owner_url(self) -> str:
        return PG_OWNER_URL  # type: ignore[return-value]

    def url_for(self, user: str | None) -> str:
        url = make_url(PG_LOGIN_URL).set(username=user or DEFAULT_PG_USER)
        return url.render_as_string(hide_password=False)

    def user_args(self, user: str | None) -> list[str]:
        return []

    def dump(self) -> list[str]:
        engine = create_engine(self.owner_url())
        try:
            with engine.connect() as conn:
                out = []
                for table in sorted(inspect(conn).get_table_names()):
                    cols = [c["name"] for c in inspect(conn).get_columns(table)]
                    order = ", ".join(f'"{c}"' for c in cols)
                    for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')):
                        out.append(f"{table}: {json.dumps([str(v) for v in row])}")
                return out
        finally:
            engine.dispose()

    def reset(self) -> None:
        """An empty schema, migrated by the owner, initialised with the first account."""
        engine = create_engine(self.owner_url())
        try:
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {PG_APP_ROLE}"))
        finally:
            engine.dispose()

    def initialise(self) -> None:
        for args in (("db", "upgrade"), ("db", "init", "--admin", DEFAULT_PG_USER)):
            self.capsys.readouterr()
            code = cli_main([*args, "--database", self.owner_url()])
            _out, err = self.capsys.readouterr()
            assert code == 0, err


def _require_pg() -> None:
    if PG_OWNER_URL and PG_LOGIN_URL:
        return
    message = ("PostgreSQL tests need REVIEWER_TEST_PG_URL (owner) and REVIEWER_TEST_PG_URL2 "
               "(a reviewer login); see the README, Team mode")
    if os.environ.get("REVIEWER_REQUIRE_PG") == "1":
        pytest.fail(message + " (REVIEWER_REQUIRE_PG=1: a skip is a failure)")
    pytest.skip(message)


@pytest.fixture
def cli(tmp_path, capsys) -> Cli:
    """A SQLite database (for tests of SQLite-only behaviour: files, backups, WAL)."""
    return Cli(tmp_path / "reviewer.db", capsys)


@pytest.fixture(params=["sqlite", "pg"])
def db_cli(request, tmp_path, capsys) -> Cli:
    """The same test on SQLite and on PostgreSQL (team mode)."""
    if request.param == "sqlite":
        return Cli(tmp_path / "reviewer.db", capsys)
    _require_pg()
    pg = PgCli(capsys)
    pg.reset()
    pg.initialise()
    return pg


@pytest.fixture
def examples() -> list[Path]:
    files = sorted(EXAMPLES.glob("p*.json"))
    assert files, f"no examples found in {EXAMPLES}"
    return files


@pytest.fixture
def expected() -> dict[str, dict]:
    return {e["file"]: e for e in json.loads((EXAMPLES / "expected.json").read_text())}
