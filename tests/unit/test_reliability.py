"""Faults that really happen, in process: the copy made before a migration restores, and an
unexpected error goes to the log with its traceback (the faults that need a program of their
own, kills included, are tests/system/test_reliability_processes.py)."""

from __future__ import annotations

import sqlite3

from tests.helpers.workflow import ADMIN, ok


def test_the_copy_made_before_a_migration_can_be_restored(cli, tmp_path):
    from alembic import command

    from reviewer.models.db import Database, alembic_config

    db = Database(cli.url)
    command.upgrade(alembic_config(db.write_engine), "0002")
    db.dispose()
    conn = sqlite3.connect(cli.db_path)
    with conn:
        conn.execute("insert into accounts (name, active, created_at) values (?, 1, 'x')", (ADMIN,))
        conn.execute("insert into account_roles (account_id, role) values (1, 'admin')")
        conn.execute("insert into settings (key, value) values ('organisation_name', 'Before')")
    conn.close()
    ok(cli, "settings", "set", "organisation_name", "After", user=ADMIN)  # migrates first
    copies = list(cli.db_path.parent.glob("reviewer.db.0002.*.bak"))
    assert len(copies) == 1
    ok(cli, "db", "restore", str(copies[0]), user=ADMIN)
    code, out, _ = cli("db", "current", user=ADMIN)
    assert "revision 0002" in out and "behind" in out
    conn = sqlite3.connect(cli.db_path)
    assert conn.execute("select value from settings").fetchone() == ("Before",)
    conn.close()


def test_unexpected_errors_are_logged_with_their_traceback(cli, tmp_path, isolated_home, monkeypatch):
    """A bug (not the user's input or environment) goes to the log file in the data folder."""
    import reviewer.services.importing as services

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug for the test")

    monkeypatch.setattr(services, "import_files", broken)
    f = tmp_path / "one.jsonl"
    f.write_text('{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"}}\n')
    code, _out, err = cli("import", str(f), user=ADMIN)
    log = isolated_home / "data" / "reviewer" / "reviewer.log"
    assert code == 70 and str(log) in err and "Traceback" not in err
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError: a bug for the test" in text
