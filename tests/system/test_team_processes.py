"""Many writers on one database (SQLite and team mode on PostgreSQL): one unbroken audit chain,
no lost action, no forked sequence; who acts is the database login on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reviewer import request as rq
from tests.helpers.cli import ROOT
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok


def _team(db_cli) -> None:
    docs = []
    for i in range(4):
        doc = make({})
        doc["reference"] = f"T-{i}"
        docs.append(doc)
    second = make({"use.decision_effects": ["housing"]})  # escalate_second: needs a checker
    second["reference"] = "T-CHECK"
    docs.append(second)
    f = db_cli.tmp / "team.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in docs))
    ok(db_cli, "import", str(f), user=ADMIN)
    for name in ("rev1", "rev2", "sen1"):
        roles = ["--role", "reviewer"] + (["--role", "senior"] if name == "sen1" else [])
        ok(db_cli, "users", "add", name, *roles, user=ADMIN)


@pytest.fixture
def team(db_cli, tmp_path, snapshots):
    db_cli.tmp = tmp_path
    snapshots.prepared("team-processes", db_cli, _team)
    return db_cli


CHANGES = 60  # claims and releases by each of the four processes, all at once


def test_four_processes_two_logins_one_unbroken_chain(team):
    before = team.sql("select count(*) from audit_events")[0][0]
    procs = []
    for i, user in enumerate(["rev1", "rev1", "rev2", "rev2"]):
        argv = [
            sys.executable,
            "-m",
            "tests.helpers.chain_worker",
            team.url_for(user),
            user,
            f"T-{i}",
            str(CHANGES),
        ]
        procs.append(
            subprocess.Popen(
                argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT))
            )
        )
    for p in procs:
        assert p.wait(timeout=600) == 0, p.stderr.read()
    for p in procs:
        p.stderr.close()
    seqs = [s for (s,) in team.sql("select seq from audit_events order by seq")]
    assert len(seqs) == before + 4 * CHANGES
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
    actors = dict(
        team.sql(
            "select actor, count(*) from audit_events where action in ('claim', 'release') group by actor"
        )
    )
    assert actors == {"rev1": 2 * CHANGES, "rev2": 2 * CHANGES}
    versions = dict(team.sql("select reference, version from requests where reference like 'T-_'"))
    assert versions == {f"T-{i}": CHANGES + 1 for i in range(4)}  # import + the changes
    report = json.loads(ok(team, "verify", "--format", "json", user=ADMIN))
    assert report["ok"] and report["events"] == len(seqs)


def test_two_logins_checking_the_same_decision_at_once(team):
    ok(team, "claim", "T-CHECK", user="rev1")
    ok(team, "decide", "T-CHECK", "--outcome", "approve", "--justification", JUST, user="rev1")
    v = str(json.loads(ok(team, "show", "T-CHECK", "--format", "json", user=ADMIN))["version"])
    procs = []
    for user in ("rev2", "sen1"):
        argv = [
            sys.executable,
            "-m",
            "reviewer",
            "check",
            "T-CHECK",
            "--confirm",
            "--expect-version",
            v,
            "--database",
            team.url_for(user),
            *team.user_args(user),
        ]
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert sorted(c for c, _ in results) == [0, 4], results
    assert "reload" in next(err for c, err in results if c == 4)
    data = json.loads(ok(team, "show", "T-CHECK", "--format", "json", user=ADMIN))
    assert data["status"] == "decided" and data["decisions"][0]["checker"] in ("rev2", "sen1")
    assert ok(team, "verify", user=ADMIN).startswith("OK")
