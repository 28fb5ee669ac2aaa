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
    # 200 generated requests, each with a description near the 20,000 characters it may
    # have, written again and again under new references: 50 MB in about 2,900 requests
    # (the size is the point; 27,000 short ones took seven times as long to validate).
    filler = " The cameras cover the loading bay and the staff entrance, nothing else." * 240
    kinds = []
    for doc in generate(200, seed=12, prefix="BIG"):
        doc["use"]["description"] += filler
        kinds.append(rq.canonical_json(doc) + "\n")
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
