"""Faults that really happen: a full disk, a read-only database, a lock held too long, a kill
in the middle of a write. Each gives a clear error (exit 7) and leaves the database whole.
The program under test always runs as a process of its own (the in-process tests are
tests/unit/test_reliability.py)."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewer.services.importing import PARALLEL_BYTES
from tests.helpers.cli import ROOT, Cli
from tests.helpers.database import copy_database
from tests.helpers.documents import jsonl
from tests.helpers.workflow import ADMIN, JUST, ok


def reviewer(
    *args: str, db: Path, env: dict[str, str] | None = None, preexec=None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "reviewer", *args, "--database", f"sqlite:///{db}", "--user", ADMIN]
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        preexec_fn=preexec,
        check=False,
    )


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def mounted(tmp_path):
    """A small tmpfs of our own (root on this machine and in CI)."""
    point = tmp_path / "mnt"
    point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


# --------------------------------------------------------------------------- failing writes


def test_full_file_system(mounted, tmp_path, capsys):
    db = mounted / "r.db"
    ok(Cli(db, capsys), "seed-demo", "--count", "20", user=ADMIN)  # set-up, in-process
    before = count(db, "requests"), count(db, "audit_events")
    big = jsonl(tmp_path / "big.jsonl", 1000, seed=5, prefix="BIG", padded=True)  # 5 MB: over 3
    done = reviewer("import", str(big), db=db)
    assert done.returncode == 7, done.stderr
    assert "full" in done.stderr and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert (count(db, "requests"), count(db, "audit_events")) == before
    assert integrity(db) == "ok"
    assert reviewer("verify", db=db).returncode == 0


def test_file_size_limit(tmp_path, capsys):
    """The same through RLIMIT_FSIZE: the process may not grow any file past a limit."""
    db = tmp_path / "r.db"
    ok(Cli(db, capsys), "seed-demo", "--count", "20", user=ADMIN)  # set-up, in-process
    reviewer("db", "backup", str(tmp_path / "warm.db"), db=db)  # checkpoint the WAL
    limit = db.stat().st_size + 256 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    before = count(db, "requests")
    big = jsonl(tmp_path / "big.jsonl", 800, seed=6, prefix="BIG")  # 1.1 MB: over 256 KB
    done = reviewer("import", str(big), db=db, preexec=cap)
    assert done.returncode == 7, done.stderr
    assert "Traceback" not in done.stderr
    assert count(db, "requests") == before and integrity(db) == "ok"


def test_read_only_database(mounted, capsys):
    db = mounted / "r.db"
    ok(Cli(db, capsys), "seed-demo", "--count", "5", user=ADMIN)  # set-up, in-process
    assert reviewer("db", "backup", str(mounted / "checkpointed.db"), db=db).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    done = reviewer("claim", "DEMO-000001", db=db)
    assert done.returncode == 7, done.stderr
    assert "read-only" in done.stderr and "Traceback" not in done.stderr
    subprocess.run(["mount", "-o", "remount,rw", str(mounted)], check=True)
    shown = reviewer("show", "DEMO-000001", "--format", "json", db=db)
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "new"


def test_database_locked_past_the_timeout(tmp_path, capsys):
    db = tmp_path / "r.db"
    ok(Cli(db, capsys), "seed-demo", "--count", "5", user=ADMIN)  # set-up, in-process
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        started = time.monotonic()
        done = reviewer("claim", "DEMO-000001", db=db, env={"REVIEWER_BUSY_TIMEOUT_MS": "700"})
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 7, done.stderr
    assert "locked" in done.stderr and "Traceback" not in done.stderr
    assert waited >= 0.7
    assert reviewer("claim", "DEMO-000001", db=db).returncode == 0  # fine once it is released


# --------------------------------------------------------------------------- backup, restore


def test_backup_and_restore(tmp_path, capsys):
    db = tmp_path / "r.db"
    ok(Cli(db, capsys), "seed-demo", "--count", "30", "--decisions", "10", user=ADMIN)  # set-up, in-process
    backup = tmp_path / "copy.db"
    done = reviewer("db", "backup", str(backup), db=db)
    assert done.returncode == 0, done.stderr
    assert reviewer("db", "backup", str(backup), db=db).returncode == 7  # never overwrites
    more = jsonl(tmp_path / "more.jsonl", 10, seed=3, prefix="MORE")
    assert reviewer("import", str(more), db=db).returncode == 0
    assert count(db, "requests") == 40
    done = reviewer("db", "restore", str(backup), db=db)
    assert done.returncode == 0, done.stderr
    assert "verify: OK" in done.stdout
    assert count(db, "requests") == 30
    assert reviewer("verify", db=db).returncode == 0
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all" * 100)
    done = reviewer("db", "restore", str(bogus), db=db)
    assert done.returncode == 7 and count(db, "requests") == 30


# --------------------------------------------------------------------------- kills


def _wal_size(db: Path) -> int:
    try:
        return Path(f"{db}-wal").stat().st_size
    except FileNotFoundError:
        return 0


def _import_watched(src: Path, db: Path, kill_at_wal: int | None = None, kill_after: float | None = None
                    ) -> tuple[subprocess.Popen[bytes], bool, int]:  # fmt: skip
    """`reviewer import SRC` as a process group of its own, its database's write-ahead log
    watched every 2 ms: killed (-9, the importer and its workers) once that log has grown to
    `kill_at_wal` bytes (the one transaction is that far written) or `kill_after` seconds have
    passed. Whether it had finished first, and the largest log size seen."""
    argv = [sys.executable, "-m", "reviewer", "import", str(src), "--database", f"sqlite:///{db}",
            "--user", ADMIN]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    started, largest = time.monotonic(), 0
    while proc.poll() is None:
        largest = max(largest, _wal_size(db))
        late = kill_after is not None and time.monotonic() - started >= kill_after
        if late or (kill_at_wal is not None and largest >= kill_at_wal):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return proc, False, largest
        if time.monotonic() - started > 300:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"reviewer import {src} took over 300 s")
        time.sleep(0.002)
    return proc, True, largest


@pytest.mark.slow
def test_kill_during_a_large_import(tmp_path, capsys):
    """kill -9 at six moments of a 1,000-request import (5 MB, over the size that brings in
    worker processes, stored in one transaction): none or all of it. Two kills come early, by
    the clock (start-up, reading and validating); four come while the transaction is being
    written, when the write-ahead log has grown to 15%, 35%, 55% and 75% of the size the whole
    import gives it (so they land inside the transaction however busy the machine is)."""
    src = jsonl(tmp_path / "large.jsonl", 1_000, seed=9, prefix="KILL", padded=True)
    base = tmp_path / "base.db"
    ok(Cli(base, capsys), "seed-demo", "--count", "10", user=ADMIN)  # set-up, in-process
    timing = copy_database(base, tmp_path / "timing.db")
    started = time.monotonic()
    proc, finished, wal = _import_watched(src, timing)
    measured = time.monotonic() - started
    assert finished and proc.returncode == 0 and count(timing, "requests") == 1_010
    assert src.stat().st_size > PARALLEL_BYTES
    assert wal > 1_000_000, wal  # the transaction spills to the log as it is written
    moments: list[dict[str, float]] = [{"kill_after": measured * f} for f in (0.1, 0.25)]
    moments += [{"kill_at_wal": wal * f} for f in (0.15, 0.35, 0.55, 0.75)]
    outcomes = []
    for i, moment in enumerate(moments):
        db = copy_database(base, tmp_path / f"k{i}.db")
        _proc, finished, _seen = _import_watched(src, db, **moment)  # type: ignore[arg-type]
        assert integrity(db) == "ok"
        n = count(db, "requests")
        assert n in (10, 1_010), n  # none or all of that import
        code, _out, err = Cli(db, capsys)("verify", user=ADMIN)
        assert code == 0, err
        outcomes.append("finished" if finished else ("all" if n == 1_010 else "none"))
    print(f"import measured at {measured:.1f} s, log {wal:,} bytes; kill outcomes: {outcomes}")
    # The kills inside the transaction leave nothing of it (one could only meet the commit).
    assert outcomes[2:].count("none") >= 3, outcomes


@pytest.mark.slow
def test_kill_while_a_decision_is_written(tmp_path, capsys):
    """The killed `reviewer return` runs as a program of its own; the set-up and the checks
    after each kill run in this process (they are not what is tested)."""
    base = tmp_path / "base.db"
    ok(Cli(base, capsys), "seed-demo", "--count", "20", user=ADMIN)  # set-up, in-process
    for i in range(11):
        assert Cli(base, capsys)("claim", f"DEMO-{i + 1:06d}", user=ADMIN)[0] == 0
    timing = copy_database(base, tmp_path / "timing.db")
    started = time.monotonic()
    assert reviewer("return", "DEMO-000011", "--reason", JUST, db=timing).returncode == 0
    measured = time.monotonic() - started
    outcomes = []
    for i in range(6):
        db = copy_database(base, tmp_path / f"d{i}.db")
        cli = Cli(db, capsys)
        ref = f"DEMO-{i + 1:06d}"
        argv = [
            sys.executable,
            "-m",
            "reviewer",
            "return",
            ref,
            "--reason",
            JUST,
            "--database",
            f"sqlite:///{db}",
            "--user",
            ADMIN,
        ]
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(measured * (0.55 + 0.05 * i))  # the second half: the checks and the write
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        assert integrity(db) == "ok"
        decisions = count(db, "decisions")
        assert decisions in (0, 1)
        code, out, err = cli("show", ref, "--format", "json", user=ADMIN)
        assert code == 0, err
        assert json.loads(out)["status"] == ("returned" if decisions else "in_review")
        code, _out, err = cli("verify", user=ADMIN)
        assert code == 0, err
        outcomes.append(decisions)
    print(f"return measured at {measured:.2f} s; kills: {outcomes.count(0)} before the commit, "
          f"{outcomes.count(1)} after")  # fmt: skip
