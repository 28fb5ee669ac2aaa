"""The review workflow through the CLI and the services: every row of the status table, every
decision rule, four eyes, conflicts, and what verify catches (workflow.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from reviewer import request as rq
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok, refused

# A due date in the future whenever the tests run (a due date may not be in the past).
SOON = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=45)).isoformat()


def status(cli, ref):
    data = json.loads(ok(cli, "show", ref, "--format", "json", user=ADMIN))
    return data["status"], data["assignee"]


# --------------------------------------------------------------------------- status table


def test_claim_release_take_over(wf):
    refused(wf, "claim", "R-APPROVE", user="adm", code=5, words="neither the reviewer nor the senior")
    ok(wf, "claim", "R-APPROVE", user="rev1")
    assert status(wf, "R-APPROVE") == ("in_review", "rev1")
    refused(wf, "claim", "R-APPROVE", user="rev2", code=5, words="is in_review, not new")
    refused(wf, "release", "R-APPROVE", user="rev2", code=5, words="assigned to rev1")
    refused(wf, "take-over", "R-APPROVE", user="rev2", code=5, words="only a senior")
    ok(wf, "take-over", "R-APPROVE", user="sen1")
    assert status(wf, "R-APPROVE") == ("in_review", "sen1")
    refused(wf, "take-over", "R-APPROVE", user="sen1", code=5, words="already assigned to you")
    ok(wf, "release", "R-APPROVE", user="sen1")
    assert status(wf, "R-APPROVE") == ("new", None)
    refused(wf, "release", "R-APPROVE", user="sen1", code=5, words="is new, not in_review")
    refused(wf, "claim", "NOPE-1", user="rev1", code=6, words="NOPE-1")
    refused(wf, "claim", "R-APPROVE", user="stranger", code=5, words="no active account named 'stranger'")


def test_decide_return_check_reopen_and_conditions(wf):
    # conditions: one reviewer, approve_with_conditions carrying the rule set's conditions
    ok(wf, "claim", "R-COND", user="rev1")
    refused(
        wf,
        "decide",
        "R-COND",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="plain approve is impossible while there are conditions",
    )
    refused(
        wf,
        "decide",
        "R-COND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        "too short",
        user="rev1",
        code=5,
        words="at least 30 characters",
    )
    # Zero-width spaces and bidi marks are no words: 40 of them are no justification.
    refused(wf, "decide", "R-COND", "--outcome", "refuse", "--justification", "\u200b" * 20 + "\u202e" * 20,
            user="rev1", code=5, words="(got 0; 40 invisible characters are not counted)")  # fmt: skip
    refused(
        wf,
        "decide",
        "R-COND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        user="rev2",
        code=5,
        words="assigned to rev1",
    )
    out = ok(
        wf,
        "decide",
        "R-COND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        f"quarterly audit report@{SOON}",
        user="rev1",
    )
    assert "final" in out
    data = json.loads(ok(wf, "show", "R-COND", "--format", "json", user=ADMIN))
    assert data["status"] == "decided"
    d = data["decisions"][0]
    assert d["final"] and d["checker"] is None and len(d["record_hash"]) == 64
    assert [(c["rule"], c["text"], c["due"]) for c in d["conditions"]] == [
        ("HR-25", "conspicuous notice and meaningful consent before enrolment", d["re_review"]),
        ("reviewer", "quarterly audit report", SOON),
    ]
    # edit while decided is refused; conditions can be marked; reopen needs a senior
    f = wf.tmp / "edit.jsonl"
    doc = make({"use.operations": ["verification"], "title": "changed"})
    doc["reference"] = "R-COND"
    f.write_text(rq.canonical_json(doc) + "\n")
    refused(
        wf,
        "import",
        str(f),
        "--update",
        user="rev1",
        code=5,
        words="'R-COND' is decided: it cannot be changed until a senior reopens it",
    )
    cid = str(d["conditions"][1]["id"])
    refused(
        wf,
        "conditions",
        "mark",
        cid,
        "met",
        "--note",
        "report received",
        user="adm",
        code=5,
        words="neither the reviewer nor the senior",
    )
    ok(wf, "conditions", "mark", cid, "met", "--note", "report received", user="rev2")
    refused(
        wf, "conditions", "mark", cid, "lapsed", "--note", "again", user="rev2", code=5, words="already met"
    )
    rows = json.loads(ok(wf, "conditions", "--format", "json", user=ADMIN))
    assert {r["id"]: r["status"] for r in rows}[int(cid)] == "met"
    refused(wf, "reopen", "R-COND", "--reason", JUST, user="rev1", code=5, words="only a senior")
    ok(wf, "reopen", "R-COND", "--reason", JUST, user="sen1")
    assert status(wf, "R-COND") == ("in_review", "sen1")
    refused(
        wf,
        "conditions",
        "mark",
        str(d["conditions"][0]["id"]),
        "met",
        "--note",
        "x",
        user="rev2",
        code=5,
        words="is in_review, not decided",
    )

    # return for information: in_review -> returned; an update brings it back as new
    ok(wf, "claim", "R-INFO", user="rev2")
    refused(
        wf,
        "decide",
        "R-INFO",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="rev2",
        code=5,
        words="HR-29 needs information",
    )
    ok(
        wf,
        "return",
        "R-INFO",
        "--reason",
        "Please tell us the customer's sector (customer.sector).",
        user="rev2",
    )
    assert status(wf, "R-INFO") == ("returned", None)
    doc = make({"customer.sector": "commercial"})
    doc["reference"] = "R-INFO"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(wf, "import", str(f), "--update", user="rev2")
    data = json.loads(ok(wf, "show", "R-INFO", "--format", "json", user=ADMIN))
    assert data["status"] == "new" and data["evaluation"]["recommendation"] == "approve"
    assert data["decisions"][0]["outcome"] == "return_for_information"


def test_four_eyes_second_check(wf):
    ok(wf, "claim", "R-SECOND", user="rev1")
    out = ok(
        wf,
        "decide",
        "R-SECOND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        "yearly fairness audit",
        user="rev1",
    )
    assert "awaiting a second check" in out
    assert status(wf, "R-SECOND")[0] == "awaiting_second"
    refused(
        wf,
        "check",
        "R-SECOND",
        "--confirm",
        user="rev1",
        code=5,
        words="a checker must be a different account",
    )
    refused(
        wf, "check", "R-SECOND", "--confirm", user="adm", code=5, words="neither the reviewer nor the senior"
    )
    refused(wf, "claim", "R-SECOND", user="rev2", code=5, words="is awaiting_second")
    doc = make({"use.decision_effects": ["housing"], "title": "edited while awaiting a check"})
    doc["reference"] = "R-SECOND"
    f = wf.tmp / "edit-second.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    refused(
        wf,
        "import",
        str(f),
        "--update",
        user="rev2",
        code=5,
        words="'R-SECOND' is awaiting_second: it cannot be changed until a senior reopens it",
    )
    ok(
        wf,
        "check",
        "R-SECOND",
        "--reject",
        "--reason",
        "The fairness audit needs a named auditor.",
        user="rev2",
    )
    assert status(wf, "R-SECOND") == ("in_review", "rev1")
    ok(
        wf,
        "decide",
        "R-SECOND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        "yearly fairness audit by a named external auditor",
        user="rev1",
    )
    ok(wf, "check", "R-SECOND", "--confirm", user="rev2")
    data = json.loads(ok(wf, "show", "R-SECOND", "--format", "json", user=ADMIN))
    assert data["status"] == "decided"
    first, second = data["decisions"]
    assert first["rejected"] and not first["final"] and first["record_hash"] is None
    assert second["final"] and second["checker"] == "rev2" and second["decider"] == "rev1"
    assert ok(wf, "verify", user=ADMIN).startswith("OK")


def test_an_admin_without_reviewer_role_cannot_decide(wf):
    ok(wf, "claim", "R-APPROVE", user="rev1")
    refused(
        wf,
        "decide",
        "R-APPROVE",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="adm",
        code=5,
        words="decide: adm has neither the reviewer nor the senior role",
    )
    refused(
        wf,
        "return",
        "R-APPROVE",
        "--reason",
        JUST,
        user="adm",
        code=5,
        words="return: adm has neither the reviewer nor the senior role",
    )


def test_overdue_conditions(wf):
    ok(wf, "claim", "R-COND", user="rev1")
    ok(
        wf,
        "decide",
        "R-COND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        f"first audit report@{SOON}",
        user="rev1",
    )
    assert json.loads(ok(wf, "conditions", "--overdue", "--format", "json", user=ADMIN)) == []
    # time passes: the audit report's due date is behind us
    wf.sql("update conditions set due_on = '2026-01-31' where rule = 'reviewer'")
    rows = json.loads(ok(wf, "conditions", "--overdue", "--format", "json", user=ADMIN))
    assert [(r["reference"], r["text"], r["status"]) for r in rows] == [
        ("R-COND", "first audit report", "open")
    ]
    cid = str(rows[0]["id"])
    ok(wf, "conditions", "mark", cid, "lapsed", "--note", "no report by the due date", user="rev2")
    assert json.loads(ok(wf, "conditions", "--overdue", "--format", "json", user=ADMIN)) == []


def test_admins_do_not_check_their_own_decisions(wf):
    ok(wf, "claim", "R-SECOND", user=ADMIN)
    ok(
        wf,
        "decide",
        "R-SECOND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        "yearly fairness audit",
        user=ADMIN,
    )
    refused(
        wf,
        "check",
        "R-SECOND",
        "--confirm",
        user=ADMIN,
        code=5,
        words="a checker must be a different account",
    )


def test_escalate_senior_rules(wf):
    ok(wf, "claim", "R-SENIOR", user="rev1")
    refused(
        wf,
        "decide",
        "R-SENIOR",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="escalate_senior: a senior decides",
    )
    refused(
        wf,
        "decide",
        "R-SENIOR",
        "--outcome",
        "refuse",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="a refusal needs a senior",
    )
    ok(wf, "take-over", "R-SENIOR", user="sen1")
    ok(wf, "decide", "R-SENIOR", "--outcome", "approve", "--justification", JUST, user="sen1")
    ok(wf, "check", "R-SENIOR", "--confirm", user="rev2")  # a different account checks
    assert status(wf, "R-SENIOR")[0] == "decided"


def test_committee_override_needs_two_different_seniors(wf):
    ok(wf, "claim", "R-COMMITTEE", user="rev1")
    refused(
        wf,
        "decide",
        "R-COMMITTEE",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="HR-12 refuses with override committee",
    )
    ok(wf, "take-over", "R-COMMITTEE", user="sen1")
    ok(wf, "decide", "R-COMMITTEE", "--outcome", "approve", "--justification", JUST, user="sen1")
    refused(
        wf,
        "check",
        "R-COMMITTEE",
        "--confirm",
        user="rev2",
        code=5,
        words="the checker must be a second senior",
    )
    refused(
        wf,
        "check",
        "R-COMMITTEE",
        "--confirm",
        user="sen1",
        code=5,
        words="a checker must be a different account",
    )
    ok(wf, "check", "R-COMMITTEE", "--confirm", user="sen2")
    data = json.loads(ok(wf, "show", "R-COMMITTEE", "--format", "json", user=ADMIN))
    assert data["decisions"][0]["decider"] == "sen1" and data["decisions"][0]["checker"] == "sen2"


def test_never_refusal_forbids_approval_but_one_reviewer_refuses(wf):
    ok(wf, "claim", "R-NEVER", user="rev1")
    refused(
        wf,
        "decide",
        "R-NEVER",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        "x",
        user="rev1",
        code=5,
        words="HR-09 refuses with override never: approval is impossible",
    )
    out = ok(wf, "decide", "R-NEVER", "--outcome", "refuse", "--justification", JUST, user="rev1")
    assert "refuse (final)" in out


def test_plain_approve_and_approve_with_conditions(wf):
    ok(wf, "claim", "R-APPROVE", user="rev1")
    refused(
        wf,
        "decide",
        "R-APPROVE",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        user="rev1",
        code=5,
        words="needs at least one condition",
    )
    refused(
        wf,
        "decide",
        "R-APPROVE",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        "--re-review",
        "2020-01-01",
        user="rev1",
        code=3,
        words="must be after today",
    )
    ok(wf, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    assert status(wf, "R-APPROVE")[0] == "decided"


def test_services_refuse_without_writing(wf):
    """The same rules hold when the services are called directly."""
    from reviewer.errors import NotPermitted
    from reviewer.models.db import Database
    from reviewer.services import workflow as review
    from reviewer.services.audit import Actor

    db = Database(wf.url_for("rev1"))
    before = wf.dump()
    with pytest.raises(NotPermitted, match="neither the reviewer nor the senior"):
        with db.write() as session:
            review.claim(session, Actor("adm", "x"), "R-APPROVE")
    with db.write() as session:
        review.claim(session, Actor("rev1", "x"), "R-NEVER")
    after_claim = wf.dump()
    assert after_claim != before
    with pytest.raises(NotPermitted, match="HR-09 refuses with override never"):
        with db.write() as session:
            review.decide(session, Actor("rev1", "x"), "R-NEVER", "approve", JUST)
    assert wf.dump() == after_claim
    db.dispose()


# --------------------------------------------------------------------------- concurrency


def test_stale_version_is_a_conflict(wf):
    data = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user=ADMIN))
    v = str(data["version"])
    ok(wf, "claim", "R-APPROVE", "--expect-version", v, user="rev1")
    refused(
        wf,
        "release",
        "R-APPROVE",
        "--expect-version",
        v,
        user="rev1",
        code=4,
        words="R-APPROVE changed by rev1",
    )


# --------------------------------------------------------------------------- edits


def test_edit_reevaluates_and_old_decisions_keep_their_version(wf):
    ok(wf, "claim", "R-APPROVE", user="rev1")
    ok(wf, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    ok(wf, "reopen", "R-APPROVE", "--reason", "The customer now wants to identify visitors too.", user="sen1")
    doc = make({"use.operations": ["identification"], "use.environment": "publicly_accessible"})
    doc["reference"] = "R-APPROVE"
    f = wf.tmp / "edit.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(wf, "import", str(f), "--update", user="sen1")
    data = json.loads(ok(wf, "show", "R-APPROVE", "--format", "json", user=ADMIN))
    assert data["status"] == "in_review" and data["document_version"] == 2
    assert data["evaluation"]["recommendation"] == "escalate_senior"  # HR-21 now
    assert [v["version"] for v in data["versions"]] == [1, 2]
    d = data["decisions"][0]
    assert d["request_version"] == 1 and d["recommendation"] == "approve"
    assert d["rule_set"] == "human-rights@2" and len(d["rule_set_sha256"]) == 64
    text = ok(wf, "show", "R-APPROVE", user=ADMIN)
    assert "on version 1  (an earlier version) under human-rights@2" in text
    assert "v2 " in text and "(current)" in text


# --------------------------------------------------------------------------- verify


def decided_db(wf):
    ok(wf, "claim", "R-SECOND", user="rev1")
    ok(
        wf,
        "decide",
        "R-SECOND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        JUST,
        "--condition",
        "yearly fairness audit",
        user="rev1",
    )
    ok(wf, "check", "R-SECOND", "--confirm", user="rev2")
    ok(wf, "claim", "R-NEVER", user="rev2")
    ok(wf, "decide", "R-NEVER", "--outcome", "refuse", "--justification", JUST, user="rev2")
    assert ok(wf, "verify", user=ADMIN).startswith("OK")


TAMPER = {
    "event payload": (
        "update audit_events set payload = replace(payload, 'rev1', 'rev9') "
        "where action = 'claim' and actor = 'rev1'",
        "chain",
        "hash does not match",
    ),
    "decision outcome": (
        "update decisions set outcome = 'refuse' where outcome = 'approve_with_conditions'",
        "decision",
        "does not match its record hash",
    ),
    "newest event deleted": (
        "delete from audit_events where seq = (select max(seq) from audit_events)",
        "chain",
        "chain head",
    ),
    "middle event deleted": ("delete from audit_events where seq = 5", "chain", "expected event 5"),
    "events swapped": (
        "update audit_events set seq = -6 where seq = 6; update audit_events set "
        "seq = 6 where seq = 7; update audit_events set seq = 7 where seq = -6",
        "chain",
        "prev_hash",
    ),
    "request document": (
        "update request_versions set document = replace(document, 'Harbour', 'Harb0ur') where id = 1",
        "request",
        "differs from its hash",
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_verify_names_the_first_broken_item(wf, tmp_path, name):
    decided_db(wf)
    sql, kind, words = TAMPER[name]
    changed = sum(wf.sql(part)[0][0] for part in sql.split("; "))
    assert changed >= 1
    code, out, _err = wf("verify", "--format", "json", user=ADMIN)
    assert code == 1
    report = json.loads(out)
    assert not report["ok"]
    first = report["problems"][0]
    assert first["kind"] == kind and words in first["message"], report["problems"]


def test_verify_against_an_anchor(wf):
    decided_db(wf)
    seq, digest = wf.sql("select seq, hash from audit_events where seq = 3")[0]
    assert ok(wf, "verify", "--anchor", f"{seq}:{digest}", user=ADMIN).startswith("OK")
    code, out, _ = wf("verify", "--anchor", f"{seq}:{'0' * 64}", user=ADMIN)
    assert code == 1 and "differs from the anchor" in out


def test_seed_demo_with_decisions_verifies(db_cli, tmp_path):
    cli = db_cli
    if cli.backend == "pg":
        refused(
            cli,
            "seed-demo",
            "--count",
            "5",
            "--decisions",
            "2",
            user=ADMIN,
            code=5,
            words="which team mode forbids",
        )
        return
    ok(cli, "seed-demo", "--count", "120", "--decisions", "40", user=ADMIN)
    report = json.loads(ok(cli, "verify", "--format", "json", user=ADMIN))
    assert report["ok"] and report["decisions"] >= 30
    outcomes = {o for (o,) in cli.sql("select outcome from decisions where final")}
    assert {"approve_with_conditions", "refuse", "return_for_information"} <= outcomes


def test_options_answer_at_once_while_another_program_writes(cli, tmp_path):
    """Opening a request during a long import must not wait for the write lock."""
    import sqlite3
    import time as _time

    from reviewer.models.db import Database
    from reviewer.services import workflow
    from reviewer.services.audit import Actor

    doc = make({})
    doc["reference"] = "R-BUSY"
    f = tmp_path / "busy.jsonl"
    f.write_text(rq.canonical_json(doc) + "\n")
    ok(cli, "import", str(f), user=ADMIN)
    ok(cli, "claim", "R-BUSY", user=ADMIN)
    db = Database(cli.url)
    with db.read() as session:
        quiet = workflow.options(session, Actor(ADMIN, "x"), "R-BUSY")
    holder = sqlite3.connect(cli.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = _time.monotonic()
        with db.read() as session:
            busy = workflow.options(session, Actor(ADMIN, "x"), "R-BUSY")
        took = _time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        db.dispose()
    assert took < 2  # no 10-second busy waits
    assert busy == quiet
    assert busy["approve"] == (True, "") and busy["claim"][0] is False
