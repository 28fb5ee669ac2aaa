"""The request view reads as words (issue 19): findings grouped by severity with their counts,
their facts said with the labels of the one label table (each finding's expression one click
away), the missing facts as one checklist, statuses and stored values by their labels, every
time as `2026-12-01 20:58 UTC`. Driven with qtbot on a real database."""

from __future__ import annotations

import json
import re

from PySide6.QtCore import QUrl

from reviewer.request import LEAF_FIELDS
from reviewer.rules import RANK
from reviewer.vocabulary import field_label, findings_count
from tests.helpers.cli import EXAMPLES
from tests.ui.test_flows import open_reference, wait_action, window_for

TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


def _evaluation(cli, reference: str) -> dict:
    code, out, _ = cli("show", reference, "--format", "json", user="rev1")
    assert code == 0
    return json.loads(out)["evaluation"]


def _section(text: str, heading: str, after: str) -> str:
    start = text.index(heading)
    return text[start : text.index(after, start)]


def _sheriff(qtbot, cli):
    """EX-0002, the US sheriff: two refusals and many missing facts, opened in a window."""
    assert cli("db", "upgrade", user="rev1")[0] == 0
    assert cli("import", str(EXAMPLES / "p02-us-sheriff.json"), user="rev1")[0] == 0
    window, _dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0002")
    return window


def test_findings_are_grouped_by_severity_with_their_counts(qtbot, cli):
    window = _sheriff(qtbot, cli)
    findings = _evaluation(cli, "EX-0002")["findings"]
    text = window.view.toPlainText()
    assert ("2 refusals, 10 findings that need information, 1 senior escalation, "
            "3 findings with conditions; 15 missing facts") in text  # fmt: skip
    # One heading for each outcome, most severe first (the rank of the rule set), each
    # followed by its own findings and no other.
    outcomes = sorted({f["outcome"] for f in findings}, key=lambda o: -RANK[o])
    headings = [_heading(text, o, findings) for o in outcomes]
    assert headings == sorted(headings)
    ends = [*headings[1:], text.index("Missing facts — ask sales")]
    for outcome, start, end in zip(outcomes, headings, ends, strict=True):
        group = text[start:end]
        for f in findings:
            assert (f"{f['rule']} {f['title']} — " in group) == (f["outcome"] == outcome)
    refusals = text[headings[0] : headings[1]]
    assert refusals.startswith("✖ 2 refusals\nHR-01 Police department in a moratorium country — Refuse")


def _heading(text: str, outcome: str, findings: list[dict]) -> int:
    count = findings_count(outcome, sum(f["outcome"] == outcome for f in findings))
    match = re.search(rf"^. {re.escape(count)}$", text, re.M)
    assert match, count
    return match.start()


def test_each_missing_fact_is_once_in_the_checklist_in_words(qtbot, cli):
    window = _sheriff(qtbot, cli)
    findings = _evaluation(cli, "EX-0002")["findings"]
    text = window.view.toPlainText()
    checklist = _section(text, "Missing facts — ask sales", "\nConditions\n")
    own = list(
        dict.fromkeys(m for f in findings for m in f["missing"] if not m.startswith("customer_total."))
    )
    assert len(own) == 15 and f"{len(own)} facts the rules need are unknown" in checklist
    items = [line for line in checklist.splitlines() if line.startswith("☐ ")]
    assert len(items) == len(own)
    for path in own:
        needing = ", ".join(f["rule"] for f in findings if path in f["missing"])
        assert items.count(f"☐ {field_label(path)} — needed by {needing}") == 1, path
        assert "." not in path or path not in text  # in words only
    # The customer's totals are said once, as what stays unknown while a part is.
    assert "The customer's totals of Cameras" in checklist and "(needed by HR-30)" in checklist
    # Nothing else lists what is missing.
    assert "missing:" not in text


def test_no_stored_value_or_field_path_shows_but_behind_the_expression_link(qtbot, cli):
    window = _sheriff(qtbot, cli)
    assert wait_action(qtbot, window, window.panel.buttons["claim"].click) == "claim"
    qtbot.waitUntil(lambda: "Status In review" in window.view.toPlainText(), timeout=10_000)
    text = window.view.toPlainText()
    assert "in_review" not in text
    assert "Organisation type: Sheriff's office — is a police type" in text
    assert "Customer country: US — is a moratorium country" in text
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", text) == []  # no stored value, field or parameter
    assert [p for p in LEAF_FIELDS if "." in p and p in text] == []
    assert re.findall(r"\b(?:end_users|sites)\[\d+\]", text) == []

    # The expression of one finding, one click away; the second click hides it again.
    raw = "customer.org_type = sheriff is in police_types; customer.country = US is in moratorium_countries"
    html = window.view.toHtml()
    assert 'href="expression:0"' in html
    window.view.anchorClicked.emit(QUrl("expression:0"))
    text = window.view.toPlainText()
    assert raw in text and "hide the rule's expression" in text
    assert "customer.country = US" not in text.replace(raw, "")  # only that finding's
    window.view.anchorClicked.emit(QUrl("expression:0"))
    assert raw not in window.view.toPlainText()
    # Every one at once, and back.
    window.view.anchorClicked.emit(QUrl("expression:all"))
    text = window.view.toPlainText()
    assert raw in text and "missing: data.shares_with_law_enforcement" in text
    window.view.anchorClicked.emit(QUrl("expression:all"))
    assert "data.shares_with_law_enforcement" not in window.view.toPlainText()


def test_stored_values_of_the_request_are_their_labels(qtbot, cli):
    assert cli("db", "upgrade", user="rev1")[0] == 0
    assert cli("import", str(EXAMPLES / "p12-passport-office-check-in.json"), user="rev1")[0] == 0
    window, _dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0012")
    text = window.view.toPlainText()
    assert "Government agency" in text and "government_agency" not in text
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", text) == []


def test_the_versions_and_the_history_show_their_times_in_utc(qtbot, cli):
    window = _sheriff(qtbot, cli)
    text = window.view.toPlainText()
    versions = _section(text, "\nVersions\n", "\nAudit events\n").splitlines()[2:]
    assert versions and all(re.fullmatch(rf"v\d+ · {TIME} · by rev1", v) for v in versions), versions
    events = _section(text, "\nAudit events\n", "received").splitlines()[2:]
    assert events and all(re.search(rf" · {TIME} · ", e) for e in events), events
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d", text) is None  # no raw time stamp anywhere


def test_customer_text_in_a_worded_fact_stays_text(qtbot, cli, tmp_path):
    doc = json.loads((EXAMPLES / "p09-reseller-constabulary-club.json").read_text(encoding="utf-8"))
    doc["end_users"][0]["name"] = "Constabulary <b>Club</b> & Co; <i>x</i>"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert cli("db", "upgrade", user="rev1")[0] == 0
    assert cli("import", str(path), user="rev1")[0] == 0
    window, _dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, doc["reference"])
    text = window.view.toPlainText()
    assert ("End users 1: Name: Constabulary <b>Club</b> & Co; <i>x</i> — contains the term "
            "“constabulary”") in text  # fmt: skip
    assert "<b>Club</b>" not in window.view.toHtml()
