"""`reviewer import` / `export`: all or nothing, errors with file, record and field."""

from __future__ import annotations

import json

import pytest

from reviewer import request as rq
from tests.helpers.database import hashes

GOOD = {"reference": "REQ-1", "received_on": "2026-11-20", "customer": {"name": "Acme"}}


def line(**kw) -> str:
    doc = dict(GOOD)
    doc.update(kw)
    return json.dumps(doc, ensure_ascii=False)


def test_examples_import_reimport_fails_and_round_trip_keeps_hashes(cli, examples, tmp_path):
    code, out, err = cli("import", *map(str, examples))
    assert code == 0, err
    assert "imported 12 new" in out
    before = cli.dump()
    code, _out, err = cli("import", str(examples[0]))
    assert code == 3
    assert f"{examples[0]}: reference: 'EX-0001' is already stored" in err
    assert cli.dump() == before  # nothing changed, no audit event written

    original = hashes(cli.db_path)
    for fmt in ("json", "jsonl", "csv"):
        out_file = tmp_path / f"all.{fmt}"
        code, _out, err = cli("export", "--format", fmt, "--out", str(out_file))
        assert code == 0, err
        from tests.helpers.cli import Cli

        other = Cli(tmp_path / f"new-{fmt}.db", cli.capsys)
        code, _out, err = other("import", str(out_file))
        assert code == 0, err
        assert hashes(other.db_path) == original, fmt


def test_update_keeps_the_old_version(db_cli, tmp_path):
    cli = db_cli
    f = tmp_path / "a.jsonl"
    f.write_text(line(title="first") + "\n")
    assert cli("import", str(f))[0] == 0
    f.write_text(line(title="second") + "\n")
    assert cli("import", str(f))[0] == 3
    code, out, err = cli("import", str(f), "--update")
    assert code == 0, err and "1 updated" in out
    versions = cli.sql("select version, document from request_versions order by version")
    assert [v for v, _ in versions] == [1, 2]
    assert '"title":"first"' in versions[0][1] and '"title":"second"' in versions[1][1]
    assert cli.sql("select document_version from requests") == [(2,)]
    assert cli("verify")[0] == 0


def test_one_call_is_all_or_nothing_across_files(db_cli, tmp_path):
    cli = db_cli
    good = tmp_path / "good.jsonl"
    good.write_text(line(reference="OK-1") + "\n" + line(reference="OK-2") + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line(reference="OK-3") + "\n" + line(reference="BAD-1", scale={"cameras": "x"}) + "\n")
    assert cli("seed-demo", "--count", "3")[0] == 0
    before = cli.dump()
    code, _out, err = cli("import", str(good), str(bad))
    assert code == 3
    assert err.strip() == f'{bad}:2: scale.cameras: expected a whole number >= 0, got "x"'
    assert cli.dump() == before


def test_duplicate_reference_within_one_call(db_cli, tmp_path):
    cli = db_cli
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.json"
    a.write_text(line() + "\n")
    b.write_text(json.dumps([GOOD]))
    code, _out, err = cli("import", str(a), str(b))
    assert code == 3
    assert f"{b}:#1: reference: duplicate reference 'REQ-1', first given at {a}:1" in err


MALFORMED = {
    "truncated.json": (b'{"reference": "R-1", "received_on": "2026-1', ": not valid JSON"),
    "truncated-array.json": (b"[" + line().encode() + b', {"reference": ', ":#2: not valid JSON"),
    "broken-middle.jsonl": (
        line(reference="A-1").encode() + b"\n{oops\n" + line(reference="A-3").encode(),
        ":2: not valid JSON",
    ),
    "wrong-header.csv": (
        b"reference,received_on,customer.nam\nR-1,2026-11-20,Acme\n",
        ':1: column "customer.nam": unknown field',
    ),
    "twice-header.csv": (
        b"reference,reference,received_on,customer.name\nR-1,R-1,2026-11-20,A\n",
        ':1: column "reference": named twice',
    ),
    "latin1.jsonl": (line(customer={"name": "M\u00fcller"}).encode("latin-1"), ":1: not valid UTF-8"),
    "latin1.csv": (
        "reference,received_on,customer.name\nR-1,2026-11-20,Müller\n".encode("latin-1"),
        ":2: not valid UTF-8",
    ),
    "nan.json": (
        b'{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},'
        b'"safeguards":{"match_threshold":NaN}}',
        ": safeguards.match_threshold: NaN",
    ),
    "exponent.jsonl": (
        b'{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},"scale":{"cameras":5e1}}',
        ":1: scale.cameras: expected a whole number",
    ),
    "nul.jsonl": (line(title="a\u0000b").encode(), ":1: title: NUL"),
    "long.jsonl": (line(title="t" * 201).encode(), ":1: title: text longer than 200"),
    "dup-key.json": (
        b'{"reference":"R-1","received_on":"2026-11-20","received_on":"2026-11-21","customer":{"name":"A"}}',
        ": received_on: duplicate key",
    ),
    "unknown-key.json": (
        line(customer={"name": "A", "contry": "US"}).encode(),
        ": customer.contry: unknown field",
    ),
    "enum.csv": (
        b"reference,received_on,customer.name,customer.org_type\nR-1,2026-11-20,A,cartel\n",
        ":2: customer.org_type: unknown value",
    ),
    "bad-date.csv": (
        b"reference,received_on,customer.name\nR-1,2026-02-30,A\n",
        ":2: received_on: not a valid date",
    ),
    "bad-bool.csv": (
        b"reference,received_on,customer.name,customer.is_reseller\nR-1,2026-11-20,A,maybe\n",
        ":2: customer.is_reseller: expected true/false",
    ),
    "bad-int.csv": (
        b"reference,received_on,customer.name,scale.cameras\nR-1,2026-11-20,A,5.0\n",
        ':2: scale.cameras: expected a whole number >= 0, got "5.0"',
    ),
    "empty.json": (b"", ": empty file"),
    "empty-array.json": (b"[]", ": no request in the file"),
    "empty.jsonl": (b"\n\n", ": no request in the file"),
    "not-an-object.jsonl": (b"[1, 2]\n", ":1: expected a request object"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "binary.csv": (bytes(range(256)) * 4, "not a text file"),
    "png.json": (b"\x89PNG\r\n\x1a\n" + bytes(64), "not a text file"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_is_rejected_and_nothing_changes(db_cli, tmp_path, name):
    cli = db_cli
    content, expected = MALFORMED[name]
    assert cli("seed-demo", "--count", "2")[0] == 0
    before = cli.dump()
    path = tmp_path / name
    path.write_bytes(content)
    code, _out, err = cli("import", str(path))
    assert code == 3, err
    assert err.startswith(str(path)), err
    assert expected in err, err
    assert cli.dump() == before


def test_at_most_100_error_lines(db_cli, tmp_path):
    cli = db_cli
    f = tmp_path / "many.jsonl"
    f.write_text("".join(line(reference=f"R-{i}", scale={"cameras": -1}) + "\n" for i in range(150)))
    code, _out, err = cli("import", str(f))
    lines = err.strip().splitlines()
    assert code == 3 and len(lines) == 101
    assert lines[-1] == "... and 50 more errors"


def test_awkward_but_valid_input_imports(db_cli, tmp_path):
    cli = db_cli
    csv_text = (
        "\ufeffreference,received_on,customer.name,customer.is_reseller,use.operations,"
        "use.description,sites,end_users\n"
        'R-1,2026-11-20,"Acme, <b>Corp</b> & Sons",No,identification; liveness,'
        '"line one\nline two, with comma",[],"[{""name"": ""示例有限公司""}]"\n'
        'R-2,2026-11-21,شركة مثال 😀,TRUE,[],,"[{""country"": ""US"", ""region"": ""OR"", '
        '""city"": ""Portland"", ""public_accommodation"": true}]",[]\n'
    )
    f = tmp_path / "awkward.csv"
    f.write_text(csv_text, encoding="utf-8")
    code, out, err = cli("import", str(f))
    assert code == 0, err
    docs = {r: json.loads(d) for r, d in cli.sql("select reference, document from requests")}
    assert docs["R-1"]["customer"]["name"] == "Acme, <b>Corp</b> & Sons"
    assert docs["R-1"]["customer"]["is_reseller"] is False
    assert docs["R-1"]["use"]["operations"] == ["identification", "liveness"]
    assert docs["R-1"]["use"]["description"] == "line one\nline two, with comma"
    assert docs["R-1"]["sites"] == [] and docs["R-1"]["end_users"] == [{"name": "示例有限公司"}]
    assert docs["R-2"]["customer"]["name"] == "شركة مثال 😀"
    assert docs["R-2"]["use"]["operations"] == []
    assert docs["R-2"]["sites"][0]["city"] == "Portland"


def test_csv_record_number_is_the_physical_line_where_it_starts(db_cli, tmp_path):
    cli = db_cli
    f = tmp_path / "multi.csv"
    f.write_text(
        'reference,received_on,customer.name,title\nR-1,2026-11-20,A,"two\nlines"\n'
        "R-2,2026-11-20,A,ok\nR-3,2026-11-32,A,bad\n"
    )
    code, _out, err = cli("import", str(f))
    assert code == 3
    assert err.strip() == f'{f}:5: received_on: not a valid date: "2026-11-32"'


def test_import_stores_evaluation_and_audit_events(db_cli, examples, expected):
    cli = db_cli
    assert cli("import", *map(str, examples))[0] == 0
    rows = dict(cli.sql("select reference, recommendation from requests"))
    for e in expected.values():
        assert rows[e["reference"]] == e["recommendation"]
    events = cli.sql("select action, reference, payload from audit_events order by seq")
    assert events[0][0] == "bootstrap"
    imports = [e for e in events if e[0] == "import"]
    assert len(imports) == 12
    docs = dict(cli.sql("select reference, document from requests"))
    for _action, ref, payload in imports:
        assert json.loads(payload)["sha256"] == rq.sha256_hex(docs[ref])
    code, out, _ = cli("verify", "--format", "json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_export_selected_and_unknown_reference(db_cli, examples):
    cli = db_cli
    cli("import", *map(str, examples))
    code, out, _ = cli("export", "EX-0002", "EX-0001", "--format", "jsonl")
    assert code == 0
    assert [json.loads(x)["reference"] for x in out.splitlines()] == ["EX-0002", "EX-0001"]
    code, _out, err = cli("export", "NOPE-1", "--format", "json")
    assert code == 6 and "NOPE-1" in err
    for fmt in ("json", "jsonl", "csv"):  # a known one first: still nothing is written
        code, out, err = cli("export", "EX-0001", "NOPE-1", "--format", fmt)
        assert (code, out) == (6, ""), (fmt, out)
        assert "no request with reference NOPE-1" in err


def test_a_number_with_thousands_of_digits_is_named(db_cli, tmp_path):
    cli = db_cli
    f = tmp_path / "digits.jsonl"
    f.write_text(
        '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},'
        '"scale":{"cameras":' + "9" * 5000 + "}}\n" + line(reference="R-2", scale={"cameras": 10**16}) + "\n"
    )
    code, _out, err = cli("import", str(f))
    assert code == 3
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"{f}:1: not valid JSON") and "digits" in lines[0]
    assert lines[1] == f"{f}:2: scale.cameras: number too large (at most 10^15), got 10000000000000000"
