"""Parsing and validation of request documents (issue 18: at least 3x faster than when the
issue was filed, with the same errors), beside their anchors in the same run.

Generates N demo requests (seed 1) as JSON Lines text, then, per request, best of R rounds
(the collector off, as a bulk command runs):

- **parse**: `request.loads(line)`, the parser every reader uses (duplicate keys refused,
  numbers kept as written);
- **floor**: `json.loads(line)`, CPython's C decoder with no hook: no parser of this JSON in
  Python is faster;
- **validate**: `request.validate(raw)` of the parsed documents (every field checked, the
  document normalised);
- **the anchor**: the same three timed in a child process running the package as it was at
  `--anchor` (default 79380db, the commit before the first issue-18 change: the code whose
  figures the issue gives), taken from git into a temporary folder.

Prints each figure, parse + validate, and the ratio anchor / now (target: at least 3).

Usage: python bench/validate_20k.py [N] [--rounds R] [--anchor COMMIT]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TIMING = """
import gc, json, sys, time
from reviewer import request as rq
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
rounds = int(sys.argv[2])
gc.disable()
best = {"parse": 1e9, "floor": 1e9, "validate": 1e9}
for _ in range(rounds):
    t0 = time.perf_counter(); raws = [rq.loads(s) for s in lines]; t1 = time.perf_counter()
    plain = [json.loads(s) for s in lines]; t2 = time.perf_counter()
    docs = [rq.validate(r) for r in raws]; t3 = time.perf_counter()
    assert all(d is not None and not p for d, p in docs)
    for k, v in (("parse", t1 - t0), ("floor", t2 - t1), ("validate", t3 - t2)):
        best[k] = min(best[k], v / len(lines) * 1e6)
    del raws, plain, docs
    gc.collect()
print(json.dumps(best))
"""


def measure(path: Path, rounds: int, pythonpath: str | None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}
    cwd = ROOT
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
        cwd = Path(pythonpath)
    out = subprocess.run([sys.executable, "-c", TIMING, str(path), str(rounds)], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--anchor", default="79380db")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from reviewer import request as rq
    from reviewer.demo import generate

    work = Path(tempfile.mkdtemp(prefix="reviewer-validate-"))
    data = work / "requests.jsonl"
    gc.disable()
    with data.open("w", encoding="utf-8") as fh:
        for doc in generate(args.n, seed=1):
            fh.write(rq.canonical_json(doc) + "\n")
    gc.enable()
    old = work / "anchor"
    archive = subprocess.run(["git", "archive", "--format=tar", args.anchor, "reviewer"], cwd=ROOT,
                             capture_output=True, check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")
    print(f"{args.n:,} requests ({data.stat().st_size / 1e6:.1f} MB of JSON Lines), best of "
          f"{args.rounds} rounds, us a request; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    started = time.perf_counter()
    runs = {"anchor": [], "now": []}
    for _ in range(2):  # alternate, so both meet the same machine
        runs["anchor"].append(measure(data, args.rounds, str(old)))
        runs["now"].append(measure(data, args.rounds, None))
    best = {k: {f: min(r[f] for r in v) for f in ("parse", "floor", "validate")} for k, v in runs.items()}
    for name, b in best.items():
        print(f"  {name:6} parse {b['parse']:6.1f}  floor (json.loads) {b['floor']:6.1f}  "
              f"validate {b['validate']:6.1f}  parse+validate {b['parse'] + b['validate']:6.1f}")  # fmt: skip
    a, n = best["anchor"], best["now"]
    ratio = (a["parse"] + a["validate"]) / (n["parse"] + n["validate"])
    print(f"anchor {args.anchor} / now: parse {a['parse'] / n['parse']:.2f}x, validate "
          f"{a['validate'] / n['validate']:.2f}x, parse+validate {ratio:.2f}x (target at least 3x: "
          f"{'met' if ratio >= 3 else 'NOT met'})")  # fmt: skip
    floor = n["floor"] / n["parse"]
    budget = (a["parse"] + a["validate"]) / 3
    print(f"the C decoder alone takes {floor:.2f} of today's parse: parsing cannot be more than "
          f"{1 / floor:.2f}x faster in Python; 3x on parse+validate needs parse+validate of "
          f"{budget:.1f} us, against the decoder's {n['floor']:.1f} us alone")  # fmt: skip
    print(f"({time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
