"""`services.direct`: `reviewer evaluate FILE` on a SQLite database read with sqlite3 (no
SQLAlchemy) gives what the usual way gives, and gives up on whatever it does not know, so
that the usual way names it. Real databases made by the real commands."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.services import direct, evaluations
from reviewer.services.files import figures_of
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok

NAME = "Northwind Optics Ltd"


def _doc(ref: str, cameras: int = 40, name: str = NAME) -> dict:
    doc = make({"use.operations": ["identification"], "scale.cameras": cameras, "customer.name": name})
    doc["reference"] = ref
    return doc


def _camera(cli, ref: str, cameras: int = 40, name: str = NAME) -> str:
    path = cli.tmp / f"{ref}.json"
    path.write_text(json.dumps(_doc(ref, cameras, name)))
    return str(path)


@pytest.fixture
def customers(cli, tmp_path):
    """One customer's requests in every standing that matters to its totals: open, awaiting
    its check, decided and approved, decided and refused, approved then reopened; another
    customer's; and the request files a user evaluates beside them."""
    cli.tmp = tmp_path
    ok(cli, "db", "upgrade", user=ADMIN)
    for name, roles in (("rev1", ["reviewer"]), ("rev2", ["reviewer"]), ("sen1", ["senior", "reviewer"]),
                        ("sen2", ["senior", "reviewer"])):  # fmt: skip
        ok(cli, "users", "add", name, *[a for r in roles for a in ("--role", r)], user=ADMIN)
    for n, cameras in enumerate((40, 30, 20, 10, 5, 7), start=1):
        ok(cli, "import", _camera(cli, f"CAM-{n}", cameras), user=ADMIN)
    ok(cli, "import", _camera(cli, "OTHER-1", 90, name="Southwind Ltd"), user=ADMIN)
    for ref, outcome in (
        ("CAM-2", "approve_with_conditions"),
        ("CAM-3", "refuse"),
        ("CAM-5", "approve_with_conditions"),
    ):
        ok(cli, "claim", ref, user="sen1")
        ok(cli, "decide", ref, "--outcome", outcome, "--justification", JUST, user="sen1")
        code, _out, err = cli("check", ref, "--confirm", user="sen2")  # the four eyes HR-30 asks for
        assert code == 0 or "is decided, not awaiting_second" in err, err
    ok(cli, "reopen", "CAM-5", "--reason", "The customer added sites; judge it again.", user="sen1")
    ok(cli, "claim", "CAM-4", user="rev1")
    ok(cli, "decide", "CAM-4", "--outcome", "approve_with_conditions", "--justification", JUST, user="rev1")
    files = [_doc("NEW-1", 15), _doc("NEW-2", 15), _doc("CAM-1", 60), _doc("NEW-3", 3, name="Eastwind Ltd")]
    return cli, [figures_of(doc) for doc in files]


def _usual(cli, slim):
    from reviewer.context import existing_database
    from reviewer.services.totals import file_totals

    db = existing_database(cli.url)
    try:
        return file_totals(slim, db)
    finally:
        db.dispose()


def test_the_totals_read_directly_are_the_usual_ones(customers):
    cli, slim = customers
    reader = direct.opened(cli.db_path)
    try:
        quick = reader.file_totals(slim)
        ruleset, limit = reader.rules_and_limit()
    finally:
        reader.close()
    usual = _usual(cli, slim)
    assert quick.members == usual.members and quick.key_of == usual.key_of
    parts = quick.get("NEW-1")
    # Open, awaiting a check, approved, reopened count; refused does not; the file's CAM-1
    # stands for the stored one; another customer's requests are not this one's.
    assert parts["cameras"] == [["CAM-1", 60], ["CAM-2", 30], ["CAM-4", 10], ["CAM-5", 5],
                                ["CAM-6", 7], ["NEW-1", 15], ["NEW-2", 15]]  # fmt: skip
    assert quick.get("NEW-3")["cameras"] == [["NEW-3", 3]]
    from reviewer.context import open_context
    from reviewer.services.importing import import_limit

    ctx = open_context(cli.url, ADMIN)
    try:
        with ctx.db.read() as session:
            active, usual_limit = evaluations.active_rules(session).ruleset, import_limit(session)
    finally:
        ctx.db.dispose()
    assert ruleset.sha256 == active.sha256 and limit == usual_limit == 256
    ok(cli, "settings", "set", "max_import_mb", "7", user=ADMIN)
    reader = direct.opened(cli.db_path)
    try:
        assert reader.rules_and_limit()[1] == 7
    finally:
        reader.close()


TRAIL = "is not the one its audit event records"


@pytest.mark.parametrize(
    ("edit", "code", "words"),
    [
        ("UPDATE rule_sets SET sha256 = '00' || substr(sha256, 3) WHERE state = 'active'", 1, TRAIL),
        ("UPDATE rule_sets SET content = replace(content, '50', '51') WHERE state = 'active'", 3,
         "gives needs_information, expected escalate_second"),
        ("DELETE FROM audit_events WHERE action = 'bootstrap'", 1, TRAIL),
        ("UPDATE alembic_version SET version_num = '0001'", 7, "run reviewer db upgrade"),
        ("UPDATE requests SET status = 'approved' WHERE reference = 'CAM-6'", 1,
         "a stored value Reviewer never writes: 'approved'"),
        ("UPDATE requests SET document = 'not json' WHERE reference = 'CAM-6'", 7,
         "malformed JSON (a stored document or evaluation was changed outside Reviewer: run reviewer verify)"),
        ("UPDATE rule_sets SET effective_on = 'garbage' WHERE state = 'active'", 1,
         "a stored value Reviewer never writes: Invalid isoformat string: 'garbage'"),
        ("ALTER TABLE rule_sets DROP COLUMN backtest", 7, "no such column: rule_sets.backtest"),
        # No active rule set: the usual way evaluates by the bundled one, as it always has.
        ("UPDATE rule_sets SET state = 'retired' WHERE state = 'active'", 0, ""),
        # A schema that is not the migrations' (here a view of its own): read the usual way.
        ("CREATE VIEW mine AS SELECT 1 AS one", 0, ""),
    ],
)  # fmt: skip
def test_what_it_does_not_know_is_read_the_usual_way(customers, capsys, edit, code, words):
    """Each hand edit makes the quick reader give up; `evaluate` then says what the usual way
    says, as every other command does."""
    from reviewer.cli import main

    cli, slim = customers
    sample = _camera(cli, "NEW-1", 15)
    conn = sqlite3.connect(cli.db_path)
    with conn:
        conn.execute(edit)
    conn.close()
    reader = direct.opened(cli.db_path)
    with pytest.raises(direct.READ_ERRORS):
        try:
            reader.rules_and_limit()
            reader.file_totals(slim)
        finally:
            reader.close()
    got = main(["evaluate", sample, "--format", "json", "--database", cli.url])
    out, err = capsys.readouterr()
    assert got == code and words in err, (got, err)
    assert (out != "") == (code == 0)


def test_a_file_that_is_not_a_database_is_read_the_usual_way(tmp_path, capsys):
    from reviewer.cli import main
    from tests.helpers.cli import EXAMPLES

    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all" * 100)
    reader = direct.opened(bogus)
    assert reader is not None
    with pytest.raises(direct.READ_ERRORS):
        reader.rules_and_limit()
    reader.close()
    code = main(["evaluate", str(EXAMPLES / "p02-us-sheriff.json"), "--database", f"sqlite:///{bogus}"])
    out, err = capsys.readouterr()
    assert code == 7 and out == "" and str(bogus) in err
    assert bogus.read_bytes() == b"not a database at all" * 100  # nothing written


def test_evaluate_gives_the_same_output_either_way(customers, capsys, monkeypatch):
    from reviewer import cli as cli_module

    cli, _slim = customers
    files = [_camera(cli, ref, 15) for ref in ("NEW-1", "NEW-2")] + [_camera(cli, "CAM-1", 60)]
    argv = ["evaluate", *files, "--format", "json", "--database", cli.url]
    assert cli_module.main(argv) == 0
    quick = capsys.readouterr().out
    monkeypatch.setattr(cli_module, "_quick_database", lambda _args: None)
    assert cli_module.main(argv) == 0
    usual = capsys.readouterr().out
    assert quick == usual and "HR-30" in quick
    assert json.loads(quick)[0]["customer_total"]["cameras"][0] == ["CAM-1", 60]


def test_the_schema_digest_is_every_migrated_databases(tmp_path):
    """`reviewer.schema.SQLITE_SCHEMA` is the catalogue of a database the migrations made,
    whether at once or from an older revision (a new revision: put the value printed here)."""
    from alembic import command

    from reviewer.models.db import Database, alembic_config
    from reviewer.schema import SQLITE_SCHEMA

    digests = []
    for name, steps in (("at-once.db", ["head"]), ("in-steps.db", ["0001", "0004", "head"])):
        db = Database(f"sqlite:///{tmp_path / name}")
        for step in steps:
            command.upgrade(alembic_config(db.write_engine), step)
        db.dispose()
        conn = sqlite3.connect(tmp_path / name)
        digests.append(direct.schema_digest(conn))
        conn.close()
    assert digests == [SQLITE_SCHEMA] * 2, f"SQLITE_SCHEMA = {digests[0]!r}"


def test_a_rollback_journal_database_is_read_the_usual_way(customers, capsys):
    """The usual way puts a database into WAL mode (or says why it cannot): the quick reader,
    which never writes, leaves such a file to it."""
    from reviewer.cli import main

    cli, _slim = customers
    conn = sqlite3.connect(cli.db_path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    reader = direct.opened(cli.db_path)
    with pytest.raises(direct.GiveUp, match="not in WAL mode"):
        reader.rules_and_limit()
    reader.close()
    assert main(["evaluate", _camera(cli, "NEW-1", 15), "--database", cli.url]) == 0
    assert "NEW-1" in capsys.readouterr().out


def test_it_writes_nothing_not_even_a_checkpoint(customers, tmp_path):
    """Opened read-only: a write-ahead log another process left un-checkpointed stays as it
    is, and so does the database file."""
    cli, _slim = customers
    writer = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "conn.execute('UPDATE requests SET updated_at = updated_at')\n"
        "os._exit(0)  # no close: the log is not checkpointed\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(cli.db_path)], check=True)
    wal = Path(f"{cli.db_path}-wal")
    before = (cli.db_path.read_bytes(), wal.read_bytes())
    assert len(before[1]) > 0
    reader = direct.opened(cli.db_path)
    try:
        assert reader.rules_and_limit()[1] == 256
    finally:
        reader.close()
    assert (cli.db_path.read_bytes(), wal.read_bytes()) == before


def test_a_name_that_looks_like_a_uri_is_the_file_it_names(customers, tmp_path, monkeypatch):
    """`sqlite:///file:x.db` names the file `file:x.db` (as SQLAlchemy reads it), not a URI."""
    import shutil

    cli, _slim = customers
    monkeypatch.chdir(tmp_path)
    shutil.copy(cli.db_path, tmp_path / "file:x.db")
    reader = direct.opened(Path("file:x.db"))
    try:
        assert reader.rules_and_limit()[1] == 256
    finally:
        reader.close()
    assert not (tmp_path / "x.db").exists()
