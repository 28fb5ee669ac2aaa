"""A malformed record at the end of a 50 MB file (validated by worker processes, as every large
input is): the error names its line and nothing changes (the malformed-input corpus is
tests/unit/test_corpus.py)."""

from __future__ import annotations

from reviewer import request as rq
from reviewer.demo import generate


def test_a_50_mb_file_with_one_bad_record_at_the_end(cli, tmp_path):
    big = tmp_path / "fifty-megabytes.jsonl"
    size = 0
    n = 0
    # 2,000 generated requests, written again and again under new references (generating
    # every one of the 27,000 would take longer than importing them).
    kinds = [rq.canonical_json(doc) + "\n" for doc in generate(2_000, seed=12, prefix="BIG")]
    with big.open("w", encoding="utf-8") as fh:
        while size < 50_000_000:
            n += 1
            text = kinds[(n - 1) % len(kinds)]
            text = text.replace(f'"BIG-{(n - 1) % len(kinds) + 1:06d}"', f'"BIG-{n:06d}"', 1)
            fh.write(text)
            size += len(text.encode("utf-8"))
        fh.write('{"reference": "BIG-LAST", "received_on": "2026-13-01", "customer": {"name": "x"}}\n')
    assert big.stat().st_size >= 50_000_000
    assert cli("seed-demo", "--count", "3")[0] == 0
    before = cli.dump()
    code, _out, err = cli("import", str(big))
    assert code == 3
    assert err.strip() == f'{big}:{n + 1}: received_on: not a valid date: "2026-13-01"'
    assert cli.dump() == before
