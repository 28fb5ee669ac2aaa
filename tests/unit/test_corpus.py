"""The malformed-input corpus (tests/data/corpus/malformed, made by
tests/data/corpus/make_malformed.py): every file is rejected, the error names file, record and
field, and nothing changes (a 50 MB file, validated by worker processes, is
tests/system/test_corpus_processes.py)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.cli import CORPUS

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
