"""Explanation benchmark: `reviewer explain` (decisive facts and what-ifs) per request, beside
the evaluation of the same requests, in one run.

    python bench/explain_cost.py [N]      (default 2,000 generated requests)

Prints the evaluation cost per request (best of three rounds over the N requests, as in
evaluate_100k.py) and the explanation cost of each request: median, 90th and 99th
percentile and maximum, over the N requests after a first pass over 200 others (a reviewer's
session explains one request after another with the same compiled rule set), and the same
over a first pass with a rule set compiled just then. Target: under 20 ms per request for the
median and the 99th percentile.
"""

from __future__ import annotations

import statistics
import sys
import time

from reviewer.demo import generate
from reviewer.rules import bundled_text, load_text
from reviewer.rules.explain import Explainer


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    rs = load_text(bundled_text())
    rs.compile()
    docs = list(generate(n, seed=11))
    warm = list(generate(200, seed=12, prefix="WARM"))
    evaluation = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for d in docs:
            rs.evaluate(d)
        evaluation = min(evaluation, time.perf_counter() - t0)
    # First pass: a rule set compiled just now, nothing remembered (the first requests of a
    # session, or after a rule-set change).
    cold = []
    compiled_now = load_text(bundled_text())
    compiled_now.compile()
    fresh = Explainer(compiled_now)
    for d in docs:
        t0 = time.perf_counter()
        fresh.explain(d)
        cold.append((time.perf_counter() - t0) * 1000)
    cold.sort()
    explainer = Explainer(rs)
    for d in warm:
        explainer.explain(d)
    costs = []
    kinds: dict[str, int] = {}
    for d in docs:
        t0 = time.perf_counter()
        e = explainer.explain(d)
        costs.append((time.perf_counter() - t0) * 1000)
        kinds[e["recommendation"]] = kinds.get(e["recommendation"], 0) + 1
    costs.sort()

    def pct(p: float) -> float:
        return costs[min(len(costs) - 1, int(p * len(costs)))]

    print(f"requests:            {n:,} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"evaluation:          {evaluation / n * 1e6:.1f} us per request (best of 3)")
    print(f"explain, median:     {statistics.median(costs):.2f} ms per request")
    print(f"explain, p90:        {pct(0.90):.2f} ms")
    print(f"explain, p99:        {pct(0.99):.2f} ms")
    print(f"explain, max:        {costs[-1]:.2f} ms")
    print(f"explain / evaluation (median): {statistics.median(costs) / 1000 / (evaluation / n):.0f}x")
    print(
        f"first pass (fresh rule set, nothing remembered): median {statistics.median(cold):.2f} ms, "
        f"p99 {cold[min(len(cold) - 1, int(0.99 * len(cold)))]:.2f} ms, max {cold[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
