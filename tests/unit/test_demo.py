"""seed-demo: deterministic, varied, and harmless on a database that holds requests."""

from __future__ import annotations

import sqlite3
from collections import Counter

from reviewer import request as rq
from reviewer.rules import load_bundled


def documents(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [d for (d,) in conn.execute("select document from requests order by reference")]
    finally:
        conn.close()


def test_same_seed_gives_identical_documents_covering_every_type_and_use_case(cli, tmp_path):
    from tests.helpers.cli import Cli

    other = Cli(tmp_path / "second.db", cli.capsys)
    assert cli("seed-demo", "--count", "1000", "--seed", "7")[0] == 0
    assert other("seed-demo", "--count", "1000", "--seed", "7")[0] == 0
    a, b = documents(cli.db_path), documents(other.db_path)
    assert len(a) == 1000 and a == b
    docs = [rq.loads(d) for d in a]
    assert {d["customer"].get("org_type") for d in docs} >= set(rq.ORG_TYPES)
    assert {d["use"]["use_case"] for d in docs} == set(rq.USE_CASES)
    places = {(s["country"], s.get("region"), s.get("city")) for d in docs for s in d.get("sites", [])}
    assert ("US", "IL", "Chicago") in places and ("US", "OR", "Portland") in places
    assert any(c in rq.loads('["DE","FR","ES","PT","NL","PL"]') for c, _r, _ci in places)
    assert any("scale" not in d for d in docs) and any("org_type" not in d["customer"] for d in docs)
    names = [d["customer"]["name"] for d in docs]
    assert max(map(len, names)) <= 40, max(names, key=len)  # the queue shows one whole at 1280 px
    cameras = {d["scale"].get("cameras") for d in docs if "scale" in d}
    assert {50, 51} <= cameras
    recs = Counter(load_bundled().evaluate(d).recommendation for d in docs)
    assert set(recs) == {
        "approve",
        "conditions",
        "escalate_second",
        "escalate_senior",
        "needs_information",
        "refuse",
    }, recs


def test_seed_demo_on_a_filled_database_changes_nothing_unless_forced(cli):
    assert cli("seed-demo", "--count", "5")[0] == 0
    before = cli.dump()
    code, out, _ = cli("seed-demo", "--count", "5")
    assert code == 0 and "nothing changed" in out
    assert cli.dump() == before
    code, out, _ = cli("seed-demo", "--count", "5", "--force")
    assert code == 0 and "seeded 5" in out
    assert len(documents(cli.db_path)) == 10
