"""Request documents: validation as request-format.md says, canonical JSON and hashes."""

from __future__ import annotations

import json

import pytest

from reviewer import request as rq


def minimal(**extra):
    doc = {"reference": "REQ-1", "received_on": "2026-11-20", "customer": {"name": "Acme"}}
    doc.update(extra)
    return doc


def problems_of(raw) -> list[tuple[str, str]]:
    doc, problems = rq.validate(rq.loads(json.dumps(raw)) if not isinstance(raw, str) else rq.loads(raw))
    assert (doc is None) == bool(problems)
    return problems


def test_minimal_request_is_valid_and_unknowns_stay_absent():
    doc, problems = rq.validate(minimal())
    assert problems == []
    assert doc == {
        "format": rq.FORMAT,
        "reference": "REQ-1",
        "received_on": "2026-11-20",
        "customer": {"name": "Acme"},
    }
    assert "end_users" not in doc  # reseller status unknown: end users unknown too


def test_non_reseller_absent_end_users_is_written_empty():
    doc, _ = rq.validate(minimal(customer={"name": "Acme", "is_reseller": False}))
    assert doc["end_users"] == []


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (minimal(reference="-bad"), "reference", "reference of 2 to 64"),
        (minimal(reference="x"), "reference", "reference of 2 to 64"),
        (minimal(received_on="2026-13-01"), "received_on", "not a valid date"),
        (minimal(received_on="20/11/2026"), "received_on", "date YYYY-MM-DD"),
        (minimal(scale={"cameras": "lots"}), "scale.cameras", "whole number"),
        (minimal(scale={"cameras": -1}), "scale.cameras", "whole number"),
        (minimal(scale={"cameras": 10**15 + 1}), "scale.cameras", "too large"),
        (minimal(scale={"coverage": "planet"}), "scale.coverage", "unknown value"),
        (
            minimal(use={"operations": ["identification", "identification"]}),
            "use.operations[1]",
            "duplicate value",
        ),
        (minimal(use={"operations": ["mind_reading"]}), "use.operations[0]", "unknown value"),
        (minimal(customer={"name": "A", "country": "usa"}), "customer.country", "country code"),
        (minimal(customer={"name": "A", "region": "ILLI"}), "customer.region", "region code"),
        (minimal(sales={"currency": "eur"}), "sales.currency", "currency code"),
        (minimal(customer={"name": "A", "contact_email": "nobody"}), "customer.contact_email", "e-mail"),
        (minimal(customer={"name": "A", "is_reseller": "yes"}), "customer.is_reseller", "true or false"),
        (minimal(customer={"name": ""}), "customer.name", "must not be empty"),
        (minimal(customer={"name": "x" * 301}), "customer.name", "longer than 300"),
        (minimal(title="t" * 201), "title", "longer than 200"),
        (minimal(use={"description": "d" * 20_001}), "use.description", "longer than 20000"),
        (minimal(title="a\x00b"), "title", "NUL"),
        (minimal(colour="red"), "colour", "unknown field"),
        (minimal(customer={"name": "A", "nmae": "B"}), "customer.nmae", "unknown field"),
        (minimal(format="reviewer.request/2"), "format", "expected"),
        (minimal(safeguards={"match_threshold": 1.5}), "safeguards.match_threshold", "<= 1"),
        (minimal(sites=[{"country": "US"}, "Portland"]), "sites[1]", "expected an object"),
        (minimal(end_users=[{"org_type": "cartel"}]), "end_users[0].org_type", "unknown value"),
        (minimal(use="identification"), "use", "expected an object"),
        ({"reference": "REQ-1", "received_on": "2026-11-20"}, "customer", "required"),
        ({"reference": "REQ-1", "received_on": "2026-11-20", "customer": None}, "customer", "required"),
        ({"received_on": "2026-11-20", "customer": {"name": "A"}}, "reference", "required"),
    ],
)
def test_invalid_fields_are_named(raw, field, words):
    problems = problems_of(raw)
    assert any(f == field and words in m for f, m in problems), problems
    assert len(problems) == len(set(problems)), problems  # each once ("customer": null was twice)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},"scale":{"cameras":5.0}}',
            "scale.cameras",
            "got 5.0",
        ),
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},"scale":{"cameras":1e3}}',
            "scale.cameras",
            "got 1e3",
        ),
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},"scale":{"cameras":NaN}}',
            "scale.cameras",
            "NaN is not a number",
        ),
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},'
            '"safeguards":{"match_threshold":Infinity}}',
            "safeguards.match_threshold",
            "not a number",
        ),
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A"},'
            '"scale":{"cameras":123456789012345678901234567890}}',
            "scale.cameras",
            "too large",
        ),
        (
            '{"reference":"R-1","reference":"R-2","received_on":"2026-11-20","customer":{"name":"A"}}',
            "reference",
            "duplicate key",
        ),
        (
            '{"reference":"R-1","received_on":"2026-11-20","customer":{"name":"A","name":"B"}}',
            "customer.name",
            "duplicate key",
        ),
    ],
)
def test_strict_json_numbers_and_duplicate_keys(text, field, words):
    problems = problems_of(text)
    assert any(f == field and words in m for f, m in problems), problems


def test_a_whole_section_given_as_null_is_unknown():
    doc, problems = rq.validate(minimal(use=None, scale=None))
    assert problems == [] and "use" not in doc and "scale" not in doc


def test_canonical_json_sorts_keys_drops_nulls_blank_strings_and_sorts_sets():
    raw = minimal(
        title="  ",
        use={"operations": ["verification", "liveness"], "description": ""},
        sales={"contract_value": 5.0},
    )
    doc, _ = rq.validate(raw)
    text = rq.canonical_json(doc)
    assert text == (
        '{"customer":{"name":"Acme"},"format":"reviewer.request/1",'
        '"received_on":"2026-11-20","reference":"REQ-1",'
        '"sales":{"contract_value":5},"use":{"operations":["liveness","verification"]}}'
    )
    assert rq.document_hash(doc) == rq.sha256_hex(text)


def test_absent_and_null_are_the_same_fact():
    a, _ = rq.validate(minimal(scale={"cameras": 5}))
    b, _ = rq.validate(minimal(scale={"cameras": 5, "sites": None}, legal=None))
    assert rq.document_hash(a) == rq.document_hash(b)


def test_awkward_but_valid_text_is_kept_exactly():
    name = "Acme <b>Corp</b> & Sons <para> 😀 示例有限公司 شركة مثال"
    doc, problems = rq.validate(minimal(customer={"name": name}))
    assert problems == []
    assert doc["customer"]["name"] == name
    assert name in rq.canonical_json(doc)  # ensure_ascii=False


def test_search_key_folds_case_and_accents():
    doc, _ = rq.validate(
        minimal(
            customer={"name": "Müller & SÖHNE", "is_reseller": True}, end_users=[{"name": "Policía Local"}]
        )
    )
    key = rq.search_key(doc)
    assert "muller & sohne" in key and "policia local" in key and "req-1" in key


def test_compact_json_of_a_validated_document_is_its_canonical_json():
    from reviewer.demo import generate

    for doc in generate(50, seed=9):
        assert rq.compact_json(doc) == rq.canonical_json(doc)


def test_a_csv_number_is_written_in_ascii_digits_as_in_json():
    """A fullwidth ５ or an Arabic-Indic ٣ is no number in JSON; nor in a CSV cell."""
    from reviewer.intake import cell_value

    assert cell_value("scale.cameras", " 12 ") == (12, None)
    assert cell_value("sales.contract_value", "2.5e3") == (2500.0, None)
    for column, cell in (("scale.cameras", "５"), ("scale.sites", "٣"), ("sales.contract_value", "１.5")):
        value, problem = cell_value(column, cell)
        assert value is None and problem is not None and "expected a" in problem, (column, cell, problem)
    assert rq.validate(rq.loads('{"reference": "R-1", "received_on": "2026-01-01", "customer": '
                                '{"name": "A"}, "scale": {"cameras": "５"}}'))[0] is None  # fmt: skip
