"""The queue window on a real database, driven with qtbot."""

from __future__ import annotations

from PySide6.QtCore import Qt

from reviewer.context import open_context
from reviewer.ui.main_window import MainWindow
from reviewer.vocabulary import Recommendation


def open_window(qtbot, cli) -> MainWindow:
    window = MainWindow(open_context(cli.url, "root", write=True))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    return window


def sort_by(qtbot, window: MainWindow, column: int, order: Qt.SortOrder) -> None:
    """Sort the queue and wait for its new order (the window keeps the last sort: from
    another column first, so that this one is a change)."""
    header = window.table.horizontalHeader()
    for col in (column + 1, column):
        if (header.sortIndicatorSection(), header.sortIndicatorOrder()) != (col, order):
            with qtbot.waitSignal(window.loaded, timeout=10_000):
                header.setSortIndicator(col, order)


def test_queue_lists_requests_and_sorts_in_sql(qtbot, cli):
    assert cli("seed-demo", "--count", "450", "--seed", "3")[0] == 0
    window = open_window(qtbot, cli)
    model = window.model
    assert model.rowCount() == 450
    # The figures that do not depend on the query follow the first rows.
    qtbot.waitUntil(lambda: "450 requests" in window.status.text(), timeout=10_000)
    assert window.status.text().startswith("450 shown") and "human-rights@2" in window.status.text()
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    # rows past the first page arrive a page at a time, off the GUI thread
    qtbot.waitUntil(lambda: all(model.index(r, 0).data() for r in range(model.rowCount())), timeout=10_000)
    refs = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert refs == sorted(refs) and refs[0] == "DEMO-000001"
    assert model.index(449, 0).data() == "DEMO-000450"  # a row from the third page
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
    assert model.index(0, 0).data() == "DEMO-000450"


def test_a_row_beyond_the_pages_read_opens_and_stays_selected(qtbot, cli):
    """End selects a row whose page has not come yet: its request opens when the page does;
    after a sort the open request's row is selected again, wherever the new order puts it."""
    from tests.helpers.ui import opens

    assert cli("seed-demo", "--count", "450", "--seed", "3")[0] == 0
    window = open_window(qtbot, cli)
    sort_by(qtbot, window, 0, Qt.SortOrder.DescendingOrder)
    assert set(window.model.pages) == {0}  # only the first page is read
    window.table.setFocus()
    with opens(qtbot, window, "DEMO-000450"):
        window.table.setCurrentIndex(window.model.index(0, 0))
    with opens(qtbot, window, "DEMO-000001"):
        qtbot.keyClick(window.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert window.table.currentIndex().row() == 449
    for order, row in ((Qt.SortOrder.AscendingOrder, 0), (Qt.SortOrder.DescendingOrder, 449)):
        with qtbot.waitSignal(window.loaded, timeout=10_000):
            window.table.horizontalHeader().setSortIndicator(0, order)
        assert window.table.selectionModel().selectedRows()[0].row() == row
        assert window.current == "DEMO-000001" and not window.left_queue.isVisible()
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.search.setText("DEMO-00000")  # DEMO-000001 to DEMO-000009
    assert window.model.rowCount() == 9 and window.table.selectionModel().selectedRows()[0].row() == 8
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.search.setText("DEMO-00045")
    assert window.model.rowCount() == 1 and not window.table.selectionModel().selectedRows()
    assert (
        window.left_queue.isVisibleTo(window)
        and "DEMO-000001 is not in the queue" in window.left_queue.text()
    )
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.search.setText("")  # the queue grows again: its row is selected, and in view
    index = window.table.selectionModel().selectedRows()[0]
    assert index.row() == 449 and not window.left_queue.isVisibleTo(window)
    assert window.table.viewport().rect().intersects(window.table.visualRect(index))
    qtbot.waitUntil(lambda: window.model.index(449, 0).data() == "DEMO-000001", timeout=10_000)


def test_a_request_opened_while_the_queue_is_read_is_selected_where_it_lands(qtbot, cli, monkeypatch):
    """A row clicked while a new order is being read (slowed here, as at a million requests)
    is selected where the new order puts it, even past the first page, and not marked as
    having left the queue."""
    import time

    from reviewer.ui import main_window
    from tests.helpers.ui import opens

    assert cli("seed-demo", "--count", "450", "--seed", "3")[0] == 0
    window = open_window(qtbot, cli)
    sort_by(qtbot, window, 0, Qt.SortOrder.AscendingOrder)
    slow = main_window.load_window

    def slowed(*args):
        time.sleep(0.8)
        return slow(*args)

    monkeypatch.setattr(main_window, "load_window", slowed)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        with opens(qtbot, window, "DEMO-000011"):
            window.table.selectRow(10)  # the old order's row 10, clicked while the new one is read
    qtbot.waitUntil(lambda: bool(window.table.selectionModel().selectedRows()), timeout=10_000)
    assert window.table.selectionModel().selectedRows()[0].row() == 439
    assert window.model.index(439, 0).data() in ("", "DEMO-000011")
    qtbot.waitUntil(lambda: window.model.index(439, 0).data() == "DEMO-000011", timeout=10_000)
    assert not window.left_queue.isVisibleTo(window)


def test_the_queue_marks_each_recommendation_and_tells_clipped_text(qtbot, cli):
    """The recommendation carries its mark (colour and glyph, one per recommendation, made
    once); every cell's tooltip is its whole text; no other column is decorated."""
    from reviewer.ui.queue_model import REC_COLUMN, recommendation_icon

    assert cli("seed-demo", "--count", "40")[0] == 0
    window = open_window(qtbot, cli)
    model = window.model
    labels = {model.index(r, REC_COLUMN).data() for r in range(model.rowCount())}
    assert labels <= {r.label for r in Recommendation} and len(labels) >= 3
    for r in range(model.rowCount()):
        idx = model.index(r, REC_COLUMN)
        assert (
            idx.data(Qt.ItemDataRole.DecorationRole).cacheKey() == recommendation_icon(idx.data()).cacheKey()
        )
        assert model.index(r, 2).data(Qt.ItemDataRole.ToolTipRole) == model.index(r, 2).data()
        assert model.index(r, 0).data(Qt.ItemDataRole.DecorationRole) is None
    images = {
        label: recommendation_icon(label).pixmap(32, 32).toImage()
        for label in (r.label for r in Recommendation)
    }
    assert len({img.constBits().tobytes() for img in images.values()}) == len(images)  # all differ


def test_queue_model_passes_the_model_tester(qtmodeltester, cli):
    from reviewer.services.queries import QueueQuery
    from reviewer.ui.ops import Runner
    from reviewer.ui.queue_model import QueueModel, load_window
    from tests.helpers.ui import FakeDialogs

    assert cli("seed-demo", "--count", "25")[0] == 0
    ctx = open_context(cli.url, "root")

    class Host:
        runner = Runner()
        dialogs = FakeDialogs()

    model = QueueModel(ctx, Host())
    with ctx.db.read() as session:
        window, ids, rows, _row = load_window(
            session, QueueQuery(sort_column=0, descending=False), "root", None
        )
    model.set_window(window, ids, rows)
    assert model.rowCount() == 25
    qtmodeltester.check(model, force_py=True)


def test_a_request_opened_from_elsewhere_is_the_one_the_queue_keeps_selected(qtbot, cli):
    """A request opened by reference (from a backtest, the intake form) is the one the queue
    selects after it is read again, not the row selected before."""
    from tests.helpers.ui import open_reference, opens

    assert cli("seed-demo", "--count", "30", "--seed", "3")[0] == 0
    window = open_window(qtbot, cli)
    sort_by(qtbot, window, 0, Qt.SortOrder.AscendingOrder)
    open_reference(qtbot, window, "DEMO-000002")
    with opens(qtbot, window, "DEMO-000017"):
        window.open_request("DEMO-000017")
    sort_by(qtbot, window, 0, Qt.SortOrder.DescendingOrder)
    assert window.table.selectionModel().selectedRows()[0].row() == 13  # DEMO-000017 of 30, descending
    assert window.model.index(13, 0).data() == "DEMO-000017" and window.current == "DEMO-000017"


def test_sorted_by_assignee_an_id_no_account_has_is_a_row_of_its_own_last(qtbot, cli):
    """SQLite's foreign keys switched off by hand, a request's assignee id points at no
    account: sorted by assignee either way the queue still shows every request, that one
    last, its assignee named as the unknown id (no blank row at the end)."""
    import sqlite3

    from reviewer.services.queries import column_of

    assert cli("seed-demo", "--count", "30")[0] == 0
    assert cli("claim", "DEMO-000004")[0] == 0
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE requests SET assignee_id = 999 WHERE reference = 'DEMO-000011'")
    conn.close()
    window = open_window(qtbot, cli)
    model, assignee = window.model, column_of("Assignee")
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        sort_by(qtbot, window, assignee, order)
        assert model.rowCount() == 30
        qtbot.waitUntil(lambda: all(model.index(r, 0).data() for r in range(30)), timeout=10_000)
        assert model.index(29, 0).data() == "DEMO-000011"
        assert model.index(29, assignee).data() == "unknown account 999"
        claimed = [r for r in range(30) if model.index(r, 0).data() == "DEMO-000004"]
        assert model.index(claimed[0], assignee).data() == "root"


def test_bidi_and_zero_width_characters_are_shown_not_obeyed(qtbot, cli, tmp_path):
    """A customer named with a right-to-left override, an isolate and a zero-width space is
    shown as the command line prints it (`\\u202e`), in the queue and in the request view:
    the characters can neither reorder nor hide what a reviewer reads."""
    from reviewer import request as rq
    from reviewer.services.queries import column_of
    from tests.helpers.documents import make
    from tests.helpers.ui import open_reference

    doc = make({"customer.name": "Evil\u202eCorp\u2066x\u200bLtd"})
    doc["reference"] = "BIDI-1"
    (tmp_path / "b.json").write_text(rq.canonical_json(doc), encoding="utf-8")
    assert cli("import", str(tmp_path / "b.json"))[0] == 0
    window = open_window(qtbot, cli)
    shown = "Evil\\u202eCorp\\u2066x\\u200bLtd"
    assert window.model.index(0, column_of("Customer")).data() == shown
    open_reference(qtbot, window, "BIDI-1")
    page = window.view.toPlainText()
    assert shown in page and "\u202e" not in page and "\u2066" not in page and "\u200b" not in page
