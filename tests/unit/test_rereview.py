"""Re-review (the case file): approvals whose re-review date has come, or whose conditions are
overdue, are listed by `reviewer rereview` and shown by the queue's "re-review due" view;
refusals, approvals not yet due and reopened requests are not. Dates relative to today."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from reviewer import request as rq
from reviewer.services import queries, workflow
from reviewer.services.queries import QueueQuery
from reviewer.vocabulary import View
from tests.helpers.documents import make
from tests.helpers.workflow import ADMIN, JUST, ok

TODAY = dt.datetime.now(dt.UTC).date()


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def decide_on(cli, monkeypatch, day: str, ref: str, *args: str) -> None:
    """Claim and decide `ref` as if today were `day` (the workflow's clock)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(workflow, "_today", lambda: dt.date.fromisoformat(day))
        mp.setattr(workflow, "utc_now", lambda: f"{day}T10:00:00.000000Z")
        ok(cli, "claim", ref, user=ADMIN)
        ok(cli, "decide", ref, *args, "--justification", JUST, user=ADMIN)


@pytest.fixture
def due(wf, monkeypatch):
    # Due by its date: approved 400 days ago, re-review 35 days ago.
    decide_on(wf, monkeypatch, days(-400), "R-APPROVE", "--outcome", "approve", "--re-review", days(-35))
    # Due by an overdue condition, its re-review date far ahead.
    decide_on(wf, monkeypatch, days(-10), "R-COND", "--outcome", "approve_with_conditions",
              "--re-review", days(300), "--condition", f"Quarterly bias report@{days(-3)}")  # fmt: skip
    # Refused long ago: never re-reviewed.
    decide_on(wf, monkeypatch, days(-400), "R-NEVER", "--outcome", "refuse", "--re-review", days(-35))
    # Approved, due in 30 days.
    later = make({})
    later["reference"] = "R-LATER"
    (wf.tmp / "later.json").write_text(rq.canonical_json(later))
    ok(wf, "import", str(wf.tmp / "later.json"), user=ADMIN)
    decide_on(wf, monkeypatch, days(-1), "R-LATER", "--outcome", "approve", "--re-review", days(30))
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
