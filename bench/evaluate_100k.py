"""Evaluation benchmark: the default rule set over N generated requests, explanations and
all, against a floor measured in the same run.

floor: the time to read, with plain dict lookups, every field the rule set reads
(`RuleSet.fields_read()`, lists of objects walked item by item) from the same parsed
documents.

evaluation: `RuleSet.evaluate(doc)` for every document, by a rule set compiled afresh for
the round, so that it starts with nothing remembered (as after a rule-set change, when every
stored request is evaluated again); the findings carry their explanations. It is timed
twice, alone and with the JSON form of `cli.md` made of each evaluation
(`evaluation.to_json(reference)`), each time by a new compilation.

Each figure is the best of ROUNDS rounds (this machine is shared and noisy); the ratios
evaluation / floor are the figures to watch (target: under 4).
Usage: python bench/evaluate_100k.py [N]
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

from reviewer.demo import generate
from reviewer.rules import bundled_text, load_text

ROUNDS = 5


def make_reader(paths: list[str]) -> Any:
    """Plain dict lookups of every field the rule set reads; `list[].key` walks the items."""
    root = [p for p in paths if "." not in p]
    nested = [tuple(p.split(".")) for p in paths if "." in p and "[]." not in p]
    lists: dict[str, list[str]] = {}
    for p in paths:
        if "[]." in p:
            lst, key = p.split("[].")
            lists.setdefault(lst, []).append(key)
    list_paths = [(tuple(lst.split(".")), keys) for lst, keys in lists.items()]

    def read(doc: dict[str, Any]) -> int:
        n = 0
        for key in root:
            if doc.get(key) is not None:
                n += 1
        for a, b in nested:
            section = doc.get(a)
            if section is not None and section.get(b) is not None:
                n += 1
        for path, keys in list_paths:
            items = doc.get(path[0])
            if len(path) == 2 and items is not None:
                items = items.get(path[1])
            for item in items or ():
                for k in keys:
                    if item.get(k) is not None:
                        n += 1
        return n

    return read


def timed(fn: Any, docs: list[dict[str, Any]]) -> float:
    """Seconds to call fn on every document (results dropped as they come)."""
    t0 = time.perf_counter()
    for d in docs:
        fn(d)
    return time.perf_counter() - t0


def as_json(rs: Any) -> Any:
    evaluate = rs.evaluate

    def evaluate_as_json(doc: dict[str, Any]) -> dict[str, Any]:
        return evaluate(doc).to_json(doc["reference"])  # type: ignore[no-any-return]

    return evaluate_as_json


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    text = bundled_text()
    docs = list(generate(n, seed=5))
    fields = load_text(text).fields_read()
    read = make_reader(fields)
    floor = alone = with_json = float("inf")
    findings = 0
    for _ in range(ROUNDS):
        floor = min(floor, timed(read, docs))
        rs = load_text(text)
        rs.compile()  # afresh each round, before the clock starts (as loading did)
        alone = min(alone, timed(rs.evaluate, docs))
        findings = sum(len(rs.evaluate(d).findings) for d in docs[:1000])
        del rs
        gc.collect()  # the round's rule set and what it remembered
        rs = load_text(text)
        rs.compile()  # afresh each round, before the clock starts (as loading did)
        with_json = min(with_json, timed(as_json(rs), docs))
        del rs
        gc.collect()
    us = 1e6 / n
    print(f"requests:                  {n:,}; fields read by the rule set: {len(fields)}")
    print(f"findings (first 1,000):    {findings:,} ({findings / 1000:.1f} per request)")
    print(f"floor (dict lookups):      {floor * us:.2f} us per request")
    print(f"evaluation:                {alone * us:.2f} us per request = {alone / floor:.1f}x floor")
    print(f"evaluation with JSON form: {with_json * us:.2f} us per request = {with_json / floor:.1f}x floor")


if __name__ == "__main__":
    main()
