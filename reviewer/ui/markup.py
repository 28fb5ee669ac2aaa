"""Text from a request, a note or a rule set as the window's rich text shows it."""

from __future__ import annotations

import html

from reviewer.request import terminal_safe


def escape(text: str, quote: bool = True) -> str:
    """`html.escape`, with the characters that could reorder or hide what a reviewer reads
    (bidi overrides and isolates, zero-width and other format characters, controls) written
    as `\\u202e`-style escapes first, as the command line prints them: `Evil\\u202eCorp` is
    shown as typed, not as "EvilproC". Line breaks and tabs stay."""
    return html.escape(terminal_safe(text, lines=True), quote)
