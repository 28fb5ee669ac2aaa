"""Hostile input that needs real processes: FIFOs and devices (which would hang or never end),
output piped into `head`, full and read-only disks (a tiny tmpfs when this runs as root, else
RLIMIT_FSIZE), and the memory and time that an import and a rule set at their limits take.
Each ends in a clear error with the exit code of cli.md, or succeeds within its bounds;
nothing is logged as a bug. (The in-process cases: tests/unit/test_hostile_input.py.)"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewer import request as rq
from reviewer.demo import generate
from reviewer.rules.lang import MAX_TERMS
from tests.helpers.cli import Cli
from tests.helpers.database import copy_database
from tests.helpers.documents import demo_docs
from tests.helpers.workflow import ok

MB = 1024 * 1024
GOOD = {"reference": "GOOD-1", "received_on": "2026-11-20", "customer": {"name": "Harbour Ltd"}}


class Home:
    """A data and a config folder of its own, and `reviewer` run as a process in them."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        self.env = {
            **os.environ,
            "XDG_DATA_HOME": str(root / "data"),
            "XDG_CONFIG_HOME": str(root / "config"),
        }
        for key in ("REVIEWER_DATABASE_URL", "REVIEWER_USER"):
            self.env.pop(key, None)
        self.db = root / "reviewer.db"
        self.url = f"sqlite:///{self.db}"

    def run(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None, **kwargs
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reviewer", *args, "--database", self.url],
                              capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})}, **kwargs)  # fmt: skip

    def ok(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        done = self.run(*args, **kwargs)
        assert done.returncode == 0, done.stderr
        return done

    def setup(self, *args: str) -> str:
        """A set-up command, not what the test is about: run in this process, which saves a
        start-up, and returns what it printed."""
        return ok(Cli(self.db, self.capsys), *args, user=None)

    def no_bug_logged(self) -> None:
        log = self.root / "data" / "reviewer" / "reviewer.log"
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        assert "Traceback" not in text and "unexpected error" not in text, text


@pytest.fixture
def home(tmp_path, capsys) -> Home:
    return Home(tmp_path, capsys)


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def refused(home: Home, code: int, *args: str, expect: str | tuple[str, ...], timeout: float = 60) -> str:
    """Run a command that must fail with `code` and say `expect` (each part), writing nothing
    and logging no bug."""
    before = dump(home.db) if home.db.exists() else None
    done = home.run(*args, timeout=timeout)
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    for part in (expect,) if isinstance(expect, str) else expect:
        assert part in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr
    if before is not None:
        assert dump(home.db) == before
    home.no_bug_logged()
    return done.stderr


# --------------------------------------------------------------------------- FIFOs, devices


def test_a_fifo_is_refused_at_once_without_taking_the_write_lock(home, tmp_path):
    home.setup("seed-demo", "--count", "3")
    fifo = tmp_path / "requests.jsonl"
    os.mkfifo(fifo)
    # Another writer holds the write lock: an import that took it (or waited for it) first
    # would time out (exit 7); one that checks its files first refuses the FIFO at once.
    holder = sqlite3.connect(home.db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        done = home.run("import", str(fifo), timeout=60, env={"REVIEWER_BUSY_TIMEOUT_MS": "300"})
        assert time.monotonic() - started < 30
        assert done.returncode == 3, done.stderr
        assert done.stderr == f"{fifo}: not a regular file (a FIFO)\n"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    before = dump(home.db)
    err = refused(
        home,
        3,
        "import",
        str(fifo),
        str(tmp_path / "missing.json"),
        expect=f"{fifo}: not a regular file (a FIFO)",
    )
    assert err.splitlines()[1] == f"{tmp_path / 'missing.json'}: cannot read: No such file or directory"
    assert dump(home.db) == before
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    assert "imported 1 new" in home.ok("import", str(good)).stdout  # no lock was left behind
    refused(home, 3, "evaluate", str(fifo), expect=f"{fifo}: not a regular file (a FIFO)")


def test_fifos_and_devices_as_rule_sets_and_requests_are_refused(home, tmp_path):
    home.setup("seed-demo", "--count", "2")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    fifo = tmp_path / "rules.toml"
    os.mkfifo(fifo)
    zero_toml, zero_json, zero_csv = (tmp_path / "zero.toml", tmp_path / "zero.json",
                                      tmp_path / "zero.csv")  # fmt: skip
    for link in (zero_toml, zero_json, zero_csv):
        link.symlink_to("/dev/zero")
    for args, expect in (
        (("rules", "check", str(fifo)), (f"{fifo}: ", "FIFO")),
        (("rules", "import", str(fifo)), (f"{fifo}: ", "FIFO")),
        (("evaluate", str(good), "--rules", str(fifo)), (f"{fifo}: ", "FIFO")),
        (("rules", "check", str(zero_toml)), (f"{zero_toml}: ", "character device")),
        (("import", str(zero_json)), f"{zero_json}: not a regular file (a character device)"),
        (("import", str(zero_csv)), f"{zero_csv}: not a regular file (a character device)"),
        (("evaluate", str(zero_json)), f"{zero_json}: not a regular file (a character device)"),
    ):
        err = refused(home, 3, *args, expect=expect, timeout=30)
        assert len(err.splitlines()) == 1


def test_a_sparse_file_over_the_limit_is_refused_instantly(home, tmp_path):
    home.setup("seed-demo", "--count", "2")
    big = tmp_path / "big.jsonl"
    subprocess.run(["truncate", "-s", "300M", str(big)], check=True)
    started = time.monotonic()
    err = refused(home, 3, "import", str(big), expect="", timeout=30)
    assert time.monotonic() - started < 10  # the time to start Python; nothing is read
    assert err == f"{big}: 300 MB is over the import limit of 256 MB (setting max_import_mb)\n"


# --------------------------------------------------------------------------- memory

# The peak of this process's own memory: VmHWM, since ru_maxrss of a process started by
# pytest counts pytest's memory too (the fork before exec); its workers' ru_maxrss count only
# this process's memory as they start (getrusage).
PEAK = """
import resource
def peak_kb():
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

RSS_SCRIPT = (
    PEAK
    + """
import json, sys
from reviewer.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "self": peak_kb(),
                  "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}),
      file=sys.stderr)
"""
)


def peak_rss(home: Home, script: Path, *args: str) -> dict[str, int]:
    """Peak resident memory (kB) of a command run in a process of its own, and of its worker
    processes; the command must succeed."""
    done = subprocess.run(
        [sys.executable, str(script), *args, "--database", home.url],
        capture_output=True,
        text=True,
        timeout=300,
        env=home.env,
    )
    result = json.loads(done.stderr.strip().splitlines()[-1])
    assert result["code"] == 0, done.stderr
    return result


def test_an_import_just_under_the_limit_stays_under_three_times_the_limit(home, tmp_path):
    limit = 5
    script = tmp_path / "rss.py"
    script.write_text(RSS_SCRIPT)
    lines, size = [], 0
    for d in generate(20_000, seed=5, prefix="M"):
        text = rq.canonical_json(d)
        if size + len(text) + 2 > 4.9 * MB:
            break
        lines.append(text)
        size += len(text) + 1
    jsonl, array, small = tmp_path / "big.jsonl", tmp_path / "big.json", tmp_path / "small.jsonl"
    jsonl.write_text("".join(t + "\n" for t in lines))
    array.write_text("[" + ",".join(lines) + "]")
    small.write_text(lines[0] + "\n")
    assert 4.5 * MB < jsonl.stat().st_size < limit * MB and array.stat().st_size < limit * MB
    home.setup("seed-demo", "--count", "1")
    home.setup("settings", "set", "max_import_mb", str(limit))
    base = copy_database(home.db, tmp_path / "base.db")
    peaks = {}
    for f in (small, jsonl, array):
        home.db.unlink()
        copy_database(base, home.db)
        peaks[f.name] = peak_rss(home, script, "import", str(f))
    baseline = peaks["small.jsonl"]["self"]
    for name in ("big.jsonl", "big.json"):  # a large import runs on worker processes too
        for who in ("self", "children"):
            grew = (peaks[name][who] - baseline) / 1024
            # 3x the limit, and 5 MB more in this process for the customers' re-evaluation
            # at the end of the import (HR-30 reads customer totals): measured 14 to 18 MB.
            allowed = 3 * limit + (5 if who == "self" else 0)
            assert grew < allowed, (name, who, grew, peaks)
    home.no_bug_logged()


COMPILE_SCRIPT = (
    PEAK
    + """
import json, sys, time
from reviewer.rules import load_text
text = open(sys.argv[1], encoding="utf-8").read()
started = time.perf_counter()
rs = load_text(text)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "rss_mb": peak_kb() / 1024, "rules": len(rs.rules)}))
"""
)


def _rule_set(whens: list[str]) -> str:
    return 'id = "t"\nversion = 1\n' + "".join(
        f'[[rules]]\nid = "R-{i}"\ntitle = "x"\noutcome = "escalate_second"\nsource = "s"\n'
        f"when = {json.dumps(w)}\n"
        for i, w in enumerate(whens)
    )


def _tree(fanouts: list[int], ops: list[str], atoms: Iterator[str]) -> str:
    if not fanouts:
        return next(atoms)
    return "(" + f" {ops[0]} ".join(_tree(fanouts[1:], ops[1:], atoms) for _ in range(fanouts[0])) + ")"


def _atoms() -> Iterator[str]:
    while True:
        yield from (
            "scale.cameras > 3",
            "customer.is_reseller = true",
            "use.real_time = 'real_time'",
            "'identification' in use.operations",
        )


def compile_in_a_process(tmp_path: Path, name: str, text: str) -> dict[str, float]:
    script = tmp_path / "compile.py"
    script.write_text(COMPILE_SCRIPT)
    source = tmp_path / f"{name}.toml"
    source.write_text(text)
    done = subprocess.run(
        [sys.executable, str(script), str(source)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("op", ["and", "or"])
def test_a_chain_at_the_term_limit_compiles_in_well_under_a_second_and_300_mb(tmp_path, op):
    when = f" {op} ".join(f"scale.cameras > {i}" for i in range(MAX_TERMS))
    got = compile_in_a_process(tmp_path, op, _rule_set([when]))
    assert got["seconds"] < 1.0 and got["rss_mb"] < 300, got


@pytest.mark.parametrize("shape", ["31x64", "2x2x2x2x2", "8x8x31", "many-rules"])
def test_a_rule_set_at_its_limits_compiles_in_bounded_time_and_memory(tmp_path, shape):
    """The worst shapes within the loader's limits (a condition of 2,000 terms, nesting at
    which generated code grows fastest, the most terms a rule set may hold)."""
    if shape == "many-rules":
        text = _rule_set([_tree([2, 2, 2, 2, 2], ["or", "and"] * 3, _atoms()) for _ in range(150)])
    else:
        fanouts = [int(x) for x in shape.split("x")]
        text = _rule_set([_tree(fanouts, ["or", "and"] * 4, _atoms())] * 2)
    got = compile_in_a_process(tmp_path, shape, text)
    assert got["seconds"] < 8 and got["rss_mb"] < 400, got


def test_a_large_json_array_with_fractions_imports_on_worker_processes(home, tmp_path):
    """Records of a file over the size that brings in worker processes travel to them; a
    fraction written 0.9 (which remembers how it was written) once killed every worker, and
    the import waited for them forever, holding the write lock."""
    docs = list(demo_docs(1000, seed=8, prefix="F", padded=True))
    for d in docs:
        d.setdefault("safeguards", {})["match_threshold"] = 0.9
    array = tmp_path / "fractions.json"
    array.write_text(json.dumps(docs))
    assert array.stat().st_size > 4_000_000  # importing.PARALLEL_BYTES
    home.setup("seed-demo", "--count", "1")
    done = home.run("import", str(array), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "imported 1000 new" in done.stdout
    stored = set(home.ok("export", "--format", "jsonl").stdout.splitlines())
    assert {rq.canonical_json(rq.validate(d)[0]) for d in docs} <= stored  # read exactly
    home.no_bug_logged()


# --------------------------------------------------------------------------- broken pipes


def first_line_then_close(home: Home, *args: str) -> tuple[int, str, str]:
    """`reviewer ARGS | head -1`: read one line, close the pipe, let the writer finish."""
    with subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args, "--database", home.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=home.env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline().decode()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        return proc.wait(timeout=120), line, err


def test_output_piped_into_head_is_a_quiet_exit(home, tmp_path):
    home.setup("seed-demo", "--count", "250")
    requests = tmp_path / "many.jsonl"
    requests.write_text(home.setup("export", "--format", "jsonl"))
    assert requests.stat().st_size > 256 * 1024  # more than any pipe holds
    for args in (
        ("export", "--format", "jsonl"),
        ("export", "--format", "json"),
        ("export", "--format", "csv"),
        ("evaluate", "--format", "json", str(requests)),
        ("evaluate", "--format", "text", str(requests)),
    ):
        code, line, err = first_line_then_close(home, *args)
        assert line, args
        assert code == 0, (args, err)
        assert err == "", (args, err)  # not even "Exception ignored ... BrokenPipeError"
    home.no_bug_logged()


def test_the_shell_pipe_into_head_exits_quietly(home):
    home.setup("seed-demo", "--count", "400")
    script = (
        f"{sys.executable} -m reviewer export --format jsonl --database {home.url} "
        "2>err.txt | head -1 >/dev/null; echo ${PIPESTATUS[0]}"
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=home.root, env=home.env, timeout=120
    )
    assert done.stdout.strip() == "0", done
    assert (home.root / "err.txt").read_text() == ""
    home.no_bug_logged()


# --------------------------------------------------------------------------- full disks


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[bool]:
    """A tmpfs mounted at `path` (root only); yields whether it could be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True).returncode == 0  # fmt: skip
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def _limit_file_size(size: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails: EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def run_on_a_full_disk(home: Home, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with `folder` on a 64 kB file system, or (not root) with 64 kB as the largest file
    the process may write."""
    with tmpfs(folder, "size=64k") as mounted:
        if mounted:
            return home.run(*args)
        return home.run(*args, preexec_fn=_limit_file_size(64 * 1024))


def _no_part_left(folder: Path) -> None:
    if folder.exists():
        assert [p.name for p in folder.iterdir() if p.name.endswith(".part")] == []


def test_export_to_a_full_disk_is_exit_7_and_leaves_nothing(home, tmp_path):
    home.setup("seed-demo", "--count", "200")
    before = dump(home.db)
    folder = tmp_path / "full"
    out = folder / "requests.jsonl"
    done = run_on_a_full_disk(home, folder, "export", "--format", "jsonl", "--out", str(out))
    assert done.returncode == 7, done.stderr
    assert done.stderr.startswith(f"reviewer: cannot write {out}: ")
    assert "nothing was written" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not out.exists()
    _no_part_left(folder)
    assert dump(home.db) == before
    home.no_bug_logged()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pdf_export_to_a_full_disk_is_exit_7_and_leaves_no_part(home, tmp_path, jobs):
    home.setup("seed-demo", "--count", "12", "--decisions", "8")
    folder = tmp_path / "full"
    done = run_on_a_full_disk(
        home, folder, "export-pdf", "--all-decided", "--out", str(folder), "--jobs", jobs
    )
    assert done.returncode == 7, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"reviewer: cannot write {folder}/") and "nothing was written" in last
    _no_part_left(folder)
    for pdf in folder.glob("*.pdf") if folder.exists() else ():
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")  # whole
    home.no_bug_logged()


def test_export_to_a_read_only_folder_is_exit_7(home, tmp_path):
    home.setup("seed-demo", "--count", "12", "--decisions", "4")
    folder = tmp_path / "read-only"
    with tmpfs(folder, "ro,size=64k") as mounted:
        if not mounted:
            if os.geteuid() == 0:
                pytest.skip("root writes anywhere, and this system cannot mount a tmpfs")
            folder.chmod(0o500)
        out = folder / "requests.jsonl"
        done = home.run("export", "--format", "jsonl", "--out", str(out))
        assert done.returncode == 7, done.stderr
        assert done.stderr.startswith(f"reviewer: cannot write {out}: ")
        done = home.run("export-pdf", "--all-decided", "--out", str(folder))
        assert done.returncode == 7, done.stderr
        assert "reviewer: cannot write " in done.stderr
        _no_part_left(folder)
        assert list(folder.iterdir()) == []
    home.no_bug_logged()
