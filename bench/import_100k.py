"""Import benchmark: generate N requests as JSONL, then import them in a child process, and
beside it, in the same run, the anchor: a bare `sqlite3` executemany of the same rows into
the same schema.

Prints requests per second (validation, evaluation under the active rule set, customer
matching and totals, storing, audit events: the whole `reviewer import` command, start-up
included), the peak resident memory of the importing process, and the anchor: the rows the
import wrote (requests, their versions, audit events with their hashes, customers and their
match keys), read back into memory, then written by plain `executemany` into a new database
of the same schema (`reviewer db upgrade`, every index) in one transaction with the pragmas
Reviewer uses (WAL, synchronous NORMAL), timed from BEGIN to COMMIT. Target (issue 18): the
import at most 1.5x the anchor. Rounds alternate import, anchor, import, anchor.

Usage: python bench/import_100k.py [N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer import request as rq
from reviewer.demo import generate

TABLES = ("customers", "customer_keys", "requests", "request_versions", "audit_events")


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def upgrade(db: Path, env: dict[str, str]) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "reviewer", "db", "upgrade", "--database", f"sqlite:///{db}"],
                   check=True, env=env, capture_output=True)  # fmt: skip
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    fsync(db)


def rows_of(db: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """What the import wrote, table by table (columns, rows in the order of their key)."""
    con = sqlite3.connect(db)
    out = {}
    for table in TABLES:
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        first = "seq" if table == "audit_events" else cols[0]
        out[table] = (cols, con.execute(f"select {', '.join(cols)} from {table} order by {first}").fetchall())
    con.close()
    return out


def anchor(db: Path, rows: dict[str, tuple[list[str], list[tuple]]]) -> float:
    """The same rows by bare executemany into a new database of the same schema; seconds."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    existing = {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for table in TABLES:
        cols, values = rows[table]
        if existing[table]:  # the bootstrap event of `db upgrade`: keep it, add the rest
            key = 0 if table != "audit_events" else cols.index("seq")
            have = {r[0] for r in con.execute(f"select {cols[key]} from {table}")}
            values = [v for v in values if v[key] not in have]
        marks = ", ".join("?" * len(cols))
        con.executemany(f"insert into {table} ({', '.join(cols)}) values ({marks})", values)
    con.execute("COMMIT")
    took = time.perf_counter() - t0
    con.close()
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = args.n
    work = Path(tempfile.mkdtemp(prefix="reviewer-bench-"))
    src = work / "requests.jsonl"
    t0 = time.perf_counter()
    with src.open("w", encoding="utf-8") as fh:
        for doc in generate(n, seed=11):
            fh.write(rq.canonical_json(doc) + "\n")
    gen = time.perf_counter() - t0
    size = src.stat().st_size / 1e6
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "REVIEWER_DATABASE_URL")}  # fmt: skip
    env.update(XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    print(f"requests:            {n:,} ({size:.1f} MB JSONL, generated in {gen:.1f} s); "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    imports, anchors = [], []
    db, bare = work / "bench.db", work / "bare.db"
    rows = None
    for r in range(1, args.rounds + 1):
        upgrade(db, env)  # the database first, so the timed run is the import alone
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "reviewer", "import", str(src), "--database",
                                 f"sqlite:///{db}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        _pid, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - t0
        out, err = proc.communicate()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(err)
        imports.append(took)
        print(f"round {r} import:      {took:.2f} s ({out.strip()}), {n / took:,.0f} requests per second, "
              f"peak RSS {usage.ru_maxrss / 1024:.0f} MB")  # fmt: skip
        if rows is None:
            rows = rows_of(db)
            print("rows written:        " + ", ".join(f"{t} {len(v):,}" for t, (_c, v) in rows.items()))
            print(f"database size:       {db.stat().st_size / 1e6:.0f} MB")
        upgrade(bare, env)
        anchors.append(anchor(bare, rows))
        print(f"round {r} anchor:      {anchors[-1]:.2f} s (bare sqlite3 executemany of the same rows)")
    imp, anc = statistics.median(imports), statistics.median(anchors)
    print(f"import median {imp:.2f} s, anchor median {anc:.2f} s: ratio {imp / anc:.2f} "
          f"(target: at most 1.5); load {os.getloadavg()[0]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
