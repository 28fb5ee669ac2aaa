"""The desktop flows driven through the widgets, offscreen, on a real database: import, search,
open, claim, decide, check as a second account (a second window on the same file), export a
PDF. Dialogs go through a fake, so nothing modal ever blocks."""

from __future__ import annotations

import re

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from reviewer.context import open_context
from reviewer.models.db import Database
from reviewer.ui.main_window import MainWindow
from tests.helpers.cli import EXAMPLES
from tests.helpers.ui import FakeDialogs, open_reference, opens

JUST = "Door access with opt-in enrolment; badges keep working; conditions are in the contract."


def window_for(qtbot, url: str, user: str) -> tuple[MainWindow, FakeDialogs]:
    dialogs = FakeDialogs()
    window = MainWindow(open_context(url, user, write=True), dialogs)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    return window, dialogs


def wait_action(qtbot, window: MainWindow, action) -> str:
    with qtbot.waitSignal(window.action_done, timeout=20_000) as blocker:
        action()
    return blocker.args[0]


def test_import_search_claim_decide_check_and_export(qtbot, cli, tmp_path):
    # The first account (rev1) is created with the database; rev2 is a second reviewer.
    assert cli("db", "upgrade", user="rev1")[0] == 0
    assert cli("users", "add", "rev2", "--role", "reviewer", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    assert window.model.rowCount() == 0

    dialogs.files = [str(p) for p in sorted(EXAMPLES.glob("p*.json"))]
    assert wait_action(qtbot, window, window.import_dialog) == "import"
    qtbot.waitUntil(lambda: window.model.rowCount() == 12, timeout=10_000)
    assert dialogs.infos[-1] == ("Import", "imported 12 new, 0 updated, 0 unchanged")

    with qtbot.waitSignal(window.loaded, timeout=10_000):
        qtbot.keyClicks(window.search, "harbour")
    assert window.model.rowCount() == 1 and window.model.reference(0) == "EX-0001"

    open_reference(qtbot, window, "EX-0001")
    html = window.view.toHtml()
    assert "Harbour &amp; Co Ltd" in html and "HR-25" in html and "conditions" in html
    panel = window.panel
    assert panel.buttons["claim"].isEnabled()
    assert not panel.submit.isEnabled()  # nothing to decide before the claim
    # The state that closes every outcome is said once, in words, with the next step.
    assert panel.closed.text() == "New request: claim it to decide."

    assert wait_action(qtbot, window, panel.buttons["claim"].click) == "claim"
    qtbot.waitUntil(lambda: panel.version == 2, timeout=10_000)
    assert not panel.outcome_allowed("approve")  # conditions exist: plain approve is closed
    # Said in words: no stored value, no command-line option.
    assert (
        "Approve: Plain approve is impossible while there are conditions (1): use Approve with conditions"
        in (panel.closed.text())
    )
    index = panel.outcome.findData("approve_with_conditions")
    panel.outcome.setCurrentIndex(index)
    assert panel.submit.isEnabled()
    assert panel.conditions.count() == 1
    panel.justification.setPlainText(JUST)
    assert wait_action(qtbot, window, panel.submit.click) == "decide"
    qtbot.waitUntil(lambda: window.panel.status == "decided", timeout=10_000)

    dialogs.folder = str(tmp_path / "pdfs")
    (tmp_path / "pdfs").mkdir()
    assert wait_action(qtbot, window, window.export_dialog) == "export"
    pdf = tmp_path / "pdfs" / "EX-0001-d1.pdf"
    assert pdf.exists() and "EX-0001" in PdfReader(pdf).pages[0].extract_text()


def test_second_account_checks_in_its_own_window(qtbot, cli):
    assert cli("import", str(EXAMPLES / "p04-bank-account-opening.json"), user="sen1")[0] == 0
    assert cli("users", "add", "rev2", "--role", "reviewer", user="sen1")[0] == 0
    first, _ = window_for(qtbot, cli.url, "sen1")
    open_reference(qtbot, first, "EX-0004")
    assert wait_action(qtbot, first, first.panel.buttons["claim"].click) == "claim"
    qtbot.waitUntil(lambda: first.panel.outcome_allowed("approve_with_conditions"), timeout=10_000)
    first.panel.outcome.setCurrentIndex(first.panel.outcome.findData("approve_with_conditions"))
    # Under Record, what recording it leads to.
    assert first.panel.follows.text() == (
        "Only a senior may record it. A different account must confirm this decision before it is final."
    )  # escalate_senior
    first.panel.justification.setPlainText(JUST)
    assert wait_action(qtbot, first, first.panel.submit.click) == "decide"
    qtbot.waitUntil(lambda: first.panel.status == "awaiting_second", timeout=10_000)
    assert not first.panel.confirm.isEnabled()  # nobody checks their own decision
    assert "different account" in first.panel.confirm.toolTip()

    second, _ = window_for(qtbot, cli.url, "rev2")
    second.view_filter.setCurrentIndex(second.view_filter.findData("awaiting my check"))
    qtbot.waitUntil(lambda: second.model.rowCount() == 1, timeout=10_000)
    open_reference(qtbot, second, "EX-0004")
    assert second.panel.confirm.isEnabled()
    assert wait_action(qtbot, second, second.panel.confirm.click) == "confirm"
    qtbot.waitUntil(lambda: "checked by rev2" in second.view.toHtml(), timeout=10_000)


def test_a_forbidden_approval_is_impossible_in_the_panel(qtbot, cli):
    assert cli("import", str(EXAMPLES / "p02-us-sheriff.json"), user="rev1")[0] == 0
    assert cli("claim", "EX-0002", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0002")
    panel = window.panel
    for outcome in ("approve", "approve_with_conditions"):
        assert not panel.outcome_allowed(outcome)
        item = panel.outcome.model().item(panel.outcome.findData(outcome))
        assert not item.isEnabled()
    assert "HR-01 refuses with override never: approval is impossible" in panel.closed.text()
    # No outcome is chosen for the reviewer, not even the only one open.
    assert panel.outcome.currentData() is None and panel.outcome.currentText() == "Choose an outcome"
    assert not panel.submit.isEnabled() and panel.submit.toolTip() == "choose an outcome first"
    panel.outcome.setCurrentIndex(panel.outcome.findData("refuse"))
    assert panel.submit.isEnabled()
    assert panel.follows.text() == "Final when recorded: a refusal needs one reviewer."
    assert dialogs.errors == []


def test_import_errors_are_listed_and_nothing_is_imported(qtbot, cli, tmp_path):
    assert cli("db", "upgrade", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"reference": "R-1", "received_on": "2026-02-30", "customer": {"name": "A"}}\n')
    dialogs.files = [str(bad)]
    assert wait_action(qtbot, window, window.import_dialog) == "failed:import"
    title, text = dialogs.errors[-1]
    assert "nothing was imported" in title and f"{bad}:1: received_on: not a valid date" in text
    assert window.model.rowCount() == 0


def test_dashboard_and_rule_set_tabs(qtbot, cli):
    assert cli("import", *map(str, sorted(EXAMPLES.glob("p*.json"))), user="rev1")[0] == 0
    window, _ = window_for(qtbot, cli.url, "rev1")
    qtbot.waitUntil(lambda: bool(window.dashboard.by_rec.items), timeout=10_000)
    recs = {label: value for label, value, _c in window.dashboard.by_rec.items}
    assert sum(recs.values()) == 12 and recs["Refuse"] == 3
    statuses = {label: value for label, value, _c in window.dashboard.by_status.items}
    assert statuses["New"] == 12
    assert "Refuse: 3" in window.dashboard.by_rec.accessibleDescription()
    qtbot.waitUntil(lambda: "HR-29" in window.rules_view.toPlainText(), timeout=10_000)
    text = window.rules_view.toPlainText()
    assert "human-rights@2" in text and "moratorium_countries" in text
    window.tabs.setCurrentWidget(window.dashboard)
    assert not window.dashboard.grab().isNull()
    # rev1 is the first account (an admin): the rule-set administration is open to it; a
    # plain reviewer sees it closed, and why.
    buttons = window.rulesets.buttons
    assert all(buttons[n].isEnabled() for n in ("import", "propose", "approve"))
    assert cli("users", "add", "rev9", "--role", "reviewer", user="rev1")[0] == 0
    plain, _ = window_for(qtbot, cli.url, "rev9")
    closed = plain.rulesets.buttons
    qtbot.waitUntil(lambda: not closed["approve"].isEnabled(), timeout=10_000)
    assert not closed["import"].isEnabled() and not closed["propose"].isEnabled()
    assert "not an admin" in closed["propose"].toolTip()
    assert closed["diff"].isEnabled() and closed["backtest"].isEnabled()


def test_intake_form_validates_as_you_type_and_saves(qtbot, cli):
    assert cli("db", "upgrade", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    window.new_request()
    form = window.intake
    assert form.problems and form.save.isEnabled()  # reference, date and customer name are required
    qtbot.keyClicks(form.editors["reference"], "NEW-1")
    qtbot.keyClicks(form.editors["received_on"], "2026-11-31")
    qtbot.keyClick(form.editors["received_on"], Qt.Key.Key_Return)
    qtbot.keyClicks(form.editors["customer.name"], "Acme <b>Corp</b> & Sons")
    qtbot.keyClicks(form.editors["scale.cameras"], "lots")
    qtbot.keyClick(form.editors["scale.cameras"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.messages["scale.cameras"].isVisible(), timeout=5_000)
    assert "whole number" in form.messages["scale.cameras"].text()
    assert "not a valid date" in form.messages["received_on"].text()
    assert len(form.problems) == 2
    form.editors["received_on"].setText("2026-11-30")
    form.editors["scale.cameras"].setText("900")
    police = form.editors["customer.org_type"]
    police.setCurrentIndex(police.findData("police"))
    country = form.editors["customer.country"]
    country.setText("US")
    reseller = form.editors["customer.is_reseller"]
    reseller.setCurrentIndex(reseller.findData("false"))
    qtbot.waitUntil(lambda: not form.problems, timeout=5_000)
    assert not form.messages["received_on"].isVisible()
    assert wait_action(qtbot, window, form.save.click) == "save"
    qtbot.waitUntil(lambda: "NEW-1" in window.view.toPlainText(), timeout=10_000)
    assert "HR-01" in window.view.toPlainText()  # evaluated on saving: a US police department
    assert "Acme <b>Corp</b> & Sons" in window.view.toPlainText()  # text, never markup

    # editing: the stored version is loaded; a conflicting change elsewhere is reported
    window.edit_request()
    assert form.editors["reference"].isReadOnly() and form.cell("scale.cameras") == "900"
    assert cli("claim", "NEW-1", user="rev1")[0] == 0  # someone changes it meanwhile
    form.editors["title"].setText("Edited in the form")
    assert wait_action(qtbot, window, form.save.click) == "failed:save"
    assert "changed since you opened it" in dialogs.errors[-1][1]


def test_a_long_import_shows_progress_and_can_be_cancelled(qtbot, cli, tmp_path):
    from reviewer import request as rq
    from reviewer.demo import generate

    assert cli("db", "upgrade", user="rev1")[0] == 0
    big = tmp_path / "big.jsonl"
    big.write_text("".join(rq.canonical_json(d) + "\n" for d in generate(3000, seed=2)))
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    seen: list[int] = []

    def on_progress(done: int, _total: int) -> None:
        seen.append(done)
        assert window.progress.isVisible() and window.cancel_button.isVisible()
        window.cancel_button.click()

    window.progress_changed.connect(on_progress)
    dialogs.files = [str(big)]
    assert wait_action(qtbot, window, window.import_dialog) == "failed:import"
    assert seen and seen[0] == 500
    assert "stopped by the user" in dialogs.errors[-1][1]
    assert not window.progress.isVisible()
    with Database(cli.url) as db, db.read() as session:
        from sqlalchemy import func, select

        from reviewer.models import Request

        assert session.execute(select(func.count()).select_from(Request)).scalar_one() == 0


def test_conditions_are_marked_from_the_panel(qtbot, cli):
    assert cli("import", str(EXAMPLES / "p01-office-door-access.json"), user="rev1")[0] == 0
    assert cli("claim", "EX-0001", user="rev1")[0] == 0
    assert (
        cli(
            "decide", "EX-0001", "--outcome", "approve_with_conditions", "--justification", JUST, user="rev1"
        )[0]
        == 0
    )
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0001")
    panel = window.panel
    assert panel.obligations.count() == 1
    assert not panel.mark_met.isEnabled() and not panel.mark_lapsed.isEnabled()  # none picked
    assert panel.mark_met.toolTip() == "pick the condition first"
    panel.obligations.setCurrentRow(0)
    assert panel.mark_met.isEnabled() and panel.mark_lapsed.isEnabled()
    panel.note.setText("Signs at every door since 1 December, photographed.")
    assert wait_action(qtbot, window, panel.mark_met.click) == "mark"
    qtbot.waitUntil(lambda: panel.obligations.count() == 0, timeout=10_000)
    assert "<b>met</b>" in window.view.toHtml() or "met" in window.view.toPlainText()
    assert dialogs.errors == []


def test_settings_organisation_database_and_theme(qtbot, cli, isolated_home):
    from reviewer import settings as config

    assert cli("db", "upgrade", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    dialogs.ask_text = lambda title, label, text="": "Contoso Review Office"
    assert wait_action(qtbot, window, window.set_organisation) == "settings"
    code, out, _ = cli("settings", "get", "organisation_name", user="rev1")
    assert out.strip() == "Contoso Review Office"
    dialogs.ask_text = lambda title, label, text="": "sqlite:////tmp/elsewhere.db"
    window.set_database()
    assert config.UserSettings.load().database_url == "sqlite:////tmp/elsewhere.db"
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    window.dark.setChecked(True)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() == "#1f2328"
    window.dark.setChecked(False)
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).name() != "#1f2328"


def test_rule_set_versions_diff_backtest_propose_and_approve(qtbot, cli, tmp_path):
    from tests.helpers.rulesets import LIFT_US
    from tests.helpers.rulesets import candidate as make_candidate

    assert cli("import", *map(str, sorted(EXAMPLES.glob("p*.json"))), user="rev1")[0] == 0
    assert cli("users", "add", "adm2", "--role", "admin", user="rev1")[0] == 0
    candidate = make_candidate(tmp_path, "hr2.toml", LIFT_US)  # as if a national law had passed
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    panel = window.rulesets
    dialogs.open_rule_set = lambda title: str(candidate)
    assert wait_action(qtbot, window, panel.buttons["import"].click) == "rules_import"
    qtbot.waitUntil(lambda: panel.versions.rowCount() == 2, timeout=10_000)
    row = next(r for r in range(2) if panel.versions.item(r, 0).text() == "human-rights@3")
    panel.versions.selectRow(row)
    assert wait_action(qtbot, window, panel.buttons["diff"].click) == "rules_diff"
    assert '~ parameter moratorium_countries: ["US"] -> []' in panel.diff.toPlainText()
    assert wait_action(qtbot, window, panel.buttons["backtest"].click) == "rules_backtest"
    assert "recommendations change" in panel.summary.text()
    changed = [panel.changes.item(r, 0).text() for r in range(panel.changes.rowCount())]
    assert changed == ["EX-0003"]  # refused only by HR-02 (police end user in the US)
    assert wait_action(qtbot, window, panel.buttons["propose"].click) == "rules_propose"
    assert wait_action(qtbot, window, panel.buttons["approve"].click) == "failed:rules_approve"
    assert "a different admin must approve" in dialogs.errors[-1][1]

    other, other_dialogs = window_for(qtbot, cli.url, "adm2")
    qtbot.waitUntil(lambda: other.rulesets.versions.rowCount() == 2, timeout=10_000)
    row = next(r for r in range(2) if other.rulesets.versions.item(r, 0).text() == "human-rights@3")
    other.rulesets.versions.selectRow(row)
    assert wait_action(qtbot, other, other.rulesets.buttons["approve"].click) == "rules_approve"
    assert "is active" in other_dialogs.infos[-1][1]
    # The versions in words, with who and when (no wrapping, nothing cut: the title goes last).
    versions = other.rulesets.versions

    def cells() -> list[str]:
        row = next(r for r in range(2) if versions.item(r, 0).text() == "human-rights@3")
        return [versions.item(row, c).text() for c in range(versions.columnCount())]

    qtbot.waitUntil(lambda: cells()[1] == "Active", timeout=10_000)
    assert re.fullmatch(r"rev1, \d{4}-\d\d-\d\d \d\d:\d\d UTC", cells()[3])
    assert re.fullmatch(r"adm2, \d{4}-\d\d-\d\d \d\d:\d\d UTC", cells()[4])
    assert not versions.wordWrap()
    with opens(qtbot, other, "EX-0003"):  # a change opens its request
        other.rulesets.changes.cellDoubleClicked.emit(0, 0)
    assert "EX-0003" in other.view.toPlainText()
    assert "human-rights@3" in other.view.toPlainText()


def test_an_admin_is_asked_once_for_the_organisation_name(qtbot, cli):
    """Records print the organisation's name at their top: a window opened by an admin on a
    database where it was never set asks for it (a bar, not a modal dialog: a screenshot or a
    script never waits), once; a reviewer is not asked."""
    assert cli("db", "upgrade", user="rev1")[0] == 0  # rev1, the first account, is an admin
    assert cli("users", "add", "rev2", "--role", "reviewer", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev2")
    qtbot.wait(300)
    assert window.unnamed.isHidden()
    window.close()
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    qtbot.waitUntil(lambda: not window.unnamed.isHidden(), timeout=10_000)
    assert 'print "Reviewer" at their top' in window.unnamed_text.text()
    dialogs.answer = "Contoso Responsible AI Office"
    assert wait_action(qtbot, window, window.name_button.click) == "settings"
    ((title, label, prefilled),) = dialogs.asked
    assert title == "Organisation name" and "is not set" in label and prefilled == ""
    assert window.unnamed.isHidden()
    assert cli("settings", "get", "organisation_name", user="rev1")[1].strip() == dialogs.answer
    window.close()
    again, dialogs = window_for(qtbot, cli.url, "rev1")
    qtbot.wait(300)
    assert again.unnamed.isHidden() and dialogs.asked == []  # set now, and asked before


def test_the_window_signs_records_and_writes_the_transparency_report(qtbot, cli, tmp_path, monkeypatch):
    """With the organisation's key on this workstation the window signs what it exports,
    asking for the passphrase when REVIEWER_KEY_PASSPHRASE is not set."""
    from reviewer.export.signing import check_signature, load_pem
    from tests.helpers.workflow import JUST as JUSTIFICATION

    assert cli("db", "upgrade", user="rev1")[0] == 0
    assert cli("settings", "set", "organisation_name", "Contoso Responsible AI Office", user="rev1")[0] == 0
    assert cli("import", str(EXAMPLES / "p02-us-sheriff.json"), user="rev1")[0] == 0
    assert cli("claim", "EX-0002", user="rev1")[0] == 0
    assert (
        cli("decide", "EX-0002", "--outcome", "refuse", "--justification", JUSTIFICATION, user="rev1")[0] == 0
    )
    monkeypatch.setenv("REVIEWER_KEY_PASSPHRASE", "window passphrase")
    code, out, _ = cli("keys", "init", user="rev1")
    assert code == 0, out
    fingerprint = out.split("certificate ")[1].split()[0]
    pem = cli("settings", "get", "signing_cert." + fingerprint[:48], user="rev1")[1]
    monkeypatch.delenv("REVIEWER_KEY_PASSPHRASE")
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    dialogs.secret = "window passphrase"
    dialogs.answer = "2020-01-01 2030-12-31"
    dialogs.save_path = str(tmp_path / "report.pdf")
    assert wait_action(qtbot, window, window.report_dialog) == "report"
    assert ("Transparency report", "Passphrase of the organisation's signing key:", "") in dialogs.asked
    assert "(signed)" in dialogs.infos[-1][1] and "decisions made: 1" in dialogs.infos[-1][1]
    report = (tmp_path / "report.pdf").read_bytes()
    assert check_signature(report, [load_pem(pem)]).problems == []
    # The export's own completion is awaited: the next action must not take its signal.
    assert wait_action(qtbot, window, lambda: window.export_pdfs(["EX-0002"], str(tmp_path))) == "export"
    assert (tmp_path / "EX-0002-d1.pdf").exists()
    code, out, _ = cli("verify", "--pdf", str(tmp_path / "EX-0002-d1.pdf"), user="rev1")
    assert code == 0 and f"OK {tmp_path / 'EX-0002-d1.pdf'}" in out
    dialogs.secret = "not the passphrase"  # a wrong one: an error, and no file
    dialogs.save_path = str(tmp_path / "wrong.pdf")
    assert wait_action(qtbot, window, window.report_dialog) == "failed:report"
    assert "wrong passphrase" in dialogs.errors[-1][1] and not (tmp_path / "wrong.pdf").exists()


def test_the_outcome_starts_empty_and_reopen_asks_for_its_reason(qtbot, cli):
    """Nothing is chosen for the decider: every request opens on "Choose an outcome" and
    Record waits for a choice; reopening asks the senior for the reason and writes what they
    typed, and nothing at all when they cancel."""
    assert cli("import", str(EXAMPLES / "p01-office-door-access.json"), user="sen1")[0] == 0
    assert cli("claim", "EX-0001", user="sen1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "sen1")
    open_reference(qtbot, window, "EX-0001")
    panel = window.panel
    assert panel.outcome.currentData() is None and not panel.submit.isEnabled()
    assert not panel.check_box.isVisibleTo(panel) and panel.decision_box.isVisibleTo(panel)
    assert not panel.obligations_box.isVisibleTo(panel)
    assert panel.re_review.displayFormat() == "yyyy-MM-dd" and panel.re_review.text().count("-") == 2
    assert panel.follows.text() == ""  # nothing chosen, nothing follows
    panel.outcome.setCurrentIndex(panel.outcome.findData("approve_with_conditions"))
    assert panel.follows.text() == "Final when recorded: one reviewer decides."
    window.tabs.setCurrentWidget(window.desk)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    panel.justification.setFocus()
    qtbot.waitUntil(panel.justification.hasFocus, timeout=5_000)
    qtbot.keyClicks(panel.justification, JUST)
    qtbot.keyClick(panel.justification, Qt.Key.Key_Tab)  # Tab leaves the field, types nothing
    assert panel.justification.toPlainText() == JUST and not panel.justification.hasFocus()
    assert panel.isAncestorOf(QApplication.focusWidget())
    with qtbot.waitSignal(window.action_done, timeout=20_000) as done:  # Ctrl+Enter records
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert done.args[0] == "decide"
    qtbot.waitUntil(lambda: panel.buttons["reopen"].isEnabled(), timeout=10_000)
    assert panel.outcome.currentData() is None  # the next version: nothing chosen again
    # Decided: the form is gone, its conditions are there to be marked.
    assert not panel.decision_box.isVisibleTo(panel) and panel.obligations_box.isVisibleTo(panel)
    assert panel.closed.text().startswith("Decided: a senior may reopen it")

    dialogs.answer = None  # cancelled: nothing is written
    panel.buttons["reopen"].click()
    assert dialogs.asked[-1][0] == "Reopen" and "Why EX-0001 is reopened" in dialogs.asked[-1][1]
    qtbot.wait(200)
    events = cli.sql("select count(*) from audit_events where action = 'reopen'")
    assert events == [(0,)]

    reason = "The customer sent a new DPIA that changes the retention period; look again."
    dialogs.answer = reason
    assert wait_action(qtbot, window, panel.buttons["reopen"].click) == "reopen"
    payloads = cli.sql("select payload from audit_events where action = 'reopen'")
    assert len(payloads) == 1 and reason in payloads[0][0]
    assert "after new information" not in payloads[0][0]
    assert dialogs.errors == []


def test_a_blocker_shared_by_every_outcome_is_said_once(qtbot):
    """Every outcome closed for one reason: one line, not one per outcome; a request another
    reviewer holds names them and the next step; read-only mode keeps its own words."""
    from reviewer.ui.decision import OUTCOMES, DecisionPanel

    panel = DecisionPanel()
    qtbot.addWidget(panel)
    held = {k: (False, f"decide: EX-1 is assigned to rev1, not to rev2 ({k})") for k, _t in OUTCOMES}
    panel.set_options("EX-1", 3, {**held, "take_over": (True, "")}, [], "in_review", "rev1")
    assert panel.closed.text() == "rev1 is reviewing it: take it over to decide."
    panel.set_options("EX-1", 3, held, [], "in_review", "rev1")
    assert panel.closed.text() == "rev1 is reviewing it."
    read_only = dict.fromkeys([k for k, _t in OUTCOMES], (False, "read only: the database is read-only"))
    panel.set_options("EX-1", 3, read_only, [], "new", None)
    assert panel.closed.text() == "Read only: the database is read-only"
    mixed = {k: (False, f"{k} is closed for its own reason") for k, _t in OUTCOMES}
    panel.set_options("EX-1", 3, {**mixed, "refuse": (True, "")}, [], "in_review", "rev2")
    assert panel.closed.text().count("\n") == len(OUTCOMES) - 2  # each closed one, once
