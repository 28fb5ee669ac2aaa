"""The main window: the request queue (ids plus a page cache, sorted in SQL)."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableView,
)
from sqlalchemy import select

from reviewer import config
from reviewer.audit import Actor
from reviewer.errors import ReviewerError
from reviewer.models import Account, Request, RuleSetState, RuleSetVersion
from reviewer.models.db import Database

log = logging.getLogger(__name__)

COLUMNS: list[tuple[str, Any]] = [
    ("Reference", Request.reference),
    ("Received", Request.received_on),
    ("Customer", Request.customer_name),
    ("Country", Request.country),
    ("Org type", Request.org_type),
    ("Recommendation", Request.recommendation),
    ("Status", Request.status),
    ("Assignee", Account.name),
    ("Updated", Request.updated_at),
]
PAGE = 200


@dataclass
class AppContext:
    """Everything the window needs, built once in main() and passed down."""

    db: Database
    actor: Actor


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class Task(QRunnable):
    """Runs a function off the GUI thread and reports back through signals."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # noqa: BLE001 - delivered to the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class QueueModel(QAbstractTableModel):
    """Holds the ordered request ids; fetches visible rows a page at a time."""

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

    def _fetch(self, number: int) -> list[tuple[str, ...]]:
        ids = self.ids[number * PAGE:(number + 1) * PAGE]
        with self.db.read() as session:
            rows = session.execute(
                select(Request.id, *[c for _n, c in COLUMNS])
                .outerjoin(Account, Account.id == Request.assignee_id)
                .where(Request.id.in_(ids))
            ).all()
        by_id = {r[0]: tuple(_fmt(c, v) for c, v in enumerate(r[1:])) for r in rows}
        empty = ("",) * len(COLUMNS)
        page = [by_id.get(i, empty) for i in ids]
        self.pages[number] = page
        return page


ENUM_COLUMNS = {4, 5, 6}  # org type, recommendation, status: shown as words
TIME_COLUMNS = {8}


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


def load_ids(db: Database, sort_column: int, descending: bool) -> list[int]:
    column = COLUMNS[sort_column][1]
    order = column.desc() if descending else column.asc()
    with db.read() as session:
        query = select(Request.id).outerjoin(Account, Account.id == Request.assignee_id)
        return list(session.execute(query.order_by(order, Request.id)).scalars())


class MainWindow(QMainWindow):
    loaded = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Reviewer")
        self.resize(1280, 760)
        self.model = QueueModel(ctx.db, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Request queue")
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self.reload)
        for col, width in enumerate((130, 95, 330, 70, 170, 150, 120, 100, 130)):
            self.table.setColumnWidth(col, width)
        self.setCentralWidget(self.table)
        self.status = QLabel()
        self.statusBar().addPermanentWidget(self.status, 1)
        self.pool = QThreadPool.globalInstance()
        self.reload()

    def reload(self, *_args: Any) -> None:
        header = self.table.horizontalHeader()
        column = header.sortIndicatorSection()
        descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        db = self.ctx.db
        task = Task(lambda: (load_ids(db, column, descending), status_text(self.ctx)))
        task.signals.done.connect(self._loaded)
        task.signals.failed.connect(self._failed)
        self.pool.start(task)

    def _loaded(self, result: tuple[list[int], str]) -> None:
        ids, status = result
        self.model.set_ids(ids)
        self.status.setText(status)
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ReviewerError):
            QMessageBox.warning(self, "Reviewer", str(exc))
        else:
            log.error("loading the queue failed:\n%s", getattr(exc, "__traceback_text__", exc))
            QMessageBox.critical(self, "Reviewer", f"Unexpected error: {exc}\n\nDetails are in "
                                 f"{config.log_file()}")  # fmt: skip


def status_text(ctx: AppContext) -> str:
    from sqlalchemy import func

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
    install_crash_handler()
    app.setApplicationName("Reviewer")
    app.setOrganizationName("Reviewer")
    try:
        db = open_for_write(args)
    except ReviewerError as exc:
        print(f"reviewer: {exc}", file=sys.stderr)
        return exc.exit_code
    window = MainWindow(AppContext(db, acting_user(args, db)))
    window.show()
    if args.screenshot:
        path = args.screenshot

        def shoot() -> None:
            app.processEvents()
            window.grab().save(path)
            app.quit()

        window.loaded.connect(lambda: QTimer.singleShot(300, shoot))
    return app.exec()
