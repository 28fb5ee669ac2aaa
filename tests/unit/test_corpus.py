"""The malformed-input corpus (tests/corpus/malformed, made by tests/corpus/make_malformed.py):
every file is rejected, the error names file, record and field, and nothing changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer import request as rq
from reviewer.demo import generate

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MANIFEST = json.loads((CORPUS / "malformed.json").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough():
    assert len(MANIFEST) >= 40
    assert {p.name for p in (CORPUS / "malformed").iterdir()} == set(MANIFEST)
    kinds = {name.rsplit(".", 1)[1] for name in MANIFEST}
    assert kinds == {"json", "jsonl", "csv"}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_malformed_file_is_rejected_with_its_place_named(cli, name):
    assert cli("seed-demo", "--count", "3")[0] == 0
    before = cli.dump()
    path = CORPUS / "malformed" / name
    code, _out, err = cli("import", str(path))
    assert code == 3, err
    first = err.splitlines()[0]
    assert first.startswith(str(path)), first
    assert MANIFEST[name] in err, err
    assert "Traceback" not in err
    assert cli.dump() == before


def test_a_50_mb_file_with_one_bad_record_at_the_end(cli, tmp_path):
    big = tmp_path / "fifty-megabytes.jsonl"
    size = 0
    n = 0
    with big.open("w", encoding="utf-8") as fh:
        for doc in generate(40_000, seed=12, prefix="BIG"):
            text = rq.canonical_json(doc) + "\n"
            fh.write(text)
            size += len(text.encode("utf-8"))
            n += 1
            if size >= 50_000_000:
                break
        fh.write('{"reference": "BIG-LAST", "received_on": "2026-13-01", "customer": {"name": "x"}}\n')
    assert big.stat().st_size >= 50_000_000
    assert cli("seed-demo", "--count", "3")[0] == 0
    before = cli.dump()
    code, _out, err = cli("import", str(big))
    assert code == 3
    assert err.strip() == f"{big}:{n + 1}: received_on: not a valid date: \"2026-13-01\""
    assert cli.dump() == before
