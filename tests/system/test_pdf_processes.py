"""PDF justification records made on several processes (batch export; the export of every
decided request uses all cores), and the QR code read back with pdftoppm and zbarimg (the rest
is tests/unit/test_pdf.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from reviewer.export.pdf import RENDERER
from tests.helpers.pdf import NAMES, pdf_text
from tests.helpers.workflow import ADMIN, JUST, ok


def test_records_carry_the_facts_and_customer_text_exactly(decided, tmp_path):
    out = tmp_path / "pdfs"
    ok(decided, "export-pdf", "--all-decided", "--out", str(out), user=ADMIN)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{r}-d1.pdf" for r in [*NAMES, "R-LONG", "R-SECOND"])
    for ref, name in NAMES.items():
        text, _pages, meta = pdf_text(out / f"{ref}-d1.pdf")
        data = json.loads(ok(decided, "show", ref, "--format", "json", user=ADMIN))
        assert name in text, (ref, name)
        assert ref in text and JUST in " ".join(text.split())
        for f in data["evaluation"]["findings"]:
            assert f["rule"] in text
        for c in data["decisions"][0]["conditions"]:
            assert c["text"] in " ".join(text.split())
        assert f"{ADMIN} (admin, reviewer, senior) at 20" in text and " UTC" in text
        digest = data["decisions"][0]["record_hash"]
        assert meta["/Keywords"] == f"record-hash:{digest} renderer:{RENDERER}"
        assert meta["/Author"] == "Contoso Responsible AI Office"
        assert meta["/Title"] == f"Decision record {ref} #1" and "/CreationDate" in meta
        assert "Ελληνικά" in text


def test_batch_export_on_two_processes(cli, tmp_path):
    ok(cli, "seed-demo", "--count", "80", "--decisions", "40", user=ADMIN)
    code, out, err = cli("export-pdf", "--all-decided", "--out", str(tmp_path), "--jobs", "2", user=ADMIN)
    assert code == 0, err
    n = int(re.search(r"wrote (\d+) PDF", out).group(1))
    assert n == len(list(tmp_path.glob("*.pdf"))) > 10
    assert f"exported {n}/{n}" in err
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)",
)
def test_qr_code_reads_back_as_the_record_hash(decided, tmp_path):
    ok(decided, "export-pdf", "R-GERMAN", "--out", str(tmp_path), user=ADMIN)
    pdf = tmp_path / "R-GERMAN-d1.pdf"
    pages = len(PdfReader(pdf).pages)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "200",
            "-f",
            str(pages),
            "-l",
            str(pages),
            "-png",
            str(pdf),
            str(tmp_path / "last"),
        ],
        check=True,
    )
    png = next(tmp_path.glob("last*.png"))
    out = subprocess.run(["zbarimg", "-q", str(png)], capture_output=True, text=True, check=True)
    digest = PdfReader(pdf).metadata["/Keywords"].split()[0].split(":", 1)[1]
    assert out.stdout.strip() == f"QR-Code:{digest}"
