"""Findings as a reviewer reads them: the facts an explanation states, written by
`reviewer.rules.lang` for the record (`customer.org_type = sheriff is in police_types`), said
in words (`Organisation type: sheriff — is a police type`); request values in words; findings
in the rule set's order of severity, counted; and the missing facts as one checklist.

Every label comes from `reviewer.vocabulary` (fields, stored values, parameters and
definitions): nothing here spells one out again. The stored explanation stays as it is (the
record, the PDF and the command line print it); the words are made from it when shown, and
a piece of text they cannot read is shown with its field paths and values in words as far as
they go, never dropped. The results are plain text: whoever prints them as HTML escapes them
(a value can be the customer's own text)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from reviewer.request import LEAF_FIELDS
from reviewer.rules import RANK
from reviewer.vocabulary import (
    NONE_LABELS,
    Recommendation,
    choice_label,
    definition_label,
    field_label,
    findings_count,
    parameter_words,
)

TOTAL_PREFIX = "customer_total."  # `customer_total.scale.cameras`: summed over the customer's requests

_PATH = r"[a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*"
_PARAM = r"\{[^{}]*\}|[A-Za-z_][\w.]*"
_FACT = re.compile(rf"(?P<path>{_PATH}) = (?P<rest>.*)", re.S)
_STARTS = re.compile(
    rf"(?:not )?[A-Za-z_]\w*(?:$|: )|{_PATH} (?:=|is )|all of |cannot be decided |"
    r"the outcome depends on |[a-z_]+ instead because "
)
_OPS = {">": "more than", ">=": "at least", "<": "less than", "<=": "at most", "!=": "is not", "=": "is"}


# --------------------------------------------------------------------------- fields and values


def _item_path(path: str) -> tuple[str, str] | None:
    """`end_users[1].org_type` -> (`end_users`, `org_type`); `sites[0]` -> (`sites`, ``)."""
    m = re.fullmatch(r"([a-z_.]+)\[\d*\](?:\.(\w+))?", path)
    return (m[1], m[2] or "") if m else None


def field_kind(path: str) -> str | None:
    """The kind of the field at a concrete path (`end_users[1].org_type` -> `enum`; a whole
    item, `sites[0]`, -> `item`), None for a path the request format does not know."""
    path = path.removeprefix(TOTAL_PREFIX)
    if path in LEAF_FIELDS:
        return LEAF_FIELDS[path].kind
    parts = _item_path(path)
    if parts is None or parts[0] not in LEAF_FIELDS:
        return None
    head, key = parts
    if not key:
        return "item"
    item = LEAF_FIELDS[head].item.get(key)
    return item.kind if item is not None else None


def fact_label(path: str) -> str:
    """The label of a fact: a field's (`Organisation type`), a customer total's (`Cameras over
    the customer's requests`)."""
    if path.startswith(TOTAL_PREFIX):
        return f"{field_label(path.removeprefix(TOTAL_PREFIX))} over the customer's requests"
    return field_label(path)


def _number(value: float) -> str:
    if isinstance(value, int) or value.is_integer():
        return f"{int(value):,}"
    return str(value)


def _template(path: str) -> str:
    """`end_users[1].org_type` -> `end_users[].org_type` (the field of every item)."""
    return re.sub(r"\[\d+\]", "[]", path)


def _stored(value: str, path: str) -> str:
    """A stored value of the field at `path` by its label (`government_agency` ->
    `Government agency`)."""
    return choice_label(_template(path), value)


def value_words(value: Any, path: str = "") -> str:
    """A request-format value of the field at `path` in words: yes / no, whole numbers with
    thousands separators, stored values by their labels, lists joined, a list item as its
    labelled fields; text (names, places) as it is."""
    kind = field_kind(path) if path else None
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, dict):
        said = ", ".join(f"{field_label(k)}: {value_words(v, f'{path}[].{k}')}" for k, v in value.items())
        return said or "one, nothing known of it"
    if isinstance(value, (list, tuple)):
        if not value:
            return NONE_LABELS.get(path, "none") if kind == "objlist" else "none"
        return ("; " if kind == "objlist" else ", ").join(value_words(v, path) for v in value)
    text = str(value)
    return _stored(text, path) if kind in ("enum", "set") else text


def shown_words(text: str, path: str) -> str:
    """A value as an explanation shows it (`[identification, liveness]`, `true`, `250000`,
    `1200 (EX-0003: 1200)`) in words for the field at `path`."""
    kind = field_kind(path)
    if kind == "bool" and text in ("true", "false"):
        return "yes" if text == "true" else "no"
    if kind in ("set", "objlist") and text.startswith("[") and text.endswith("]"):
        items = text[1:-1].split(", ") if text != "[]" else []
        return ", ".join(_stored(i, path) if kind == "set" else i for i in items) or "none"
    if kind in ("int", "number"):
        total = re.fullmatch(r"(at least )?(\d+(?:\.\d+)?)( \(.*\))?", text, re.S)
        if total:
            parts = re.sub(r"(?<=: )\d+\b", lambda n: _number(int(n[0])), total[3] or "")
            return (total[1] or "") + _number(float(total[2])) + parts
    return _member(text, path)


def _member(text: str, path: str) -> str:
    """One value of the field at `path` (for a set: one of its members) in words."""
    return _stored(text, path) if field_kind(path) in ("enum", "set") else text


def _items(text: str) -> list[str]:
    """The members of a list or set as a fact shows it (`[a, b]`, `{a, b}`)."""
    return [i for i in text[1:-1].split(", ") if i]


def _none_of(items: list[str]) -> str:
    if len(items) == 2:
        return f"neither {items[0]} nor {items[1]}"
    return "none of " + ", ".join(items) if len(items) > 1 else f"not {''.join(items)}"


def _relation(path: str, rest: str) -> tuple[str, str]:
    """(the value in words, what the fact says of it) for the text after `path = `; a fact
    whose value says it all (`Sector: Commercial` for `in {commercial, nonprofit}`, a value
    `!= none`) says nothing more."""
    value = functools.partial(shown_words, path=path)
    m = re.fullmatch(rf"(?P<v>\[.*\]) includes (?P<s>\[.*\]) from (?P<p>{_PARAM})", rest, re.S)
    if m:
        every = _items(m["v"]) == _items(m["s"])  # all it holds is what the rule looks for
        many = len(_items(m["s"])) > 1
        if m["p"].startswith("{"):
            return value(m["v"]), "" if every else f"includes {value(m['s'])}"
        member = ("each " if many else "") + parameter_words(m["p"])
        return value(m["v"]), member if every else f"includes {value(m['s'])}, {member}"
    m = re.fullmatch(rf"(?P<v>\[.*\]) shares nothing with (?P<p>{_PARAM})", rest, re.S)
    if m:
        if m["p"].startswith("{"):
            return value(m["v"]), "includes " + _none_of([_member(i, path) for i in _items(m["p"])])
        return value(m["v"]), f"includes none of the {parameter_words(m['p'], True)}"
    m = re.fullmatch(r"(?P<v>\[.*\]) (?P<n>does not include|includes) (?P<x>.+)", rest, re.S)
    if m:
        if m["n"] == "includes" and _items(m["v"]) == [m["x"]]:
            return value(m["v"]), ""
        return value(m["v"]), f"{m['n']} {_member(m['x'], path)}"
    m = re.fullmatch(r"(?P<v>.*) contains the term (?P<t>'.*'|\".*\")", rest, re.S)
    if m:
        return m["v"], f"contains the term “{m['t'][1:-1]}”"
    m = re.fullmatch(r"(?P<v>.*) contains no term of (?P<p>[\w.]+)", rest, re.S)
    if m:
        return m["v"], f"contains none of the {parameter_words(m['p'], True)}"
    m = re.fullmatch(rf"(?P<v>.*) is (?P<n>not )?in (?P<p>{_PARAM})", rest, re.S)
    if m:
        if m["p"].startswith("{"):
            said = _none_of([_member(i, path) for i in _items(m["p"])]) if m["n"] else ""
            return value(m["v"]), said
        return value(m["v"]), f"is {m['n'] or ''}{parameter_words(m['p'])}"
    m = re.fullmatch(r"(?P<v>.*), not (?:(?P<op><=|>=|!=|<|>) )?(?P<r>.+)", rest, re.S)
    if m:
        said = _OPS[m["op"]] + " " if m["op"] else ""
        return value(m["v"]), f"not {said}{_other(m['r'], path)}"
    m = re.fullmatch(r"(?P<v>.*?) (?P<op><=|>=|!=|<|>) (?P<r>.+)", rest, re.S)
    if m:
        if m["op"] == "!=" and not _FACT.fullmatch(m["r"]):
            return value(m["v"]), ""  # `victim_search != none`: the value says it
        return value(m["v"]), f"{_OPS[m['op']]} {_other(m['r'], path)}"
    return value(rest), ""


def _other(text: str, path: str) -> str:
    """The other side of a comparison: a value, or a field with its value."""
    m = _FACT.fullmatch(text)
    if m and field_kind(m["path"]) is not None:
        return f"{fact_label(m['path'])} ({shown_words(m['rest'], m['path'])})"
    return shown_words(text, path)


def _paths(text: str) -> str:
    """A list of field paths (`scale.cameras, scale.sites`) by their labels."""
    return ", ".join(fact_label(p.strip()) for p in text.split(",") if p.strip())


def fact_words(fact: str) -> str:
    """One fact of an explanation in words."""
    m = re.fullmatch(r"(not )?([A-Za-z_]\w*)(?:: (.*))?", fact, re.S)
    if m:  # a definition (LE, recognition, ...), with the facts that make it hold
        label = definition_label(m[2])
        said = f"Not {label[:1].lower()}{label[1:]}" if m[1] else label
        return f"{said}, because {fact_words(m[3])}" if m[3] else said
    m = re.fullmatch(r"cannot be decided while unknown: (.*)", fact, re.S)
    if m:
        return f"Cannot be decided while unknown: {_paths(m[1])}"
    m = re.fullmatch(r"the outcome depends on unknown (.*)", fact, re.S)
    if m:
        return f"The outcome depends on unknown facts: {_paths(m[1])}"
    m = re.fullmatch(r"([a-z_]+) instead because (.*)", fact, re.S)
    if m:
        return f"{Recommendation.label_of(m[1])} instead, given {fact_words(m[2])}"
    m = re.fullmatch(rf"({_PATH}) is (unknown|empty)", fact)
    if m:
        return f"{fact_label(m[1])}: {'unknown' if m[2] == 'unknown' else 'none'}"
    m = re.fullmatch(r"all of (.*) are known", fact, re.S)
    if m:
        return f"Known: {_paths(m[1])}"
    m = _FACT.fullmatch(fact)
    if m and (field_kind(m["path"]) is not None or m["path"] == "customer"):
        value, said = _relation(m["path"], m["rest"])
        return f"{fact_label(m['path'])}: {value}" + (f" — {said}" if said else "")
    return _fallback(fact)


def _fallback(text: str) -> str:
    """Text the words above do not read: its field paths by their labels, stored values
    (words with an underscore) in words."""

    def label(m: re.Match[str]) -> str:
        if field_kind(m[0]) is not None:
            return fact_label(m[0])
        return choice_label("", m[0]) if "_" in m[0] else m[0]

    return re.sub(_PATH, label, text)


def explanation_words(explanation: str) -> list[str]:
    """A finding's explanation in words, one line for each fact it states (the facts of a
    definition start with its name: `Law enforcement, because Organisation type: ...`)."""
    if not explanation:
        return []
    facts: list[str] = []
    for piece in explanation.split("; "):
        if facts and not _STARTS.match(piece):
            facts[-1] += "; " + piece  # a value that holds "; " (a name): one fact
        else:
            facts.append(piece)
    lines = [fact_words(f) for f in facts]
    return [line[:1].upper() + line[1:] for line in lines]


# --------------------------------------------------------------------------- findings


def by_severity(findings: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The findings in groups of one outcome, most severe first (the rank of the rule set:
    refuse, needs information, senior, second check, conditions), an outcome it does not rank
    after them; within a group in the order given (rule order)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        groups.setdefault(f["outcome"], []).append(f)
    return sorted(groups.items(), key=lambda g: -RANK.get(g[0], 0))


def _schema_order(path: str) -> tuple[int, int, str]:
    """Missing facts as the request format lists its fields (an item's by its list and its
    number); a customer total after them."""
    order = list(LEAF_FIELDS)
    parts = _item_path(path)
    head = parts[0] if parts else path
    index = int(m[1]) if (m := re.search(r"\[(\d+)\]", path)) else -1
    if path.startswith(TOTAL_PREFIX) or head not in order:
        return (len(order), index, path)
    return (order.index(head), index, path)


def missing_facts(findings: Iterable[Mapping[str, Any]]) -> list[tuple[str, list[str]]]:
    """Every missing fact once, with the rules that need it (in rule order), in the order of
    the request format: (path, rule ids)."""
    needed: dict[str, list[str]] = {}
    for f in findings:
        for path in f.get("missing") or ():
            rules = needed.setdefault(path, [])
            if f["rule"] not in rules:
                rules.append(f["rule"])
    return sorted(needed.items(), key=lambda item: _schema_order(item[0]))


def is_total(path: str) -> bool:
    """A customer total: unknown while a part of it is, not a fact sales answers itself."""
    return path.startswith(TOTAL_PREFIX)


def summary_words(findings: Sequence[Mapping[str, Any]], missing: int) -> str:
    """`2 refusals, 1 senior escalation, 3 findings with conditions; 11 missing facts`."""
    counts = [findings_count(outcome, len(group)) for outcome, group in by_severity(findings)]
    said = ", ".join(counts) or "no findings"
    if missing:
        said += f"; {missing} missing fact{'' if missing == 1 else 's'}"
    return said
