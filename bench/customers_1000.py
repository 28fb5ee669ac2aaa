"""Customer totals benchmark (issue 17, item 5): with N stored requests over C customers,
import M more requests of existing customers, under `human-rights@2` (HR-30 reads the
customer totals, so each touched customer's open requests are evaluated again) and under
`human-rights@1` (no customer totals: no re-evaluation), and compare.

Two base databases are built once, each by importing the same N requests: A on
human-rights@2 (the default of a new database), B with human-rights@1 made active through
the real lifecycle (rules import, propose, a second admin approves) before the import. Then,
round after round, alternating A, B, A, B, ..., `reviewer import MORE` runs in a child
process on a fresh copy of each base. Prints each time, the medians, the ratio A/B of the
medians (target at most 1.5) and the peak RSS of each import; with --profile, a cProfile of
one import on each base afterwards.

Usage: python bench/customers_1000.py [--requests 100000] [--customers 20000] [--more 1000]
       [--spread 1000] [--rounds 3] [--work DIR] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reviewer import request as rq
from reviewer.demo import PLACES, generate

ROOT = Path(__file__).resolve().parent.parent
V1 = ROOT / "resources" / "rulesets" / "human-rights-1.toml"
USER = "bench"  # the first account of each database (an admin)


def child_env(work: Path) -> dict[str, str]:
    """The environment of every child: its own settings and log directory; without the two
    variables this machine's shell exports (unbuffered output and no bytecode cache slow a
    Python process down)."""
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    for name in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "REVIEWER_DATABASE_URL"):
        env.pop(name, None)
    return env


def run(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """Run a child process: (wall seconds, its peak RSS in MB, its output). Fails loudly."""
    with log.open("w") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {proc.returncode}\n{text}")
    return took, usage.ru_maxrss / 1024, text.strip()


def reviewer(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "reviewer", *args, "--database", f"sqlite:///{db}"]


# --------------------------------------------------------------------------- data


def customer_of(doc: dict[str, Any], n: int) -> dict[str, Any]:
    """The request as one of customer number n: its name and seat (one of the demo places,
    by number, so every request of the customer has the same folded name and country)."""
    country, region, city = PLACES[n % len(PLACES)]
    doc["customer"].update(name=f"Customer {n:05d} Ltd", country=country, region=region, city=city)
    clean, problems = rq.validate(doc)
    if problems or clean is None:
        raise SystemExit(f"{doc['reference']}: {problems}")
    return clean


def write_files(work: Path, n: int, customers: int, more: int, spread: int) -> tuple[Path, Path]:
    base, extra = work / "base.jsonl", work / "more.jsonl"
    step = customers // spread
    with base.open("w", encoding="utf-8") as fh:
        for i, doc in enumerate(generate(n, seed=11)):
            fh.write(rq.canonical_json(customer_of(doc, i % customers)) + "\n")
    with extra.open("w", encoding="utf-8") as fh:
        for j, doc in enumerate(generate(more, seed=29, prefix="MORE")):
            fh.write(rq.canonical_json(customer_of(doc, (j % spread) * step)) + "\n")
    return base, extra


# --------------------------------------------------------------------------- databases


def active_rule_set(db: Path, env: dict[str, str], work: Path) -> str:
    _t, _m, text = run(reviewer(db, "rules", "list", "--format", "json", "--user", USER), env,
                       work / "rules.log")  # fmt: skip
    return ",".join(r["rule_set"] for r in json.loads(text) if r["state"] == "active")


def build(db: Path, v1: bool, base: Path, env: dict[str, str], work: Path) -> tuple[float, float, str]:
    """A new database (human-rights@1 made active first when v1), then the base import
    (timed). Returns (seconds, peak RSS MB, output of the import)."""
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    log = work / "build.log"
    run(reviewer(db, "db", "upgrade", "--user", USER), env, log)
    if v1:
        run(reviewer(db, "users", "add", "admin2", "--role", "admin", "--user", USER), env, log)
        run(reviewer(db, "rules", "import", str(V1), "--user", USER), env, log)
        run(reviewer(db, "rules", "propose", "human-rights@1", "--user", USER), env, log)
        run(reviewer(db, "rules", "approve", "human-rights@1", "--user", "admin2"), env, log)
    result = run(reviewer(db, "import", str(base), "--user", USER), env, log)
    con = sqlite3.connect(db)  # everything into the main file, so a copy of it is whole
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return result


def fresh_copy(src: Path, dst: Path) -> None:
    """A copy of the base, on disk before the import starts: a copy just written is dirty in
    the page cache, and the import's first checkpoint (its commit) would pay for flushing all
    of it (1.4 to 2 s for 900 MB here, in both A and B), which no user's database costs."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    if Path(f"{src}-wal").exists():
        shutil.copyfile(f"{src}-wal", f"{dst}-wal")
    for path in (dst, Path(f"{dst}-wal"), dst.parent):
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def drop(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


HR30 = ("exists (select 1 from json_each(r.evaluation, '$.findings') f "
        "where json_extract(f.value, '$.rule') = 'HR-30')")  # fmt: skip


def counts(db: Path, base: Path) -> dict[str, int]:
    """What the import of the new requests (references MORE-...) wrote on this copy of `base`."""
    con = sqlite3.connect(f"file:{db}", uri=True)  # URIs on, for the read-only ATTACH
    con.execute("ATTACH DATABASE ? AS base", (f"file:{base}?mode=ro",))

    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    out = {
        "new requests": one("select count(*) from requests where reference like 'MORE-%'"),
        "new with HR-30": one(f"select count(*) from requests r where reference like 'MORE-%' and {HR30}"),
        "events written": one("select count(*) from audit_events")
        - one("select count(*) from base.audit_events"),
        "reevaluate events": one("select count(*) from audit_events where action = 'reevaluate'")
        - one("select count(*) from base.audit_events where action = 'reevaluate'"),
        "customer_add events": one("select count(*) from audit_events where action = 'customer_add'")
        - one("select count(*) from base.audit_events where action = 'customer_add'"),
        "customers touched": one(
            "select count(distinct customer_id) from requests where reference like 'MORE-%'"),
        "stored requests changed": one(
            "select count(*) from requests r join base.requests b on b.id = r.id "
            "where r.evaluation is not b.evaluation"),
        "their recommendation changed": one(
            "select count(*) from requests r join base.requests b on b.id = r.id "
            "where r.recommendation is not b.recommendation"),
        "stored with HR-30 before": one(f"select count(*) from base.requests r where {HR30}"),
        "stored with HR-30 after": one(
            f"select count(*) from requests r where reference not like 'MORE-%' and {HR30}"),
    }  # fmt: skip
    con.close()
    return out


def base_counts(db: Path) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    out = {
        "requests": one("select count(*) from requests"),
        "customers": one("select count(*) from customers"),
        "events": one("select count(*) from audit_events"),
        "reevaluate events": one("select count(*) from audit_events where action = 'reevaluate'"),
        "with HR-30": one(f"select count(*) from requests r where {HR30}"),
    }
    con.close()
    return out


# --------------------------------------------------------------------------- main


def code_state() -> str:
    """The commit measured, and whether reviewer/ differs from it (others edit the checkout)."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "reviewer"],
                               capture_output=True, text=True, check=True).stdout.split("\n")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" with {len(changed)} uncommitted files in reviewer/: {', '.join(changed)}"
                   if changed else " (reviewer/ as committed)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--more", type=int, default=1_000)
    ap.add_argument("--spread", type=int, default=1_000, help="distinct customers of the new requests")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, help="data directory (default: a new one in /tmp); "
                    "base databases built there for the same sizes are reused")  # fmt: skip
    ap.add_argument("--profile", action="store_true", help="afterwards, cProfile one import on each")
    args = ap.parse_args()
    if not 0 < args.spread <= min(args.more, args.customers):
        raise SystemExit("--spread must be between 1 and both --more and --customers")
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewer-customers-"))
    work.mkdir(parents=True, exist_ok=True)
    env = child_env(work)
    print(f"data in {work}; load at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"code: {code_state()}")

    sizes = {k: getattr(args, k) for k in ("requests", "customers", "more", "spread")}
    marker = work / "sizes.json"
    db_a, db_b = work / "a.db", work / "b.db"
    reuse = marker.exists() and json.loads(marker.read_text()) == sizes and db_a.exists() and db_b.exists()
    base, extra = work / "base.jsonl", work / "more.jsonl"
    if not reuse:
        marker.unlink(missing_ok=True)
        t0 = time.perf_counter()
        base, extra = write_files(work, args.requests, args.customers, args.more, args.spread)
        print(f"generated {args.requests:,} requests over {args.customers:,} customers "
              f"({base.stat().st_size / 1e6:.0f} MB) and {args.more:,} more over "
              f"{args.spread:,} of them ({extra.stat().st_size / 1e6:.1f} MB) in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        for label, db, v1 in (("A (human-rights@2)", db_a, False), ("B (human-rights@1)", db_b, True)):
            took, peak, out = build(db, v1, base, env, work)
            print(f"base {label}: import of {args.requests:,} took {took:.2f} s, peak RSS "
                  f"{peak:.0f} MB ({out.splitlines()[-1]}); {db.stat().st_size / 1e6:.0f} MB")  # fmt: skip
        marker.write_text(json.dumps(sizes))
    else:
        print("reusing the base databases built earlier in this directory")
    active = {"A": active_rule_set(db_a, env, work), "B": active_rule_set(db_b, env, work)}
    print(f"active rule sets: A {active['A']}, B {active['B']}")
    if active != {"A": "human-rights@2", "B": "human-rights@1"}:
        raise SystemExit("the base databases do not have the expected active rule sets")
    for label, db in (("A", db_a), ("B", db_b)):
        print(f"base {label}: " + ", ".join(f"{k} {v:,}" for k, v in base_counts(db).items()))

    times: dict[str, list[float]] = {"A": [], "B": []}
    rss: dict[str, list[float]] = {"A": [], "B": []}
    found: dict[str, dict[str, int]] = {}
    copy = work / "run.db"
    for r in range(1, args.rounds + 1):
        for label, db in (("A", db_a), ("B", db_b)):
            fresh_copy(db, copy)
            took, peak, out = run(reviewer(copy, "import", str(extra), "--user", USER), env,
                                  work / f"import-{label}.log")  # fmt: skip
            times[label].append(took)
            rss[label].append(peak)
            load = os.getloadavg()[0]
            print(f"round {r} {label}: {took:.3f} s, peak RSS {peak:.0f} MB, load {load:.2f} "
                  f"({out.splitlines()[-1]})")  # fmt: skip
            if label not in found:
                found[label] = counts(copy, db)
            drop(copy)

    # What every child pays before it imports anything: start-up and opening the database.
    floor = []
    for _ in range(3):
        fresh_copy(db_a, copy)
        floor.append(run(reviewer(copy, "rules", "list", "--user", USER), env, work / "floor.log")[0])
        drop(copy)

    med = {k: statistics.median(v) for k, v in times.items()}
    start = statistics.median(floor)
    print()
    print(f"import of {args.more:,} requests of {args.spread:,} existing customers "
          f"({args.requests:,} stored over {args.customers:,} customers), "
          f"{args.rounds} rounds each:")  # fmt: skip
    for k, name in (("A", "human-rights@2"), ("B", "human-rights@1")):
        print(f"  {k} {name}: " + ", ".join(f"{t:.3f}" for t in times[k])
              + f" s; median {med[k]:.3f} s; peak RSS {max(rss[k]):.0f} MB")  # fmt: skip
    print(f"  ratio A/B of the medians: {med['A'] / med['B']:.2f}  (target at most 1.5)")
    print(f"  start-up floor (`reviewer rules list`, median of 3): {start:.3f} s; "
          f"without it: A {med['A'] - start:.3f} s, B {med['B'] - start:.3f} s, "
          f"ratio {(med['A'] - start) / max(med['B'] - start, 1e-9):.2f}")  # fmt: skip
    for k in ("A", "B"):
        print(f"  {k} wrote: " + ", ".join(f"{name} {v:,}" for name, v in found[k].items()))
    print(f"load at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if args.profile:
        for label, db in (("A", db_a), ("B", db_b)):
            prof = work / f"{label.lower()}.prof"
            fresh_copy(db, copy)
            took, _peak, _out = run([sys.executable, "-m", "cProfile", "-o", str(prof),
                                     *reviewer(copy, "import", str(extra), "--user", USER)[1:]],
                                    env, work / "profile.log")  # fmt: skip
            drop(copy)
            print(f"\nprofile of the import on {label} ({took:.2f} s under cProfile; {prof}):")
            stats = pstats.Stats(str(prof))
            stats.sort_stats("cumulative").print_stats(40)
            if label == "A":
                stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
