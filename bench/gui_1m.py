"""The queue at a million requests (SQLite): python bench/gui_1m.py [N] [--keep DIR]

Seeds a real demo database of 20,000 requests (`seed-demo`: accounts, rule set, versions,
decisions, audit chain), then copies its request rows in SQL until the queue holds N (default
1,000,000): each copy a request of its own (reference, received date, customer, status,
recommendation, assignee, search key as the original's) with a short stand-in document. The
queue reads only those columns, so it works on them as on a million imported requests; the
copies have no versions or audit events, so the window's start-up verify finds them and
opens the database read-only (its banner says so); the sorts and searches are measured once
that verify has finished (its time is printed), as a day's work goes on after it.

Prints, each beside its target:
- process start to the first rows (`--screenshot`, measured by the child): under 2 s;
- a sort by each column, 5 times each, and a search keystroke (debounce included) for several
  words, 5 times each: 50th and 95th percentiles, under 300 ms at the 95th;
- the GUI process's peak resident memory: under 400 MB.
`--keep DIR` keeps (and reuses) the seeded database in DIR.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
SEED = 20_000
COPIED = ("received_on", "title", "customer_name", "country", "org_type", "status", "recommendation",
          "assignee_id", "updated_at", "version", "document_sha256", "rule_set_pk")  # fmt: skip


def seed(db: Path, n: int, env: dict[str, str]) -> None:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reviewer", "seed-demo", "--count", str(min(n, SEED)),
                    "--decisions", str(min(n, SEED) // 50), "--database", f"sqlite:///{db}"],
                   check=True, env=env, capture_output=True, cwd=ROOT)  # fmt: skip
    conn = sqlite3.connect(db)
    have = conn.execute("select count(*) from requests").fetchone()[0]
    columns = ", ".join(COPIED)
    copy = 0
    while have < n:
        copy += 1
        step = min(have, n - have)
        # Each copy: a reference and search key of its own, the original's other columns.
        conn.execute(
            f"insert into requests (reference, search_key, document, {columns}) "
            f"select reference || '-C{copy}', replace(search_key, lower(reference), "
            f"lower(reference) || '-c{copy}'), '{{}}', {columns} from requests "
            f"where id <= ?",
            (step,),
        )
        conn.commit()
        have = conn.execute("select count(*) from requests").fetchone()[0]
    conn.execute("analyze")
    conn.commit()
    conn.close()
    print(f"seeded {n:,} requests ({min(n, SEED):,} by seed-demo, the rest copied) in "
          f"{time.perf_counter() - t0:.0f} s; database {db.stat().st_size / 1e9:.2f} GB")  # fmt: skip


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.0f} ms, p95 {p95:6.0f} ms, max {ordered[-1]:6.0f} ms"


def main() -> None:
    args = sys.argv[1:]
    keep = Path(args[args.index("--keep") + 1]) if "--keep" in args else None
    numbers = [a for a in args if a.isdigit()]
    n = int(numbers[0]) if numbers else 1_000_000
    work = keep or Path(tempfile.mkdtemp(prefix="reviewer-gui-1m-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"queue-{n}.db"
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work), HOME=str(work))
    if not db.exists():
        seed(db, n, env)
    url = f"sqlite:///{db}"

    # 1. Process start to the first rows (the child measures from its own start).
    shown = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "main.py", "--database", url, "--screenshot",
                              str(work / "shot.png")], env=env, capture_output=True, text=True,
                             cwd=ROOT, check=False)  # fmt: skip
        line = next((x for x in out.stdout.splitlines() if x.startswith("queue shown")), out.stderr[-300:])
        shown.append(line)
    print("process start to first rows (target under 2 s):")
    for line in shown:
        print("  ", line)

    # 2. Sorts and searches in this process, through the real widgets.
    os.environ.update(XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from reviewer.context import open_context
    from reviewer.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(open_context(url, os.environ.get("USER", "root"), write=True))
    window.resize(1280, 800)
    window.show()

    def wait_loaded() -> None:
        loop = QEventLoop()
        window.loaded.connect(loop.quit)
        QTimer.singleShot(60_000, loop.quit)
        loop.exec()
        window.loaded.disconnect(loop.quit)
        window.table.viewport().repaint()  # the rows on screen are painted
        app.processEvents()

    started = time.perf_counter()
    wait_loaded()
    # The start-up verify runs on a worker; a day's work goes on after it: wait for it.
    loop = QEventLoop()
    window.checked.connect(loop.quit)
    QTimer.singleShot(1_800_000, loop.quit)
    if window.read_only is None:
        loop.exec()
    print(f"start-up verify done {time.perf_counter() - started:.1f} s after the window opened "
          f"({'read only: ' + window.read_only[:80] if window.read_only else 'verified'})")  # fmt: skip
    header = window.table.horizontalHeader()
    sorts: list[float] = []
    for _round in range(5):
        for col in range(header.count()):
            order = Qt.SortOrder.AscendingOrder if _round % 2 == 0 else Qt.SortOrder.DescendingOrder
            start = time.perf_counter()
            header.setSortIndicator(col, order)
            wait_loaded()
            sorts.append((time.perf_counter() - start) * 1000)
    print(f"sort by a column, {len(sorts)} sorts (target p95 under 300 ms): {percentiles(sorts)}")
    header.setSortIndicator(5, Qt.SortOrder.DescendingOrder)
    wait_loaded()
    searches: list[float] = []
    for _round in range(5):
        for text in ("mu", "mül", "müller", "demo-00012", "harbour", "zz"):
            window.search.setText("")
            wait_loaded()
            start = time.perf_counter()
            window.search.setText(text)  # one keystroke; the 100 ms debounce is included
            wait_loaded()
            searches.append((time.perf_counter() - start) * 1000)
    print(f"search keystroke to its results, debounce included, {len(searches)} searches "
          f"(target p95 under 300 ms; at 100,000 under 150 ms): {percentiles(searches)}")  # fmt: skip
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"GUI process peak resident memory (target under 400 MB): {rss:.0f} MB")
    window.runner.wait(120_000)


if __name__ == "__main__":
    main()
