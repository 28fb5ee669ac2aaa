"""Backtest benchmark: 100,000 stored requests re-evaluated under a candidate rule set.

Seeds N requests, writes a candidate (the camera threshold raised from 50 to 100), then times
`reviewer rules backtest CANDIDATE --format json` as a whole command (reading every stored
document, evaluating it, comparing with the stored evaluation). Target: under 15 s for
100,000 on 2 cores. Usage: python bench/backtest_100k.py [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer.rules import bundled_text


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    work = Path(tempfile.mkdtemp(prefix="reviewer-backtest-"))
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(work),
        XDG_CONFIG_HOME=str(work),
        REVIEWER_DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
    )
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "reviewer", "seed-demo", "--count", str(n)],
        env=env,
        check=True,
        capture_output=True,
    )
    seeded = time.perf_counter() - t0
    text = (
        bundled_text()
        .replace("version = 1\n", "version = 2\n", 1)
        .replace("cameras = 50\n", "cameras = 100\n", 1)
        .replace("scale = { cameras = 51 } }", "scale = { cameras = 101 } }", 1)
    )
    candidate = work / "cameras-100.toml"
    candidate.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "reviewer", "rules", "backtest", str(candidate), "--format", "json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    report = json.loads(out.stdout)
    print(f"requests stored:   {report['requests']:,} (seeded in {seeded:.1f} s)")
    print(f"backtest time:     {took:.2f} s (whole command)  -> {report['requests'] / took:,.0f} requests/s")
    print(f"changed:           {report['changed']:,}  matrix: {report['matrix']}")


if __name__ == "__main__":
    main()
