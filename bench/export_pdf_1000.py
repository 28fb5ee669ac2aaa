"""PDF export benchmark: 1,000 final decisions exported on one core, then on all cores.

Prints milliseconds per PDF with one process (`--jobs 1`) and the wall time with every
core (`--jobs N`). Usage: python bench/export_pdf_1000.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "reviewer", *args], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    work = Path(tempfile.mkdtemp(prefix="reviewer-pdf-bench-"))
    env = dict(
        os.environ,
        XDG_DATA_HOME=str(work),
        XDG_CONFIG_HOME=str(work),
        REVIEWER_DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
    )
    # Returns get no PDF, so make decisions until N of them are exportable.
    run("seed-demo", "--count", str(n * 3), "--decisions", str(int(n * 1.6)), env=env)
    cores = os.cpu_count() or 1
    results = {}
    for jobs in (1, cores):
        out = work / f"out-{jobs}"
        t0 = time.perf_counter()
        text = run("export-pdf", "--all-decided", "--out", str(out), "--jobs", str(jobs), env=env)
        results[jobs] = (time.perf_counter() - t0, len(list(out.glob("*.pdf"))), text.strip())
    took1, count, _ = results[1]
    print(f"PDFs exported:          {count:,}")
    print(
        f"one core (--jobs 1):    {took1:.1f} s, {took1 / count * 1000:.1f} ms per PDF "
        "(whole command, start-up included)"
    )
    took_n, _, _ = results[cores]
    print(f"{cores} cores (--jobs {cores}):  {took_n:.1f} s wall, {took_n / count * 1000:.1f} ms per PDF")
    sizes = [p.stat().st_size for p in (work / "out-1").glob("*.pdf")]
    print(f"average file size:      {sum(sizes) / len(sizes) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
