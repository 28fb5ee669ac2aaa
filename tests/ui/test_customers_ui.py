"""A customer seen whole in the window (issue 17): the Customers tab, reached from the request
view's link or the Customers menu, shows every request of the customer, its standing
decisions and open conditions and its deployment in total; a double-click or Enter opens a
request; link, unlink and merge go through the service the command line uses (refused ones
write nothing). Driven with qtbot on a real SQLite database."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QUrl

from reviewer.ui.customers import RequestsModel, conditions_html, figure_text, request_entries
from tests.helpers.documents import make
from tests.helpers.ui import opens
from tests.helpers.workflow import JUST, ok
from tests.ui.test_flows import open_reference, wait_action, window_for

NAME = "Northwind Optics Ltd"


def camera_request(cli, ref: str, name: str = NAME, **changes) -> None:
    """Import a recognition request of 40 cameras (alone below HR-19's 50; two are 80)."""
    doc = make({"use.operations": ["identification"], "scale.cameras": 40, "customer.name": name, **changes})
    doc["reference"] = ref
    path = cli.db_path.parent / f"{ref}.json"
    path.write_text(json.dumps(doc))
    ok(cli, "import", str(path), user="rev1")


def rules(cli, ref: str) -> list[str]:
    data = json.loads(ok(cli, "show", ref, "--format", "json", user="rev1"))
    return [f["rule"] for f in data["evaluation"]["findings"]]


def references(window) -> list[str]:
    return [e.reference for e in window.customers.requests_model.entries]


def cells(window) -> dict[str, tuple[str, ...]]:
    return {e.reference: e.cells for e in window.customers.requests_model.entries}


def show(qtbot, window, action) -> None:
    with qtbot.waitSignal(window.customer_loaded, timeout=10_000):
        action()


def test_the_customer_view_shows_every_request_its_decisions_conditions_and_totals(qtbot, cli):
    ok(cli, "db", "upgrade", user="rev1")
    camera_request(cli, "CAM-1")
    camera_request(cli, "CAM-2")
    ok(cli, "claim", "CAM-2", user="rev1")
    ok(cli, "decide", "CAM-2", "--outcome", "refuse", "--justification", JUST, user="rev1")
    ok(cli, "claim", "CAM-1", user="rev1")
    ok(cli, "decide", "CAM-1", "--outcome", "approve_with_conditions", "--justification", JUST, user="rev1")
    camera_request(cli, "CAM-3", **{"scale.enrolled_identities": None})
    window, dialogs = window_for(qtbot, cli.url, "rev1")

    # The request view names the request's customer as a link to it.
    open_reference(qtbot, window, "CAM-3")
    customer = window.view.data["customer"]
    assert customer["name"] == NAME and f"{customer['number']} {NAME}" in window.view.toPlainText()
    show(qtbot, window, lambda: window.view.anchorClicked.emit(QUrl(f"customer:{customer['id']}")))
    assert window.tabs.currentWidget() is window.customers
    panel = window.customers
    assert f"{customer['number']} — {NAME}" in panel.header.text()
    assert "3 requests, 2 counted" in panel.header.text()

    assert references(window) == ["CAM-1", "CAM-2", "CAM-3"]
    rows = cells(window)
    assert rows["CAM-1"][1:4] == ("Decided", "With conditions", "yes")
    assert rows["CAM-1"][5].startswith("Approved with conditions, 20")
    assert rows["CAM-2"][5].startswith("Refused, ") and rows["CAM-2"][3] == "no"
    assert rows["CAM-3"][1:4] == ("New", "Needs information", "yes") and rows["CAM-3"][5] == "—"
    detail = panel.detail
    conditions = detail["requests"][0]["open_conditions"]
    assert conditions and rows["CAM-1"][4] == f"{len(conditions)} open"
    assert rows["CAM-2"][4] == rows["CAM-3"][4] == "—"

    # The deployment in total: CAM-1 (approved) and CAM-3 (open) count, CAM-2 (refused) not.
    totals = panel.totals.text()
    assert "Cameras</td><td>&nbsp;&nbsp;</td><td align=right><b>80</b>" in totals
    assert "<b>at least 10 (some unknown)</b>" in totals  # CAM-3's enrolled identities unknown
    assert "Cameras: CAM-1 40, CAM-3 40" in panel.totals.toolTip()
    assert "CAM-3 unknown" in panel.totals.toolTip()

    # The open conditions, each with its due date and a link to its request.
    listed = panel.conditions.toPlainText()
    first = conditions[0]
    assert f"CAM-1 #{first['id']} [{first['rule']}] due {first['due']} — {first['text']}" in listed
    assert "Cameras" not in listed and dialogs.errors == []

    # A double-click on a request opens it in the request view (and selects it in the queue).
    table = panel.requests
    rect = table.visualRect(panel.requests_model.index(2, 0))
    with opens(qtbot, window, "CAM-3"):
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # as a hand does:
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # a press first
    assert window.tabs.currentWidget() is window.desk
    assert window.view.data["reference"] == "CAM-3" and window.current == "CAM-3"
    qtbot.waitUntil(lambda: window.model.reference(window.table.currentIndex().row()) == "CAM-3")

    # Enter on a request opens it too; the menu's "customer of the selected request" goes back.
    show(qtbot, window, window.customer_of_request)
    table.setCurrentIndex(panel.requests_model.index(0, 0))
    table.setFocus()
    with opens(qtbot, window, "CAM-1"):
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert window.view.data["reference"] == "CAM-1"

    # A link of the open conditions opens its request.
    show(qtbot, window, window.customer_of_request)
    with opens(qtbot, window, "CAM-1"):
        panel.conditions.anchorClicked.emit(QUrl("request:CAM-1"))
    assert window.view.data["reference"] == "CAM-1"


def test_unlinking_and_linking_in_the_view_move_the_request_and_evaluate_the_rest(qtbot, cli):
    ok(cli, "db", "upgrade", user="rev1")
    camera_request(cli, "CAM-1")
    camera_request(cli, "CAM-2")
    assert "HR-30" in rules(cli, "CAM-1")  # 80 cameras in total
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "CAM-1")
    assert "HR-30" in window.view.toPlainText()
    show(qtbot, window, window.customer_of_request)
    panel = window.customers
    number = panel.detail["number"]
    assert references(window) == ["CAM-1", "CAM-2"]
    assert not panel.buttons["unlink"].isEnabled()  # no request selected

    panel.requests.selectRow(1)
    assert panel.selected_reference() == "CAM-2" and panel.buttons["unlink"].isEnabled()
    with qtbot.waitSignal(window.request_loaded, timeout=10_000):
        with qtbot.waitSignal(window.customer_loaded, timeout=10_000):
            assert wait_action(qtbot, window, panel.buttons["unlink"].click) == "customer_unlink"
    assert references(window) == ["CAM-1"] and panel.detail["number"] == number
    assert "<b>40</b>" in panel.totals.text()
    assert "HR-30" not in rules(cli, "CAM-1") and "HR-30" not in rules(cli, "CAM-2")
    assert "HR-30" not in window.view.toPlainText()  # the open request was read again
    assert window.view.data["reference"] == "CAM-1"
    moved = json.loads(ok(cli, "show", "CAM-2", "--format", "json", user="rev1"))
    assert moved["events"][-1]["action"] == "customer_unlink"
    assert window.statusBar().currentMessage().startswith("CAM-2: unlinked, now customer C-")

    # Linked back by hand: both count again.
    dialogs.answer = "CAM-2"
    with qtbot.waitSignal(window.customer_loaded, timeout=10_000):
        assert wait_action(qtbot, window, panel.buttons["link"].click) == "customer_link"
    assert dialogs.asked[-1][0] == "Link a request"
    assert references(window) == ["CAM-1", "CAM-2"] and "<b>80</b>" in panel.totals.text()
    assert "HR-30" in rules(cli, "CAM-1")

    # Another customer merged into this one: its request joins, the merged one shows the target.
    camera_request(cli, "CAM-9", name="Southwind Optics Ltd")
    with opens(qtbot, window, "CAM-9"):
        window.open_request("CAM-9")  # not in the queue the window read
    show(qtbot, window, window.customer_of_request)
    source = panel.detail["number"]
    assert source != number and references(window) == ["CAM-9"]
    dialogs.answer = number
    with qtbot.waitSignal(window.customer_loaded, timeout=10_000):
        assert wait_action(qtbot, window, panel.buttons["merge"].click) == "customer_merge"
    assert panel.detail["number"] == number and references(window) == ["CAM-1", "CAM-2", "CAM-9"]
    assert panel.detail["merged_from"] == [source] and "<b>120</b>" in panel.totals.text()
    assert dialogs.errors == []
    report = json.loads(ok(cli, "verify", "--format", "json", user="rev1"))
    assert report["ok"], report


def test_a_refused_customer_action_shows_the_error_and_writes_nothing(qtbot, cli):
    ok(cli, "db", "upgrade", user="rev1")
    ok(cli, "users", "add", "adm", "--role", "admin", user="rev1")
    camera_request(cli, "CAM-1")
    camera_request(cli, "CAM-2")
    camera_request(cli, "CAM-3", name="Other Optics Ltd")
    before = cli.dump()
    window, dialogs = window_for(qtbot, cli.url, "adm")  # an admin, neither reviewer nor senior
    open_reference(qtbot, window, "CAM-1")
    show(qtbot, window, window.customer_of_request)
    panel = window.customers
    panel.requests.selectRow(1)
    assert wait_action(qtbot, window, panel.buttons["unlink"].click) == "failed:customer_unlink"
    assert dialogs.errors[-1][0] == "Unlink the request: nothing was changed"
    assert "adm has neither the reviewer nor the senior role" in dialogs.errors[-1][1]
    dialogs.answer = "CAM-3"
    assert wait_action(qtbot, window, panel.buttons["link"].click) == "failed:customer_link"
    assert "neither the reviewer nor the senior role" in dialogs.errors[-1][1]
    assert references(window) == ["CAM-1", "CAM-2"]
    assert cli.dump() == before
    window.close()

    # A reviewer's mistakes are named, and change nothing either.
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "CAM-1")
    show(qtbot, window, window.customer_of_request)
    panel = window.customers
    dialogs.answer = "CAM-404"
    assert wait_action(qtbot, window, panel.buttons["link"].click) == "failed:customer_link"
    assert "no request with reference 'CAM-404'" in dialogs.errors[-1][1]
    dialogs.answer = "Nobody At All"
    assert wait_action(qtbot, window, panel.buttons["merge"].click) == "failed:customer_merge"
    assert "no customer 'Nobody At All'" in dialogs.errors[-1][1]
    dialogs.answer = "CAM-1"
    assert wait_action(qtbot, window, panel.buttons["link"].click) == "failed:customer_link"
    assert "already belongs" in dialogs.errors[-1][1]
    dialogs.answer = None  # the prompt cancelled: nothing is asked of the service
    panel.buttons["merge"].click()
    assert len(dialogs.errors) == 3 and references(window) == ["CAM-1", "CAM-2"]
    window._go_read_only("a test problem")  # a database that fails verification
    panel.requests.selectRow(0)
    assert wait_action(qtbot, window, panel.buttons["unlink"].click) == "failed:customer_unlink"
    assert "read only" in dialogs.errors[-1][1]
    assert cli.dump() == before


def test_the_customers_list_searches_and_opens_a_customer(qtbot, cli):
    ok(cli, "db", "upgrade", user="rev1")
    camera_request(cli, "CAM-1")
    camera_request(cli, "CAM-2")
    camera_request(cli, "CAM-3", name="Southwind Optics Ltd")
    camera_request(cli, "CAM-4", name="Harbour Cameras Ltd")
    window, _dialogs = window_for(qtbot, cli.url, "rev1")
    panel = window.customers
    with qtbot.waitSignal(window.customers_loaded, timeout=10_000):
        window.show_customers()
    model = panel.list_model

    def names() -> list[str]:
        return [model.index(r, 1).data() for r in range(model.rowCount())]

    assert names() == ["Harbour Cameras Ltd", "Northwind Optics Ltd", "Southwind Optics Ltd"]
    assert panel.count.text() == "3 customers"
    row = names().index(NAME)
    assert [model.index(row, c).data() for c in range(2, 6)] == ["GB", "2", "2", "0"]
    assert model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == "Requests"
    model.sort(3, Qt.SortOrder.DescendingOrder)
    assert names()[0] == NAME

    with qtbot.waitSignal(window.customers_loaded, timeout=10_000):
        qtbot.keyClicks(panel.search, "optics")
    assert sorted(names()) == ["Northwind Optics Ltd", "Southwind Optics Ltd"]
    with qtbot.waitSignal(window.customers_loaded, timeout=10_000):
        panel.search.setText("NORTH")
    assert names() == [NAME] and panel.count.text() == "1 customer"
    show(qtbot, window, lambda: panel.list.selectRow(0))
    assert references(window) == ["CAM-1", "CAM-2"]
    with qtbot.waitSignal(window.customers_loaded, timeout=10_000):
        panel.search.setText("nobody")
    assert names() == [] and panel.detail["name"] == NAME  # the customer shown stays


def test_overdue_conditions_and_unknown_totals_are_flagged(qtbot):
    """The formatting alone, on a customer as `customers.detail` gives it."""
    cond = {
        "id": 7,
        "rule": "HR-28",
        "text": "match threshold <b>0.99</b>",
        "due": "2026-01-05",
        "overdue": True,
    }
    later = {"id": 8, "rule": "HR-26", "text": "training", "due": "2099-01-01", "overdue": False}
    decision = {"number": 1, "outcome": "approve_with_conditions", "decided_at": "2025-12-01T10:00:00Z",
                "checked_at": None, "re_review": "2026-12-01"}  # fmt: skip
    detail = {"requests": [
        {"reference": "A-1", "title": "T", "status": "decided", "version": 3, "received_on": "2025-11-01",
         "recommendation": "conditions", "pinned": True, "counts": True, "decision": decision,
         "pending_decision": None, "open_conditions": [later, cond]},
        {"reference": "A-2", "title": "U", "status": "awaiting_second", "version": 2, "received_on": "2025-11-02",
         "recommendation": "refuse", "pinned": False, "counts": False, "decision": None,
         "pending_decision": {"number": 1, "outcome": "refuse", "decided_at": "2025-12-02T10:00:00Z"},
         "open_conditions": []},
    ]}  # fmt: skip
    model = RequestsModel()
    model.set_entries(request_entries(detail))
    assert model.index(0, 4).data() == "2 open, 1 overdue"
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole).name() == "#b42318"
    assert model.index(0, 5).data() == "Approved with conditions, 2025-12-01"
    assert "linked to this customer by hand" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "open condition 7 [HR-28] due 2026-01-05 (OVERDUE)" in model.index(0, 0).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert model.index(1, 5).data() == "Refused (awaiting check)" and model.index(1, 3).data() == "no"
    assert model.index(1, 1).data(Qt.ItemDataRole.ForegroundRole) is not None  # not counted: greyed
    html = conditions_html(detail)
    assert html.index("#7") < html.index("#8")  # by due date
    assert "due 2026-01-05: overdue" in html and "&lt;b&gt;0.99&lt;/b&gt;" in html  # customer text escaped
    assert figure_text({"total": 80, "complete": True, "parts": []}) == "80"
    parts = [{"reference": "A-1", "value": 5}, {"reference": "A-2", "value": None}]
    assert figure_text({"total": 5, "complete": False, "parts": parts}) == "at least 5 (some unknown)"
    assert figure_text({"total": 0, "complete": False, "parts": parts[1:]}) == "unknown"
