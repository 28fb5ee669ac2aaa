"""The transparency report (`reviewer report`): its figures on a database whose requests and
decisions are known (made through the real CLI, on days set by a clock the workflow reads),
the PDF read back with pypdf, its signature, and its refusals of bad periods and folders."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import pytest

from reviewer import request as rq
from reviewer import settings
from reviewer.services import workflow
from tests.helpers.cli import Cli
from tests.helpers.documents import make
from tests.helpers.pdf import pdf_text
from tests.helpers.workflow import ADMIN, JUST, ok, refused

PASS = "correct horse battery"
ACCOUNTS = {
    "rev1": ["reviewer"],
    "rev2": ["reviewer"],
    "sen1": ["senior", "reviewer"],
    "sen2": ["senior", "reviewer"],
}
NAMES = [ADMIN, *ACCOUNTS]

# reference -> (received_on, changes to the clean request); the comments give the findings.
REQUESTS = {
    "P-POLICE": (
        "2024-03-05",
        {
            "customer.org_type": "police",
            "customer.country": "US",
            "customer.sector": "government",
            "use.tracks_individuals": True,
        },
    ),  # HR-01, HR-09 refuse
    "P-NEVER": ("2024-03-10", {"use.tracks_individuals": True}),  # HR-09 refuse
    "P-JUDGE": ("2024-03-12", {}),  # no finding: approve
    "P-SENIOR": ("2024-03-01", {"customer.org_type": "intelligence"}),  # HR-17 escalate_senior
    "P-SECOND": ("2024-03-02", {"use.decision_effects": ["housing"]}),  # HR-18 escalate_second
    "P-SECOND-REF": ("2024-03-04", {"use.decision_effects": ["insurance"]}),  # HR-18 escalate_second
    "P-RETURN": ("2024-03-01", {"customer.sector": None}),  # HR-29 needs_information
    "P-NEW": ("2024-03-30", {"use.operations": ["verification"], "scale.cameras": 60}),  # HR-19 at scale
    "P-SCALE": ("2024-04-05", {"use.operations": ["verification"], "scale.cameras": 51}),  # HR-19 at scale
    "P-SCALE-UNKNOWN": (
        "2024-04-06",
        {"use.operations": ["verification"], "scale.cameras": None},
    ),  # HR-19 unknown
}
CONDITIONS = [
    "met by the contract@2024-03-25",
    "still open, due in March@2024-03-30",
    "still open, due in June@2024-06-30",
    "lapsed in March@2024-03-29",
]


def _on(mp: pytest.MonkeyPatch, day: str, hour: int = 10) -> None:
    """The workflow acts on this day (UTC): its times and its `today`."""
    stamp = f"{day}T{hour:02d}:00:00.000000Z"
    mp.setattr(workflow, "utc_now", lambda: stamp)
    mp.setattr(workflow, "_today", lambda: dt.date.fromisoformat(day))


def _build(cli: Cli) -> None:
    docs = []
    for ref, (received, changes) in REQUESTS.items():
        doc = make({**changes, "received_on": received})
        doc["reference"] = ref
        docs.append(doc)
    f = cli.tmp / "report.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in docs), encoding="utf-8")
    ok(cli, "import", str(f), user=ADMIN)
    for name, roles in ACCOUNTS.items():
        ok(cli, "users", "add", name, *[a for r in roles for a in ("--role", r)], user=ADMIN)
    ok(cli, "settings", "set", "organisation_name", "Contoso Responsible AI Office", user=ADMIN)
    conditions = [a for c in CONDITIONS for a in ("--condition", c)]
    with pytest.MonkeyPatch.context() as mp:

        def act(day: str, user: str, *args: str) -> None:
            _on(mp, day)
            ok(cli, *args, user=user)

        act("2024-03-08", "rev1", "claim", "P-RETURN")
        act("2024-03-08", "rev1", "return", "P-RETURN", "--reason", JUST)
        # Rejected at its check, decided again, confirmed: only the confirmed decision counts.
        act("2024-03-14", "rev1", "claim", "P-SECOND")
        act(
            "2024-03-14",
            "rev1",
            "decide",
            "P-SECOND",
            "--outcome",
            "approve_with_conditions",
            "--justification",
            JUST,
            *conditions,
        )
        act("2024-03-14", "sen2", "check", "P-SECOND", "--reject", "--reason", JUST)
        act(
            "2024-03-15",
            "rev1",
            "decide",
            "P-SECOND",
            "--outcome",
            "approve_with_conditions",
            "--justification",
            JUST,
            *conditions,
        )
        act("2024-03-18", "sen2", "check", "P-SECOND", "--confirm")
        ids = {r["text"]: r["id"] for r in json.loads(ok(cli, "conditions", "--format", "json", user=ADMIN))}
        assert len(ids) == 4  # of the confirmed decision
        act(
            "2024-03-19",
            "rev1",
            "conditions",
            "mark",
            str(ids["met by the contract"]),
            "met",
            "--note",
            "signed",
        )
        act("2024-03-20", "rev1", "claim", "P-POLICE")
        act("2024-03-20", "rev1", "decide", "P-POLICE", "--outcome", "refuse", "--justification", JUST)
        act("2024-03-22", "rev2", "claim", "P-SECOND-REF")
        act("2024-03-22", "rev2", "decide", "P-SECOND-REF", "--outcome", "refuse", "--justification", JUST)
        act("2024-03-25", "rev2", "claim", "P-JUDGE")
        act("2024-03-25", "rev2", "decide", "P-JUDGE", "--outcome", "refuse", "--justification", JUST)
        # Decided in March, confirmed in April: an April decision.
        act("2024-03-28", "sen1", "claim", "P-SENIOR")
        act("2024-03-28", "sen1", "decide", "P-SENIOR", "--outcome", "approve", "--justification", JUST)
        act(
            "2024-03-30",
            "rev1",
            "conditions",
            "mark",
            str(ids["lapsed in March"]),
            "lapsed",
            "--note",
            "late",
        )
        # Received in March, decided in April.
        act("2024-04-02", "rev2", "claim", "P-NEVER")
        act("2024-04-02", "rev2", "decide", "P-NEVER", "--outcome", "refuse", "--justification", JUST)
        act("2024-04-03", "rev1", "check", "P-SENIOR", "--confirm")


@pytest.fixture
def known(db_cli, tmp_path, snapshots):
    """The requests and decisions above, whose every figure is known (SQLite and team mode)."""
    db_cli.tmp = tmp_path
    snapshots.prepared("report", db_cli, _build)
    return db_cli


def report(cli: Cli, start: str, end: str, out=None) -> tuple[dict, str]:
    """The report's data (its JSON summary) and the PDF's text."""
    path = out or cli.tmp / f"report-{start}-{end}.pdf"
    data = json.loads(
        ok(
            cli,
            "report",
            "--from",
            start,
            "--to",
            end,
            "--out",
            str(path),
            "--format",
            "json",
            user="rev1",
        )
    )
    text, _pages, _meta = pdf_text(path)
    return data, text


def flat(text: str) -> str:
    return " ".join(text.split())


def by_key(rows: list[dict], key: str) -> dict:
    return {r[key]: r["count"] for r in rows}


def test_requests_received_and_decisions_made_are_counted_apart_across_the_boundary(known):
    march, _ = report(known, "2024-03-01", "2024-03-31")
    assert march["received"]["total"] == 8
    assert by_key(march["received"]["by_status"], "status") == {
        "new": 1,
        "in_review": 0,
        "awaiting_second": 0,
        "decided": 6,
        "returned": 1,
    }
    # P-SENIOR (decided 28 March, confirmed 3 April) and P-NEVER (received in March, decided in
    # April) are April's decisions; the rejected decision of P-SECOND is nobody's.
    assert march["decisions"]["total"] == 5
    assert by_key(march["decisions"]["by_outcome"], "outcome") == {
        "approve": 0,
        "approve_with_conditions": 1,
        "refuse": 3,
        "return_for_information": 1,
    }
    april, text = report(known, "2024-04-01", "2024-04-30")
    assert april["received"]["total"] == 2
    assert by_key(april["decisions"]["by_outcome"], "outcome") == {
        "approve": 1,
        "approve_with_conditions": 0,
        "refuse": 1,
        "return_for_information": 0,
    }
    assert "Approved with conditions 0" in flat(text) and "All decisions made 2" in flat(text)


def test_at_scale_counts_the_findings_of_hr19(known):
    march, _ = report(known, "2024-03-01", "2024-03-31")
    assert (march["received"]["at_scale"], march["received"]["at_scale_unknown"]) == (1, 0)
    april, text = report(known, "2024-04-01", "2024-04-30")
    assert (april["received"]["at_scale"], april["received"]["at_scale_unknown"]) == (2, 1)
    assert "At scale (HR-19: At scale) 2" in flat(text)
    # The SQL patterns agree with a parse of every stored evaluation.
    parsed = {"scale": 0, "unknown": 0}
    for (evaluation,) in known.sql("SELECT evaluation FROM requests"):
        outcomes = [f["outcome"] for f in json.loads(evaluation)["findings"] if f["rule"] == "HR-19"]
        parsed["scale"] += bool(outcomes)
        parsed["unknown"] += outcomes == ["needs_information"]
    year, _ = report(known, "2024-01-01", "2024-12-31")
    assert (year["received"]["at_scale"], year["received"]["at_scale_unknown"]) == (3, 1)
    assert parsed == {"scale": 3, "unknown": 1}


def test_a_refusal_counts_under_each_refusing_rule_and_once_in_the_total_hr01_first(known):
    march, text = report(known, "2024-03-01", "2024-03-31")
    refusals = march["refusals"]
    # P-POLICE refused by HR-01 and HR-09; P-JUDGE and P-SECOND-REF by no rule.
    assert refusals["total"] == 3
    assert [(r["rule"], r["count"]) for r in refusals["by_rule"]] == [("HR-01", 1), ("HR-09", 1)]
    assert refusals["no_rule"] == 2
    year, text = report(known, "2024-01-01", "2024-12-31")
    # HR-09 refused twice (P-POLICE, P-NEVER), HR-01 once: HR-01 is still listed first.
    assert [(r["rule"], r["count"]) for r in year["refusals"]["by_rule"]] == [("HR-01", 1), ("HR-09", 2)]
    assert year["refusals"]["total"] == 4
    text = flat(text)
    assert "HR-01 Police department in a moratorium country 1" in text
    assert text.index("HR-01 Police department") < text.index("HR-09 Ongoing surveillance")
    assert "Reviewer's judgement (no refusing rule) 2" in text
    assert "All refusals (each once) 4" in text


def test_escalations_are_counted_by_role_and_the_report_names_no_account(known):
    march, march_text = report(known, "2024-03-01", "2024-03-31")
    second = {e["recommendation"]: e for e in march["escalations"]["by_recommendation"]}
    # P-SECOND: decided by a reviewer, checked by a senior; P-SECOND-REF: refused by a
    # reviewer without a check.
    assert second["escalate_second"]["total"] == 2
    assert second["escalate_second"]["decided_by"] == {"senior": 0, "reviewer": 2}
    assert second["escalate_second"]["checked_by"] == {"senior": 1, "reviewer": 0, "none": 1}
    assert second["escalate_senior"]["total"] == 0
    april, april_text = report(known, "2024-04-01", "2024-04-30")
    senior = {e["recommendation"]: e for e in april["escalations"]["by_recommendation"]}
    assert senior["escalate_senior"]["decided_by"] == {"senior": 1, "reviewer": 0}
    assert senior["escalate_senior"]["checked_by"] == {"senior": 0, "reviewer": 1, "none": 0}
    assert april["escalations"]["total"] == 1
    assert "Decided by a senior 1 0 1" in flat(april_text)
    for text in (march_text, april_text):
        assert "Contoso Responsible AI Office" in text
        for name in NAMES:
            assert name not in text and name not in text.replace("\n", "")
    stdout = ok(
        known,
        "report",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--out",
        str(known.tmp / "r.pdf"),
        user=ADMIN,
    )
    assert not [n for n in NAMES if n in stdout]


def test_median_days_from_receipt_to_decision(known):
    march, text = report(known, "2024-03-01", "2024-03-31")
    # P-RETURN 7, P-JUDGE 13, P-POLICE 15, P-SECOND 16 (to its check), P-SECOND-REF 18
    assert march["days_to_decision"] == {"median": 15, "count": 5}
    assert "15 days (over 5 decisions)" in flat(text)
    april, text = report(known, "2024-04-01", "2024-04-30")
    assert april["days_to_decision"] == {"median": 28, "count": 2}  # 23 and 33


def test_conditions_met_lapsed_open_and_overdue(known):
    march, text = report(known, "2024-03-01", "2024-03-31")
    # The confirmed decision's four (the rejected decision's are not counted): one met, one
    # lapsed, one open and due in March (overdue at the end of March), one due in June.
    assert march["conditions"] == {
        "total": 4,
        "met": 1,
        "lapsed": 1,
        "open": 2,
        "overdue": 1,
        "overdue_before": "2024-04-01",
    }
    assert "Open and overdue (due before 2024-04-01) 1" in flat(text)
    year, _ = report(known, "2024-01-01", "2024-12-31")
    assert (year["conditions"]["open"], year["conditions"]["overdue"]) == (2, 2)
    april, _ = report(known, "2024-04-01", "2024-04-30")
    assert april["conditions"]["total"] == 0  # April's decisions carry none


def test_a_condition_not_yet_due_today_is_not_overdue(known):
    from reviewer.models.db import Database
    from reviewer.services.report import report_data

    db = Database(known.url)
    try:
        with db.read() as session:  # the year's report made on 1 May 2024
            data = report_data(
                session,
                dt.date(2024, 1, 1),
                dt.date(2024, 12, 31),
                now=dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
            )
    finally:
        db.dispose()
    assert data["conditions"]["overdue_before"] == "2024-05-01"
    assert data["conditions"]["overdue"] == 1  # the one due in June is not overdue yet
    assert data["created_at"] == "2024-05-01T12:00:00.000000Z"


def test_a_period_without_decisions_renders_clearly(known):
    data, text = report(known, "2023-01-01", "2023-12-31")
    assert data["received"]["total"] == 0 and data["decisions"]["total"] == 0
    assert data["days_to_decision"] == {"median": None, "count": 0}
    assert [(r["rule"], r["count"]) for r in data["refusals"]["by_rule"]] == [("HR-01", 0)]
    assert flat(text).count("No decisions in this period.") == 4
    assert "Page 1 of" in text and "How the figures are counted" in text


def test_the_text_summary_and_the_chain_head(known):
    out = ok(
        known,
        "report",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-31",
        "--out",
        str(known.tmp / "r.pdf"),
        user=ADMIN,
    )
    assert (
        "decisions made: 5 (Approved 0, Approved with conditions 1, Refused 3, Returned for information 1)"
        in out
    )
    assert "refusals: 3; by rule: HR-01 1, HR-09 1, reviewer's judgement 2" in out
    assert "(not signed: an admin runs `reviewer keys init` to sign records)" in out
    ((seq, digest),) = known.sql("SELECT seq, hash FROM chain_head")
    assert f"chain head at creation: {seq}:{digest}" in out
    text, pages, meta = pdf_text(known.tmp / "r.pdf")
    dense = "".join(text.split())
    assert f"Chainheadatcreation{seq}:{digest}" in dense
    assert "Signedbycertificate(SHA-256)notsigned" in dense
    assert meta["/Author"] == "Contoso Responsible AI Office"
    assert meta["/Title"] == "Transparency report 2024-03-01 to 2024-03-31"
    for i, page in enumerate(pages, 1):
        assert f"Page {i} of {len(pages)}" in page
    assert ok(known, "verify", "--anchor", f"{seq}:{digest}", user=ADMIN).startswith("OK")


def test_the_same_data_renders_the_same_text(known, tmp_path):
    from reviewer.export.report import render_report_bytes

    data, text = report(known, "2024-01-01", "2024-12-31")
    data.pop("file"), data.pop("certificate")
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    first.write_bytes(render_report_bytes(data, None))
    second.write_bytes(render_report_bytes(data, None))
    assert pdf_text(first)[1] == pdf_text(second)[1]
    assert pdf_text(first)[0] == text  # and what the command wrote


def test_a_period_that_ends_before_it_starts_is_refused(known):
    refused(
        known,
        "report",
        "--from",
        "2024-04-01",
        "--to",
        "2024-03-31",
        "--out",
        str(known.tmp / "r.pdf"),
        user=ADMIN,
        code=3,
        words="--from 2024-04-01 is after --to 2024-03-31",
    )
    assert not (known.tmp / "r.pdf").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--from", "2024-3-01"), ("--to", "31/03/2024"), ("--from", "2024-02-30"), ("--to", "20240331")],
)
def test_a_bad_date_is_a_usage_error_naming_the_option(known, option, value):
    args = {"--from": "2024-03-01", "--to": "2024-03-31", option: value}
    code, _out, err = known(
        "report",
        "--from",
        args["--from"],
        "--to",
        args["--to"],
        "--out",
        str(known.tmp / "r.pdf"),
        user=ADMIN,
    )
    assert code == 2 and f"{option} takes a date YYYY-MM-DD, got {value!r}" in err


def test_an_unwritable_folder_is_an_environment_problem_and_leaves_nothing(known):
    blocker = known.tmp / "a-file"
    blocker.write_text("not a folder")
    code, _out, err = known(
        "report", "--from", "2024-03-01", "--to", "2024-03-31", "--out", str(blocker / "r.pdf"), user=ADMIN
    )
    assert code == 7 and "cannot write" in err and "nothing was written" in err
    out = known.tmp / "out"
    out.mkdir()
    ok(known, "report", "--from", "2024-03-01", "--to", "2024-03-31", "--out", str(out / "r.pdf"), user=ADMIN)
    assert sorted(p.name for p in out.iterdir()) == ["r.pdf"]  # no part left beside it


def test_the_signed_report_validates_against_the_recorded_certificate(known, monkeypatch):
    from reviewer.export.signing import check_signature, load_pem

    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", PASS)
    fingerprint = ok(known, "keys", "init", user=ADMIN).split("certificate ")[1].split()[0]
    path = known.tmp / "signed.pdf"
    out = ok(known, "report", "--from", "2024-01-01", "--to", "2024-12-31", "--out", str(path), user=ADMIN)
    assert f"signed by certificate {fingerprint}" in out
    pem = ok(known, "settings", "get", "signing_cert." + fingerprint[:48], user=ADMIN)
    data = path.read_bytes()
    check = check_signature(data, [load_pem(pem.strip() + "\n")])
    assert check.problems == [] and check.signer_fingerprint == fingerprint
    dense = "".join(pdf_text(path)[0].split())
    assert f"Signedbycertificate(SHA-256){fingerprint}" in dense
    # A byte changed after signing is caught.
    changed = bytearray(data)
    changed[len(data) // 3] ^= 0x01
    assert check_signature(bytes(changed), [load_pem(pem.strip() + "\n")]).problems
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
    # verify --pdf knows a report: its signature, and the chain head it was made at.
    (known.tmp / "changed.pdf").write_bytes(bytes(changed))
    code, out, _ = known("verify", "--pdf", str(path), str(known.tmp / "changed.pdf"), user=ADMIN)
    assert code == 1 and f"OK {path}" in out.splitlines()
    assert f"PROBLEM {known.tmp / 'changed.pdf'}: " in out
    monkeypatch.delenv("REVIEWER_KEY_PASSPHRASE")
    os.replace(settings.signing_key_file(), known.tmp / "away.p12")  # no key: an unsigned report
    unsigned = known.tmp / "unsigned.pdf"
    ok(known, "report", "--from", "2024-01-01", "--to", "2024-12-31", "--out", str(unsigned), user=ADMIN)
    code, out, _ = known("verify", "--pdf", str(unsigned), user=ADMIN)
    assert code == 1 and "not signed" in out


def test_the_output_never_follows_a_planted_link_nor_replaces_a_device(known):
    folder = known.tmp / "k"
    folder.mkdir()
    victim = known.tmp / "victim.txt"
    victim.write_text("keep me")
    (folder / ".r.pdf.part").symlink_to(victim)
    ok(
        known,
        "report",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--out",
        str(folder / "r.pdf"),
        user=ADMIN,
    )
    assert victim.read_text() == "keep me" and (folder / "r.pdf").read_bytes().startswith(b"%PDF")
    for out in ("/dev/null", ""):
        code, _out, err = known(
            "report", "--from", "2024-01-01", "--to", "2024-12-31", "--out", out, user=ADMIN
        )
        assert code == 7 and "nothing was written" in err, (out, err)
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
