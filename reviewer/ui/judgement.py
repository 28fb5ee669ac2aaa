"""Decisive facts and what-ifs as the window shows them (the request view and the intake
form): what to ask sales, and what would change the outcome. Text from the request is
escaped. In words (the request view) fields are said by their labels and values in words;
the decisive facts are then the request view's to show, in its checklist of missing facts
(`decisive_rows`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reviewer.export.text import NO_LOWER, NOTHING, TRUNCATED, json_value, rules_moved
from reviewer.rules.words import fact_label, value_words
from reviewer.ui.markup import escape
from reviewer.vocabulary import Recommendation, field_label

COLOURS = {r.value: r.colour for r in Recommendation}


def _value(value: Any, path: str = "", words: bool = False) -> str:
    return escape(value_words(value, path) if words else json_value(value))


def _outcome(outcome: str) -> str:
    colour = COLOURS.get(outcome, "#101828")
    return f'<b style="color:{colour}">{escape(Recommendation.label_of(outcome))}</b>'


def decisive_rows(d: Mapping[str, Any], words: bool = False) -> list[str]:
    """The candidate values of one decisive fact and where each leads, as HTML lines; values
    that lead to the same place are one line: `99999 or 100000 → ...`."""
    rows = []
    groups: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    for o in d["options"]:
        groups.setdefault((o["recommendation"], tuple(o["rules"])), []).append(o["value"])
    for (outcome, rules), values in groups.items():
        shown = [_value(v, d["field"], words) for v in values]
        listed = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
        settles = f"settles {escape(', '.join(rules))}" if rules else "settles nothing"
        rows.append(f"{listed} → {_outcome(outcome)}; {settles}")
    return rows


def judgement_html(e: Mapping[str, Any] | None, titles: Mapping[str, str], words: bool = False,
                   decisive: bool = True) -> str:  # fmt: skip
    """HTML for one explanation (`reviewer.rules.explain`), or a note when there is none;
    `words`: fields by their labels, values in words; `decisive`: with the decisive facts (the
    request view shows them in its checklist instead, see above)."""
    if e is None:
        return "<p><i>No explanation: the request could not be explained.</i></p>"
    parts = []
    if e["decisive"] and decisive:
        parts.append("<h3>Decisive facts — ask sales</h3><ul>")
        for d in e["decisive"]:
            path = "" if words else f" <code>{escape(d['field'])}</code>"
            label = fact_label(d["field"]) if words else field_label(d["field"])
            parts.append(f"<li><b>{escape(label)}</b>{path}"
                         "<br>" + "<br>".join(decisive_rows(d, words)) + "</li>")  # fmt: skip
        parts.append("</ul>")
    if e["what_if"]:
        parts.append("<h3>What would change it</h3><ul>")
        for w in e["what_if"]:
            if words:
                change = " and ".join(
                    f"{escape(fact_label(p))}: {_value(v, p, True)}" for p, v in w["set"].items()
                )
            else:
                change = " and ".join(f"<code>{escape(p)}</code> = {_value(v)}" for p, v in w["set"].items())
            moved = rules_moved(w, "→", words=True)
            parts.append(f"<li>{change} → {_outcome(w['recommendation'])} ({escape(', '.join(moved))})</li>")
        parts.append("</ul>")
    elif e["recommendation"] != "approve":
        parts.append(f"<h3>What would change it</h3><p>{escape(NO_LOWER.capitalize())}</p>")
    for n in e["no_change"]:
        parts.append(f"<p><b>{escape(n['rule'])}</b> {escape(titles.get(n['rule'], ''))}: "
                     f"{escape(n['reason'])}.</p>")  # fmt: skip
    if e.get("_truncated"):
        parts.append(f"<p><i>{escape(TRUNCATED)}</i></p>")
    return "".join(parts) or f"<p>{escape(NOTHING)}</p>"
