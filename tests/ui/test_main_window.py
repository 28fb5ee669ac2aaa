"""The queue window on a real database, driven with qtbot."""

from __future__ import annotations

from PySide6.QtCore import Qt

from reviewer.services.audit import Actor
from reviewer.models.db import Database
from reviewer.ui.main_window import AppContext, MainWindow


def open_window(qtbot, cli) -> MainWindow:
    db = Database(cli.url)
    window = MainWindow(AppContext(db, Actor("root", "root")))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    return window


def test_queue_lists_requests_and_sorts_in_sql(qtbot, cli):
    assert cli("seed-demo", "--count", "450", "--seed", "3")[0] == 0
    window = open_window(qtbot, cli)
    model = window.model
    assert model.rowCount() == 450
    assert "450 requests" in window.status.text() and "human-rights@1" in window.status.text()
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    refs = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert refs == sorted(refs) and refs[0] == "DEMO-000001"
    last = model.index(449, 0).data()  # a row from the third page
    assert last == "DEMO-000450"
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
    assert model.index(0, 0).data() == "DEMO-000450"


def test_model_serves_only_display_role(qtbot, cli):
    assert cli("seed-demo", "--count", "3")[0] == 0
    window = open_window(qtbot, cli)
    idx = window.model.index(0, 5)
    assert idx.data(Qt.ItemDataRole.DecorationRole) is None
    assert idx.data() in {"approve", "conditions", "escalate second", "escalate senior",
                          "needs information", "refuse"}


def test_queue_model_passes_the_model_tester(qtmodeltester, cli):
    from reviewer.ui.main_window import QueueModel, load_ids

    assert cli("seed-demo", "--count", "25")[0] == 0
    db = Database(cli.url)
    model = QueueModel(db)
    model.set_ids(load_ids(db, 0, False))
    assert model.rowCount() == 25
    qtmodeltester.check(model, force_py=True)
