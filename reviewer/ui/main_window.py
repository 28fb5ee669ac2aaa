"""The main window: the queue beside the request view, the decision panel, the customers, the
intake form, the dashboard and the rule-set views. Every piece of database work is an `Op`
(off the GUI thread) calling a service; nothing here speaks SQL."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from reviewer import request as rq
from reviewer import settings
from reviewer.context import Context, open_database
from reviewer.errors import IntegrityProblem, InvalidInput, NotPermitted, ReviewerError
from reviewer.rules import RuleSet
from reviewer.services import (
    accounts,
    attachments,
    customers,
    evaluations,
    importing,
    keys,
    queries,
    records,
    rulesets,
    workflow,
)
from reviewer.services import report as transparency
from reviewer.services.queries import QueueQuery, QueueWindow
from reviewer.services.rulesets import BacktestReport, VersionInfo
from reviewer.services.settings import get_setting, set_setting, unset_for_admin
from reviewer.services.verify import VerifyReport, verify
from reviewer.ui import state
from reviewer.ui.customers import CustomersPanel, list_entries, request_entries
from reviewer.ui.dashboard import Dashboard, RuleSetView
from reviewer.ui.decision import DecisionPanel
from reviewer.ui.dialogs import Dialogs
from reviewer.ui.intake_form import IntakeForm
from reviewer.ui.markup import escape
from reviewer.ui.ops import Op, Progress, Runner
from reviewer.ui.pages import PageTabs, scrolling
from reviewer.ui.queue_model import (
    ENUM_COLUMNS,
    LABELLED,
    REC_COLUMN,
    QueueModel,
    Row,
    format_cell,
    load_window,
)
from reviewer.ui.request_view import COLOURS, ICONS, RequestView
from reviewer.ui.rulesets import RuleSetsPanel
from reviewer.ui.start import START_VIEW_VALUES, StartPage
from reviewer.ui.theme import apply_theme, system_is_dark
from reviewer.vocabulary import ORG_SETTINGS, Recommendation, Status, View, count_words

log = logging.getLogger(__name__)
# seq, the window, its first page's ids and rows, the open request and its row in the window
# (None: not in it), the requests in all
Loaded = tuple[int, QueueWindow, list[int], list[Row], tuple[int | None, int | None], int]
# The widest text each queue column usually shows (a longer one is clipped, in full in its tooltip).
QUEUE_SAMPLES = ("DEMO-000000", "Needs information", "Awaiting check", "demo.reviewer12",
                 "Instituto Nacional de Ciberseguridad Españ", "2026-12-02", "99 wd", "GB",
                 "federal law enforcement", "2026-12-02 20:58 UTC")  # fmt: skip
CUSTOMER_COLUMN = queries.column_of("Customer")
ESSENTIAL_COLUMNS = queries.WAITING_COLUMN + 1  # reference to waiting: at 1024 px; the rest as room allows
Overview = tuple[dict[str, Any], RuleSet, list[VersionInfo], bool, set[str], dict[str, int], str]
Opened = tuple[int, queries.RequestData, dict[str, workflow.Allowed], int | None]
CustomerShown = tuple[int, dict[str, Any], list[Any]]  # seq, customers.detail, its request rows


class MainWindow(QMainWindow):
    loaded = Signal()
    checked = Signal(bool)  # the start-up verify finished: True when the database verifies
    request_loaded = Signal(str)  # the reference now shown
    customers_loaded = Signal()  # the list of customers was read (again)
    customer_loaded = Signal()  # a customer was shown (again)
    action_done = Signal(str)
    progress_changed = Signal(int, int)  # done, total (0: unknown); emitted from workers

    def __init__(self, ctx: Context, dialogs: Dialogs | None = None,
                 runner: Runner | None = None) -> None:  # fmt: skip
        super().__init__()
        self.ctx = ctx
        self.dialogs = dialogs or Dialogs(self)
        if getattr(self.dialogs, "parent", None) is None:
            self.dialogs.parent = self
        self.runner = runner or Runner(self)
        self.setWindowTitle(f"Reviewer — {ctx.actor.name}")
        self.resize(1280, 800)
        self.setAcceptDrops(True)
        self.current: str | None = None
        self.current_id: int | None = None
        self._reload_seq = 0
        self._status_line: str | None = None  # the status bar's figures, read with the overview
        self._open_seq = 0
        self._shown_rules: str | None = None
        self._reselecting = False
        self._pending_row: int | None = None  # a row selected before its page came
        self._progress: Progress | None = None
        self._customers_seq = 0
        self._customer_seq = 0
        self._customers_stale = True  # the Customers tab is read again when next shown
        self.customer_id: int | None = None  # the customer the Customers tab shows
        self.read_only: str | None = None  # why every write is refused (verify failed)

        self.model = QueueModel(ctx, self, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Request queue")
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        # Row height and column widths from the font (a 150 % font clipped fixed pixels).
        metrics = self.table.fontMetrics()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(max(24, metrics.height() + 8))
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSortIndicator(queries.RECEIVED_COLUMN, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self.requery)
        self.column_widths = queue_widths(metrics, self.model)
        for col, width in enumerate(self.column_widths):
            self.table.setColumnWidth(col, width)
        # The header's menu hides and shows columns; what does not fit is hidden from the end
        # (Updated, Org type, Country), never the essential ones.
        self.hidden_columns: set[int] = set(state.hidden_columns())
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self._fitting = False
        header.sectionResized.connect(self._column_resized)
        self.table.viewport().installEventFilter(self)  # after a resize, its new width
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.model.page_arrived.connect(self._page_arrived)
        self.empty = QLabel(self.table.viewport())  # what an empty queue means, over it
        self.empty.setObjectName("empty-queue")
        self.empty.setAccessibleName("Empty queue")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()

        self.view = RequestView(self)
        self.view.files_dropped.connect(self.attach_files)
        self.view.open_attachment.connect(self.open_attachment)
        self.view.open_customer.connect(lambda cid: self.show_customer(str(cid)))
        self._private: Path | None = None  # where attachments are saved for the viewer
        self.panel = DecisionPanel(self)
        self.panel.action_requested.connect(self.run_action)
        self.tabs = PageTabs(self)
        self.intake = IntakeForm(self)
        self.intake.save_requested.connect(self.save_request)
        self.dashboard = Dashboard(self)
        self.rules_view = RuleSetView(self)
        # The request, and under it the box for a note (an audit event, never edited).
        self.request_tab = QWidget(self)
        column = QVBoxLayout(self.request_tab)
        column.setContentsMargins(0, 0, 0, 0)
        self.start = StartPage(self.request_tab)
        self.start.view_chosen.connect(self.show_view)
        self.request_stack = QStackedWidget(self.request_tab)
        self.request_stack.addWidget(self.start)
        self.request_stack.addWidget(self.view)
        self.left_queue = QLabel(self.request_tab)
        self.left_queue.setObjectName("left-queue")
        self.left_queue.setAccessibleName("The open request is not in the queue")
        self.left_queue.setWordWrap(True)
        self.left_queue.setStyleSheet("#left-queue { background: #fef0c7; color: #101828; padding: 4px; }")
        self.left_queue.hide()
        column.addWidget(self.left_queue)
        column.addWidget(self.request_stack, 1)
        self.note_text = QPlainTextEdit(self.request_tab)
        self.note_text.setTabChangesFocus(True)
        self.note_text.setAccessibleName("New note")
        self.note_text.setPlaceholderText("A note on this request: kept with it for good (a "
                                          "correction is a new note)")  # fmt: skip
        self.note_text.setMaximumHeight(64)
        self.note_button = QPushButton("Add &note", self.request_tab)
        self.note_button.clicked.connect(self.add_note)
        notes = QHBoxLayout()
        notes.addWidget(self.note_text, 1)
        notes.addWidget(self.note_button)
        column.addLayout(notes)
        # The desk: the request and its decision side by side, both in view; the panel
        # scrolls when the window is short (1024x700, a 150 % font).
        self.desk = QSplitter(Qt.Orientation.Horizontal, self)
        self.desk.setChildrenCollapsible(False)
        self.desk.addWidget(self.request_tab)
        self.panel_scroll = scrolling(self.panel, "Decision")
        self.desk.addWidget(self.panel_scroll)
        self.desk.setSizes([10_000, 10_000])  # halves, whatever the width
        self.tabs.addTab(self.desk, "Re&view")
        # Beside the request and its decision: a reviewer goes from a request to its customer
        # and back (Enter or a double-click on one of the customer's requests) in this pane,
        # the queue staying in view.
        self.customers = CustomersPanel(self)
        self.customers.search_changed.connect(self.load_customers)
        self.customers.customer_chosen.connect(lambda cid: self.show_customer(str(cid), switch=False))
        self.customers.open_reference.connect(self._open_from_customer)
        self.customers.action_requested.connect(self.customer_action)
        self.tabs.add_page(self.customers, "Customers", scroll=True)
        self.tabs.addTab(self.intake, "&Intake")
        self.tabs.add_page(self.dashboard, "Das&hboard", scroll=True)
        self.tabs.addTab(self.rules_view, "R&ules")
        self.rulesets = RuleSetsPanel(self)
        self.rulesets.pick_file = lambda: self.dialogs.open_rule_set("Import a rule set")
        self.rulesets.action_requested.connect(self.rules_action)
        self.rulesets.open_reference.connect(self._open_from_backtest)
        self.tabs.add_page(self.rulesets, "Versions", scroll=True)
        self.tabs.currentChanged.connect(self._tab_changed)
        for number in range(self.tabs.count()):  # Ctrl+1 to Ctrl+6 (Alt+letter where it has one)
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number + 1}"), self)
            shortcut.activated.connect(functools.partial(self.tabs.setCurrentIndex, number))
            self.tabs.setTabToolTip(number, f"Ctrl+{number + 1}")
        # The queue across the window's width (every column in view at 1280 px), the desk under it.
        splitter = self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([260, 460])
        self.banner = QLabel(self)
        self.banner.setObjectName("integrity-banner")
        self.banner.setAccessibleName("Integrity warning")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #b42318; color: white; padding: 6px; "
                                  "font-weight: bold; }")  # fmt: skip
        self.banner.hide()
        # Asks an admin for the organisation's name when it was never set (not modal: the
        # window stays usable, and a screenshot or a script never waits on it).
        self.unnamed = QWidget(self)
        self.unnamed.setObjectName("organisation-prompt")
        # Dark text on its light background, in the dark theme too.
        self.unnamed.setStyleSheet("#organisation-prompt { background: #fef0c7; } "
                                   "#organisation-prompt QLabel { color: #101828; }")  # fmt: skip
        row = QHBoxLayout(self.unnamed)
        row.setContentsMargins(8, 4, 8, 4)
        self.unnamed_text = QLabel(self.unnamed)
        self.unnamed_text.setWordWrap(True)
        row.addWidget(self.unnamed_text, 1)
        self.name_button = QPushButton("Set the name…", self.unnamed)
        self.name_button.clicked.connect(lambda: self.set_organisation(first=True))
        row.addWidget(self.name_button)
        later = QPushButton("Not now", self.unnamed)
        later.setAccessibleName("Do not set the organisation name now")
        later.clicked.connect(self.unnamed.hide)
        row.addWidget(later)
        self.unnamed.hide()
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.unnamed)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)
        self._build_toolbar()
        self._build_menu()
        self.status = ElidedLabel()
        self.status.setAccessibleName("Status")
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
        self.progress_changed.connect(self._show_progress)
        self._note_open(False)
        self._restore_state()
        self.reload()
        self.check_integrity()

    # ------------------------------------------------------------------ layout

    def _build_toolbar(self) -> None:
        bar = QToolBar("Filters", self)
        bar.setObjectName("filters")
        self.addToolBar(bar)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search (Ctrl+F): reference, customer, end users")
        self.search.setToolTip("Two letters or more: reference, customer, end users")
        self.search.setAccessibleName("Search")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance("Search (Ctrl+F): reference"))
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(60)  # typing stays one query, a pause shows its results at once
        self._debounce.timeout.connect(self.requery)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self.to_queue)
        clear = QShortcut(QKeySequence("Escape"), self.search)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.search.clear)
        bar.addWidget(self.search)
        self.status_filter = self._combo("Status filter", [(s.value, s.label) for s in Status],
                                         "any status")  # fmt: skip
        self.rec_filter = self._combo("Recommendation filter",
                                      [(r.value, r.label) for r in Recommendation],
                                      "any recommendation")  # fmt: skip
        self.view_filter = self._combo("View", [(v.value, v.label) for v in View], None)
        for combo in (self.status_filter, self.rec_filter, self.view_filter):
            bar.addWidget(combo)
            combo.currentIndexChanged.connect(self.requery)

    def _combo(self, name: str, values: list[tuple[str, str]], empty: str | None) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        if empty is not None:
            combo.addItem(empty, "")
        for value, label in values:
            combo.addItem(label, value)
        return combo

    def _menu(self, title: str, items: tuple[tuple[str, str, Any], ...]) -> None:
        """A menu of (text, shortcut, slot) actions."""
        menu = self.menuBar().addMenu(title)
        for text, shortcut, slot in items:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)

    def _build_menu(self) -> None:
        self._menu("&File", (("&Import requests…", "Ctrl+I", self.import_dialog),
                             ("&Export PDF of the selected request…", "Ctrl+E", self.export_dialog),
                             ("&Transparency report…", "Ctrl+Shift+R", self.report_dialog),
                             ("&Reload", "F5", self.reload),
                             ("&Quit", "Ctrl+Q", self.close)))  # fmt: skip
        self._menu("&Request", (("&New request", "Ctrl+N", self.new_request),
                                ("&Edit the selected request", "Ctrl+Shift+E",
                                 self.edit_request)))  # fmt: skip
        self._menu("&Customers", (("&All customers", "Ctrl+Shift+C", self.show_customers),
                                  ("Customer of the &selected request", "Ctrl+Shift+U",
                                   self.customer_of_request)))  # fmt: skip
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
        chosen = state.dark_theme()
        self.dark.setChecked(system_is_dark() if chosen is None else chosen)
        self.dark.toggled.connect(self.set_dark)
        settings_menu.addAction(self.dark)
        apply_theme(self.dark.isChecked())
        find = QAction("Find", self)
        find.setShortcut(QKeySequence("Ctrl+F"))
        find.triggered.connect(self.search.setFocus)
        self.addAction(find)

    def _restore_state(self) -> None:
        geometry = state.load_bytes(state.WINDOW_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        header = state.load_bytes(state.QUEUE_HEADER)
        if header is not None:
            self.table.horizontalHeader().restoreState(header)
        self.fit_columns()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if not self._may_drop_intake():
            self.tabs.setCurrentWidget(self.intake)
            event.ignore()
            return
        state.save(state.WINDOW_GEOMETRY, self.saveGeometry())
        state.save(state.QUEUE_HEADER, self.table.horizontalHeader().saveState())
        self.runner.wait(5000)
        self.ctx.db.dispose()  # the window's connections end with it
        if self._private is not None:  # the copies given to the viewer go with the window
            shutil.rmtree(self._private, ignore_errors=True)
        super().closeEvent(event)

    # ------------------------------------------------------------------ queue columns

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 - Qt override
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
            self.empty.setGeometry(self.table.viewport().rect())
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Show the columns the reviewer has not hidden, dropping from the end what does not
        fit the queue's width (the essential ones always stay); the customer's name takes the
        room left, or gives it up (down to a short name, whole in its tooltip)."""
        header = self.table.horizontalHeader()
        room = self.table.viewport().width()
        widths = self.column_widths
        self._fitting = True
        shown = [c for c in range(len(widths)) if c not in self.hidden_columns]
        while sum(widths[c] for c in shown) > room and shown[-1] >= ESSENTIAL_COLUMNS:
            shown.pop()
        for col in range(len(widths)):
            header.setSectionHidden(col, col not in shown)
            header.resizeSection(col, widths[col])
        if CUSTOMER_COLUMN in shown:
            spare = room - sum(widths[c] for c in shown)
            least = self.table.fontMetrics().horizontalAdvance("Instituto Nac")
            header.resizeSection(CUSTOMER_COLUMN, max(least, widths[CUSTOMER_COLUMN] + spare))
        self._fitting = False

    def _column_resized(self, col: int, _old: int, new: int) -> None:
        """A width the reviewer set (or the header's saved state restored) is kept."""
        if not self._fitting and col != CUSTOMER_COLUMN and new > 0:
            self.column_widths[col] = new

    def _header_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one menu a right-click, gone when closed
        for col in range(1, len(self.column_widths)):  # the reference always shows
            name = str(self.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole))
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(col not in self.hidden_columns)
            action.toggled.connect(functools.partial(self.show_column, col))
        menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def show_column(self, col: int, shown: bool) -> None:
        """Show or hide a queue column (the header's menu); remembered."""
        (self.hidden_columns.discard if shown else self.hidden_columns.add)(col)
        state.save_hidden_columns(sorted(self.hidden_columns))
        self.fit_columns()

    # ------------------------------------------------------------------ ops

    def op(self, fn: Any, *, write: bool = False, title: str = "Reviewer") -> Op[Any]:
        return Op(self, fn, write=write, title=title)

    def begin_progress(self, cancel: bool) -> Progress:
        self._progress = Progress(self.progress_changed.emit)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.setVisible(cancel)
        return self._progress

    def end_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self._progress = None

    def _show_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.progress.setFormat(f"{done:,}" + (f" of {total:,}" if total else ""))

    def cancel(self) -> None:
        if self._progress is not None:
            self._progress.cancel()
        self.statusBar().showMessage("stopping…")

    # ------------------------------------------------------------------ integrity

    def check_integrity(self) -> None:
        """The start-up check of the command line (`reviewer verify`), off the GUI thread: a
        database that fails it is shown read only, with the problem, and every write is
        refused until an admin resolves it."""
        ctx = self.ctx

        def work(_p: Progress) -> VerifyReport:
            with ctx.db.read() as session:
                return verify(session, jobs=1)  # no fork from a thread of the window

        def failed(exc: BaseException) -> None:
            self._go_read_only(str(exc).splitlines()[0])

        self.op(work, title="Verifying the database").success(self._checked).failure(failed).run()

    def _checked(self, report: VerifyReport) -> None:
        if report.ok:
            self.checked.emit(True)
            return
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        self._go_read_only(f"{first.kind} {first.seq_or_reference}: {first.message}{more}")

    def _go_read_only(self, problem: str) -> None:
        self.read_only = problem
        self.banner.setText(
            f"Read only: this database fails verification: {problem}. Nothing can be changed "
            "until an admin resolves it (reviewer verify names every problem; reviewer db "
            "restore puts back a verified backup)."
        )
        self.banner.show()
        self.setWindowTitle(f"Reviewer — {self.ctx.actor.name} — READ ONLY")
        if self.current is not None:
            self.open_request(self.current)
        self.checked.emit(False)

    def _refuse_if_read_only(self, what: str) -> bool:
        if self.read_only is None:
            return False
        self.dialogs.error(what, IntegrityProblem(f"the database is read only: {self.read_only}"))
        self.action_done.emit(f"failed:{what}")
        return True

    # ------------------------------------------------------------------ queue

    def query(self) -> QueueQuery:
        header = self.table.horizontalHeader()
        return QueueQuery(
            search=self.search.text(),
            status=self.status_filter.currentData() or None,
            recommendation=self.rec_filter.currentData() or None,
            view=self.view_filter.currentData() or View.ALL.value,
            sort_column=header.sortIndicatorSection(),
            descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
        )

    def reload(self, *_args: Any) -> None:
        """Read everything again: the queue, the status bar, the dashboard, the start page,
        the rule sets (at start, F5, after a change)."""
        self._load(everything=True)

    def requery(self, *_args: Any) -> None:
        """The queue for a new search, filter or sort: only what depends on them is read."""
        self._load(everything=False)

    def _load(self, everything: bool) -> None:
        ctx, q, current = self.ctx, self.query(), self.current_id
        # Reads run on two threads and may finish out of order: only the newest counts.
        self._reload_seq = seq = self._reload_seq + 1

        def work(_p: Progress) -> Loaded:
            with ctx.db.read() as session:
                window, ids, rows, row = load_window(session, q, ctx.actor.name, current)
                # A search counted every request already (how dense its hits are).
                total = window.requests if window.hits is not None else queries.request_count(session)
                return seq, window, ids, rows, (current, row), total

        self.op(work, title="Loading").success(self._loaded).run()
        if not everything:
            return

        def overview(_p: Progress) -> Overview:
            with ctx.db.read() as session:
                account = accounts.find_account(session, ctx.actor.name)
                roles = set(account.role_names) if account is not None and account.active else set()
                # The figures that do not depend on the query (seconds at a million requests):
                # read after the first rows show, and not again for a search or a sort.
                line = queries.status_line(session, ctx.actor.name, home_relative(ctx.db.describe()))
                return (queries.dashboard(session), rulesets.active_rules(session).ruleset,
                        rulesets.list_versions(session),
                        unset_for_admin(session, ctx.actor, "organisation_name"), roles,
                        queries.view_counts(session, ctx.actor.name, START_VIEW_VALUES), line)  # fmt: skip

        self.op(overview, title="Dashboard").success(self._overview_loaded).run()
        self._customers_stale = True
        if self.tabs.currentWidget() is self.customers:
            self._refresh_customers()

    def _overview_loaded(self, result: Overview) -> None:
        data, ruleset, versions, ask_organisation, roles, counts, line = result
        self._status_line = line
        self._show_status()
        self.start.set_counts(counts)
        self.dashboard.show_data(data)
        self.rulesets.show_versions(versions)  # type: ignore[arg-type]
        self.rulesets.set_admin("admin" in roles and self.read_only is None)
        self.intake.set_ruleset(ruleset)
        if self._shown_rules != ruleset.sha256:
            self._shown_rules = ruleset.sha256
            self.rules_view.show_rules(ruleset)
        # An admin is asked once (per database, on this machine) for the organisation's name,
        # which every record prints at its top, instead of records printing the default.
        if ask_organisation and state.load_text(state.ASKED_ORGANISATION) != self.ctx.db.url:
            state.save(state.ASKED_ORGANISATION, self.ctx.db.url)
            default = ORG_SETTINGS["organisation_name"].default
            self.unnamed_text.setText(f"Your organisation's name is not set: PDF records and "
                                      f"reports print \"{default}\" at their top.")  # fmt: skip
            self.unnamed.show()

    def _loaded(self, result: Loaded) -> None:
        seq, window, ids, rows, position, total = result
        if seq != self._reload_seq:
            return  # a newer query is on its way
        self.model.set_window(window, ids, rows)
        self._show_status()
        self.start.set_total(total)
        self._empty_queue(window.count, total)
        # The request open on the right may have left the queue (a search, a filter, the
        # decision just recorded): it stays open, marked, instead of looking as if it were in it.
        rid, row = position
        if rid != self.current_id and self.current_id is not None:
            # Another request was opened while the queue was read: its row in the new order.
            rid, row = self.current_id, self.model.row_of(self.current_id)
            if row is None:  # beyond the first page: found by a query
                self._locate(rid)
                rid = None
        self._mark_left(rid is not None and not self._select_row(row, rid))
        self.loaded.emit()

    def _locate(self, rid: int) -> None:
        """Select request `rid` where the queue's window has it, or mark it as not in it."""
        ctx, window = self.ctx, self.model.window

        def work(_p: Progress) -> int | None:
            with ctx.db.read() as session:
                return None if window is None else queries.queue_position(session, window, rid)

        def found(row: int | None) -> None:
            if window is self.model.window and rid == self.current_id:
                self._mark_left(not self._select_row(row, rid))

        self.op(work, title="Selecting").success(found).run()

    def _mark_left(self, hidden: bool) -> None:
        """Whether the open request is outside the queue as searched and filtered now."""
        self.left_queue.setText(f"{self.current} is not in the queue as it is searched and filtered "
                                "now (clear the search or set the filters to any to see it there)."
                                if hidden else "")  # fmt: skip
        self.left_queue.setVisible(hidden)

    def _show_status(self) -> None:
        shown = f"{self.model.rowCount():,} shown"
        self.status.setText(f"{shown}  |  {self._status_line}" if self._status_line else shown)
        self.status.setToolTip(self.status.text())

    def _empty_queue(self, shown: int, total: int) -> None:
        """An empty queue says why and what to do, over the table."""
        if shown:
            self.empty.hide()
            return
        if total == 0:
            text = ("No requests yet.\nImport request files (Ctrl+I, or drop them here), type one "
                    "in (Ctrl+N), or load demo data: reviewer seed-demo")  # fmt: skip
        else:
            text = (f"No request matches the search and filters ({total:,} requests in all).\n"
                    "Clear the search (Esc in the search box) or set the filters to any.")  # fmt: skip
        self.empty.setText(text)
        self.empty.setGeometry(self.table.viewport().rect())
        self.empty.show()

    def _note_open(self, shown: bool) -> None:
        """The note box belongs to an open request."""
        self.note_text.setEnabled(shown)
        self.note_button.setEnabled(shown)

    def show_view(self, value: str) -> None:
        """The queue's view `value` (the start page's buttons)."""
        self.view_filter.setCurrentIndex(max(0, self.view_filter.findData(value)))
        self.table.setFocus()

    def select_reference(self, reference: str, load: bool = True) -> None:
        """Select (and open) a request by reference, if the queue shows it (for scripts and
        tests; the queue itself keeps the selection by id)."""
        ctx, window = self.ctx, self.model.window

        def work(_p: Progress) -> tuple[int | None, int | None]:
            with ctx.db.read() as session:
                rid = queries.request_id(session, reference)
                if rid is None or window is None:
                    return rid, None
                return rid, queries.queue_position(session, window, rid)

        def found(result: tuple[int | None, int | None]) -> None:
            rid, row = result
            if window is not self.model.window:  # the queue was read again meanwhile
                self.select_reference(reference, load)
            elif rid is not None and self._select_row(row, rid) and load:
                self.open_request(reference)

        self.op(work, title="Selecting").success(found).run()

    def to_queue(self) -> None:
        """Enter in the search box: to the queue, its first request selected (and opened)."""
        self.table.setFocus()
        if self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _select_row(self, row: int | None, rid: int) -> bool:
        """Select the queue's `row`, that of request `rid` (without opening it again)."""
        if row is None:
            return False
        self.current_id = rid
        self._reselecting = True
        try:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))  # a queue grown again keeps it in view
        finally:
            self._reselecting = False
        return True

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or self._reselecting:
            return
        rid = self.model.request_id(current.row())
        if rid is None:  # its page is on its way (End, Page Down): opened when it comes
            self._pending_row = current.row()
            return
        self._pending_row = None
        self.current_id = rid
        self._mark_left(False)  # the request now open is the queue's
        self.open_request(self.model.reference(current.row()), rid)

    def _page_arrived(self, _number: int) -> None:
        """The page of the row selected before its rows came: open its request now."""
        current = self.table.selectionModel().currentIndex()
        if self._pending_row is not None and current.isValid() and current.row() == self._pending_row:
            self._row_changed(current, current)

    def open_request(self, reference: str | None, rid: int | None = None) -> None:
        """Show a request and what the actor may do with it: one read transaction."""
        ctx = self.ctx
        self._open_seq = seq = self._open_seq + 1
        if reference is not None:
            self.current = reference

        def work(_p: Progress) -> Opened:
            with ctx.db.read() as session:
                ref = reference if reference is not None else queries.reference_of(session, rid)
                data = queries.show(session, ref)
                _explain_into(session, data)
                _customer_into(session, data)
                opened = rid if rid is not None else queries.request_id(session, ref)
                return seq, data, workflow.options(session, ctx.actor, ref), opened

        self.op(work, title="Opening the request").success(self._request_loaded).run()

    def _request_loaded(self, result: Opened) -> None:
        seq, data, allowed, rid = result
        if seq != self._open_seq:
            return  # the reviewer has moved on, or a newer load is coming
        self.current_id = rid  # opened from the queue or elsewhere (a backtest, the intake form)
        if self.read_only is not None:
            closed = workflow.Allowed(False, f"read only: {self.read_only}")
            allowed = dict.fromkeys(allowed, closed)
        self.current = data["reference"]
        self.view.show_request(data)  # type: ignore[arg-type]
        self.request_stack.setCurrentWidget(self.view)
        self._note_open(True)
        self.panel.set_options(data["reference"], data["version"], dict(allowed),
                               data["evaluation"]["conditions"], data["status"],  # type: ignore[arg-type]
                               data.get("assignee"))  # type: ignore[arg-type]  # fmt: skip
        self.panel.set_summary(decision_summary(data))
        self.panel.set_draft(data.get("draft", ""))  # type: ignore[arg-type]
        self.panel.set_follows(what_follows(data["evaluation"]))  # type: ignore[arg-type]
        open_conditions = [c for d in data["decisions"] if d["final"] for c in d["conditions"]
                           if c["status"] == "open"]  # fmt: skip
        self.panel.set_obligations(open_conditions, data["status"] == Status.DECIDED)  # type: ignore[arg-type]
        self.request_loaded.emit(data["reference"])

    # ------------------------------------------------------------------ actions

    def run_action(self, name: str, kwargs: dict[str, Any]) -> None:
        reference, version = self.panel.reference, self.panel.version
        if reference is None or self._refuse_if_read_only(name):
            return
        asks = {"rereview": ("Start re-review", f"Why {reference} is reviewed again"),
                "reopen": ("Reopen", f"Why {reference} is reopened")}  # fmt: skip
        if name in asks and "reason" not in kwargs:
            title, why = asks[name]
            # The reason goes into the audit trail as typed: never one the person did not give.
            reason = self.dialogs.ask_text(title, f"{why} (at least 30 characters; kept in its history):")
            if not reason or not reason.strip():
                return
            kwargs = {**kwargs, "reason": reason}
        ctx = self.ctx
        actions: dict[str, Any] = {
            "claim": workflow.claim, "release": workflow.release, "take_over": workflow.take_over,
            "reopen": workflow.reopen, "rereview": workflow.start_rereview, "decide": workflow.decide,
            "return": workflow.return_request,
            "confirm": functools.partial(_check, True), "reject": functools.partial(_check, False),
        }  # fmt: skip

        def work(_p: Progress) -> str:
            with ctx.db.write() as session:
                if name == "mark":
                    workflow.mark_condition(session, ctx.actor, kwargs["condition_id"],
                                            kwargs["status"], kwargs["note"])  # fmt: skip
                else:
                    actions[name](session, ctx.actor, reference, expect_version=version, **kwargs)
            return name

        def done(result: str) -> None:
            self.statusBar().showMessage(f"{reference}: {result.replace('_', ' ')} done", 5000)
            self.reload()
            self.open_request(reference)
            self.action_done.emit(result)

        def failed(exc: BaseException) -> None:
            self.dialogs.error(name.replace("_", " ").capitalize(), exc)
            self.open_request(reference)
            self.action_done.emit(f"failed:{name}")

        self.op(work, write=True).success(done).failure(failed).run()

    def add_note(self) -> None:
        reference, text = self.current, self.note_text.toPlainText().strip()
        if reference is None or not text or self._refuse_if_read_only("note"):
            return
        ctx = self.ctx

        def work(_p: Progress) -> str:
            with ctx.db.write() as session:
                workflow.add_note(session, ctx.actor, reference, text)
            return "note"

        def done(result: str) -> None:
            self.note_text.clear()
            self.open_request(reference)
            self.action_done.emit(result)

        self.op(work, write=True).success(done).failure(self._failed("Add a note", "note")).run()

    def attach_files(self, paths: list[str]) -> None:
        """Attach files (dropped on the request view) to the open request, all or nothing,
        through the service the command line uses, off the GUI thread."""
        reference = self.current
        if reference is None or not paths or self._refuse_if_read_only("attach"):
            return
        ctx = self.ctx

        def work(_p: Progress) -> str:
            with ctx.db.write() as session:
                done = attachments.attach_files(session, ctx.actor, reference, paths)
            return "; ".join(f"{a.number}. {a.name}" for a in done)

        def done(summary: str) -> None:
            self.statusBar().showMessage(f"{reference}: attached {summary}", 5000)
            self.open_request(reference)
            self.action_done.emit("attach")

        self.statusBar().showMessage(f"attaching {len(paths)} file(s) to {reference}…")
        self.op(work, write=True).success(done).failure(
            self._failed("Attach: nothing was attached", "attach")
        ).run()

    def open_attachment(self, number: int) -> None:
        """Open an attachment with the desktop's viewer: its bytes, checked against their
        hash, saved to a private temporary folder (readable by this user only), then handed to
        the viewer through the dialog seam. Reviewer itself never renders or runs it."""
        reference = self.current
        if reference is None:
            return
        ctx = self.ctx
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="reviewer-attachments-"))  # mode 0700
        folder = self._private

        def work(_p: Progress) -> str:
            with ctx.db.read() as session:
                return str(attachments.save_private_copy(session, reference, number, folder))

        def done(path: str) -> None:
            self.dialogs.open_externally(path)
            self.action_done.emit("open_attachment")

        self.op(work).success(done).failure(self._failed("Open the attachment", "open_attachment")).run()

    # ------------------------------------------------------------------ customers

    def show_customers(self) -> None:
        """The Customers tab, its search box focused (the list read when stale)."""
        self.tabs.setCurrentWidget(self.customers)
        self.customers.search.setFocus()
        self.customers.search.selectAll()

    def customer_of_request(self) -> None:
        customer = (self.view.data or {}).get("customer")
        if customer is None:
            self.dialogs.info("Customer", "Select a request first.")
            return
        self.show_customer(str(customer["id"]))

    def _tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.customers and self._customers_stale:
            self._refresh_customers()

    def _refresh_customers(self) -> None:
        """Read the list and the customer shown again (after a change, or when next shown)."""
        self._customers_stale = False
        self.load_customers()
        if self.customer_id is not None:
            self.show_customer(str(self.customer_id), switch=False)

    def load_customers(self) -> None:
        """The list of customers for the search text (`reviewer customers --search`)."""
        ctx, search = self.ctx, self.customers.search.text().strip() or None
        self._customers_seq = seq = self._customers_seq + 1

        def work(_p: Progress) -> tuple[int, list[Any]]:
            with ctx.db.read() as session:
                return seq, list_entries(customers.customer_rows(session, search))

        def done(result: tuple[int, list[Any]]) -> None:
            if result[0] != self._customers_seq:
                return  # a newer search is on its way
            self.customers.show_list(result[1])
            self.customers_loaded.emit()

        self.op(work, title="Customers").success(done).run()

    def show_customer(self, spec: str, switch: bool = True) -> None:
        """Show a customer (a number or a name; a merged one shows the one it went into):
        every request, standing decision and open condition, and its deployment in total."""
        ctx = self.ctx
        if switch:  # first: showing the tab may read the customer shown before again
            self.tabs.setCurrentWidget(self.customers)
        self._customer_seq = seq = self._customer_seq + 1

        def work(_p: Progress) -> CustomerShown:
            with ctx.db.read() as session:
                detail = customers.detail(session, customers.resolve(session, spec))
            return seq, detail, request_entries(detail)

        def done(result: CustomerShown) -> None:
            shown, detail, entries = result
            if shown != self._customer_seq:
                return  # another customer was asked for meanwhile
            self.customer_id = detail["id"]
            self.customers.show_customer(detail, entries)
            self.customer_loaded.emit()

        self.op(work, title="Customer").success(done).failure(self._failed("Customer", "customer")).run()

    def _open_from_customer(self, reference: str) -> None:
        """A request of the customer shown, in the request view (selected in the queue when
        the queue shows it)."""
        self.open_request(reference)
        self.select_reference(reference, load=False)
        self.tabs.setCurrentWidget(self.desk)

    def customer_action(self, name: str) -> None:
        """Link a request to the customer shown, unlink its selected request, or merge it into
        another customer (reviewers and seniors; audited, through the service the command line
        uses); then the customer, the list, the queue and the open request are read again."""
        detail = self.customers.detail
        if detail is None or self._refuse_if_read_only(f"customer_{name}"):
            return
        number = detail["number"]
        if name == "link":
            answer = self.dialogs.ask_text("Link a request", f"The reference of the request to put "
                                           f"under {number} {detail['name']} (audited):")  # fmt: skip
        elif name == "unlink":
            answer = self.customers.selected_reference()
        else:
            answer = self.dialogs.ask_text("Merge into another customer", f"Merge {number} "
                                           f"{detail['name']} into which customer (its number or "
                                           "name)? Its requests move there (audited).")  # fmt: skip
        answer = (answer or "").strip()
        if not answer:
            return
        ctx = self.ctx

        def work(_p: Progress) -> str:
            with ctx.db.write() as session:
                if name == "merge":
                    target = customers.merge(session, ctx.actor, number, answer)
                    return f"{number} merged into customer C-{target.id} ({target.name})"
                fn = customers.link if name == "link" else customers.unlink
                moved = fn(session, ctx.actor, answer, number)
                return f"{answer}: {name}ed, now customer C-{moved.id} ({moved.name})"

        def done(summary: str) -> None:
            self.statusBar().showMessage(summary, 5000)
            self.reload()  # the queue, and (this tab being shown) the customer and the list
            if self.current is not None:  # its evaluation may have changed
                self.open_request(self.current)
            self.action_done.emit(f"customer_{name}")

        titles = {"link": "Link a request", "unlink": "Unlink the request", "merge": "Merge customers"}
        self.op(work, write=True).success(done).failure(
            self._failed(f"{titles[name]}: nothing was changed", f"customer_{name}")
        ).run()

    def _failed(self, title: str, tag: str) -> Any:
        def failed(exc: BaseException) -> None:
            self.dialogs.error(title, exc)
            self.action_done.emit(f"failed:{tag}")

        return failed

    def set_organisation(self, first: bool = False) -> None:
        """Ask for the organisation name printed on every record; `first`: it was never set,
        and records would print the default."""
        ctx = self.ctx

        def read(_p: Progress) -> str:
            with ctx.db.read() as session:
                return get_setting(session, "organisation_name")

        def ask(current: str) -> None:
            if first:
                label = (f"Your organisation's name is not set: records print \"{current}\" at "
                         "their top. The name to print on every PDF record:")  # fmt: skip
                current = ""
            else:
                label = "Printed at the top of every PDF record (admins only):"
            name = self.dialogs.ask_text("Organisation name", label, current)
            if not name or self._refuse_if_read_only("settings"):
                return
            self.unnamed.hide()

            def write(_p: Progress) -> str:
                with ctx.db.write() as session:
                    set_setting(session, ctx.actor, "organisation_name", name)
                return "settings"

            self.op(write, write=True).success(self.action_done.emit).failure(
                self._failed("Organisation name", "settings")
            ).run()

        self.op(read).success(ask).failure(self._failed("Organisation name", "settings")).run()

    def set_database(self) -> None:
        url = self.dialogs.ask_text(
            "Database", "Database URL for the next start (a SQLite file, or postgresql+psycopg://"
            "login@host/db for a team):", self.ctx.db.url)  # fmt: skip
        if url and url != self.ctx.db.url:
            path = settings.save_database_url(url)
            self.dialogs.info("Database", f"Saved in {path}. Reviewer uses it from its next "
                              "start.")  # fmt: skip

    def set_dark(self, dark: bool) -> None:
        state.save(state.DARK_THEME, dark)
        apply_theme(dark)
        # Rich text takes its link colours from the palette when it is set: set it again.
        if self.view.data is not None:
            self.view.show_request(self.view.data)
        self._shown_rules = None
        self.reload()

    def rules_action(self, name: str, key: str) -> None:
        """Import, diff, backtest, propose or approve a rule-set version (off the GUI thread)."""
        ctx = self.ctx
        writes = name in ("import", "propose", "approve")
        if writes and self._refuse_if_read_only(f"rules_{name}"):
            return

        def work(_p: Progress) -> tuple[str, str | BacktestReport]:
            if not writes:
                with ctx.db.read() as session:
                    candidate = rulesets.resolve(session, key)
                    if name == "diff":
                        active = rulesets.active_rules(session).ruleset
                        return name, rulesets.diff_text(rulesets.diff(active, candidate))
                    return name, rulesets.backtest(session, candidate).to_json()
            with ctx.db.write() as session:
                if name == "import":
                    row, created = rulesets.import_version(session, ctx.actor, key)
                    return name, f"{row.key} {'stored as a draft' if created else 'already stored'}"
                fn = rulesets.propose if name == "propose" else rulesets.approve
                return name, fn(session, ctx.actor, key)

        def done(result: tuple[str, str | BacktestReport]) -> None:
            kind, value = result
            if kind == "diff":
                self.rulesets.show_diff(str(value))
            elif isinstance(value, dict):
                self.rulesets.show_backtest(value)  # type: ignore[arg-type]
                if kind == "approve":
                    self.dialogs.info("Rule set", f"{key} is active; every stored "
                                      "evaluation was refreshed.")  # fmt: skip
            else:
                self.rulesets.summary.setText(str(value))
            if writes:
                self.reload()
            self.action_done.emit(f"rules_{kind}")

        self.op(work, write=writes).success(done).failure(
            self._failed(f"Rule set: {name}", f"rules_{name}")
        ).run()

    def _open_from_backtest(self, reference: str) -> None:
        self.search.setText("")
        self.status_filter.setCurrentIndex(0)
        self.rec_filter.setCurrentIndex(0)
        self.view_filter.setCurrentIndex(0)
        self.open_request(reference)
        self.tabs.setCurrentWidget(self.desk)

    def _may_drop_intake(self) -> bool:
        """Unsaved edits in the intake form are dropped only when the reviewer says so."""
        return self.intake.confirm_discard(lambda question: self.dialogs.confirm("Unsaved changes", question))

    def new_request(self) -> None:
        if not self._may_drop_intake():
            self.tabs.setCurrentWidget(self.intake)
            return
        self.intake.clear()
        self.tabs.setCurrentWidget(self.intake)

    def edit_request(self) -> None:
        data = self.view.data
        if data is None:
            self.dialogs.info("Edit", "Select a request first.")
            return
        if not self._may_drop_intake():
            self.tabs.setCurrentWidget(self.intake)
            return
        self.intake.load(data["document"], data["version"])
        self.tabs.setCurrentWidget(self.intake)

    def save_request(self, raw: dict[str, Any], expect_version: int | None) -> None:
        if self._refuse_if_read_only("save"):
            return
        ctx = self.ctx
        reference = raw.get("reference")

        def work(_p: Progress) -> str:
            with ctx.db.write() as session:
                return importing.save_document(session, ctx.actor, raw, expect_version).summary()

        def done(summary: str) -> None:
            self.intake.mark_saved()
            self.statusBar().showMessage(f"{reference}: saved ({summary})", 5000)
            self.reload()
            self.open_request(str(reference))
            self.tabs.setCurrentWidget(self.desk)
            self.action_done.emit("save")

        self.op(work, write=True).success(done).failure(self._failed("Saving the request", "save")).run()

    # ------------------------------------------------------------------ files

    def import_files(self, paths: list[str]) -> None:
        if self._refuse_if_read_only("import"):
            return
        ctx = self.ctx

        def work(progress: Progress) -> str:
            with ctx.db.write() as session:
                return importing.import_files(session, paths, ctx.actor, progress=progress).summary()

        def done(summary: str) -> None:
            self.dialogs.info("Import", summary)
            self.reload()
            self.action_done.emit("import")

        self.statusBar().showMessage(f"importing {len(paths)} file(s)…")
        self.op(work, write=True).with_progress(cancel=True).success(done).failure(
            self._failed("Import: nothing was imported", "import")
        ).run()

    def import_dialog(self) -> None:
        paths = self.dialogs.open_files("Import requests")
        if paths:
            self.import_files(paths)

    def export_dialog(self) -> None:
        if self.current is None:
            self.dialogs.info("Export PDF", "Select a decided request first.")
            return
        folder = self.dialogs.choose_folder("Export PDF records to")
        if folder:
            self.export_pdfs([self.current], folder)

    def _signing_passphrase(self, what: str) -> tuple[bool, bytes | None]:
        """(go on, passphrase): records and reports are signed when this workstation has the
        organisation's key; its passphrase from REVIEWER_KEY_PASSPHRASE or asked for here."""
        if not keys.has_key():
            return True, None
        passphrase = keys.passphrase_from_environment()
        if passphrase is None:
            typed = self.dialogs.ask_secret(what, "Passphrase of the organisation's signing key:")
            if typed is None:
                return False, None
            passphrase = typed.encode("utf-8")
        return True, passphrase

    def export_pdfs(self, references: list[str], folder: str) -> None:
        url = self.ctx.db.url
        ctx = self.ctx
        go, passphrase = self._signing_passphrase("Export PDF")
        if not go:
            return

        def work(progress: Progress) -> int:
            with ctx.db.read() as session:
                rows = records.select_decisions(session, references, False)
            targets = records.plan(rows, Path(folder), overwrite=False)
            return records.export_pdfs(functools.partial(open_database, url), targets, jobs=1,
                                       progress=progress, passphrase=passphrase)  # fmt: skip

        def done(n: int) -> None:
            signed = "signed" if passphrase is not None else "not signed: an admin makes the key"
            self.dialogs.info("Export PDF", f"Wrote {n} PDF record(s) to {folder} ({signed}).")
            self.action_done.emit("export")

        self.op(work).with_progress(cancel=True).success(done).failure(
            self._failed("Export PDF", "export")
        ).run()

    def report_dialog(self) -> None:
        """The transparency report of a period (`reviewer report`), signed like the records."""
        today = dt.date.today()
        period = self.dialogs.ask_text("Transparency report", "Period (UTC days, both included), "
                                       "FROM TO:", f"{today.year}-01-01 {today.isoformat()}")  # fmt: skip
        if not period:
            return
        try:
            start, end = (dt.date.fromisoformat(p) for p in period.split())
        except ValueError:
            self.dialogs.error("Transparency report", InvalidInput(
                [f"the period {period!r}: two dates YYYY-MM-DD, the first day and the last"]))  # fmt: skip
            return
        path = self.dialogs.save_file("Save the transparency report",
                                      f"transparency-{start}-{end}.pdf", "PDF (*.pdf)")  # fmt: skip
        if not path:
            return
        self.write_report(start, end, path)

    def write_report(self, start: dt.date, end: dt.date, path: str) -> None:
        ctx = self.ctx
        go, passphrase = self._signing_passphrase("Transparency report")
        if not go:
            return

        def work(_p: Progress) -> str:
            key = keys.load(passphrase) if passphrase is not None else None
            with ctx.db.read() as session:
                data = transparency.report_data(session, start, end)
            transparency.write_report(data, Path(path), key)
            return transparency.summary_text(data)

        def done(summary: str) -> None:
            signed = "signed" if passphrase is not None else "not signed: an admin makes the key"
            self.dialogs.info("Transparency report", f"Wrote {path} ({signed}).\n\n{summary}")
            self.action_done.emit("report")

        self.op(work, title="Transparency report").success(done).failure(
            self._failed("Transparency report", "report")
        ).run()

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.import_files(paths)


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it is wider than its room (whole in its tooltip)."""

    def minimumSizeHint(self) -> Any:  # noqa: N802 - Qt override
        return QSize(0, super().minimumSizeHint().height())

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)


def home_relative(path: str) -> str:
    """A path in the home folder as ~/..., as the reviewer knows it."""
    home = str(Path.home())
    return "~" + path[len(home) :] if home != "/" and path.startswith(home + "/") else path


def decision_summary(data: Any) -> str:
    """What is being decided, for the top of the decision panel: the recommendation with its
    mark, the findings that make it (rule and title), and the customer."""
    ev = data["evaluation"]
    rec = ev["recommendation"]
    making = [f for f in ev["findings"] if f["outcome"] == rec]
    customer = data.get("customer") or {}
    name = customer.get("name") or (data["document"].get("customer") or {}).get("name") or "unknown"
    number = f"{escape(customer['number'])} " if customer.get("number") else ""
    rules = "; ".join(f"{escape(f['rule'])} {escape(f['title'])}" for f in making[:4])
    more = f" and {len(making) - 4} more" if len(making) > 4 else ""
    mark = f"{ICONS.get(rec, '')} {escape(Recommendation.label_of(rec))}"
    count = len(ev["findings"])
    found = count_words(count, "finding", "findings") + (f": {rules}{more}" if rules else "")
    found = found if count else "no rule fired"
    return (f'<span style="color:{COLOURS[rec]}"><b>{mark}</b></span> — {found}'
            f"<br>Customer: {number}{escape(name)}")  # fmt: skip


def queue_widths(metrics: QFontMetrics, model: QueueModel) -> list[int]:
    """Each queue column as wide as its widest word (a recommendation, a status, an org type)
    or its usual widest text (`QUEUE_SAMPLES`), or its header, in the font's own metrics (a
    150 % font clipped fixed pixels)."""
    # The cells of a vocabulary's column, as the queue formats them.
    words = {col: [format_cell(col, v) for v in vocabulary] for col, vocabulary in LABELLED.items()}
    words.update({col: [format_cell(col, t) for t in rq.ORG_TYPES] for col in ENUM_COLUMNS})
    widths = []
    for col, sample in enumerate(QUEUE_SAMPLES):
        name = str(model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole))
        icon = metrics.height() + 6 if col == REC_COLUMN else 0  # the recommendation's mark
        text = max((metrics.horizontalAdvance(t) for t in words.get(col, [sample])), default=0)
        widths.append(max(text + icon, metrics.horizontalAdvance(name) + 18) + 10)
    return widths


def _check(confirm: bool, session: Any, actor: Any, reference: str, **kwargs: Any) -> Any:
    return workflow.check(session, actor, reference, confirm, **kwargs)


def _customer_into(session: Any, data: Any) -> None:
    """The request's customer (number and name), for the link to it in the request view."""
    try:
        cid = queries.get_request(session, data["reference"]).customer_id
        if cid is not None:
            customer = customers.resolve(session, str(cid))
            data["customer"] = {"id": customer.id, "number": f"C-{customer.id}", "name": customer.name}
    except ReviewerError:
        return


def _explain_into(session: Any, data: Any) -> None:
    """Add the request's decisive facts, what-ifs and drafted request for information to the
    data the view shows (computed in the worker, never on the GUI thread)."""
    try:
        e = evaluations.explain_stored(session, queries.get_request(session, data["reference"]))
    except ReviewerError:  # an integrity problem is the evaluation's to report
        return
    data["explanation"], data["titles"], data["draft"] = e.explanation, e.ruleset.titles, e.draft()


def what_follows(evaluation: dict[str, Any]) -> dict[str, str]:
    """For each outcome, what recording it leads to (shown under Record), from the same
    requirement `decide` applies."""
    follows = {
        "refuse": "Final when recorded: a refusal needs one reviewer.",
        "return": "Goes back to sales for the missing facts; it waits for their answer.",
    }
    try:
        need = workflow.approval_requirement(evaluation)
    except NotPermitted:
        return follows
    checks = {None: "Final when recorded: one reviewer decides.",
              "any": "A different account must confirm this decision before it is final.",
              "senior": "A different senior must confirm this decision before it is final."}  # fmt: skip
    text = checks[need.checker]
    if need.decider_senior:
        text = "Only a senior may record it. " + text
    follows["approve"] = follows["approve_with_conditions"] = text
    return follows
