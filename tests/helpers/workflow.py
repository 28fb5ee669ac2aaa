"""The workflow tests' vocabulary: the admin account, a justification long enough, the
scenario requests (one per kind of decision rule), and `ok` / `refused`, which run an action
and check its outcome."""

from __future__ import annotations

from tests.helpers.documents import make

JUST = "A justification long enough to read in court, naming the facts."
ADMIN = "admin1"

# Requests whose findings give each kind of decision rule.
SCENARIOS = {
    "R-APPROVE": {},  # no finding: approve
    "R-COND": {"use.operations": ["verification"]},  # HR-25 conditions
    "R-SECOND": {"use.decision_effects": ["housing"]},  # HR-18 escalate_second
    "R-SENIOR": {"customer.org_type": "intelligence"},  # HR-17 escalate_senior
    "R-COMMITTEE": {"use.use_case": "humanitarian"},  # HR-12 refuse, committee
    "R-NEVER": {"use.tracks_individuals": True},  # HR-09 refuse, never
    "R-INFO": {"customer.sector": None},  # HR-29 needs_information
}


def scenario_docs() -> list[dict]:
    out = []
    for ref, changes in SCENARIOS.items():
        doc = make(changes)
        doc["reference"] = ref
        out.append(doc)
    return out


def ok(cli, *args, user):
    code, out, err = cli(*args, user=user)
    assert code == 0, f"{args} as {user}: exit {code}: {err}"
    return out


def refused(cli, *args, user, code, words):
    """The action fails with its exit code and reason, and writes nothing."""
    before = cli.dump()
    got, _out, err = cli(*args, user=user)
    assert got == code, f"{args} as {user}: exit {got}: {err}"
    assert words in err, err
    assert cli.dump() == before
