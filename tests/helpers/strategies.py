"""Hypothesis strategies for valid requests of every shape the request format allows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from reviewer import request as rq

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=24
).filter(lambda s: s.strip() != "")


def value_strategy(t: rq.FieldType) -> st.SearchStrategy[Any]:
    kind = t.kind
    if kind == "str":
        return TEXT
    if kind == "int":
        return st.one_of(st.integers(0, 200), st.integers(0, 10**15))
    if kind == "number":
        top = t.maximum if t.maximum is not None else 1e9
        return st.one_of(st.integers(0, int(top)), st.floats(0, top, allow_nan=False, allow_infinity=False))
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return st.dates(min_value=dt.date(1990, 1, 1)).map(lambda d: d.isoformat())
    if kind == "country":
        return st.from_regex(r"[A-Z]{2}", fullmatch=True) | st.sampled_from(["US", "DE", "PT"])
    if kind == "region":
        return st.from_regex(r"[A-Z0-9]{1,3}", fullmatch=True) | st.sampled_from(["IL", "OR"])
    if kind == "currency":
        return st.from_regex(r"[A-Z]{3}", fullmatch=True)
    if kind == "email":
        return st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True)
    if kind == "reference":
        return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/\-]{1,20}", fullmatch=True)
    if kind == "enum":
        return st.sampled_from(t.values)
    if kind == "set":
        return st.lists(st.sampled_from(t.values), unique=True, max_size=4)
    if kind == "objlist":
        item = st.fixed_dictionaries({}, optional={k: value_strategy(v) for k, v in t.item.items()})
        return st.lists(item, max_size=3)
    raise AssertionError(kind)


def section(spec: dict[str, Any], required: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {k: value_strategy(spec[k]) for k in required},
        optional={k: value_strategy(v) for k, v in spec.items() if k not in required},
    )


REQUESTS = st.fixed_dictionaries(
    {
        "reference": value_strategy(rq.SCHEMA["reference"]),
        "received_on": value_strategy(rq.SCHEMA["received_on"]),
        "customer": section(rq.SCHEMA["customer"], ("name",)),
    },
    optional={
        k: (section(v) if isinstance(v, dict) else value_strategy(v))
        for k, v in rq.SCHEMA.items()
        if k not in ("reference", "received_on", "customer", "format")
    },
)


def valid(raw: dict) -> dict:
    doc, problems = rq.validate(raw)
    assert problems == [], problems  # the strategy makes only valid requests
    return doc
