"""Signed decision records: milliseconds per record, rendered and signed, beside a bare
ReportLab document of the same pages, in one run and one process.

    python bench/sign_records.py [N]      (default 200 records)

It then runs itself again without ReportLab's C accelerator (rl-accel blocked from import)
and prints the export time with the accelerator as a ratio of the time without it.

Seeds demo decisions in a temporary database, reads N final decisions' records, then times
for each record: (a) a bare ReportLab document with the same number of pages (one paragraph
of the record's text per page, the same fonts), (b) the record rendered (`export.pdf`),
(c) rendered and signed (`export.signing`, the key loaded once, as an export worker does).
Prints median and p95 of each. Target: (c) under 40 ms.
"""

from __future__ import annotations

import sys

if "--no-accel" in sys.argv:  # before ReportLab is imported: its pure-Python functions instead
    sys.modules["_rl_accel"] = None  # type: ignore[assignment]

import io
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from reviewer.export import pdf, signing
from reviewer.models.db import Database
from reviewer.services.records import decision_record, select_decisions


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 200
    work = Path(tempfile.mkdtemp(prefix="reviewer-sign-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    env = dict(os.environ, XDG_DATA_HOME=str(work), XDG_CONFIG_HOME=str(work))
    seed = ["seed-demo", "--count", str(n * 3), "--decisions", str(int(n * 1.6)), "--database", url]
    subprocess.run([sys.executable, "-m", "reviewer", *seed], env=env, check=True, capture_output=True)
    db = Database(url)
    with db.read() as session:
        rows = select_decisions(session, [], True)[:n]
        records = [decision_record(session, i) for i, _r, _n in rows]
    db.dispose()
    p12, _cert = signing.make_key("Benchmark Office", b"bench-passphrase")
    key = signing.load_key(p12, b"bench-passphrase", "bench")
    pdf._fonts()
    styles = pdf._styles()
    pages = [len(PdfReader(io.BytesIO(pdf.render_bytes(r))).pages) for r in records[:20]]
    page_count = round(statistics.mean(pages))

    def bare(record: dict) -> bytes:
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=A4)
        story = []
        for i in range(page_count):
            story.append(Paragraph(pdf.text(record["justification"]) * 3, styles["body"]))
            if i < page_count - 1:
                story.append(PageBreak())
        doc.build(story)
        return buf.getvalue()

    def render(record: dict) -> bytes:
        return pdf.render_bytes(record)

    def render_and_sign(record: dict) -> bytes:
        return signing.sign(pdf.render_bytes({**record, "certificate": key.fingerprint}), key)

    results = {}
    for name, fn in (("bare ReportLab, same pages", bare), ("record rendered", render),
                     ("record rendered and signed", render_and_sign)):  # fmt: skip
        fn(records[0])  # the first call loads fonts and caches
        times = []
        for r in records:
            t0 = time.perf_counter()
            fn(r)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        results[name] = (statistics.median(times), times[int(0.95 * (len(times) - 1))])
    from reportlab.lib import rl_accel

    accel = "with" if rl_accel._c_funcs else "without"
    print(f"records: {len(records)}; pages per record: {page_count} on average (first 20: {pages}); "
          f"{accel} rl-accel")  # fmt: skip
    for name, (median, p95) in results.items():
        print(f"{name:<30} median {median:6.2f} ms   p95 {p95:6.2f} ms")
    base = results["bare ReportLab, same pages"][0]
    signed = results["record rendered and signed"][0]
    print(f"signed record / bare document: {signed / base:.1f}x")
    if "--no-accel" in sys.argv:
        print(f"SIGNED-MEDIAN {signed}")
        return
    child = subprocess.run([sys.executable, __file__, str(n), "--no-accel"], env=env, check=True,
                           capture_output=True, text=True).stdout  # fmt: skip
    print("\n".join(x for x in child.splitlines() if not x.startswith("SIGNED-MEDIAN")))
    without = float(next(x for x in child.splitlines() if x.startswith("SIGNED-MEDIAN")).split()[1])
    print(f"signed record with rl-accel / without: {signed / without:.2f}x")


if __name__ == "__main__":
    main()
