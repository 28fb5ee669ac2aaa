"""Writes the malformed-input corpus (tests/data/corpus/malformed/) and its manifest.

Each file is one way a request file goes wrong; the manifest says what the error line must
contain (after the file name). Run it again after changing a case: python tests/data/corpus/make_malformed.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent / "malformed"
GOOD = {"reference": "REQ-1", "received_on": "2026-11-20", "customer": {"name": "Acme"}}


def obj(**changes) -> dict:
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        head, _, key = path.partition("__")
        if key:
            doc.setdefault(head, {})[key] = value
        else:
            doc[head] = value
    return doc


def js(**changes) -> bytes:
    return json.dumps(obj(**changes), ensure_ascii=False).encode("utf-8")


def line(ref: str, **changes) -> str:
    return json.dumps(obj(reference=ref, **changes), ensure_ascii=False)


CSV_HEAD = "reference,received_on,customer.name"
CASES: dict[str, tuple[bytes, str]] = {
    # JSON
    "truncated.json": (b'{"reference": "R-1", "received_on": "2026-1', ": not valid JSON"),
    "truncated-array.json": (b"[" + js() + b', {"reference": ', ":#2: not valid JSON"),
    "trailing-garbage.json": (js() + b" xyz", ": not valid JSON: extra data after the request"),
    "not-json.json": (b"hello world", ": not valid JSON"),
    "empty.json": (b"", ": empty file"),
    "empty-array.json": (b"[]", ": no request in the file"),
    "whitespace-only.json": (b"  \n\t \n", ": empty file"),
    "nan.json": (
        js().replace(b"}}", b'}, "safeguards": {"match_threshold": NaN}}'),
        ": safeguards.match_threshold: NaN is not a number",
    ),
    "infinity.json": (
        js().replace(b"}}", b'}, "sales": {"contract_value": -Infinity}}'),
        ": sales.contract_value: -Infinity is not a number",
    ),
    "huge-int.json": (js(scale__cameras=10**16), ": scale.cameras: number too large"),
    "thousand-digits.json": (
        js().replace(b"}}", b'}, "scale": {"cameras": ' + b"7" * 5000 + b"}}"),
        ": not valid JSON: a number with too many digits",
    ),
    "float-whole.json": (
        js().replace(b"}}", b'}, "scale": {"cameras": 5.0}}'),
        ": scale.cameras: expected a whole number >= 0, got 5.0",
    ),
    "exponent-whole.json": (
        js().replace(b"}}", b'}, "scale": {"sites": 1e3}}'),
        ": scale.sites: expected a whole number >= 0, got 1e3",
    ),
    "negative.json": (js(scale__cameras=-3), ": scale.cameras: expected a whole number >= 0, got -3"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "dup-key-top.json": (
        b'{"reference":"R-1","reference":"R-2","received_on":"2026-11-20","customer":{"name":"A"}}',
        ": reference: duplicate key",
    ),
    "dup-key-nested.json": (
        b'{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A","name":"B"}}',
        ": customer.name: duplicate key",
    ),
    "unknown-key.json": (js(customer__contry="US"), ": customer.contry: unknown field"),
    "unknown-section.json": (js(pricing={"discount": 5}), ": pricing: unknown field"),
    "wrong-type-bool.json": (
        js(customer__is_reseller="yes"),
        ": customer.is_reseller: expected true or false",
    ),
    "wrong-type-list.json": (js(use__operations="identification"), ": use.operations: expected a list"),
    "bad-date.json": (js(received_on="2026-02-30"), ": received_on: not a valid date"),
    "bad-ref.json": (js(reference="-x"), ": reference: expected a reference"),
    "bad-country.json": (js(customer__country="usa"), ": customer.country: expected a country code"),
    "enum.json": (js(customer__org_type="cartel"), ": customer.org_type: unknown value"),
    "set-dup.json": (js(use__operations=["liveness", "liveness"]), ": use.operations[1]: duplicate value"),
    "long-title.json": (js(title="t" * 201), ": title: text longer than 200"),
    "nul-in-text.json": (js(title="a\u0000b"), ": title: NUL characters"),
    "missing-customer.json": (b'{"reference":"R-1","received_on":"2026-11-20"}', ": customer: required"),
    "latin1.json": (
        json.dumps(obj(customer={"name": "Müller"}), ensure_ascii=False).encode("latin-1"),
        ":1: not valid UTF-8",
    ),
    "utf16.json": (json.dumps(GOOD).encode("utf-16"), ": encoded as UTF-16"),
    "array-of-strings.json": (b'["REQ-1"]', ":#1: expected a request object"),
    "png-image.json": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), ": not a text file"),
    # JSON Lines
    "broken-middle.jsonl": ((line("A-1") + "\n{oops\n" + line("A-3") + "\n").encode(), ":2: not valid JSON"),
    "mixed-encodings.jsonl": (
        line("A-1").encode() + b"\n" + line("A-2", customer={"name": "Sö"}).encode("latin-1") + b"\n",
        ":2: not valid UTF-8",
    ),
    "cp1252-quotes.jsonl": (line("A-1", title="\u201cquoted\u201d").encode("cp1252"), ":1: not valid UTF-8"),
    "blank-lines.jsonl": (b"\n\n   \n", ": no request in the file"),
    "array-line.jsonl": (b"[1, 2]\n", ":1: expected a request object"),
    "nul-bytes.jsonl": (line("A-1").encode() + b"\n\x00\x00\x00\n", ": not a text file"),
    "dup-ref.jsonl": (
        (line("A-1") + "\n" + line("A-1") + "\n").encode(),
        ":2: reference: duplicate reference 'A-1', first given at",
    ),
    "bad-field-line-3.jsonl": (
        (line("A-1") + "\n" + line("A-2") + "\n" + line("A-3", scale={"cameras": "many"}) + "\n").encode(),
        ':3: scale.cameras: expected a whole number >= 0, got "many"',
    ),
    # CSV
    "wrong-header.csv": (
        b"reference,received_on,customer.nam\nR-1,2026-11-20,A\n",
        ':1: column "customer.nam": unknown field',
    ),
    "twice-header.csv": (
        b"reference,reference,received_on,customer.name\nR-1,R-1,2026-11-20,A\n",
        ':1: column "reference": named twice',
    ),
    "no-reference-column.csv": (
        b"received_on,customer.name\n2026-11-20,A\n",
        ':1: column "reference": required',
    ),
    "bad-int.csv": (
        (CSV_HEAD + ",scale.cameras\nR-1,2026-11-20,A,lots\n").encode(),
        ':2: scale.cameras: expected a whole number >= 0, got "lots"',
    ),
    "bad-bool.csv": (
        (CSV_HEAD + ",customer.is_reseller\nR-1,2026-11-20,A,maybe\n").encode(),
        ":2: customer.is_reseller: expected true/false/yes/no/1/0",
    ),
    "bad-set-item.csv": (
        (CSV_HEAD + ",use.operations\nR-1,2026-11-20,A,identification;flying\n").encode(),
        ":2: use.operations[1]: unknown value",
    ),
    "empty-set-item.csv": (
        (CSV_HEAD + ",use.operations\nR-1,2026-11-20,A,identification;;liveness\n").encode(),
        ":2: use.operations: empty item",
    ),
    "bad-json-cell.csv": (
        (CSV_HEAD + ',sites\nR-1,2026-11-20,A,"[{""country"": "\n').encode(),
        ":2: sites: not valid JSON in the cell",
    ),
    "wrong-cell-count.csv": (
        (CSV_HEAD + "\nR-1,2026-11-20,A,extra\n").encode(),
        ":2: expected 3 cells, got 4",
    ),
    "unterminated-quote.csv": ((CSV_HEAD + '\nR-1,2026-11-20,"Acme\n').encode(), ":2: not valid CSV"),
    "latin1.csv": ((CSV_HEAD + "\nR-1,2026-11-20,Müller\n").encode("latin-1"), ":2: not valid UTF-8"),
    "header-only.csv": ((CSV_HEAD + "\n").encode(), ": no request in the file"),
    "utf16.csv": ((CSV_HEAD + "\nR-1,2026-11-20,A\n").encode("utf-16"), ": encoded as UTF-16"),
    "bad-date-line-4.csv": (
        (
            CSV_HEAD + ',title\nR-1,2026-11-20,A,"two\nlines"\nR-2,2026-11-20,A,ok\nR-3,2026-11-31,A,bad\n'
        ).encode(),
        ":5: received_on: not a valid date",
    ),
}


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for old in HERE.iterdir():
        old.unlink()
    manifest = {}
    for name, (content, expected) in sorted(CASES.items()):
        (HERE / name).write_bytes(content)
        manifest[name] = expected
    (HERE.parent / "malformed.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(manifest)} files in {HERE}")


if __name__ == "__main__":
    main()
