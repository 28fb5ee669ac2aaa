"""Evaluation benchmark: the default rule set over N generated requests, explanations and
all, against a floor measured in the same run.

floor: the time to read, with plain dict lookups, every field the rule set reads
(`RuleSet.fields_read()`, lists of objects walked item by item) from the same parsed
documents. The ratio evaluation / floor is the figure to watch (target: under 4).
Usage: python bench/evaluate_100k.py [N]
"""

from __future__ import annotations

import sys
import time
from typing import Any

from reviewer.demo import generate
from reviewer.rules import load_bundled


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rs = load_bundled()
    docs = list(generate(n, seed=5))
    fields = rs.fields_read()
    read = make_reader(fields)
    best_floor = best_eval = float("inf")
    findings = 0
    for _ in range(3):
        t0 = time.perf_counter()
        for d in docs:
            read(d)
        best_floor = min(best_floor, time.perf_counter() - t0)
        t0 = time.perf_counter()
        findings = 0
        for d in docs:
            ev = rs.evaluate(d)
            findings += len(ev.findings)
            ev.to_json(d["reference"])
        best_eval = min(best_eval, time.perf_counter() - t0)
    print(f"requests:                 {n:,}; fields read by the rule set: {len(fields)}")
    print(f"findings produced:        {findings:,} ({findings / n:.1f} per request)")
    print(f"floor (dict lookups):     {best_floor / n * 1e6:.2f} us per request")
    print(f"evaluation (+ JSON form): {best_eval / n * 1e6:.2f} us per request")
    print(f"ratio evaluation / floor: {best_eval / best_floor:.1f}x")


if __name__ == "__main__":
    main()
