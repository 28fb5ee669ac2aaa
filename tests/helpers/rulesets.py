"""Candidate rule sets for the lifecycle tests: the bundled text with a higher version and a
few changes, such as LIFT_US (no moratorium country any more)."""

from __future__ import annotations

import re

from reviewer.rules import bundled_text

BUNDLED = bundled_text()
LIFT_US = ('moratorium_countries = ["US"]', "moratorium_countries = []")


def candidate(tmp_path, name: str, *replacements: tuple[str, str]) -> str:
    text = BUNDLED.replace("version = 2\n", "version = 3\n", 1)
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    if LIFT_US in replacements:
        # With no moratorium country, HR-01 and HR-02 never fire: their examples say so too,
        # as an administrator publishing the new version would write them.
        blocks = text.split("[[rules]]")
        for i, block in enumerate(blocks):
            if 'id = "HR-01"' in block or 'id = "HR-02"' in block:
                blocks[i] = re.sub(r'expect = "(refuse|needs_information)"', 'expect = "none"', block)
        text = "[[rules]]".join(blocks)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)
