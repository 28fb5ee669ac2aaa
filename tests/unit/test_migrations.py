"""Migrations: head matches the models; a database holding data migrates and keeps it."""

from __future__ import annotations

import sqlite3

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from reviewer.models import Base, migrations
from reviewer.models.db import Database, alembic_config, head_revision

pytestmark = pytest.mark.migrates

# Indexes on an expression: Alembic's comparison cannot read them (SQLite's reflection skips
# them, PostgreSQL's text differs from the models'), so they are compared here, by their
# definition as each database keeps it.
EXPRESSION_INDEXES = {"ix_requests_waiting", "ix_requests_waiting_recent"}


def schema_diff(conn) -> list:
    """Alembic's differences between the database and the models, and the expression indexes
    missing or not as the models write them."""
    import warnings

    from sqlalchemy import text

    from reviewer.models import WAITS_SQL

    def compared(obj, name, type_, _reflected, _other) -> bool:
        return not (type_ == "index" and name in EXPRESSION_INDEXES)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": compared}), Base.metadata
        )
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    else:
        rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'requests'"))
    found = {name: " ".join(sql.split()) for name, sql in rows if name in EXPRESSION_INDEXES}
    wanted = {"ix_requests_waiting": "received_on)", "ix_requests_waiting_recent": "received_on DESC)"}
    if conn.dialect.name == "sqlite":  # as the models write it, word for word
        wanted = {
            name: f"CREATE INDEX {name} ON requests ({WAITS_SQL}, {end}" for name, end in wanted.items()
        }
        missing = [(name, found.get(name), sql) for name, sql in wanted.items() if found.get(name) != sql]
    else:  # in PostgreSQL's words (test_queue checks that the queue's sort walks them)
        missing = [(name, found.get(name), end) for name, end in wanted.items()
                   if not found.get(name, "").endswith(f"ELSE 1 END), {end}") or "'awaiting_second'" not in found[name]]  # fmt: skip
    return diff + missing


def test_empty_database_upgraded_to_head_matches_the_models(tmp_path):
    with Database(f"sqlite:///{tmp_path / 'm.db'}") as db:
        was_new, backup = db.upgrade()
        assert was_new and backup is None
        assert db.current_revision() == head_revision()
        with db.write_engine.connect() as conn:
            diff = schema_diff(conn)
    assert diff == []


def test_migrated_schema_matches_the_models_on_both_backends(db_cli):
    if db_cli.backend == "sqlite":
        assert db_cli("db", "upgrade")[0] == 0
    with Database(db_cli.owner_url()) as db:
        assert db.current_revision() == head_revision()
        with db.write_engine.connect() as conn:
            diff = schema_diff(conn)
    assert diff == []


def test_database_with_data_migrates_keeps_it_and_is_copied_aside(cli, examples):
    db = Database(cli.url)
    command.upgrade(alembic_config(db.write_engine), "0001")
    assert db.current_revision() == "0001"
    db.dispose()  # it can still answer (below): a disposed engine connects again
    # Reading commands refuse a schema that is behind (exit 7) and never migrate it.
    code, _out, err = cli("verify")
    assert code == 7 and "run reviewer db upgrade" in err
    assert db.current_revision() == "0001"
    db.dispose()
    # Put data in at 0001 the way that revision's schema allows.
    conn = sqlite3.connect(cli.db_path)
    conn.execute("insert into settings (key, value) values ('organisation_name', 'Acme Review')")
    conn.commit()
    conn.close()
    code, out, err = cli("db", "upgrade")
    assert code == 0, err
    assert "copied to" in err
    backups = list(cli.db_path.parent.glob("reviewer.db.0001.*.bak"))
    assert len(backups) == 1
    conn = sqlite3.connect(cli.db_path)
    assert conn.execute("select value, updated_by from settings").fetchall() == [("Acme Review", None)]
    conn.close()
    old = sqlite3.connect(backups[0])
    assert old.execute("select version_num from alembic_version").fetchone() == ("0001",)
    old.close()
    code, out, _ = cli("db", "current")
    assert code == 0 and "up to date" in out


def test_sqlite_runs_in_wal_mode_with_foreign_keys(cli):
    assert cli("db", "upgrade")[0] == 0
    with Database(cli.url) as db, db.write_engine.connect() as conn:
        assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar() == 1


def test_the_revisions_named_in_the_package_are_the_scripts():
    scripts = ScriptDirectory.from_config(alembic_config())
    assert head_revision() == scripts.get_current_head() == migrations.HEAD
    assert sorted(migrations.REVISIONS) == sorted(s.revision for s in scripts.walk_revisions())


def test_a_version_table_with_two_rows_is_refused(cli):
    assert cli("db", "upgrade")[0] == 0
    cli.sql("INSERT INTO alembic_version (version_num) VALUES ('9999')")
    code, _out, err = cli("users", "list", user="admin1")
    assert code == 7 and f"several schema revisions ({migrations.HEAD}, 9999)" in err


@pytest.mark.migrates
def test_a_revision_this_program_does_not_know_stops_every_command_and_changes_nothing(cli):
    """A newer Reviewer's database (or a revision edited by hand): reading and writing
    commands and `db upgrade` stop with exit 7 saying so (writes crashed with exit 70, and each
    try left a copy of the database beside it); `db current` says it is unknown, not behind."""
    assert cli("seed-demo", "--count", "2", user="admin1")[0] == 0
    cli.sql("UPDATE alembic_version SET version_num = '9999'")
    before = sorted(p.name for p in cli.db_path.parent.iterdir())
    for argv in (("show", "DEMO-000001"), ("note", "DEMO-000001", "--text", "a note of a reviewer"),
                 ("db", "upgrade"), ("verify",)):  # fmt: skip
        code, out, err = cli(*argv, user="admin1")
        assert code == 7 and out == "", (argv, out, err)
        assert f"is at schema revision 9999, which this program does not know (it knows up to " \
               f"{migrations.HEAD})" in err, (argv, err)  # fmt: skip
    assert sorted(p.name for p in cli.db_path.parent.iterdir()) == before  # no copy made aside
    code, out, _err = cli("db", "current", user="admin1")
    assert code == 0 and "revision 9999" in out and "unknown to this program" in out
    assert cli.sql("SELECT count(*) FROM audit_events WHERE action = 'note'") == [(0,)]


def test_a_version_table_made_a_view_by_hand_is_still_read_as_the_revision(cli):
    """Alembic reads a view named alembic_version as its table; so does Reviewer, or a writing
    command would take the database for a new one and bootstrap it again (it crashed, exit 70)."""
    assert cli("seed-demo", "--count", "2", user="admin1")[0] == 0
    head = head_revision()
    cli.sql("DROP TABLE alembic_version")
    cli.sql(f"CREATE VIEW alembic_version AS SELECT '{head}' AS version_num")
    code, out, err = cli("claim", "DEMO-000001", user="admin1")
    assert code == 0, err
    assert "created database" not in out
    assert cli.sql("SELECT count(*) FROM accounts") == [(1,)]
