"""Peak memory and wall time of `reviewer evaluate FILE --format json` on N generated requests
(issue 18: streams its output, peak RSS under 150 MB for 100,000), no database.

Usage: python bench/evaluate_memory.py [N] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer import request as rq
from reviewer.demo import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=100_000)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewer-evaluate-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"requests-{args.n}.jsonl"
    if not data.exists():
        with data.open("w", encoding="utf-8") as fh:
            for doc in generate(args.n, seed=13):
                fh.write(rq.canonical_json(doc) + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "REVIEWER_DATABASE_URL")}  # fmt: skip
    env.update(XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    print(f"{args.n:,} requests, {data.stat().st_size / 1e6:.0f} MB of JSON Lines; load "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    for r in range(1, args.rounds + 1):
        out = work / "out.json"
        args_ = [sys.executable, "-m", "reviewer", "evaluate", str(data), "--format", "json",
                 "--database", f"sqlite:///{work / 'none.db'}"]  # fmt: skip
        with out.open("wb") as fh:
            t0 = time.perf_counter()
            proc = subprocess.Popen(args_, stdout=fh, env=env)
            _pid, status, usage = os.wait4(proc.pid, 0)
            took = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        peak, size = usage.ru_maxrss / 1024, out.stat().st_size / 1e6
        print(f"round {r}: exit {code}, {took:.2f} s ({took / args.n * 1e6:.0f} us a request), "
              f"peak RSS {peak:.0f} MB (target under 150 MB), output {size:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
