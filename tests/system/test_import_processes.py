"""`reviewer import` on worker processes: a large file (validated by them, as every large input
is) and the same result and the same errors with and without them (the rest of import and
export is tests/unit/test_import.py)."""

from __future__ import annotations

import sqlite3

from reviewer import request as rq
from reviewer.services.importing import PARALLEL_BYTES
from tests.helpers.database import hashes
from tests.helpers.documents import jsonl


def test_large_file_streams_without_holding_dicts(db_cli, tmp_path):
    """A 5 MB JSONL file (over the size that brings in worker processes) imports in one
    transaction."""
    cli = db_cli
    f = jsonl(tmp_path / "big.jsonl", 1000, seed=3, padded=True)
    assert f.stat().st_size > PARALLEL_BYTES
    code, out, err = cli("import", str(f))
    assert code == 0, err
    assert "imported 1000 new" in out


def _import_with_jobs(db_path, files, jobs):
    from reviewer.errors import InvalidInput
    from reviewer.models.db import Database
    from reviewer.services.accounts import bootstrap
    from reviewer.services.audit import Actor
    from reviewer.services.importing import import_files

    db = Database(f"sqlite:///{db_path}")
    db.upgrade()
    actor = Actor("tester", "tester")
    with db.write() as session:
        bootstrap(session, actor)
    try:
        with db.write() as session:
            return import_files(session, files, actor, jobs=jobs), None
    except InvalidInput as exc:
        return None, exc.lines()
    finally:
        db.dispose()


def test_worker_processes_give_the_same_result_and_the_same_errors(tmp_path):
    from reviewer.demo import generate

    good = tmp_path / "good.jsonl"
    docs = [rq.canonical_json(d) for d in generate(1200, seed=4)]
    good.write_text("".join(d + "\n" for d in docs), encoding="utf-8")
    one, _ = _import_with_jobs(tmp_path / "one.db", [str(good)], 1)
    two, _ = _import_with_jobs(tmp_path / "two.db", [str(good)], 2)
    assert one.created == two.created == 1200
    assert hashes(tmp_path / "one.db") == hashes(tmp_path / "two.db")
    conn1, conn2 = sqlite3.connect(tmp_path / "one.db"), sqlite3.connect(tmp_path / "two.db")
    q = "select reference, recommendation, evaluation from requests order by reference"
    assert conn1.execute(q).fetchall() == conn2.execute(q).fetchall()

    bad = tmp_path / "bad.jsonl"
    lines = list(docs[:700])
    lines[10] = lines[10].replace('"received_on":"', '"received_on":"x')
    lines[650] = "{not json"
    lines.append(docs[3])  # a duplicate reference
    bad.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    empty = tmp_path / "empty.json"
    empty.write_text("")
    _, errors1 = _import_with_jobs(tmp_path / "e1.db", [str(bad), str(empty)], 1)
    _, errors2 = _import_with_jobs(tmp_path / "e2.db", [str(bad), str(empty)], 2)
    assert errors1 == errors2 and len(errors1) == 4
    assert errors1[0].startswith(f"{bad}:11: received_on:")
    assert errors1[1].startswith(f"{bad}:651: not valid JSON")
    assert errors1[2] == f"{bad}:701: reference: duplicate reference 'DEMO-000004', first given at {bad}:4"
    assert errors1[3] == f"{empty}: empty file: no request in it"
    for name in ("e1.db", "e2.db"):
        conn = sqlite3.connect(tmp_path / name)
        assert conn.execute("select count(*) from requests").fetchone() == (0,)
        assert conn.execute("select count(*) from audit_events").fetchone() == (1,)  # bootstrap only
