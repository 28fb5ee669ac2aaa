"""The queue's "Waiting" column shows how many working days each request has waited on us and
flags those past the service level; changing the setting changes the flags; the dashboard
shows the distribution. Dates relative to today (which may be a weekend)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from reviewer import request as rq
from reviewer.services.queries import WAITING_COLUMN
from tests.helpers.documents import make
from tests.ui.test_flows import window_for
from tests.unit.test_ageing import received_ago


def test_the_queue_flags_the_requests_past_the_service_level(qtbot, cli):
    assert cli("db", "upgrade", user="rev1")[0] == 0
    docs = []
    for ref, age in (("A-0", 0), ("A-4", 4), ("A-12", 12), ("A-30", 30)):
        doc = make({"received_on": received_ago(age).isoformat()})
        doc["reference"] = ref
        docs.append(doc)
    path = cli.db_path.parent / "aged.jsonl"
    path.write_text("".join(rq.canonical_json(d) + "\n" for d in docs))
    assert cli("import", str(path), user="rev1")[0] == 0
    window, _dialogs = window_for(qtbot, cli.url, "rev1")
    model = window.model

    def cells() -> dict[str, tuple[str, str | None, bool]]:
        out = {}
        for row in range(model.rowCount()):
            index = model.index(row, WAITING_COLUMN)
            out[model.reference(row)] = (index.data(), index.data(Qt.ItemDataRole.ToolTipRole),
                                         index.data(Qt.ItemDataRole.BackgroundRole) is not None)  # fmt: skip
        return out

    assert (
        model.headerData(WAITING_COLUMN, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == "Waiting"
    )
    shown = cells()
    assert {ref: text for ref, (text, _t, _b) in shown.items()} == {
        "A-0": "0 wd", "A-4": "4 wd", "A-12": "12 wd", "A-30": "30 wd"}  # fmt: skip
    assert [ref for ref, (_x, _t, flagged) in shown.items() if flagged] == ["A-12", "A-30"]
    assert shown["A-12"][1].startswith("past the service level of 10 working days")
    assert shown["A-4"][1] is None
    qtbot.waitUntil(
        lambda: "(2 past the service level of 10 working days)" in window.status.text(), timeout=10_000
    )
    qtbot.waitUntil(lambda: bool(window.dashboard.ages.items), timeout=10_000)
    assert [(label, n) for label, n, _c in window.dashboard.ages.items] == [
        ("0–2", 1), ("3–5", 1), ("6–10", 0), ("11–20", 1), ("over 20", 1)]  # fmt: skip
    assert "2</b> past the service level" in window.dashboard.past_level.text()

    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.view_filter.setCurrentIndex(window.view_filter.findData("past service level"))
    assert sorted(model.reference(r) for r in range(model.rowCount())) == ["A-12", "A-30"]

    assert cli("settings", "set", "service_level_days", "3", user="rev1")[0] == 0
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.view_filter.setCurrentIndex(window.view_filter.findData("all"))
    shown = cells()
    assert [ref for ref, (_x, _t, flagged) in shown.items() if flagged] == ["A-4", "A-12", "A-30"]
    assert shown["A-4"][1].startswith("past the service level of 3 working days")
    # A new filter reads only the queue; Reload (F5) reads the dashboard again too.
    assert "2 past the service level" in window.status.text()
    window.reload()
    qtbot.waitUntil(
        lambda: "3 past the service level of 3 working days" in window.status.text(), timeout=10_000
    )
    qtbot.waitUntil(lambda: "3 working days" in window.dashboard.past_level.text(), timeout=10_000)
    assert [(label, n) for label, n, _c in window.dashboard.ages.items] == [
        ("0–2", 1), ("3", 0), ("4–5", 1), ("6–20", 1), ("over 20", 1)]  # fmt: skip
