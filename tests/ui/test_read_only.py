"""The window runs the start-up check of `reviewer verify`: a database that fails it opens
read only, with a banner naming the problem, and every write is refused."""

from __future__ import annotations

from reviewer import request as rq
from reviewer.context import open_context
from reviewer.ui.main_window import MainWindow
from tests.helpers.ui import FakeDialogs, open_reference
from tests.helpers.workflow import ADMIN, ok, scenario_docs


def _window(qtbot, cli) -> tuple[MainWindow, FakeDialogs, bool]:
    dialogs = FakeDialogs()
    window = MainWindow(open_context(cli.url, ADMIN, write=True), dialogs)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.checked, timeout=20_000) as blocker:
        window.show()
    return window, dialogs, blocker.args[0]


def _seed(cli, tmp_path) -> None:
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    ok(cli, "import", str(f), user=ADMIN)


def test_a_verified_database_opens_for_writing(qtbot, cli, tmp_path):
    _seed(cli, tmp_path)
    window, _dialogs, verified = _window(qtbot, cli)
    assert verified and window.read_only is None and not window.banner.isVisible()


def test_a_database_that_fails_verify_opens_read_only(qtbot, cli, tmp_path):
    _seed(cli, tmp_path)
    cli.sql("UPDATE requests SET status = 'decided' WHERE reference = 'R-APPROVE'")
    window, dialogs, verified = _window(qtbot, cli)
    assert not verified
    assert window.banner.isVisible() and "R-APPROVE: status is decided" in window.banner.text()
    assert "READ ONLY" in window.windowTitle()
    open_reference(qtbot, window, "R-COND")
    assert not any(ok for ok, _why in window.panel.allowed.values())
    assert all(why.startswith("read only:") for _ok, why in window.panel.allowed.values())
    before = cli.dump()
    window.panel.reference, window.panel.version = "R-COND", 1
    with qtbot.waitSignal(window.action_done, timeout=10_000) as blocker:
        window.run_action("claim", {})
    assert blocker.args[0] == "failed:claim" and "read only" in dialogs.errors[-1][1]
    with qtbot.waitSignal(window.action_done, timeout=10_000):
        window.import_files([str(tmp_path / "r.jsonl")])
    assert cli.dump() == before
