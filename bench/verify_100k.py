"""Verify benchmark: `reviewer verify` on 100,000 requests with 2,000 decisions.

Seeds N demo requests and K decisions (through the workflow), then times, in one process on
the same database: the checks verify made before it replayed the chain (the chain's hashes,
the stored versions, the final decisions: the anchor, measured at 4.8 s for 100,000 requests
with 2,000 decisions on this machine), and the whole verify of today (the same, plus the
replay of every event compared with accounts, roles, rule sets, settings, requests,
decisions and conditions, plus every stored evaluation recomputed). Target: the whole verify
at most twice the anchor. Also the whole `reviewer verify` command in a child process.
Usage: python bench/verify_100k.py [N] [K]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer.context import open_context
from reviewer.services import verify as v


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    work = Path(tempfile.mkdtemp(prefix="reviewer-verify-"))
    url = f"sqlite:///{work / 'bench.db'}"
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reviewer", "seed-demo", "--count", str(n),
                    "--decisions", str(k), "--database", url], env=env, check=True,
                   capture_output=True)  # fmt: skip
    print(f"seeded {n:,} requests with {k:,} decisions in {time.perf_counter() - t0:.1f} s")
    ctx = open_context(url, "bench")
    anchor = whole = float("inf")
    for _round in range(3):
        with ctx.db.read() as session:
            t0 = time.perf_counter()
            problems = v._Problems()
            v.verify_chain_only(session, problems)
            v._verify_versions(session, problems)
            v._verify_decisions(session, problems, None)
            anchor = min(anchor, time.perf_counter() - t0)
        with ctx.db.read() as session:
            t0 = time.perf_counter()
            report = v.verify(session)
            whole = min(whole, time.perf_counter() - t0)
        assert report.ok and not problems, report.problems[:3]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "reviewer", "verify", "--database", url], env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    command = time.perf_counter() - t0
    print(f"events: {report.events:,}, final decisions: {report.decisions:,} (best of 3 rounds)")
    print(f"anchor: the checks before the replay       {anchor:6.2f} s")
    print(f"verify: chain replay, tables, evaluations   {whole:6.2f} s  = {whole / anchor:.2f}x the anchor")
    print(f"whole command (child process, exit {out.returncode}):  {command:6.2f} s")


if __name__ == "__main__":
    main()
