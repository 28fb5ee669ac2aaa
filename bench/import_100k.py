"""Import benchmark: generate N requests as JSONL, then import them in a child process.

Prints requests per second (validation, evaluation under the active rule set, storing,
audit events: the whole `reviewer import` command) and the peak resident memory of the
importing process. Usage: python bench/import_100k.py [N]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer import request as rq
from reviewer.demo import generate


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    work = Path(tempfile.mkdtemp(prefix="reviewer-bench-"))
    src = work / "requests.jsonl"
    t0 = time.perf_counter()
    with src.open("w", encoding="utf-8") as fh:
        for doc in generate(n, seed=11):
            fh.write(rq.canonical_json(doc) + "\n")
    gen = time.perf_counter() - t0
    size = src.stat().st_size / 1e6
    db = work / "bench.db"
    # Create the database first, so the timed run is the import alone.
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    subprocess.run(
        [sys.executable, "-m", "reviewer", "db", "upgrade", "--database", f"sqlite:///{db}"],
        check=True,
        env=env,
        capture_output=True,
    )
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "reviewer", "import", str(src), "--database", f"sqlite:///{db}"],
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"requests:            {n:,} ({size:.1f} MB JSONL, generated in {gen:.1f} s)")
    print(f"import time:         {took:.2f} s  ({out.stdout.strip()})")
    print(f"requests per second: {n / took:,.0f}")
    print(f"peak memory (RSS):   {peak_mb:.0f} MB (largest child process)")
    print(f"database size:       {db.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
