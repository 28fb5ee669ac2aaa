"""Rule-set lifecycle: check, import, diff, backtest, four-eyes activation (ruleset.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer import request as rq
from reviewer.rules import evaluate_with, load_text, parts_of
from tests.helpers.cli import EXAMPLES
from tests.helpers.rulesets import BUNDLED, LIFT_US, candidate
from tests.helpers.workflow import ADMIN, JUST, ok, refused

CAMERAS_100 = ("cameras = 50\n", "cameras = 100\n")
CAMERAS_EXAMPLE = (
    'name = "51 cameras is", request = { use = { operations = ["identification"] }, '
    "scale = { cameras = 51 } }",
    'name = "101 cameras is", request = { use = { operations = ["identification"] }, '
    "scale = { cameras = 101 } }",
)


def _stored(db_cli) -> None:
    ok(db_cli, "import", *map(str, sorted(EXAMPLES.glob("p*.json"))), user=ADMIN)
    ok(db_cli, "seed-demo", "--count", "600", "--force", user=ADMIN)
    ok(db_cli, "users", "add", second_admin(db_cli), "--role", "admin", user=ADMIN)


def second_admin(cli) -> str:
    return "adm2" if cli.backend == "sqlite" else "adm"


@pytest.fixture
def stored(db_cli, snapshots):
    snapshots.prepared("lifecycle-stored", db_cli, _stored)
    db_cli.second_admin = second_admin(db_cli)
    return db_cli


def documents(cli) -> dict[str, dict]:
    return {ref: json.loads(doc) for ref, doc in cli.sql("select reference, document from requests")}


def test_check_and_diff(stored, tmp_path):
    lift = candidate(tmp_path, "lift.toml", LIFT_US)
    out = ok(stored, "rules", "check", lift, user=ADMIN)
    assert "human-rights@3 is well formed: 30 rules" in out
    broken = candidate(
        tmp_path,
        "broken.toml",
        ('when = "customer.is_reseller = true"', 'when = "customer.is_reseler = true"'),
    )
    code, _out, err = stored("rules", "check", broken, user=ADMIN)
    assert code == 3 and "rule HR-23: when: unknown field path 'customer.is_reseler'" in err
    text = ok(stored, "rules", "diff", "human-rights@2", lift, user=ADMIN)
    assert '~ parameter moratorium_countries: ["US"] -> []' in text
    both = candidate(
        tmp_path,
        "both.toml",
        LIFT_US,
        CAMERAS_100,
        CAMERAS_EXAMPLE,
        ('title = "At scale"', 'title = "At scale (cameras over 100)"'),
    )
    d = json.loads(ok(stored, "rules", "diff", "human-rights@2", both, "--format", "json", user=ADMIN))
    assert d["parameters"]["changed"]["scale_second"]["to"]["cameras"] == 100
    assert set(d["rules"]["changed"]) == {"HR-01", "HR-02", "HR-19"}  # examples and a title
    assert d["rules"]["changed"]["HR-19"]["title"] == {
        "from": "At scale",
        "to": "At scale (cameras over 100)",
    }


def test_lifting_the_us_moratorium_changes_exactly_the_requests_refused_only_for_it(stored, tmp_path):
    lift = candidate(tmp_path, "lift.toml", LIFT_US)
    report = json.loads(ok(stored, "rules", "backtest", lift, "--format", "json", user=ADMIN))
    active = load_text(BUNDLED)
    cand = load_text(Path(lift).read_text(encoding="utf-8"))
    docs = documents(stored)
    only_moratorium = set()
    for ref, doc in docs.items():
        refusals = {f.rule.id for f in active.evaluate(doc).findings if f.outcome == "refuse"}
        if refusals and refusals <= {"HR-01", "HR-02"}:
            only_moratorium.add(ref)
    assert only_moratorium, "the stored requests must include some refused only by HR-01/HR-02"
    changed = {c["reference"]: c for c in report["changes"]}
    assert set(changed) == only_moratorium
    for ref, c in changed.items():
        assert c["to"] == cand.evaluate(docs[ref]).recommendation
        assert set(c["rules"]) & {"HR-01", "HR-02"}
    assert report["requests"] == len(docs) and report["changed"] == len(only_moratorium)
    assert sum(report["matrix"].values()) == len(only_moratorium)


def test_raising_the_camera_threshold_changes_what_a_fresh_evaluation_says(stored, tmp_path):
    raised = candidate(tmp_path, "cameras.toml", CAMERAS_100, CAMERAS_EXAMPLE)
    report = json.loads(ok(stored, "rules", "backtest", raised, "--format", "json", user=ADMIN))
    old, new = load_text(BUNDLED), load_text(Path(raised).read_text(encoding="utf-8"))
    docs = documents(stored)
    # HR-30 reads the camera threshold too, over each customer's requests (all open here).
    groups: dict[str, list[dict]] = {}
    for doc in docs.values():
        groups.setdefault(
            rq.customer_key(doc["customer"]["name"], doc["customer"].get("country")), []
        ).append(doc)
    parts = {d["reference"]: parts_of(group) for group in groups.values() for d in group}
    assert any(len(g) > 1 for g in groups.values()), "the demo data has customers of several requests"
    expected = {}
    for ref, doc in docs.items():
        now, then = (evaluate_with(r, doc, parts[ref]).recommendation for r in (new, old))
        if now != then:
            expected[ref] = now
    assert expected, "some stored requests must sit between 50 and 100 cameras"
    assert {c["reference"]: c["to"] for c in report["changes"]} == expected


def test_activation_needs_two_admins(stored, tmp_path):
    lift = candidate(tmp_path, "lift.toml", LIFT_US)
    refused(stored, "rules", "propose", "human-rights@3", user=ADMIN, code=6, words="no rule set")
    ok(stored, "rules", "import", lift, user=ADMIN)
    assert "already stored" in ok(stored, "rules", "import", lift, user=ADMIN)
    other = candidate(tmp_path, "other.toml", CAMERAS_100, CAMERAS_EXAMPLE)
    refused(stored, "rules", "import", other, user=ADMIN, code=3, words="already stored with other content")
    refused(
        stored,
        "rules",
        "approve",
        "human-rights@3",
        user=ADMIN,
        code=5,
        words="only a proposed version can be approved",
    )
    ok(stored, "rules", "propose", "human-rights@3", user=ADMIN)
    refused(
        stored,
        "rules",
        "approve",
        "human-rights@3",
        user=ADMIN,
        code=5,
        words="a different admin must approve it",
    )
    # decide one request before activation: the decision keeps human-rights@2
    ok(stored, "claim", "EX-0012", user=ADMIN)
    ok(stored, "decide", "EX-0012", "--outcome", "approve", "--justification", JUST, user=ADMIN)
    out = ok(stored, "rules", "approve", "human-rights@3", user=stored.second_admin)
    assert "human-rights@3 is active" in out
    versions = {
        r["rule_set"]: r for r in json.loads(ok(stored, "rules", "list", "--format", "json", user=ADMIN))
    }
    assert versions["human-rights@2"]["state"] == "retired"
    assert versions["human-rights@3"]["state"] == "active"
    assert versions["human-rights@3"]["proposed_by"] == ADMIN
    assert versions["human-rights@3"]["approved_by"] == stored.second_admin
    events = stored.sql("select action from audit_events where action like 'rules_%' order by seq")
    assert [e for (e,) in events] == ["rules_import", "rules_propose", "rules_activate"]
    ex2 = json.loads(ok(stored, "show", "EX-0002", "--format", "json", user=ADMIN))
    assert ex2["evaluation"]["rule_set"] == "human-rights@3"
    assert ex2["evaluation"]["recommendation"] == "refuse"  # HR-16 still refuses
    ex12 = json.loads(ok(stored, "show", "EX-0012", "--format", "json", user=ADMIN))
    assert ex12["decisions"][0]["rule_set"] == "human-rights@2"
    report = json.loads(ok(stored, "verify", "--format", "json", user=ADMIN))
    assert report["ok"], report["problems"]
    # new imports are evaluated under the active version
    doc = rq.validate(
        {
            "reference": "NEW-1",
            "received_on": "2026-11-20",
            "customer": {
                "name": "Springfield PD",
                "org_type": "police",
                "country": "US",
                "sector": "government",
            },
        }
    )[0]
    f = tmp_path / "new.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(stored, "import", str(f), user=ADMIN)
    new = json.loads(ok(stored, "show", "NEW-1", "--format", "json", user=ADMIN))
    assert "HR-01" not in {x["rule"] for x in new["evaluation"]["findings"]}
