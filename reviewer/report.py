"""Plain-text reports for people at a terminal."""

from __future__ import annotations

import textwrap
from typing import Any


def evaluation_text(ev: dict[str, Any], width: int = 100) -> str:
    """One evaluation (the JSON of `cli.md`) as a readable report."""
    lines = [
        f"{ev['reference']}: recommendation {ev['recommendation'].upper().replace('_', ' ')}"
        f"  (rule set {ev['rule_set']})"
    ]
    if not ev["findings"]:
        lines.append("  No rule fired: nothing stands in the way.")
    for f in ev["findings"]:
        outcome = f["outcome"] + (f" (override {f['override']})" if f["override"] else "")
        lines.append(f"  {f['rule']}  {outcome:<28} {f['title']}")
        for chunk in textwrap.wrap(f["explanation"], width - 10) or [""]:
            lines.append(f"         {chunk}")
        if f["missing"]:
            lines.append(f"         missing: {', '.join(f['missing'])}")
        for chunk in textwrap.wrap("source: " + f["source"], width - 10):
            lines.append(f"         {chunk}")
    if ev["conditions"]:
        lines.append("  Conditions:")
        for c in ev["conditions"]:
            lines.append(f"    - [{c['rule']}] {c['text']}")
    missing = list(dict.fromkeys(m for f in ev["findings"] for m in f["missing"]))
    if missing:
        lines.append("  Missing facts (ask sales): " + ", ".join(missing))
    return "\n".join(lines)
