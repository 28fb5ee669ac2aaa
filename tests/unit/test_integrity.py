"""No edit goes unseen: each edit a person could make with sqlite3 or psql (as the database
owner) is named by `verify`, and nothing acts on an edited rule set, evaluation or pending
decision. Run on SQLite and on PostgreSQL (team mode)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from reviewer import request as rq
from reviewer.rules import text_hash
from tests.helpers.cli import EXAMPLES
from tests.helpers.documents import make
from tests.helpers.rulesets import candidate
from tests.helpers.workflow import ADMIN, JUST, ok, refused, scenario_docs

COND = "Door access with opt-in enrolment; conditions are written into the contract."


def _team(db_cli) -> None:
    """The scenario requests and the twelve examples, accounts of every kind, one final
    approval with a condition, one refusal and one approval awaiting its check."""
    f = db_cli.tmp / "scenarios.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    ok(db_cli, "import", str(f), *map(str, sorted(EXAMPLES.glob("p*.json"))), user=ADMIN)
    for name, roles in (("rev1", ["reviewer"]), ("rev2", ["reviewer"]),
                        ("sen1", ["senior", "reviewer"]), ("adm", ["admin"])):  # fmt: skip
        ok(db_cli, "users", "add", name, *[x for r in roles for x in ("--role", r)], user=ADMIN)
    ok(db_cli, "settings", "set", "organisation_name", "Contoso Review", user=ADMIN)
    ok(db_cli, "claim", "R-COND", user="rev1")
    ok(
        db_cli,
        "decide",
        "R-COND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        COND,
        "--condition",
        "quarterly audit",
        user="rev1",
    )
    ok(db_cli, "claim", "R-NEVER", user="rev2")
    ok(db_cli, "decide", "R-NEVER", "--outcome", "refuse", "--justification", JUST, user="rev2")
    ok(db_cli, "claim", "R-SECOND", user="rev1")
    ok(
        db_cli,
        "decide",
        "R-SECOND",
        "--outcome",
        "approve_with_conditions",
        "--justification",
        COND,
        "--condition",
        "yearly fairness audit",
        user="rev1",
    )
    assert ok(db_cli, "verify", user=ADMIN).startswith("OK")


@pytest.fixture
def team(db_cli, tmp_path, snapshots):
    db_cli.tmp = tmp_path
    snapshots.prepared("integrity-team", db_cli, _team)
    return db_cli


def first_problem(cli) -> dict:
    code, out, err = cli("verify", "--format", "json", user=ADMIN)
    assert code == 1, (out, err)
    report = json.loads(out)
    assert not report["ok"] and report["problems"]
    return report["problems"][0]


EDITS = {
    "role added": (
        "INSERT INTO account_roles (account_id, role) SELECT id, 'admin' FROM accounts WHERE name = 'rev1'",
        "account",
        "rev1: active, roles admin, reviewer",
    ),
    "senior role added": (
        "INSERT INTO account_roles (account_id, role) SELECT id, 'senior' FROM accounts WHERE name = 'rev2'",
        "account",
        "roles reviewer, senior",
    ),
    "account enabled/disabled": (
        "UPDATE accounts SET active = false WHERE name = 'sen1'",
        "account",
        "sen1: disabled",
    ),
    "rule-set text": (
        "UPDATE rule_sets SET content = replace(content, 'override = \"never\"', 'override = \"committee\"')",
        "rule set",
        "stored text does not match",
    ),
    "rule-set state": ("UPDATE rule_sets SET approved_by = 'rev1'", "rule set", "approved by is rev1"),
    "rule-set title": (
        "UPDATE rule_sets SET title = 'x'",
        "rule set",
        "human-rights@2: its title column is 'x', its text says",
    ),
    "request status": (
        "UPDATE requests SET status = 'decided' WHERE reference = 'EX-0002'",
        "request",
        "EX-0002: status is decided, the audit trail says new",
    ),
    "request assignee": (
        "UPDATE requests SET assignee_id = (SELECT id FROM accounts WHERE "
        "name = 'rev2') WHERE reference = 'R-COND'",
        "request",
        "assignee is rev2",
    ),
    "condition status": (
        "UPDATE conditions SET status = 'met' WHERE text = 'quarterly audit'",
        "condition",
        "the audit trail says open",
    ),
    "condition note": (
        "UPDATE conditions SET note = 'done, trust me' WHERE text = 'quarterly audit'",
        "condition",
        "done, trust me",
    ),
    "setting": ("UPDATE settings SET value = 'Evil Corp'", "setting", "'Evil Corp'"),
    "organisation name inserted": ("DELETE FROM settings", "setting", "organisation_name is None"),
    "stored evaluation": (
        "UPDATE requests SET evaluation = replace(evaluation, 'HR-01', 'HR-99') WHERE reference = 'EX-0002'",
        "evaluation",
        "EX-0002: the stored evaluation",
    ),
    "recommendation": (
        "UPDATE requests SET recommendation = 'approve' WHERE reference = 'EX-0002'",
        "evaluation",
        "recommendation approve, the rule set says refuse",
    ),
    "evaluated by another rule set": (
        "UPDATE requests SET rule_set_pk = NULL WHERE reference = 'EX-0003'",
        "evaluation",
        "another rule set",
    ),
    "pending outcome": (
        "UPDATE decisions SET outcome = 'approve' WHERE final = false AND rejected = false",
        "decision",
        "outcome approve",
    ),
    "pending justification": (
        "UPDATE decisions SET justification = 'Because I say so, long "
        "enough for the rule.' WHERE final = false",
        "decision",
        "differs from the decision its decide event recorded",
    ),
    "pending conditions deleted": (
        "DELETE FROM conditions WHERE text = 'yearly fairness audit'",
        "decision",
        "differs from the decision its decide event recorded",
    ),
    "final decision deleted": (
        "DELETE FROM decisions WHERE request_id = (SELECT id FROM requests WHERE reference = 'R-NEVER')",
        "decision",
        "R-NEVER decision 1 of the audit trail is missing",
    ),
    "every decision deleted": (
        "DELETE FROM conditions; DELETE FROM decisions",
        "decision",
        "R-COND decision 1 of the audit trail is missing",
    ),
    "decision moved to another request": (
        "UPDATE decisions SET request_id = (SELECT id FROM requests WHERE reference = 'EX-0005') "
        "WHERE request_id = (SELECT id FROM requests WHERE reference = 'R-NEVER')",
        "decision",
        "EX-0005 decision 1",
    ),
    "queue columns": (
        "UPDATE requests SET customer_name = 'Totally Legit Bakery' WHERE reference = 'EX-0002'",
        "request",
        "EX-0002: its customer_name column is 'Totally Legit Bakery', its document says",
    ),
    "received on": (
        "UPDATE requests SET received_on = '2020-01-02' WHERE reference = 'R-NEVER'",
        "request",
        "R-NEVER: its received_on column is '2020-01-02'",
    ),
    "condition moved to another request": (
        "UPDATE conditions SET request_id = (SELECT id FROM requests WHERE reference = 'EX-0005') "
        "WHERE text = 'quarterly audit'",
        "condition",
        "is not a condition of a decision on EX-0005",
    ),
}


def edit_is_named(cli, edit: tuple[str, str, str]) -> None:
    """Run the edit's statements (each changes a row) and find it verify's first problem."""
    statement, kind, words = edit
    for one in statement.split("; "):
        assert cli.sql(one)[0][0] >= 1
    problem = first_problem(cli)
    assert problem["kind"] == kind and words in problem["message"], problem


@pytest.mark.parametrize("name", sorted(EDITS))
def test_verify_names_each_edit(team, name):
    edit_is_named(team, EDITS[name])


REJECTION = "Rejected: the fairness audit must be quarterly for a deployment of this size."
REDACTION = "Attached by mistake: it holds personal data of a customer's staff."


def _more(db_cli) -> None:
    """The team's state, and: the decision awaiting its check rejected, the final approval's
    condition marked met, a file attached with a note and a file attached then redacted."""
    ok(db_cli, "check", "R-SECOND", "--reject", "--reason", REJECTION, user="sen1")
    (cond,) = db_cli.sql("SELECT id FROM conditions WHERE text = 'quarterly audit'")[0]
    ok(db_cli, "conditions", "mark", str(cond), "met", "--note", "audit report received", user="rev1")
    for name in ("dpia.txt", "staff.txt"):
        (db_cli.tmp / name).write_text(f"the content of {name}\n")
        ok(db_cli, "attach", "R-COND", str(db_cli.tmp / name), "--note", f"the {name}", user="rev1")
    ok(db_cli, "attachment", "redact", "R-COND", "2", "--reason", REDACTION, user=ADMIN)
    assert ok(db_cli, "verify", user=ADMIN).startswith("OK")


@pytest.fixture
def more(team, snapshots):
    snapshots.prepared("integrity-more", team, _more)
    return team


MORE_EDITS = {
    "rejection reason": (
        "UPDATE decisions SET reject_reason = 'forged' WHERE rejected = true",
        "decision",
        "R-SECOND decision 1: its rejection reads 'forged'",
    ),
    "rejected decision's condition text": (
        "UPDATE conditions SET text = 'x' WHERE text = 'yearly fairness audit'",
        "decision",
        "R-SECOND decision 1 (rejected) differs from the decision its decide event recorded",
    ),
    "rejected decision's condition deleted": (
        "DELETE FROM conditions WHERE text = 'yearly fairness audit'",
        "decision",
        "(rejected) differs",
    ),
    "who marked a condition": (
        "UPDATE conditions SET changed_by = 'adm' WHERE text = 'quarterly audit'",
        "condition",
        "marked met by adm at",
    ),
    "when a condition was marked": (
        "UPDATE conditions SET changed_at = '2020-01-01T00:00:00.000000Z' WHERE text = 'quarterly audit'",
        "condition",
        "at 2020-01-01T00:00:00.000000Z; the audit trail says by rev1",
    ),
    "attachment note": (
        "UPDATE attachments SET note = 'forged' WHERE number = 1",
        "attachment",
        "R-COND attachment 1: attached by rev1 at",
    ),
    "who attached": (
        "UPDATE attachments SET added_by = 'adm' WHERE number = 1",
        "attachment",
        "attached by adm",
    ),
    "when attached": (
        "UPDATE attachments SET added_at = '2020-01-01T00:00:00.000000Z' WHERE number = 1",
        "attachment",
        "at 2020-01-01T00:00:00.000000Z",
    ),
    "who redacted": (
        "UPDATE attachments SET redacted_by = 'rev1' WHERE number = 2",
        "attachment",
        "R-COND attachment 2: redacted by rev1",
    ),
    "redaction reason": (
        "UPDATE attachments SET redact_reason = 'forged' WHERE number = 2",
        "attachment",
        "('forged'); the audit trail says by admin1",
    ),
}


@pytest.mark.parametrize("name", sorted(MORE_EDITS))
def test_verify_names_each_edit_of_a_rejection_a_marked_condition_and_attachments(more, name):
    edit_is_named(more, MORE_EDITS[name])


def test_us_police_attack_on_the_rule_set_stops_every_evaluation(team, tmp_path):
    """HR-01 and HR-02 turned from never into committee in the stored text: nothing is judged
    by the edited text any more, and verify names the rule set."""
    team.sql(
        "UPDATE rule_sets SET content = replace(content, 'override = \"never\"', 'override = \"committee\"')"
    )
    sheriff = tmp_path / "sheriff.json"
    doc = json.loads((EXAMPLES / "p02-us-sheriff.json").read_text())
    doc["reference"] = "EX-0102"
    sheriff.write_text(json.dumps(doc))
    refused(team, "import", str(sheriff), user=ADMIN, code=1, words="stored rule set human-rights@2")
    ok(team, "claim", "EX-0002", user="sen1")
    refused(
        team,
        "decide",
        "EX-0002",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="sen1",
        code=1,
        words="human-rights@2",
    )
    assert first_problem(team)["kind"] == "rule set"


def test_us_police_attack_with_the_text_and_its_hash_changed(team):
    """Text and hash changed together: the hash is not the one its audit event records."""
    text = team.sql("SELECT content FROM rule_sets")[0][0]
    edited = text.replace('override = "never"', 'override = "committee"')
    team.sql("UPDATE rule_sets SET content = :c, sha256 = :s", {"c": edited, "s": text_hash(edited)})
    ok(team, "claim", "EX-0002", user="sen1")
    refused(
        team,
        "decide",
        "EX-0002",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="sen1",
        code=1,
        words="is not the one its audit event records",
    )
    problem = first_problem(team)
    assert problem["kind"] == "rule set" and "hash is" in problem["message"]


def test_us_police_attack_on_the_stored_evaluation_ends_refused(team):
    """HR-01 dropped from a US police request's stored evaluation: the decision rests on the
    verified facts (approval refused by HR-01, refusal possible), and verify names it."""
    stored = json.loads(team.sql("SELECT evaluation FROM requests WHERE reference = 'EX-0002'")[0][0])
    stored["findings"] = [f for f in stored["findings"] if f["rule"] not in ("HR-01", "HR-02")]
    team.sql(
        "UPDATE requests SET evaluation = :e, recommendation = 'approve' WHERE reference = 'EX-0002'",
        {"e": rq.compact_json(stored)},
    )
    ok(team, "claim", "EX-0002", user="sen1")
    refused(
        team,
        "decide",
        "EX-0002",
        "--outcome",
        "approve",
        "--justification",
        JUST,
        user="sen1",
        code=5,
        words="HR-01 refuses with override never",
    )
    ok(team, "decide", "EX-0002", "--outcome", "refuse", "--justification", JUST, user="sen1")
    data = json.loads(ok(team, "show", "EX-0002", "--format", "json", user=ADMIN))
    assert data["decisions"][-1]["outcome"] == "refuse"
    assert data["decisions"][-1]["recommendation"] == "refuse"  # the decision recorded the facts
    assert first_problem(team)["kind"] == "evaluation"


def test_a_pending_decision_edited_is_never_confirmed(team):
    team.sql("UPDATE decisions SET outcome = 'approve' WHERE final = false AND rejected = false")
    team.sql("DELETE FROM conditions WHERE text = 'yearly fairness audit'")
    refused(
        team,
        "check",
        "R-SECOND",
        "--confirm",
        user="rev2",
        code=1,
        words="differs from the decision its decider recorded",
    )
    events = json.loads(ok(team, "show", "R-SECOND", "--format", "json", user=ADMIN))["events"]
    assert events[-1]["action"] == "decide"


def test_the_decide_event_carries_the_body_its_check_confirms(team):
    (payload,) = team.sql(
        "SELECT payload FROM audit_events WHERE action = 'decide' AND reference = 'R-SECOND'"
    )[0]
    assert len(json.loads(payload)["body_sha256"]) == 64
    ok(team, "check", "R-SECOND", "--confirm", user="rev2")
    assert ok(team, "verify", user=ADMIN).startswith("OK")


def test_activation_rejects_the_pending_approvals_it_forbids(team, tmp_path):
    stricter = candidate(
        tmp_path,
        "strict.toml",
        (
            'outcome = "escalate_second"\nwhen = "use.decision_effects meets consequential_effects"',
            'outcome = "refuse"\noverride = "never"\nwhen = "use.decision_effects meets '
            'consequential_effects"',
        ),
    )
    ok(team, "rules", "import", stricter, user=ADMIN)
    ok(team, "rules", "propose", "human-rights@3", user=ADMIN)
    ok(team, "rules", "approve", "human-rights@3", user="adm")
    data = json.loads(ok(team, "show", "R-SECOND", "--format", "json", user=ADMIN))
    assert data["status"] == "in_review" and data["assignee"] == "rev1"
    last = data["decisions"][-1]
    assert last["rejected"] and last["reject_reason"].startswith(
        "rule set human-rights@3 activated: HR-18 refuses with override never"
    )
    assert data["events"][-1]["actor"] == "adm" and data["events"][-1]["action"] == "check"
    refused(
        team, "check", "R-SECOND", "--confirm", user="rev2", code=5, words="HR-18 refuses with override never"
    )
    # the final approval and the refusal keep their decisions; verify replays all of it
    assert json.loads(ok(team, "show", "R-COND", "--format", "json", user=ADMIN))["status"] == "decided"
    assert ok(team, "verify", user=ADMIN).startswith("OK")


def test_options_before_the_command_and_user_refused_on_postgresql(db_cli):
    if db_cli.backend != "pg":
        pytest.skip("team mode only: on SQLite --user names the account")
    for args in (("show", "EX-0001"), ("verify",), ("users", "list"), ("claim", "EX-0001")):
        code, _out, err = db_cli(*args, "--user", "rev1", user=ADMIN)
        assert code == 5 and "--user and REVIEWER_USER are refused on PostgreSQL" in err, args


# --------------------------------------------------------------------------- restore


def test_restore_refuses_a_backup_that_does_not_verify_unless_forced(cli, tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    ok(cli, "import", str(f), user=ADMIN)
    backup = tmp_path / "copy.db"
    ok(cli, "db", "backup", str(backup), user=ADMIN)
    conn = sqlite3.connect(backup)
    with conn:
        conn.execute("UPDATE requests SET status = 'decided' WHERE reference = 'R-APPROVE'")
    conn.close()
    refused(cli, "db", "restore", str(backup), user=ADMIN, code=1, words="does not verify")
    out = ok(cli, "db", "restore", str(backup), "--force", user=ADMIN)
    assert "restored with --force" in out
    (payload,) = cli.sql("SELECT payload FROM audit_events WHERE action = 'restore'")[0]
    assert json.loads(payload) == {"forced": True, "from": str(backup), "problems": 1}


def test_the_restore_event_is_part_of_the_restored_database(cli, tmp_path):
    ok(cli, "import", *map(str, sorted(EXAMPLES.glob("p0*.json"))), user=ADMIN)
    backup = tmp_path / "copy.db"
    ok(cli, "db", "backup", str(backup), user=ADMIN)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({**make({}), "reference": "R-EXTRA"}))
    ok(cli, "import", str(extra), user=ADMIN)
    ok(cli, "db", "restore", str(backup), user=ADMIN)
    actions = [a for (a,) in cli.sql("SELECT action FROM audit_events ORDER BY seq")]
    assert actions[-1] == "restore" and "R-EXTRA" not in str(cli.sql("SELECT reference FROM requests"))
    assert ok(cli, "verify", user=ADMIN).startswith("OK")
    assert not list(tmp_path.glob(".*.restore*"))  # the staged copy is gone


def test_restoring_a_backup_of_a_newer_schema_is_refused_before_anything_changes(cli, tmp_path):
    ok(cli, "import", str(EXAMPLES / "p01-office-door-access.json"), user=ADMIN)
    backup = tmp_path / "newer.db"
    ok(cli, "db", "backup", str(backup), user=ADMIN)
    conn = sqlite3.connect(backup)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    refused(cli, "db", "restore", str(backup), user=ADMIN, code=7, words="made by a newer Reviewer")


def test_the_text_report_names_an_edited_rule_set_once(team):
    team.sql(EDITS["rule-set text"][0])
    code, out, _err = team("verify", user=ADMIN)
    assert code == 1 and out.startswith("PROBLEM")
    named = [line for line in out.splitlines() if "human-rights@2" in line]
    assert named == [
        "  rule set human-rights@2: its stored text does not match its hash (changed outside Reviewer)"
    ]


def test_verify_names_an_assignee_no_account_has(cli):
    """With SQLite's foreign keys switched off by hand, an assignee id no account has is not
    read as unassigned: verify names it."""
    ok(cli, "seed-demo", "--count", "5", user=ADMIN)
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE requests SET assignee_id = 999 WHERE reference = 'DEMO-000003'")
    conn.close()
    problem = first_problem(cli)
    assert problem["kind"] == "request", problem
    assert "DEMO-000003: assignee is account id 999, which no account has" in problem["message"], problem
