"""Looking never writes: selecting a request in the queue opens no write transaction and takes
no lock, on SQLite and on PostgreSQL (what the panel may enable is asked of the actions' own
checks in one read transaction)."""

from __future__ import annotations

import re

from sqlalchemy import event

from reviewer import request as rq
from reviewer.context import open_context
from reviewer.services.queries import request_id
from reviewer.ui.main_window import MainWindow
from tests.helpers.ui import FakeDialogs, opens
from tests.helpers.workflow import scenario_docs

WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE|BEGIN IMMEDIATE)|FOR UPDATE|FOR SHARE", re.I)


def test_selecting_a_request_opens_no_write_transaction(qtbot, db_cli, tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text("".join(rq.canonical_json(d) + "\n" for d in scenario_docs()))
    assert db_cli("import", str(f), user="admin1")[0] == 0
    assert db_cli("claim", "R-APPROVE", user="admin1")[0] == 0
    pg = db_cli.backend == "pg"
    ctx = open_context(db_cli.url_for("admin1"), None if pg else "admin1", write=True)
    window = MainWindow(ctx, FakeDialogs())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    window.runner.wait()
    with ctx.db.read() as session:
        ids = {ref: request_id(session, ref) for ref in ("R-APPROVE", "R-NEVER", "R-SENIOR")}

    write_sessions: list[object] = []
    statements: list[str] = []
    event.listen(ctx.db.write_session, "after_begin", lambda s, *_: write_sessions.append(s))
    engines = {ctx.db.write_engine, ctx.db.read_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql))
        event.listen(engine, "begin", lambda conn: statements.append("<begin>"))
    rows = {ref: window.model.row_of(rid) for ref, rid in ids.items()}
    for reference in ("R-NEVER", "R-SENIOR", "R-APPROVE"):
        with opens(qtbot, window, reference):
            window.table.selectRow(rows[reference])
        assert window.view.data["reference"] == reference
    window.runner.wait()
    assert write_sessions == []
    assert statements, "the selection read nothing?"
    assert [s for s in statements if WRITES.search(s)] == []
    # the panel still knows what is allowed: the claimant may decide, not claim again
    assert window.panel.allowed["refuse"][0] and not window.panel.allowed["claim"][0]
    ctx.db.dispose()
