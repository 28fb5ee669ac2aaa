"""The intake form is a form people can fill in (issue 19): lists of objects are small tables,
sets boxes to tick, each with unknown and none; labels in words, each the buddy of its field;
problems shown once a field is left or Save pressed, never on a blank form, their count a link
to the first; Discard and the question before unsaved edits are dropped. Driven with qtbot on
real widgets and a real database: what the tables store is what a file with the same request
stores."""

from __future__ import annotations

import csv
import json
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from reviewer import request as rq
from reviewer.ui.field_editors import ListEditor, SetEditor
from reviewer.ui.intake_form import ROLE, IntakeForm
from reviewer.vocabulary import field_label
from tests.helpers.cli import EXAMPLES
from tests.ui.test_flows import open_reference, wait_action, window_for

LEFT = Qt.MouseButton.LeftButton


def choose(box: QComboBox, data: str) -> None:
    index = box.findData(data)
    assert index >= 0, (box.accessibleName(), data)
    box.setCurrentIndex(index)


def stored(cli, reference: str) -> dict:
    code, out, err = cli("show", reference, "--format", "json", user="rev1")
    assert code == 0, err
    return json.loads(out)["document"]


def new_form(qtbot, cli):
    assert cli("db", "upgrade", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    window.new_request()
    return window, window.intake


def focus(qtbot, widget: QWidget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5_000)


def test_tables_and_ticks_store_the_same_request_as_a_json_file_and_a_csv_row(qtbot, cli, tmp_path):
    window, form = new_form(qtbot, cli)
    qtbot.keyClicks(form.editors["reference"], "TAB-1")
    qtbot.keyClicks(form.editors["received_on"], "2026-12-01")
    qtbot.keyClicks(form.editors["customer.name"], "Northgate Integrators")
    choose(form.editors["customer.is_reseller"], "true")
    # End users: three rows added, one removed; the organisation type is a choice in words.
    users = form.editors["end_users"]
    assert isinstance(users, ListEditor) and users.state.currentData() == "unknown"
    assert not users.table.isVisible()
    for name, country, region, org in (("Harbour Police", "GB", "", "police"), ("Temp", "", "", ""),
                                       ("County Schools", "US", "TX", "school")):  # fmt: skip
        qtbot.mouseClick(users.add, LEFT)
        row = len(users.rows) - 1
        qtbot.keyClicks(users.cell_widget(row, "name"), name)
        qtbot.keyClicks(users.cell_widget(row, "country"), country)
        qtbot.keyClicks(users.cell_widget(row, "region"), region)
        if org:
            org_box = users.cell_widget(row, "org_type")
            assert org_box.itemText(org_box.findData(org)) == org.capitalize()  # words, value underneath
            choose(org_box, org)
    assert users.state.currentData() == "listed" and users.table.isVisible()
    assert users.table.rowCount() == 3
    qtbot.mouseClick(users.removers[1], LEFT)  # "Temp"
    assert [r["name"].text() for r in users.rows] == ["Harbour Police", "County Schools"]
    assert users.removers[1].accessibleName() == "Remove end user 2"
    # Sites: one row, with a yes/no cell.
    sites = form.editors["sites"]
    qtbot.mouseClick(sites.add, LEFT)
    for key, text in (("country", "US"), ("region", "OR"), ("city", "Portland")):
        qtbot.keyClicks(sites.cell_widget(0, key), text)
    choose(sites.cell_widget(0, "public_accommodation"), "true")
    # Recipients: none (a known empty list), not unknown.
    choose(form.editors["data.law_enforcement_recipients"].state, "none")
    # Sets: ticked boxes; none; ticked then unknown again (which clears the boxes).
    operations = form.editors["use.operations"]
    assert isinstance(operations, SetEditor)
    operations.boxes["identification"].click()
    operations.boxes["liveness"].click()
    assert operations.state.currentData() == "listed"
    assert operations.boxes["identification"].text() == "Identification (1:N)"
    choose(form.editors["use.monitored_events"].state, "none")
    sources = form.editors["data.gallery_sources"]
    sources.boxes["scraped_internet"].click()
    choose(sources.state, "unknown")
    assert not sources.boxes["scraped_internet"].isChecked()
    qtbot.keyClicks(form.editors["use.description"], "Watchlist alerts at a partner's doors.")

    cells = form.cells()
    assert wait_action(qtbot, window, form.save.click) == "save"
    doc = stored(cli, "TAB-1")
    assert doc["end_users"] == [{"country": "GB", "name": "Harbour Police", "org_type": "police"},
                                {"country": "US", "name": "County Schools", "org_type": "school",
                                 "region": "TX"}]  # fmt: skip
    assert doc["sites"] == [
        {"city": "Portland", "country": "US", "public_accommodation": True, "region": "OR"}
    ]
    assert doc["data"]["law_enforcement_recipients"] == []
    assert doc["use"]["operations"] == ["identification", "liveness"]
    assert doc["use"]["monitored_events"] == []
    assert "decision_effects" not in doc["use"] and "gallery_sources" not in doc.get("data", {})

    # Edited again: the tables show the stored rows, nothing is unsaved; unknown drops a list.
    open_reference(qtbot, window, "TAB-1")
    window.edit_request()
    assert not form.has_unsaved_changes()
    assert [r["name"].text() for r in users.rows] == ["Harbour Police", "County Schools"]
    assert users.cell_widget(1, "org_type").currentData() == "school"
    assert form.editors["data.law_enforcement_recipients"].state.currentData() == "none"
    assert operations.ticked() == ["liveness", "identification"]  # the order of the list
    choose(sites.state, "unknown")
    assert not sites.table.isVisible() and form.has_unsaved_changes()
    assert wait_action(qtbot, window, form.save.click) == "save", window.dialogs.errors
    assert "sites" not in stored(cli, "TAB-1")

    # The same request as a JSON file, and the form's cells as a CSV row: the same document.
    as_json = {
        "reference": "TAB-2", "received_on": "2026-12-01",
        "customer": {"name": "Northgate Integrators", "is_reseller": True},
        "end_users": [{"name": "Harbour Police", "country": "GB", "org_type": "police"},
                      {"name": "County Schools", "country": "US", "region": "TX", "org_type": "school"}],
        "use": {"operations": ["liveness", "identification"], "monitored_events": [],
                "description": "Watchlist alerts at a partner's doors."},
        "data": {"law_enforcement_recipients": []},
        "sites": [{"country": "US", "region": "OR", "city": "Portland", "public_accommodation": True}],
    }  # fmt: skip
    (tmp_path / "same.json").write_text(json.dumps(as_json))
    with (tmp_path / "same.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(cells))
        writer.writerow([("TAB-3" if path == "reference" else cell) for path, cell in cells.items()])
    code, out, err = cli("import", str(tmp_path / "same.json"), str(tmp_path / "same.csv"), user="rev1")
    assert code == 0, err
    from_json, from_csv = stored(cli, "TAB-2"), stored(cli, "TAB-3")
    for other in (from_json, from_csv):
        assert {k: v for k, v in other.items() if k != "reference"} == {
            k: v for k, v in doc.items() if k != "reference"
        }


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("p*.json")))
def test_a_stored_request_loaded_into_the_form_gives_back_the_same_document(qtbot, example):
    doc, problems = rq.validate(rq.loads((EXAMPLES / example).read_text()))
    assert doc is not None and not problems
    form = IntakeForm()
    qtbot.addWidget(form)
    form.load(doc, 1)
    raw, cell_problems = form.raw()
    assert not cell_problems
    assert rq.validate(json.loads(json.dumps(raw))) == (doc, [])
    assert not form.has_unsaved_changes()


def test_a_blank_form_shows_no_problem_until_a_field_is_left_or_save_is_pressed(qtbot, cli):
    window, form = new_form(qtbot, cli)
    qtbot.wait(300)  # past the validation as you type
    assert form.problems  # three required fields are empty...
    assert not any(m.isVisible() for m in form.messages.values())  # ...and none says so yet
    assert not form.problem_link.isVisible() and "problem" not in form.summary.text()

    # Leaving the reference empty: its message, and only its.
    focus(qtbot, form.editors["reference"])
    qtbot.keyClick(form.editors["reference"], Qt.Key.Key_Tab)
    assert form.editors["received_on"].hasFocus()
    qtbot.waitUntil(form.messages["reference"].isVisible, timeout=5_000)
    assert form.messages["reference"].text() == "required"
    assert not form.messages["received_on"].isVisible() and not form.messages["customer.name"].isVisible()
    assert form.problem_link.isVisible() and form.problem_link.text() == "1 problem to fix: go to the first"

    # A wrong value shows once its field is left (here by Return), not while it is typed.
    cameras = form.editors["scale.cameras"]
    qtbot.keyClicks(cameras, "lots")
    qtbot.wait(300)
    assert not form.messages["scale.cameras"].isVisible()
    qtbot.keyClick(cameras, Qt.Key.Key_Return)
    qtbot.waitUntil(form.messages["scale.cameras"].isVisible, timeout=5_000)
    assert "whole number" in form.messages["scale.cameras"].text()

    # Save shows every problem, saves nothing and goes to the first.
    with qtbot.assertNotEmitted(form.save_requested):
        qtbot.mouseClick(form.save, LEFT)
    for path in ("reference", "received_on", "customer.name", "scale.cameras"):
        assert form.messages[path].isVisible(), path
    assert form.problem_link.text() == "4 problems to fix: go to the first"
    assert form.editors["reference"].hasFocus()
    # Fixed, each message goes as it is typed (the field shows its problems from now on).
    qtbot.keyClicks(form.editors["reference"], "NEW-7")
    qtbot.waitUntil(lambda: not form.messages["reference"].isVisible(), timeout=5_000)
    assert form.problem_link.text() == "3 problems to fix: go to the first"
    # A new blank form starts quiet again.
    window.new_request()
    assert not any(m.isVisible() for m in form.messages.values()) and not form.problem_link.isVisible()


def test_the_problem_count_leads_to_the_first_problem(qtbot, cli):
    window, form = new_form(qtbot, cli)
    form.save.click()
    bar = form.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    focus(qtbot, form.editors["title"])
    assert form.editors["reference"].visibleRegion().isEmpty()  # scrolled out of view
    qtbot.mouseClick(form.problem_link, LEFT)
    qtbot.waitUntil(form.editors["reference"].hasFocus, timeout=5_000)
    assert not form.editors["reference"].visibleRegion().isEmpty()

    # A problem of a list item leads to its cell: row 1 of the sites, the country.
    for path, text in (("reference", "NEW-8"), ("received_on", "2026-12-01"), ("customer.name", "Kiosk Co")):
        form.editors[path].setText(text)
    sites = form.editors["sites"]
    qtbot.mouseClick(sites.add, LEFT)
    qtbot.keyClicks(sites.cell_widget(0, "country"), "usa")
    focus(qtbot, form.editors["title"])
    bar.setValue(0)
    with qtbot.assertNotEmitted(form.save_requested):
        form.save.click()
    assert form.messages["sites"].text() == (
        'Deployment sites 1: Country: expected a country code of two upper-case letters, got "usa"'
    )
    assert form.problem_link.text() == "1 problem to fix: go to the first"
    focus(qtbot, form.editors["title"])
    bar.setValue(0)
    qtbot.mouseClick(form.problem_link, LEFT)
    country = sites.cell_widget(0, "country")
    qtbot.waitUntil(country.hasFocus, timeout=5_000)
    assert not country.visibleRegion().isEmpty()


def test_discard_goes_back_to_the_loaded_request_and_unsaved_edits_are_asked_about(qtbot, cli):
    assert cli("import", str(EXAMPLES / "p08-portland-hardware-store.json"), user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0008")
    window.edit_request()
    form = window.intake
    loaded = form.cells()
    assert not form.has_unsaved_changes() and not form.discard.isEnabled()
    assert form.confirm_discard(lambda q: pytest.fail(f"asked {q!r} with nothing unsaved"))

    form.editors["title"].setText("Edited")
    sites = form.editors["sites"]
    qtbot.mouseClick(sites.removers[0], LEFT)
    form.editors["use.operations"].boxes["identification"].click()
    assert form.has_unsaved_changes() and form.discard.isEnabled()
    asked: list[str] = []
    assert not form.confirm_discard(lambda q: asked.append(q) or False)  # the user keeps them
    assert asked == ["Discard your unsaved changes to request EX-0008?"]
    assert form.has_unsaved_changes() and form.cell("title") == "Edited"

    qtbot.mouseClick(form.discard, LEFT)
    assert form.cells() == loaded and not form.has_unsaved_changes() and not form.discard.isEnabled()
    assert len(sites.rows) == 2 and form.cell("title") == "Trade-desk pickup by face at two hardware stores"
    assert rq.validate(json.loads(json.dumps(form.raw()[0])))[0] == stored(cli, "EX-0008")

    form.editors["scale.cameras"].setText("4")
    assert form.confirm_discard(lambda q: True)  # agreed: the edits are dropped
    assert form.cell("scale.cameras") == "3" and not form.has_unsaved_changes()

    # A new request: Discard gives the blank form back; the window's dialogs can ask.
    window.new_request()
    qtbot.keyClicks(form.editors["reference"], "NEW-9")
    choose(form.editors["customer.org_type"], "ngo")
    assert form.has_unsaved_changes()
    dialogs.agree = False
    assert not form.confirm_discard(lambda q: dialogs.confirm("Unsaved changes", q))
    assert dialogs.questions == [("Unsaved changes", "Discard your unsaved changes to the new request?")]
    form.discard.click()
    assert all(cell == "" for cell in form.cells().values())
    assert not form.has_unsaved_changes()


def _interactive(form: QWidget) -> list[QWidget]:
    """The form's controls, not the parts Qt builds inside one (a combo box's list, a
    table's corner button)."""
    kinds = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QAbstractItemView,
             QAbstractSpinBox)  # fmt: skip
    out = []
    for w in form.findChildren(QWidget):
        if not isinstance(w, kinds) or w.metaObject().className() == "QTableCornerButton":
            continue
        parent = w.parentWidget()
        while parent is not None and parent is not form and not isinstance(parent, QComboBox):
            parent = parent.parentWidget()
        if parent is form:
            out.append(w)
    return out


def test_every_label_is_a_buddy_and_every_control_is_named_in_words(qtbot, cli):
    window, form = new_form(qtbot, cli)
    for path in ("end_users", "sites", "data.law_enforcement_recipients"):
        for _ in range(2):
            qtbot.mouseClick(form.editors[path].add, LEFT)  # so the cells exist
    labels = [w for w in form.findChildren(QLabel) if w.property(ROLE) is None]
    assert len(labels) == len(rq.LEAF_FIELDS) - 1  # every field but `format` has its label
    for label in labels:
        buddy = label.buddy()
        assert buddy is not None and form.isAncestorOf(buddy), label.text()
        assert "_" not in label.text() and not re.search(r"\w\.\w", label.text()), label.text()
    for path, label in form.labels.items():
        assert label.text().removesuffix(" *") == field_label(path).replace("&", "&amp;")
        assert label.buddy().accessibleName().startswith(field_label(path))

    widgets = _interactive(form)
    assert len(widgets) > 100
    names = [w.accessibleName() for w in widgets]
    assert all(n.strip() for n in names), [w for w in widgets if not w.accessibleName().strip()]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates
    assert "End users 2: Organisation type" in names and "Remove recipient 1" in names
    assert "Operations: Identification (1:N)" in names
    # Choices and ticks in words: no stored value shows through.
    for w in widgets:
        if isinstance(w, QComboBox):
            assert not any("_" in w.itemText(i) for i in range(w.count())), w.accessibleName()
        if isinstance(w, QCheckBox):
            assert "_" not in w.text()


def test_tab_moves_focus_out_of_the_description_and_through_a_table(qtbot, cli):
    window, form = new_form(qtbot, cli)
    description = form.editors["use.description"]
    assert description.tabChangesFocus()
    focus(qtbot, description)
    qtbot.keyClicks(description, "Door access")
    qtbot.keyClick(description, Qt.Key.Key_Tab)
    assert description.toPlainText() == "Door access"  # no tab typed
    assert QApplication.focusWidget() is form.editors["people.includes_minors"]

    # In a table, Tab goes cell by cell, along the row, to its Remove, then to the next row.
    users = form.editors["end_users"]
    qtbot.mouseClick(users.add, LEFT)
    qtbot.mouseClick(users.add, LEFT)
    focus(qtbot, users.cell_widget(0, "name"))
    seen = []
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget().accessibleName())
    assert seen == ["End users 1: Country", "End users 1: Region", "End users 1: Organisation type",
                    "Remove end user 1", "End users 2: Name", "End users 2: Country"]  # fmt: skip
