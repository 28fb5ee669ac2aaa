"""The main window: the queue (ids plus a page cache, filtered and sorted in SQL), the request
view and the decision panel. Database work runs off the GUI thread through `Runner`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
)

from reviewer import settings as config
from reviewer.services.audit import Actor
from reviewer.errors import Cancelled, ReviewerError
from reviewer.models.db import Database
from reviewer.services.queries import COLUMNS, QueueQuery, queue_ids, queue_rows
from reviewer.ui.dashboard import Dashboard, RuleSetView
from reviewer.ui.decision import DecisionPanel
from reviewer.ui.intake_form import IntakeForm
from reviewer.ui.ops import Dialogs, Runner
from reviewer.ui.request_view import RequestView
from reviewer.ui.rulesets import RuleSetsPanel

log = logging.getLogger(__name__)
PAGE = 200
ENUM_COLUMNS = {4, 5, 6}  # org type, recommendation, status: shown as words
TIME_COLUMNS = {8}
STATUSES = ["", "new", "in_review", "awaiting_second", "decided", "returned"]
RECOMMENDATIONS = ["", "refuse", "needs_information", "escalate_senior", "escalate_second",
                   "conditions", "approve"]  # fmt: skip
VIEWS = ["all", "mine", "awaiting my check", "conditions overdue"]


@dataclass
class AppContext:
    """Everything the window needs, built once in main() and passed down."""

    db: Database
    actor: Actor
    dialogs: Dialogs = field(default_factory=Dialogs)
    runner: Runner | None = None


def _fmt(column: int, value: Any) -> str:
    """Pre-format a cell once per page fetch, so data() only looks it up."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value))
    if column in ENUM_COLUMNS:
        return text.replace("_", " ")
    if column in TIME_COLUMNS:
        return text[:16].replace("T", " ")
    return text


class QueueModel(QAbstractTableModel):
    """Holds the ordered request ids; fetches visible rows a page at a time (a primary-key
    lookup of at most PAGE rows on the read connection)."""

    def __init__(self, db: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.ids: list[int] = []
        self.pages: dict[int, list[tuple[str, ...]]] = {}

    def set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self.ids = ids
        self.pages = {}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid():
            return None
        row = index.row()
        page = self.pages.get(row // PAGE)
        if page is None:
            page = self._fetch(row // PAGE)
        return page[row % PAGE][index.column()]

    def reference(self, row: int) -> str:
        return str(self.index(row, 0).data())

    def _fetch(self, number: int) -> list[tuple[str, ...]]:
        ids = self.ids[number * PAGE:(number + 1) * PAGE]
        with self.db.read() as session:
            rows = queue_rows(session, ids)
        empty = ("",) * len(COLUMNS)
        page = [tuple(_fmt(c, v) for c, v in enumerate(rows[i])) if i in rows else empty
                for i in ids]  # fmt: skip
        self.pages[number] = page
        return page


def load_ids(db: Database, sort_column: int, descending: bool) -> list[int]:
    with db.read() as session:
        return queue_ids(session, QueueQuery(sort_column=sort_column, descending=descending), "")


class MainWindow(QMainWindow):
    loaded = Signal()
    request_loaded = Signal()
    action_done = Signal(str)
    progress_changed = Signal(int, int)  # done, total (0: unknown); emitted from workers

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        if ctx.dialogs.parent is None:
            ctx.dialogs.parent = self
        self.runner = ctx.runner or Runner(self)
        self.setWindowTitle(f"Reviewer — {ctx.actor.name}")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.current: str | None = None
        self.current_id: int | None = None

        self.model = QueueModel(ctx.db, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Request queue")
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self.reload)
        for col, width in enumerate((100, 82, 190, 55, 118, 122, 104, 80, 118)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.view = RequestView(self)
        self.panel = DecisionPanel(self)
        self.panel.action_requested.connect(self.run_action)
        self.tabs = QTabWidget(self)
        self.intake = IntakeForm(self)
        self.intake.save_requested.connect(self.save_request)
        self.dashboard = Dashboard(self)
        self.rules_view = RuleSetView(self)
        self.tabs.addTab(self.view, "&Request")
        self.tabs.addTab(self.panel, "&Decide")
        self.tabs.addTab(self.intake, "&Intake")
        self.tabs.addTab(self.dashboard, "Das&hboard")
        self.tabs.addTab(self.rules_view, "Rule&s")
        self.rulesets = RuleSetsPanel(self)
        self.rulesets.pick_file = lambda: self.ctx.dialogs.open_rule_set("Import a rule set")
        self.rulesets.action_requested.connect(self.rules_action)
        self.rulesets.open_reference.connect(self._open_from_backtest)
        self.tabs.addTab(self.rulesets, "&Versions")
        splitter = QSplitter(self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tabs)
        splitter.setSizes([830, 450])
        self.setCentralWidget(splitter)
        self._build_toolbar()
        self._build_menu()
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Progress")
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel the running operation")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.progress, self.cancel_button):
            self.statusBar().addPermanentWidget(widget)
            widget.hide()
        self._cancel = threading.Event()
        self.progress_changed.connect(self._show_progress)
        self._restore_state()
        self.reload()

    # ------------------------------------------------------------------ layout

    def _build_toolbar(self) -> None:
        bar = QToolBar("Filters", self)
        bar.setObjectName("filters")
        self.addToolBar(bar)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search reference, customer, end users (2+ letters, Ctrl+F)")
        self.search.setAccessibleName("Search")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(280)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(100)
        self._debounce.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        bar.addWidget(self.search)
        self.status_filter = self._combo("Status filter", STATUSES, "any status")
        self.rec_filter = self._combo("Recommendation filter", RECOMMENDATIONS, "any recommendation")
        self.view_filter = self._combo("View", VIEWS, None)
        for combo in (self.status_filter, self.rec_filter, self.view_filter):
            bar.addWidget(combo)
            combo.currentIndexChanged.connect(self.reload)

    def _combo(self, name: str, values: list[str], empty: str | None) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for v in values:
            combo.addItem((v.replace("_", " ") if v else empty) or "", v)
        return combo

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, shortcut, slot in (("&Import requests…", "Ctrl+I", self.import_dialog),
                                     ("&Export PDF of the selected request…", "Ctrl+E",
                                      self.export_dialog),
                                     ("&Reload", "F5", self.reload),
                                     ("&Quit", "Ctrl+Q", self.close)):  # fmt: skip
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            file_menu.addAction(action)
        request_menu = self.menuBar().addMenu("&Request")
        for text, shortcut, slot in (("&New request", "Ctrl+N", self.new_request),
                                     ("&Edit the selected request", "Ctrl+Shift+E",
                                      self.edit_request)):  # fmt: skip
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            request_menu.addAction(action)
        settings_menu = self.menuBar().addMenu("&Settings")
        org = QAction("&Organisation name on PDFs…", self)
        org.triggered.connect(self.set_organisation)
        settings_menu.addAction(org)
        database = QAction("&Database…", self)
        database.triggered.connect(self.set_database)
        settings_menu.addAction(database)
        self.dark = QAction("Dar&k theme", self)
        self.dark.setCheckable(True)
        # Follows the system until the reviewer chooses; the choice is remembered.
        chosen = QSettings().value("view/dark")
        self.dark.setChecked(system_is_dark() if chosen is None else str(chosen) in ("true", "1"))
        self.dark.toggled.connect(self.set_dark)
        settings_menu.addAction(self.dark)
        apply_theme(self.dark.isChecked())
        find = QAction("Find", self)
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.triggered.connect(self.search.setFocus)
        self.addAction(find)

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        header = settings.value("queue/header")
        if header is not None:
            self.table.horizontalHeader().restoreState(header)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("queue/header", self.table.horizontalHeader().saveState())
        self.runner.wait(5000)
        super().closeEvent(event)

    # ------------------------------------------------------------------ queue

    def query(self) -> QueueQuery:
        header = self.table.horizontalHeader()
        return QueueQuery(
            search=self.search.text(), status=self.status_filter.currentData() or None,
            recommendation=self.rec_filter.currentData() or None,
            view=self.view_filter.currentData() or "all",
            sort_column=header.sortIndicatorSection(),
            descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)

    def reload(self, *_args: Any) -> None:
        db, q, user = self.ctx.db, self.query(), self.ctx.actor.name
        # Reads run on two threads and may finish out of order: only the newest counts.
        self._reload_seq = seq = getattr(self, "_reload_seq", 0) + 1

        def work() -> tuple[int, list[int], str]:
            with db.read() as session:
                return seq, queue_ids(session, q, user), status_text(self.ctx)

        self.runner.run(work, self._loaded, lambda e: self.ctx.dialogs.error("Loading", e))
        self.runner.run(self._overview, self._overview_loaded,
                        lambda e: self.ctx.dialogs.error("Dashboard", e))

    def _overview(self) -> tuple[dict[str, Any], Any, list[dict[str, Any]]]:
        from reviewer.services.rulesets import list_versions
        from reviewer.services.queries import dashboard
        from reviewer.services.importing import active_rules

        with self.ctx.db.read() as session:
            return dashboard(session), active_rules(session).ruleset, list_versions(session)

    def _overview_loaded(self, result: tuple[dict[str, Any], Any, list[dict[str, Any]]]) -> None:
        data, ruleset, versions = result
        self.dashboard.show_data(data)
        self.rulesets.show_versions(versions)
        if getattr(self, "_shown_rules", None) != ruleset.sha256:
            self._shown_rules = ruleset.sha256
            self.rules_view.show_rules(ruleset)

    def _loaded(self, result: tuple[int, list[int], str]) -> None:
        seq, ids, status = result
        if seq != self._reload_seq:
            return  # a newer query is on its way
        self.model.set_ids(ids)
        self.status.setText(f"{len(ids):,} shown  |  {status}")
        if self.current_id is not None:
            self._select_id(self.current_id)
        self.loaded.emit()

    _reselecting = False

    def select_reference(self, reference: str, load: bool = True) -> bool:
        """Select (and open) a request by reference, if the queue shows it (for scripts and
        tests; the queue itself keeps the selection by id)."""
        from sqlalchemy import select

        from reviewer.models import Request

        with self.ctx.db.read() as session:
            rid = session.execute(
                select(Request.id).where(Request.reference == reference)).scalar_one_or_none()
        if rid is None or not self._select_id(rid):
            return False
        if load:
            self.open_request(reference)
        return True

    def _select_id(self, rid: int) -> bool:
        try:
            row = self.model.ids.index(rid)
        except ValueError:
            return False
        self.current_id = rid
        self._reselecting = True
        try:
            self.table.selectRow(row)
        finally:
            self._reselecting = False
        return True

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._reselecting:
            self.current_id = self.model.ids[current.row()]
            self.open_request(self.model.reference(current.row()))

    def open_request(self, reference: str) -> None:
        from reviewer.services import workflow as review

        self.current = reference
        db, actor = self.ctx.db, self.ctx.actor
        self._open_seq = seq = getattr(self, "_open_seq", 0) + 1

        def work() -> tuple[int, dict[str, Any], dict[str, tuple[bool, str]]]:
            with db.read() as session:
                data = review.show(session, reference)
            return seq, data, review.options(db, actor, reference)

        self.runner.run(work, self._request_loaded,
                        lambda e: self.ctx.dialogs.error("Opening the request", e))

    def _request_loaded(
        self, result: tuple[int, dict[str, Any], dict[str, tuple[bool, str]]]
    ) -> None:
        seq, data, allowed = result
        if seq != self._open_seq:
            return  # the reviewer has moved on, or a newer load is coming
        self.view.show_request(data)
        self.panel.set_options(data["reference"], data["version"], allowed,
                               data["evaluation"]["conditions"])
        open_conditions = [c for d in data["decisions"] if d["final"] for c in d["conditions"]
                           if c["status"] == "open"]  # fmt: skip
        self.panel.set_obligations(open_conditions, data["status"] == "decided")
        self.request_loaded.emit()

    # ------------------------------------------------------------------ actions

    def run_action(self, name: str, kwargs: dict[str, Any]) -> None:
        from reviewer.services import workflow as review

        reference, version = self.panel.reference, self.panel.version
        if reference is None:
            return
        db, actor = self.ctx.db, self.ctx.actor
        services = {
            "claim": review.claim, "release": review.release, "take_over": review.take_over,
            "reopen": review.reopen, "decide": review.decide, "return": review.return_request,
            "confirm": lambda s, a, r, **k: review.check(s, a, r, True, **k),
            "reject": lambda s, a, r, reason, **k: review.check(s, a, r, False, reason, **k),
        }  # fmt: skip
        fn = services.get(name)

        def work() -> str:
            with db.write() as session:
                if name == "mark":
                    review.mark_condition(session, actor, kwargs["condition_id"],
                                          kwargs["status"], kwargs["note"])
                else:
                    fn(session, actor, reference, expect_version=version, **kwargs)
            return name

        def done(result: str) -> None:
            self.statusBar().showMessage(f"{reference}: {result.replace('_', ' ')} done", 5000)
            self.reload()
            self.open_request(reference)
            self.action_done.emit(result)

        def failed(exc: BaseException) -> None:
            self.ctx.dialogs.error(name.replace("_", " ").capitalize(), exc)
            self.open_request(reference)
            self.action_done.emit(f"failed:{name}")

        self.runner.run(work, done, failed, write=True)

    def set_organisation(self) -> None:
        from reviewer.export import get_setting, set_setting

        db, actor = self.ctx.db, self.ctx.actor

        def read() -> str:
            with db.read() as session:
                return get_setting(session, "organisation_name")

        def failed(exc: BaseException) -> None:
            self.ctx.dialogs.error("Organisation name", exc)
            self.action_done.emit("failed:settings")

        def ask(current: str) -> None:
            name = self.ctx.dialogs.ask_text("Organisation name", "Printed at the top of every "
                                             "PDF record (admins only):", current)  # fmt: skip
            if not name:
                return

            def write() -> str:
                with db.write() as session:
                    set_setting(session, actor, "organisation_name", name)
                return "settings"

            self.runner.run(write, self.action_done.emit, failed, write=True)

        self.runner.run(read, ask, failed)

    def set_database(self) -> None:
        url = self.ctx.dialogs.ask_text(
            "Database", "Database URL for the next start (a SQLite file, or postgresql+psycopg://"
            "login@host/db for a team):", self.ctx.db.url)  # fmt: skip
        if url and url != self.ctx.db.url:
            path = config.save_database_url(url)
            self.ctx.dialogs.info("Database", f"Saved in {path}. Reviewer uses it from its next "
                                  "start.")  # fmt: skip

    def set_dark(self, dark: bool) -> None:
        QSettings().setValue("view/dark", dark)
        apply_theme(dark)

    def rules_action(self, name: str, key: str) -> None:
        """Import, diff, backtest, propose or approve a rule-set version (off the GUI thread)."""
        from reviewer.services import rulesets as lifecycle

        db, actor = self.ctx.db, self.ctx.actor

        def work() -> tuple[str, Any]:
            if name in ("diff", "backtest"):
                with db.read() as session:
                    candidate = lifecycle.resolve(session, key)
                    if name == "diff":
                        from reviewer.services.importing import active_rules

                        return name, lifecycle.diff_text(
                            lifecycle.diff(active_rules(session).ruleset, candidate))
                    return name, lifecycle.backtest(session, candidate).to_json()
            with db.write() as session:
                if name == "import":
                    row, created = lifecycle.import_version(session, actor, key)
                    return name, f"{row.key} {'stored as a draft' if created else 'already stored'}"
                fn = lifecycle.propose if name == "propose" else lifecycle.approve
                return name, fn(session, actor, key)

        def done(result: tuple[str, Any]) -> None:
            kind, value = result
            if kind == "diff":
                self.rulesets.show_diff(value)
            elif isinstance(value, dict):
                self.rulesets.show_backtest(value)
                if kind == "approve":
                    self.ctx.dialogs.info("Rule set", f"{key} is active; every stored "
                                          "evaluation was refreshed.")  # fmt: skip
            else:
                self.rulesets.summary.setText(str(value))
            if kind in ("import", "propose", "approve"):
                self.reload()
            self.action_done.emit(f"rules_{kind}")

        def failed(exc: BaseException) -> None:
            self.ctx.dialogs.error(f"Rule set: {name}", exc)
            self.action_done.emit(f"failed:rules_{name}")

        self.runner.run(work, done, failed, write=name in ("import", "propose", "approve"))

    def _open_from_backtest(self, reference: str) -> None:
        self.search.setText("")
        self.status_filter.setCurrentIndex(0)
        self.rec_filter.setCurrentIndex(0)
        self.view_filter.setCurrentIndex(0)
        self.current = reference
        self.open_request(reference)
        self.tabs.setCurrentWidget(self.view)

    def new_request(self) -> None:
        self.intake.clear()
        self.tabs.setCurrentWidget(self.intake)

    def edit_request(self) -> None:
        data = self.view.data
        if data is None:
            self.ctx.dialogs.info("Edit", "Select a request first.")
            return
        self.intake.load(data["document"], data["version"])
        self.tabs.setCurrentWidget(self.intake)

    def save_request(self, raw: dict[str, Any], expect_version: int | None) -> None:
        from reviewer.services.importing import save_document

        db, actor = self.ctx.db, self.ctx.actor
        reference = raw.get("reference")

        def work() -> str:
            with db.write() as session:
                return save_document(session, actor, raw, expect_version).summary()

        def done(summary: str) -> None:
            self.statusBar().showMessage(f"{reference}: saved ({summary})", 5000)
            self.current = reference
            self.reload()
            self.open_request(str(reference))
            self.tabs.setCurrentWidget(self.view)
            self.action_done.emit("save")

        def failed(exc: BaseException) -> None:
            self.ctx.dialogs.error("Saving the request", exc)
            self.action_done.emit("failed:save")

        self.runner.run(work, done, failed, write=True)

    # ------------------------------------------------------------------ long operations

    def _start_long(self) -> Callable[[int, int], None]:
        """Show progress and Cancel; return the callback the worker reports through (it
        raises Cancelled once the user has asked to stop)."""
        self._cancel.clear()
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        cancel, signal = self._cancel, self.progress_changed

        def report(done: int, total: int = 0) -> None:
            signal.emit(done, total)
            if cancel.is_set():
                raise Cancelled("stopped by the user: nothing of it was kept")

        return report

    def _end_long(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def _show_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.progress.setFormat(f"{done:,}" + (f" of {total:,}" if total else ""))

    def cancel(self) -> None:
        self._cancel.set()
        self.statusBar().showMessage("stopping…")

    def import_files(self, paths: list[str]) -> None:
        from reviewer.services.importing import import_files

        db, actor = self.ctx.db, self.ctx.actor
        report = self._start_long()

        def work() -> str:
            with db.write() as session:
                return import_files(session, paths, actor, progress=report).summary()

        def done(summary: str) -> None:
            self._end_long()
            self.ctx.dialogs.info("Import", summary)
            self.reload()
            self.action_done.emit("import")

        def failed(exc: BaseException) -> None:
            self._end_long()
            self.ctx.dialogs.error("Import: nothing was imported", exc)
            self.action_done.emit("failed:import")

        self.statusBar().showMessage(f"importing {len(paths)} file(s)…")
        self.runner.run(work, done, failed, write=True)

    def import_dialog(self) -> None:
        paths = self.ctx.dialogs.open_files("Import requests")
        if paths:
            self.import_files(paths)

    def export_dialog(self) -> None:
        if self.current is None:
            self.ctx.dialogs.info("Export PDF", "Select a decided request first.")
            return
        folder = self.ctx.dialogs.choose_folder("Export PDF records to")
        if folder:
            self.export_pdfs([self.current], folder)

    def export_pdfs(self, references: list[str], folder: str) -> None:
        from pathlib import Path

        from reviewer.export import export_pdfs, plan, select_decisions

        db = self.ctx.db
        report = self._start_long()

        def work() -> int:
            with db.read() as session:
                rows = select_decisions(session, references, False)
            return export_pdfs(db.url, plan(rows, Path(folder), overwrite=False), jobs=1,
                               progress=report)

        def done(n: int) -> None:
            self._end_long()
            self.ctx.dialogs.info("Export PDF", f"Wrote {n} PDF record(s) to {folder}.")
            self.action_done.emit("export")

        def failed(exc: BaseException) -> None:
            self._end_long()
            self.ctx.dialogs.error("Export PDF", exc)
            self.action_done.emit("failed:export")

        self.runner.run(work, done, failed)

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.import_files(paths)


def process_age() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere: since import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED


_IMPORTED = time.perf_counter()


def system_is_dark() -> bool:
    from PySide6.QtGui import QGuiApplication

    try:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # Qt before 6.5
        return False


def apply_theme(dark: bool) -> None:
    """Light (the platform's) or dark (Fusion with a dark palette)."""
    from PySide6.QtGui import QColor, QPalette

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if not dark:
        app.setPalette(app.style().standardPalette())
        return
    app.setStyle("Fusion")
    p = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#1f2328"), (roles.WindowText, "#e6edf3"),
                         (roles.Base, "#161b22"), (roles.AlternateBase, "#1f2328"),
                         (roles.Text, "#e6edf3"), (roles.Button, "#2d333b"),
                         (roles.ButtonText, "#e6edf3"), (roles.Highlight, "#2f81f7"),
                         (roles.HighlightedText, "#ffffff"), (roles.ToolTipBase, "#2d333b"),
                         (roles.ToolTipText, "#e6edf3"), (roles.PlaceholderText, "#8b949e")):
        p.setColor(role, QColor(colour))
    app.setPalette(p)


def status_text(ctx: AppContext) -> str:
    from sqlalchemy import func, select

    from reviewer.models import Account, Request, RuleSetState, RuleSetVersion

    with ctx.db.read() as session:
        total = session.execute(select(func.count()).select_from(Request)).scalar_one()
        account = session.execute(
            select(Account).where(Account.name == ctx.actor.name)
        ).scalar_one_or_none()
        active = session.execute(
            select(RuleSetVersion).where(RuleSetVersion.state == RuleSetState.ACTIVE)
        ).scalar_one_or_none()
        roles = ", ".join(account.role_names) if account else "no account"
        rules = active.key if active else "none"
    return (f"{total:,} requests  |  database: {ctx.db.describe()}  |  "
            f"user: {ctx.actor.name} ({roles})  |  rule set: {rules}")  # fmt: skip


def install_crash_handler() -> None:
    """A bug anywhere in the GUI: log it with its traceback, then say where the log is."""

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        details = "".join(traceback.format_exception(kind, exc, tb))
        log.error("unexpected error in the application:\n%s", details)
        box = QMessageBox(QMessageBox.Icon.Critical, "Reviewer: unexpected error",
                          f"Something went wrong that is not your doing: {exc}\n\n"
                          f"The details are in {config.log_file()}. Nothing was saved by "
                          "the action that failed.")  # fmt: skip
        box.setDetailedText(details)
        box.exec()

    sys.excepthook = hook


def main(args: argparse.Namespace) -> int:
    from reviewer.cli import acting_user, open_for_write

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Reviewer")
    app.setOrganizationName("Reviewer")
    install_crash_handler()
    try:
        db = open_for_write(args)
        actor = acting_user(args, db)
    except ReviewerError as exc:
        print(f"reviewer: {exc}", file=sys.stderr)
        return exc.exit_code
    window = MainWindow(AppContext(db, actor))
    window.show()
    if args.screenshot:
        path = args.screenshot
        window.loaded.connect(lambda: print(
            f"queue shown {process_age():.2f} s after process start "
            f"({window.model.rowCount():,} rows)", flush=True))

        def shoot() -> None:
            app.processEvents()
            ok = window.grab().save(path)
            app.exit(0 if ok else 1)

        window.loaded.connect(lambda: QTimer.singleShot(300, shoot))
    return app.exec()
