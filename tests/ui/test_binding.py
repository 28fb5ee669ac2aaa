"""The Qt binding itself: PySide6 6.12.0 took a reference from None on every call of a method
that returns nothing (setText, setEnabled, setAccessibleName...), so a session crashed with
"deallocating None" once None's count ran out: editing a request with 3,000 end users did,
and so would a long day's work. pyproject.toml excludes that release; this test fails on any
binding that does the same."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLineEdit


def test_calls_that_return_nothing_leave_none_alone(qtbot):
    edit = QLineEdit()
    qtbot.addWidget(edit)
    before = sys.getrefcount(None)
    for i in range(1_000):
        edit.setText(str(i))
        edit.setEnabled(True)
        edit.setAccessibleName("Name")
    change = sys.getrefcount(None) - before
    assert abs(change) < 100, f"None lost {-change} references in 3,000 calls: a broken binding"
