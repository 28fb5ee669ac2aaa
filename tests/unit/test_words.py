"""Findings in words (`reviewer.rules.words`): every fact the bundled rule sets state is said
with the labels of the vocabulary, no field path or stored value left; findings in the rule
set's order of severity, counted; each missing fact once."""

from __future__ import annotations

import json
import re

import pytest

from reviewer.demo import generate
from reviewer.rules import RANK, load_bundled, load_text
from reviewer.rules.words import (
    by_severity,
    explanation_words,
    fact_words,
    field_kind,
    missing_facts,
    summary_words,
    value_words,
)
from reviewer.vocabulary import choice_label, field_label
from tests.helpers.cli import EXAMPLES, ROOT

RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z_]+\.[a-z_]+\b|\w+\[\d*\]|[{}\[\]]")


def test_the_facts_of_a_finding_read_as_words():
    sheriff = choice_label("customer.org_type", "sheriff")
    assert explanation_words(
        "customer.org_type = sheriff is in police_types; customer.country = US is in moratorium_countries"
    ) == [  # fmt: skip
        f"Organisation type: {sheriff} — is a police type",
        "Customer country: US — is a moratorium country",
    ]
    assert fact_words("scale.cameras = 1200 > 50") == "Cameras: 1,200 — more than 50"
    assert fact_words("scale.cameras = 40, not > 50") == "Cameras: 40 — not more than 50"
    assert fact_words("people.includes_minors = true") == "Includes minors: yes"
    assert fact_words("scale.coverage is unknown") == "Coverage: unknown"
    assert fact_words("end_users is empty") == f"{field_label('end_users')}: none"
    assert fact_words("cannot be decided while unknown: data.gallery_sources, scale.sites") == (
        "Cannot be decided while unknown: Gallery sources, Sites"
    )
    assert fact_words("LE: customer.org_type = police is in law_enforcement_types") == (
        f"Law enforcement, because Organisation type: {choice_label('customer.org_type', 'police')} "
        "— is a law-enforcement type"
    )
    assert fact_words("escalate_senior instead because use.accessibility_scenario = true") == (
        "Senior decides instead, given Accessibility scenario: yes"
    )
    # A value that says it all says nothing more; one the rule looks for among others is named.
    assert fact_words("customer.sector = commercial is in {commercial, nonprofit}") == (
        f"Sector: {choice_label('customer.sector', 'commercial')}"
    )
    assert fact_words(
        "use.decision_effects = [financial, digital_access] includes [financial] from consequential_effects"
    ) == (  # fmt: skip
        f"Decision effects: {choice_label('use.decision_effects', 'financial')}, "
        f"{choice_label('use.decision_effects', 'digital_access')} — includes "
        f"{choice_label('use.decision_effects', 'financial')}, a consequential effect"
    )
    assert fact_words("sites[0] = Portland, OR, US is in local_bans") == (
        f"{field_label('sites[0]')}: Portland, OR, US — is a place under a local ban"
    )
    assert fact_words("customer_total.scale.cameras = 1200 (EX-0003: 1200) > 50") == (
        "Cameras over the customer's requests: 1,200 (EX-0003: 1,200) — more than 50"
    )


def test_text_the_words_do_not_read_keeps_its_paths_and_values_in_words():
    assert fact_words("someday use.operations held face_grab") == "someday Operations held Face grab"


def test_a_value_holding_the_separator_of_facts_stays_one_fact():
    text = ("end_users[0].name = Police <b>Club</b>; and more contains the term 'police'; "
            "end_users[0].org_type = ngo is not in law_enforcement_types")  # fmt: skip
    first, second = explanation_words(text)
    assert (
        first
        == f"{field_label('end_users[0].name')}: Police <b>Club</b>; and more — contains the term “police”"
    )
    assert second.endswith("— is not a law-enforcement type")


def _documents():
    yield from (json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("p*.json")))
    yield from generate(1500, seed=19)


@pytest.mark.parametrize("version", [1, 2])
def test_no_field_path_or_stored_value_is_left_in_any_explanation(version):
    """Over the examples and 1,500 demo requests, under both bundled versions."""
    path = ROOT / "resources" / "rulesets" / f"human-rights-{version}.toml"
    ruleset = load_text(path.read_text(encoding="utf-8")) if version != 2 else load_bundled()
    lines = 0
    for doc in _documents():
        for f in ruleset.evaluate(doc).findings:
            for line in explanation_words(f.explanation):
                lines += 1
                assert RAW.findall(line) == [], (f.explanation, line)
    assert lines > 10_000


def test_request_values_in_words():
    assert value_words(True) == "yes" and value_words(None) == "unknown"
    assert value_words(250000, "scale.cameras") == "250,000" and value_words(0.99) == "0.99"
    assert value_words("government_agency", "customer.org_type") == "Government agency"
    assert value_words(["verification", "liveness"], "use.operations") == ", ".join(
        choice_label("use.operations", v) for v in ("verification", "liveness")
    )
    users = [{"name": "Harris_County PD", "country": "US", "org_type": "police"}]
    assert value_words(users, "end_users") == (
        f"Name: Harris_County PD, Country: US, Organisation type: {choice_label('end_users[].org_type', 'police')}"
    )  # a name is text: its underscore stays
    assert field_kind("end_users[3].org_type") == "enum" and field_kind("sites[0]") == "item"


def test_findings_by_severity_with_their_counts():
    findings = [{"rule": f"HR-{i:02}", "outcome": o, "missing": m} for i, (o, m) in enumerate([
        ("conditions", []), ("escalate_second", []), ("needs_information", ["scale.sites", "customer.org_type"]),
        ("refuse", []), ("escalate_senior", []), ("refuse", []), ("needs_information", ["scale.sites"]),
        ("needs_information", ["customer_total.scale.sites"]),
    ])]  # fmt: skip
    groups = by_severity(findings)
    assert [o for o, _ in groups] == sorted(RANK, key=lambda o: -RANK[o])[:5]
    assert [f["rule"] for f in groups[0][1]] == ["HR-03", "HR-05"]
    assert missing_facts(findings) == [
        ("customer.org_type", ["HR-02"]),  # in the order of the request format
        ("scale.sites", ["HR-02", "HR-06"]),
        ("customer_total.scale.sites", ["HR-07"]),
    ]
    assert summary_words(findings, 2) == ("2 refusals, 3 findings that need information, 1 senior escalation, "
                                          "1 second check, 1 finding with conditions; 2 missing facts")  # fmt: skip
    assert summary_words([], 0) == "no findings"
