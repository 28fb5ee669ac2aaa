"""The review desk at the sizes reviewers use it: 1280x800, 1024x700, a 150 % font; the dark
theme; keyboard and screen-reader names. Real windows on real databases, driven with qtbot."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QWidget,
)

from reviewer.context import open_context
from reviewer.services.queries import COLUMNS
from reviewer.ui.main_window import ESSENTIAL_COLUMNS, REC_COLUMN, MainWindow
from reviewer.ui.theme import dark_palette
from tests.helpers.ui import FakeDialogs, open_reference, opens, shows

INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit,
               QAbstractItemView)  # fmt: skip


def open_window(qtbot, cli, size=(1280, 800)) -> MainWindow:
    window = MainWindow(open_context(cli.url, "root", write=True), dialogs=FakeDialogs())
    qtbot.addWidget(window)
    window.resize(*size)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    return window


def open_request(qtbot, window: MainWindow, reference: str) -> None:
    open_reference(qtbot, window, reference)


@pytest.fixture
def large_font(qapp):
    """The application's font at 150 % for one test."""
    font = qapp.font()
    bigger = type(font)(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.5)
    qapp.setFont(bigger)
    yield
    qapp.setFont(font)


def clipped_cells(window: MainWindow) -> list[str]:
    """Cells of the rows in view whose text is wider than their column (or off the queue)."""
    table, model = window.table, window.model
    header, metrics = table.horizontalHeader(), table.fontMetrics()
    room = table.viewport().width()
    out = []
    rows = range(min(model.rowCount(), 200))
    for col in range(model.columnCount()):
        if header.isSectionHidden(col):
            continue
        if header.sectionViewportPosition(col) + header.sectionSize(col) > room:
            out.append(f"column {COLUMNS[col][0]} ends past the queue's edge")
        icon = metrics.height() + 6 if col == REC_COLUMN else 0
        for row in rows:
            text = model.index(row, col).data() or ""
            if metrics.horizontalAdvance(text) + icon + 8 > header.sectionSize(col):
                out.append(f"{COLUMNS[col][0]}: {text!r}")
    return out


def test_every_column_whole_at_1280_and_the_essential_ones_at_1024(qtbot, cli):
    assert cli("seed-demo", "--count", "300", "--decisions", "40")[0] == 0
    window = open_window(qtbot, cli)
    header = window.table.horizontalHeader()
    qtbot.waitUntil(lambda: window.table.viewport().width() > 1000)
    assert [COLUMNS[c][0] for c in range(7)] == ["Reference", "Recommendation", "Status", "Assignee",
                                                 "Customer", "Received", "Waiting"]  # fmt: skip
    assert not any(header.isSectionHidden(c) for c in range(len(COLUMNS)))
    assert clipped_cells(window) == []
    updated = window.model.index(0, len(COLUMNS) - 1).data()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", updated), updated  # as every time is shown
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.table.viewport().width() < 1024)
    assert not any(header.isSectionHidden(c) for c in range(ESSENTIAL_COLUMNS))
    assert [c for c in range(ESSENTIAL_COLUMNS, len(COLUMNS)) if not header.isSectionHidden(c)] != list(
        range(ESSENTIAL_COLUMNS, len(COLUMNS))
    )  # some of the rest gave way
    off = [line for line in clipped_cells(window) if "edge" in line]
    assert off == []
    # The header's menu hides a column, and the choice is kept by the next window.
    window.resize(1280, 800)
    window.show_column(3, False)
    assert header.isSectionHidden(3)
    window.close()
    again = open_window(qtbot, cli)
    assert again.table.horizontalHeader().isSectionHidden(3)
    again.show_column(3, True)
    assert not again.table.horizontalHeader().isSectionHidden(3)


def outside_the_window(window: MainWindow) -> list[str]:
    """Visible widgets that end outside the window, not inside a scroll area that reaches them,
    and buttons narrower than their text."""
    out = []
    frame = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        inside_scroll = False
        parent = widget.parentWidget()
        while parent is not None and parent is not window:
            if isinstance(parent, QAbstractScrollArea):
                inside_scroll = True
                break
            parent = parent.parentWidget()
        if inside_scroll:
            continue
        rect = widget.rect().translated(widget.mapTo(window, QPoint(0, 0)))
        if not frame.contains(rect):
            out.append(f"{type(widget).__name__} {widget.accessibleName() or widget.objectName()} {rect}")
    for button in window.findChildren(QPushButton):
        if button.isVisible() and button.width() < button.minimumSizeHint().width():
            out.append(f"button {button.text()!r} cut: {button.width()} < {button.minimumSizeHint().width()}")
    return out


@pytest.mark.parametrize("font", ["normal", "150 %"])
def test_the_window_is_usable_at_1024x700(qtbot, cli, request, font):
    if font != "normal":
        request.getfixturevalue("large_font")
    assert cli("seed-demo", "--count", "60", "--decisions", "10")[0] == 0
    window = open_window(qtbot, cli, (1024, 700))
    open_request(qtbot, window, "DEMO-000001")
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    assert (window.width(), window.height()) == (1024, 700)  # nothing made it grow
    for page in range(window.tabs.count()):
        window.tabs.setCurrentIndex(page)

        def inside(page: int = page) -> None:  # once the page's layout has settled
            assert outside_the_window(window) == [], window.tabs.tabText(page)

        qtbot.waitUntil(inside, timeout=5_000)
    header = window.table.horizontalHeader()
    assert not any(header.isSectionHidden(c) for c in range(ESSENTIAL_COLUMNS))
    assert [line for line in clipped_cells(window) if "edge" in line] == []
    # The decision panel scrolls to its last control.
    window.tabs.setCurrentWidget(window.desk)
    viewport, submit = window.panel_scroll.viewport(), window.panel.submit

    def submit_in_view() -> bool:
        window.panel_scroll.ensureWidgetVisible(submit)  # once the layout has settled
        return viewport.rect().contains(submit.mapTo(viewport, QPoint(0, 0)))

    qtbot.waitUntil(submit_in_view, timeout=5_000)


def test_disabled_buttons_look_disabled_in_the_dark_theme(qtbot):
    palette = dark_palette()
    for role in (palette.ColorRole.ButtonText, palette.ColorRole.WindowText, palette.ColorRole.Text):
        assert palette.color(palette.ColorGroup.Disabled, role) != palette.color(
            palette.ColorGroup.Active, role
        )
    # Links (a request's customer, a rule's expression) stand out from the dark base.
    link, base = palette.color(palette.ColorRole.Link), palette.color(palette.ColorRole.Base)
    assert link.lightness() - base.lightness() > 100
    holder = QWidget()
    qtbot.addWidget(holder)
    holder.setPalette(palette)
    holder.setStyle(QApplication.style())
    enabled, disabled = QPushButton("Record decision", holder), QPushButton("Record decision", holder)
    disabled.move(0, 40)
    disabled.setEnabled(False)
    holder.show()
    a, b = enabled.grab().toImage(), disabled.grab().toImage()
    assert a.size() == b.size() and a != b  # the same button, drawn differently


def mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def test_mnemonics_are_unique_every_label_has_its_field_and_every_control_a_name(qtbot, cli):
    assert cli("seed-demo", "--count", "20", "--decisions", "4")[0] == 0
    window = open_window(qtbot, cli)
    open_request(qtbot, window, "DEMO-000001")
    menus = [a.text() for a in window.menuBar().actions()]
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for page in range(window.tabs.count()):
        window.tabs.setCurrentIndex(page)
        qtbot.wait(10)
        texts = list(menus) + tabs
        for widget in window.findChildren(QWidget):
            if not widget.isVisible():
                continue
            if isinstance(widget, QAbstractButton):
                texts.append(widget.text())
            elif isinstance(widget, QLabel) and widget.buddy() is not None:
                texts.append(widget.text())
        letters = [m for m in map(mnemonic, texts) if m]
        duplicates = {m for m in letters if letters.count(m) > 1}
        assert not duplicates, (window.tabs.tabText(page), [t for t in texts if mnemonic(t) in duplicates])
    # Every label of a form names its field (its buddy); every control has a name a screen
    # reader says (its accessible name, or its text).
    for form in window.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if isinstance(label, QLabel) and label.text():
                assert label.buddy() is not None, label.text()
    nameless = []
    for widget in window.findChildren(QWidget):
        # Qt's own parts: a spin box's or combo box's editor, a table's headers and corner, a
        # line edit's clear button, a tool bar's or menu bar's overflow (named by their owner).
        owner = widget.parentWidget()
        inner = (isinstance(owner, (QAbstractSpinBox, QComboBox, QLineEdit)) or widget.objectName().startswith("qt_")
                 or isinstance(widget, QHeaderView) and isinstance(owner, QAbstractItemView))  # fmt: skip
        if isinstance(widget, INTERACTIVE) and widget.window() is window and not inner:
            face = QAccessible.queryAccessibleInterface(widget)
            name = face.text(QAccessible.Text.Name) if face is not None else ""
            if not name.strip():
                nameless.append(
                    f"{type(widget).__name__} {widget.objectName()} in {type(widget.parentWidget()).__name__}"
                )
    assert nameless == [], "\n".join(nameless)


def keys(qtbot, window: MainWindow, sequence: str) -> None:
    """Type a shortcut or mnemonic as a user would: to the widget with the focus."""
    from PySide6.QtGui import QKeySequence

    combo = QKeySequence(sequence)[0]
    if not window.isActiveWindow():  # the user looks at (clicks on) the window they type in
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
    target = QApplication.focusWidget()
    if target is None or target.window() is not window:
        target = window.focusWidget() or window
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def focus_by_tab(qtbot, window: MainWindow, widget: QWidget, most: int = 12) -> None:
    for _ in range(most):
        if QApplication.focusWidget() is widget:
            return
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is widget, QApplication.focusWidget()


def active_window(qtbot, cli, user: str) -> MainWindow:
    """A window of `user`, shown and active (keys go to the widget with the focus)."""
    window = MainWindow(open_context(cli.url, user, write=True), dialogs=FakeDialogs())
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def test_import_claim_decide_check_and_export_with_the_keyboard_only(qtbot, cli, tmp_path):
    from pypdf import PdfReader

    from tests.helpers.cli import EXAMPLES

    assert cli("db", "upgrade", user="sen1")[0] == 0
    assert cli("users", "add", "rev2", "--role", "reviewer", user="sen1")[0] == 0
    window = active_window(qtbot, cli, "sen1")
    dialogs = window.dialogs
    dialogs.files = [str(EXAMPLES / "p04-bank-account-opening.json")]
    with qtbot.waitSignal(window.action_done, timeout=20_000):
        keys(qtbot, window, "Ctrl+I")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10_000)
    keys(qtbot, window, "Ctrl+F")
    assert QApplication.focusWidget() is window.search
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        qtbot.keyClicks(window.search, "EX-0004")
    keys(qtbot, window, "Return")
    shows(qtbot, window, "EX-0004")
    panel = window.panel
    assert QApplication.focusWidget() is window.table and panel.reference == "EX-0004"
    # The decision pane says what is decided: the recommendation, the findings that make it,
    # the customer.
    summary = panel.summary.text()
    assert "Senior decides" in summary and "HR-" in summary and "Nordbank AG" in summary
    with qtbot.waitSignal(window.action_done, timeout=20_000):
        keys(qtbot, window, "Alt+A")  # Claim
    qtbot.waitUntil(lambda: panel.outcome_allowed("approve_with_conditions"), timeout=10_000)
    keys(qtbot, window, "Alt+O")  # the outcome
    assert QApplication.focusWidget() is panel.outcome
    for _ in range(4):
        if panel.outcome.currentData() == "approve_with_conditions":
            break
        qtbot.keyClick(panel.outcome, Qt.Key.Key_Down)
    assert panel.outcome.currentData() == "approve_with_conditions"
    focus_by_tab(qtbot, window, panel.justification)
    qtbot.keyClicks(
        panel.justification, "Bank account opening with consent; the conditions are in the contract."
    )
    with qtbot.waitSignal(window.action_done, timeout=20_000) as done:
        keys(qtbot, window, "Ctrl+Return")  # Record
    assert done.args == ["decide"]
    qtbot.waitUntil(lambda: panel.status == "awaiting_second", timeout=10_000)

    second = active_window(qtbot, cli, "rev2")
    checker_dialogs = second.dialogs
    keys(qtbot, second, "Ctrl+F")
    with qtbot.waitSignal(second.loaded, timeout=10_000):
        qtbot.keyClicks(second.search, "EX-0004")
    keys(qtbot, second, "Return")
    shows(qtbot, second, "EX-0004")
    assert second.panel.confirm.isEnabled()
    with qtbot.waitSignal(second.action_done, timeout=20_000) as done:
        keys(qtbot, second, "Alt+M")  # Confirm
    assert done.args == ["confirm"]
    qtbot.waitUntil(lambda: second.panel.status == "decided", timeout=10_000)
    checker_dialogs.folder = str(tmp_path)
    with qtbot.waitSignal(second.action_done, timeout=20_000) as done:
        keys(qtbot, second, "Ctrl+E")
    assert done.args == ["export"]
    pdf = tmp_path / "EX-0004-d1.pdf"
    assert pdf.exists() and "rev2" in PdfReader(pdf).pages[0].extract_text()


def test_empty_and_stale_states_say_what_happened_and_what_to_do(qtbot, cli):
    from reviewer.vocabulary import View

    window = open_window(qtbot, cli)
    assert window.model.rowCount() == 0 and window.empty.isVisible()
    assert "No requests yet" in window.empty.text() and "Ctrl+I" in window.empty.text()
    assert window.request_stack.currentWidget() is window.start
    assert "seed-demo" in window.start.hint.text()
    assert not window.note_button.isEnabled() and not window.panel.buttons["claim"].isVisible()
    window.close()

    assert cli("seed-demo", "--count", "30")[0] == 0
    assert cli("claim", "DEMO-000002")[0] == 0
    window = open_window(qtbot, cli)
    assert not window.empty.isVisible()
    qtbot.waitUntil(lambda: window.start.counts[View.MINE.value].text() == "<b>1</b>", timeout=10_000)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        window.start.buttons[View.MINE.value].click()
    assert window.view_filter.currentData() == View.MINE.value
    assert window.model.rowCount() == 1 and window.model.reference(0) == "DEMO-000002"
    with opens(qtbot, window, "DEMO-000002"):
        window.to_queue()
    assert window.request_stack.currentWidget() is window.view and window.note_button.isEnabled()
    # A search that hides the open request: it stays open, marked as not in the queue; the
    # queue says why it is empty.
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        qtbot.keyClicks(window.search, "zzzz")
    assert window.model.rowCount() == 0 and window.empty.isVisible()
    assert "No request matches" in window.empty.text() and "30 requests" in window.empty.text()
    assert window.request_stack.currentWidget() is window.view and window.left_queue.isVisible()
    assert window.left_queue.text().startswith("DEMO-000002 is not in the queue")
    window.search.setFocus()
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        qtbot.keyClick(window.search, Qt.Key.Key_Escape)
    assert window.search.text() == "" and window.model.rowCount() == 1
    assert not window.left_queue.isVisible() and window.table.selectionModel().hasSelection()


def test_unsaved_intake_edits_are_dropped_only_when_the_reviewer_says_so(qtbot, cli):
    assert cli("seed-demo", "--count", "5")[0] == 0
    window = open_window(qtbot, cli)
    dialogs = window.dialogs
    window.new_request()
    window.intake.set_cell("customer.name", "Harbour Logistics Ltd")
    assert window.intake.has_unsaved_changes()
    dialogs.agree = False
    window.new_request()  # Ctrl+N again: asked, and the answer No keeps the edit
    assert dialogs.questions[-1] == ("Unsaved changes", "Discard your unsaved changes to the new request?")
    assert window.intake.cell("customer.name") == "Harbour Logistics Ltd"
    open_request(qtbot, window, "DEMO-000003")
    window.edit_request()  # editing another request asks too
    assert len(dialogs.questions) == 2 and window.intake.cell("customer.name") == "Harbour Logistics Ltd"
    window.close()  # and so does closing the window
    assert len(dialogs.questions) == 3 and window.isVisible()
    assert window.tabs.currentWidget() is window.intake
    dialogs.agree = True
    window.edit_request()
    assert window.intake.document["reference"] == "DEMO-000003" and not window.intake.has_unsaved_changes()
    window.close()
    assert not window.isVisible() and len(dialogs.questions) == 4
