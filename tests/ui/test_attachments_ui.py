"""Evidence in the window: files dropped on the request view are attached to the open request
(off the GUI thread, through the service the command line uses), listed in its Attachments
section, and opened with the desktop's viewer from a private copy. Driven with qtbot on a
real database."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.helpers.cli import EXAMPLES
from tests.ui.test_flows import open_reference, wait_action, window_for


def _drag(mime: QMimeData) -> tuple[QDragEnterEvent, QDropEvent]:
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, buttons, keys)  # Qt's QPoint
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, buttons, keys)
    return enter, drop


def _attachments(cli) -> list[dict]:
    code, out, err = cli("attachments", "EX-0001", "--format", "json", user="rev1")
    assert code == 0, err
    return json.loads(out)


def test_files_dropped_on_the_request_view_are_attached_and_open_in_the_viewer(qtbot, cli, tmp_path):
    assert cli("import", str(EXAMPLES / "p01-office-door-access.json"), user="rev1")[0] == 0
    consent, letter = tmp_path / "consent form.pdf", tmp_path / "letter.eml"
    consent.write_bytes(os.urandom(1_500_000))  # two chunks
    letter.write_text("From: sales\n\nThe cameras stay in the lobby.\n", encoding="utf-8")
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    open_reference(qtbot, window, "EX-0001")
    assert "Attachments" in window.view.toPlainText()

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(consent)), QUrl.fromLocalFile(str(letter))])
    enter, drop = _drag(mime)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.request_loaded, timeout=10_000):
        assert (
            wait_action(qtbot, window, lambda: QApplication.sendEvent(window.view.viewport(), drop))
            == "attach"
        )
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: "consent form.pdf" in window.view.toPlainText(), timeout=10_000)
    text = window.view.toPlainText()
    assert "consent form.pdf — 1.4 MB — " in text and f"letter.eml — {letter.stat().st_size} bytes — " in text
    rows = _attachments(cli)
    assert [(r["number"], r["name"], r["size"], r["author"]) for r in rows] == [
        (1, "consent form.pdf", 1_500_000, "rev1"), (2, "letter.eml", letter.stat().st_size, "rev1")]  # fmt: skip
    assert dialogs.errors == []

    # Open: a private copy, byte for byte, handed to the viewer (never shown by Reviewer).
    assert wait_action(qtbot, window, lambda: window.view.anchorClicked.emit(QUrl("attachment:1"))) == (
        "open_attachment")  # fmt: skip
    (opened,) = dialogs.opened
    copy = Path(opened)
    assert copy.suffix == ".pdf" and copy.read_bytes() == consent.read_bytes()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    window.close()
    assert not copy.parent.exists()  # the private copies go with the window


def test_a_drop_that_is_no_local_file_or_fails_attaches_nothing(qtbot, cli, tmp_path):
    assert cli("import", str(EXAMPLES / "p01-office-door-access.json"), user="rev1")[0] == 0
    assert cli("settings", "set", "max_attachment_mb", "1", user="rev1")[0] == 0
    window, dialogs = window_for(qtbot, cli.url, "rev1")
    text = QMimeData()
    text.setText("just some text")
    enter, _drop = _drag(text)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert not enter.isAccepted()
    big = tmp_path / "scan.tiff"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(big))])
    enter, _drop = _drag(mime)
    window.view.dragEnterEvent(enter)  # no request open: the view leaves files to the window (import)
    assert not enter.isAccepted()
    open_reference(qtbot, window, "EX-0001")
    enter, drop = _drag(mime)
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    assert wait_action(qtbot, window, lambda: QApplication.sendEvent(window.view.viewport(), drop)) == (
        "failed:attach")  # fmt: skip
    assert dialogs.errors and "over the attachment limit of 1 MB" in dialogs.errors[-1][1]
    assert _attachments(cli) == []
