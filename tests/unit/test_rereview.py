"""Re-review (the case file): approvals whose re-review date has come, or whose conditions are
overdue, are listed by `reviewer rereview` and shown by the queue's "re-review due" view;
refusals, approvals not yet due and reopened requests are not. Dates relative to today."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reviewer import request as rq
from reviewer.services import queries, workflow
from reviewer.services.queries import QueueQuery
from reviewer.vocabulary import View
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok, refused

TODAY = dt.datetime.now(dt.UTC).date()


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def decide_on(cli, ref: str, day: str, *args: str) -> None:
    """Claim and decide `ref` as if today were `day` (the workflow's clock)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflow, "_today", lambda: dt.date.fromisoformat(day))
        mp.setattr(workflow, "utc_now", lambda: f"{day}T10:00:00.000000Z")
        ok(cli, "claim", ref, user=ADMIN)
        ok(cli, "decide", ref, *args, "--justification", JUST, user=ADMIN)


def _due(cli) -> None:
    # Due by its date: approved 400 days ago, re-review 35 days ago.
    decide_on(cli, "R-APPROVE", days(-400), "--outcome", "approve", "--re-review", days(-35))
    # Due by an overdue condition, its re-review date far ahead.
    decide_on(cli, "R-COND", days(-10), "--outcome", "approve_with_conditions",
              "--re-review", days(300), "--condition", f"Quarterly bias report@{days(-3)}")  # fmt: skip
    # Refused long ago: never re-reviewed.
    decide_on(cli, "R-NEVER", days(-400), "--outcome", "refuse", "--re-review", days(-35))
    # Approved, due in 30 days.
    later = make({})
    later["reference"] = "R-LATER"
    (cli.tmp / "later.json").write_text(rq.canonical_json(later))
    ok(cli, "import", str(cli.tmp / "later.json"), user=ADMIN)
    decide_on(cli, "R-LATER", days(-1), "--outcome", "approve", "--re-review", days(30))


@pytest.fixture
def due(wf, snapshots):
    """The scenarios, with approvals due, not yet due and a refusal (built once a session)."""
    snapshots.prepared("rereview-due", wf, _due)
    return wf


def refs(rows) -> list[str]:
    return [r["reference"] for r in rows]


def test_the_list_holds_exactly_the_approvals_due(due):
    rows = json.loads(ok(due, "rereview", "--format", "json", user=ADMIN))
    assert refs(rows) == ["R-APPROVE", "R-COND"]
    by = {r["reference"]: r for r in rows}
    assert by["R-APPROVE"]["why"] == f"re-review date {days(-35)}"
    assert by["R-COND"]["why"] == "1 condition overdue" and by["R-COND"]["overdue_conditions"] == 1
    ahead = json.loads(ok(due, "rereview", "--due-by", days(30), "--format", "json", user=ADMIN))
    assert refs(ahead) == ["R-APPROVE", "R-LATER", "R-COND"]  # by re-review date
    text = ok(due, "rereview", user=ADMIN)
    assert text.splitlines()[-1] == "2 approvals due for re-review" and "R-APPROVE" in text


def test_a_reopened_approval_is_not_due_any_more(due):
    ok(
        due,
        "reopen",
        "R-APPROVE",
        "--reason",
        "Re-review: the scale has grown since the approval.",
        user=ADMIN,
    )
    assert refs(json.loads(ok(due, "rereview", "--format", "json", user=ADMIN))) == ["R-COND"]


def test_the_queue_view_shows_the_same_requests(due):
    from reviewer.context import open_context

    ctx = open_context(due.url_for(ADMIN), None if due.backend == "pg" else ADMIN)
    with ctx.db.read() as session:
        ids = queries.queue_ids(session, QueueQuery(view=View.REREVIEW_DUE.value), ADMIN)
        shown = sorted(queries.reference_of(session, i) for i in ids)
    ctx.db.dispose()
    assert shown == ["R-APPROVE", "R-COND"]


def test_a_bad_date_is_a_usage_error(due):
    code, _out, err = due("rereview", "--due-by", "tomorrow", user=ADMIN)
    assert code == 2 and "--due-by takes a date YYYY-MM-DD" in err


# --------------------------------------------------------------------------- starting one

REASON = "Re-review: the customer's scale has grown since the approval."


def show(cli, ref: str) -> dict:
    return json.loads(ok(cli, "show", ref, "--format", "json", user=ADMIN))


def active(cli) -> tuple[str, int, str]:
    """The active rule set: its id, version and text."""
    ((rule_set, version, content),) = cli.sql(
        "select rule_set_id, version, content from rule_sets where state = 'active'")  # fmt: skip
    return rule_set, version, content


def test_starting_a_rereview_reopens_the_approval_under_the_active_rule_set(due):
    before = show(due, "R-APPROVE")
    rule_set, version, _text = active(due)
    out = ok(due, "rereview", "--start", "R-APPROVE", "--reason", REASON, user="rev1")
    assert out.strip() == f"R-APPROVE: in_review, version {before['version'] + 1}"
    after = show(due, "R-APPROVE")
    assert after["status"] == "in_review" and after["assignee"] == "rev1"
    assert after["evaluation"]["rule_set"] == f"{rule_set}@{version}"
    assert after["decisions"] == before["decisions"]  # the approval stays on record, untouched
    assert after["decisions"][0]["outcome"] == "approve" and after["decisions"][0]["final"]
    event = after["events"][-1]
    assert event["action"] == "rereview" and event["actor"] == "rev1"
    assert event["words"] == f"re-review of decision 1 started: {REASON}"
    (payload,) = due.sql("select payload from audit_events where action = 'rereview'")[0]
    assert json.loads(payload) == {"version": after["version"], "assignee": "rev1", "reason": REASON,
                                   "rule_set": f"{rule_set}@{version}", "decision": 1}  # fmt: skip
    # Due by an overdue condition: a senior starts it; the condition stays open, on record.
    ok(due, "rereview", "--start", "R-COND", "--reason", REASON, user="sen1")
    cond = show(due, "R-COND")
    assert cond["status"] == "in_review" and cond["decisions"][0]["conditions"][0]["status"] == "open"
    assert refs(json.loads(ok(due, "rereview", "--format", "json", user=ADMIN))) == []
    code, out, err = due("verify", "--format", "json", user=ADMIN)
    assert code == 0 and json.loads(out)["ok"], out + err
    # The reviewer decides again: a new decision beside the one re-reviewed.
    ok(due, "decide", "R-APPROVE", "--outcome", "approve", "--justification", JUST, user="rev1")
    assert [d["number"] for d in show(due, "R-APPROVE")["decisions"]] == [1, 2]
    assert due("verify", user=ADMIN)[0] == 0


def test_a_rereview_is_refused_when_it_is_not_due_or_not_theirs(due):
    start = ("rereview", "--start")
    refused(due, *start, "R-LATER", "--reason", REASON, user="rev1", code=5,
            words=f"re-review: R-LATER is not due: its approval (decision 1) is re-reviewed from {days(30)}")  # fmt: skip
    refused(due, *start, "R-NEVER", "--reason", REASON, user="rev1", code=5,
            words="re-review: R-NEVER decision 1 is refuse: only an approval in force is re-reviewed")  # fmt: skip
    refused(due, *start, "R-APPROVE", "--reason", REASON, user="adm", code=5,
            words="re-review: adm has neither the reviewer nor the senior role")  # fmt: skip
    refused(due, *start, "R-APPROVE", "--reason", "too short", user="rev1", code=5,
            words="a reason needs at least 30 characters (got 9)")  # fmt: skip
    refused(due, *start, "R-SECOND", "--reason", REASON, user="rev1", code=5,
            words="re-review: R-SECOND is new, not decided")  # fmt: skip
    code, _out, err = due(*start, "R-APPROVE", user="rev1")
    assert code == 2 and "needs --reason TEXT" in err
    refused(due, *start, "R-APPROVE", "--reason", REASON, "--expect-version", "1", user="rev1", code=4,
            words="changed by")  # fmt: skip


def test_after_an_activation_the_rereview_evaluates_under_the_new_version(due):
    from reviewer.rules import evaluate_with, load_text, stored_with

    rule_set, version, text = active(due)
    old, new = f"{rule_set}@{version}", f"{rule_set}@{version + 1}"
    path = Path(due.tmp) / "next.toml"
    path.write_text(text.replace(f"version = {version}\n", f"version = {version + 1}\n", 1)
                    .replace('title = "', 'title = "Next: ', 1), encoding="utf-8")  # fmt: skip
    ok(due, "rules", "import", str(path), user=ADMIN)
    ok(due, "rules", "propose", new, user=ADMIN)
    ok(due, "rules", "approve", new, user="adm")
    ok(due, "rereview", "--start", "R-APPROVE", "--reason", REASON, user="rev1")
    after = show(due, "R-APPROVE")
    assert after["evaluation"]["rule_set"] == new
    (payload,) = due.sql("select payload from audit_events where action = 'rereview'")[0]
    assert json.loads(payload)["rule_set"] == new
    ((stored, recommendation, document),) = due.sql(
        "select evaluation, recommendation, document from requests where reference = 'R-APPROVE'")  # fmt: skip
    ruleset, doc = load_text(path.read_text(encoding="utf-8")), json.loads(document)
    fresh = evaluate_with(ruleset, doc, None)
    assert json.loads(stored)["rule_set"] == new and recommendation == fresh.recommendation
    if not ruleset.reads_totals:  # else its customer's totals are the caller's to refresh
        assert json.loads(stored) == stored_with(ruleset, fresh, None, doc)
    assert after["decisions"][0]["rule_set"] == old  # the approval, as it was made
    assert due("verify", user=ADMIN)[0] == 0
