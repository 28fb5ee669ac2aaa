"""The rule engine and the default rule set (ruleset.md), rule by rule."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer import request as rq
from reviewer.errors import InvalidInput
from reviewer.rules import bundled_text, load_bundled, load_text
from tests.helpers.cli import ROOT
from tests.helpers.documents import CLEAN, make

RS = load_bundled()

RECOG = {"use.operations": ["identification"]}


def finding(doc: dict, rule: str):
    for f in RS.evaluate(doc).findings:
        if f.rule.id == rule:
            return f
    return None


def outcome(changes: dict, rule: str) -> str:
    f = finding(make(changes), rule)
    return f.outcome if f else "none"


def test_clean_request_is_approved_with_no_finding():
    ev = RS.evaluate(make({}))
    assert ev.findings == [] and ev.recommendation == "approve" and ev.conditions == []


def test_every_example_gets_its_expected_evaluation(examples, expected):
    """The examples' expectations are those of human-rights@1 (still shipped, for databases
    that run it); the bundled @2 gives every example the same recommendation, and the same
    findings besides HR-30 (a request alone: its customer's totals are its own figures)."""
    v1 = load_text((ROOT / "resources" / "rulesets" / "human-rights-1.toml").read_text())
    for path in examples:
        doc, problems = rq.validate(rq.loads(path.read_text()))
        assert not problems
        ev, two = v1.evaluate(doc), RS.evaluate(doc)
        assert two.recommendation == ev.recommendation, path.name
        assert [f._stored for f in two.findings if f.rule.id != "HR-30"] == [f._stored for f in ev.findings]
        want = expected[path.name]
        assert ev.recommendation == want["recommendation"], path.name
        assert [f.rule.id for f in ev.findings] == want["rules_fired"], path.name
        assert {f.rule.id: f.outcome for f in ev.findings} == want["outcomes"], path.name
        assert [f.rule.id for f in ev.findings if f.outcome == "refuse"] == want["refuse_rules"]
        assert ev.conditions == want["conditions"], path.name


# Each case: rule, changes that fire it, its outcome; changes that keep it quiet; a field whose
# unknown value leaves it undecided (starting from the firing changes).
CASES = [
    (
        "HR-01",
        {"customer.org_type": "police", "customer.country": "US"},
        "refuse",
        {"customer.org_type": "police", "customer.country": "CA"},
        "customer.country",
    ),
    (
        "HR-02",
        {"customer.is_reseller": True, "end_users": [{"org_type": "sheriff", "country": "US"}]},
        "refuse",
        {"customer.is_reseller": True, "end_users": [{"org_type": "sheriff", "country": "MX"}]},
        "end_users",
    ),
    (
        "HR-03",
        {"customer.name": "Riverside Sheriff's Office Supplies"},
        "escalate_senior",
        {"customer.name": "Sheriffs' Supplies"},
        "customer.org_type",
    ),
    (
        "HR-04",
        {
            "customer.org_type": "police",
            "customer.country": "DE",
            "use.real_time": "real_time",
            "use.camera_type": "body_worn",
        },
        "refuse",
        {
            "customer.org_type": "police",
            "customer.country": "DE",
            "use.real_time": "none",
            "use.camera_type": "body_worn",
        },
        "use.camera_type",
    ),
    (
        "HR-05",
        {"use.operations": ["attribute_inference"]},
        "refuse",
        {"use.operations": ["detection"]},
        "use.operations",
    ),
    (
        "HR-06",
        {"use.operations": ["sensitive_attribute_inference"]},
        "refuse",
        {"use.operations": ["redaction"]},
        "use.operations",
    ),
    (
        "HR-07",
        {"data.gallery_sources": ["harvested_cctv"]},
        "refuse",
        {"data.gallery_sources": ["licensed_media"]},
        "data.gallery_sources",
    ),
    (
        "HR-08",
        {
            "customer.country": "FR",
            "customer.org_type": "police",
            "use.operations": ["identification"],
            "use.real_time": "near_real_time",
            "use.environment": "public_street",
        },
        "refuse",
        {
            "customer.country": "FR",
            "customer.org_type": "police",
            "use.operations": ["identification"],
            "use.real_time": "none",
            "use.environment": "public_street",
        },
        "use.real_time",
    ),
    (
        "HR-09",
        {"use.tracks_individuals": True},
        "refuse",
        {"use.tracks_individuals": False},
        "use.tracks_individuals",
    ),
    (
        "HR-10",
        {"use.monitored_events": ["union_meeting"]},
        "refuse",
        {"use.monitored_events": []},
        "use.monitored_events",
    ),
    (
        "HR-11",
        {"use.captures_protected_spaces": True},
        "refuse",
        {"use.captures_protected_spaces": False},
        "use.captures_protected_spaces",
    ),
    (
        "HR-12",
        {"use.use_case": "humanitarian"},
        "refuse",
        {"use.use_case": "humanitarian", "customer.sector": "international"},
        "customer.sector",
    ),
    (
        "HR-13",
        {"sites": [{"country": "US", "region": "OR", "city": "Portland", "public_accommodation": True}]},
        "refuse",
        {
            "sites": [
                {"country": "US", "region": "OR", "city": "Portland Metro", "public_accommodation": True}
            ]
        },
        "customer.sector",
    ),
    (
        "HR-14",
        {"data.sold_or_monetized": True},
        "refuse",
        {"data.sold_or_monetized": False},
        "data.sold_or_monetized",
    ),
    (
        "HR-15",
        {"use.law_enforcement_purpose": True},
        "escalate_senior",
        {"use.law_enforcement_purpose": False},
        "use.law_enforcement_purpose",
    ),
    (
        "HR-16",
        {
            "use.law_enforcement_purpose": True,
            "use.operations": ["identification"],
            "use.subject_already_apprehended": False,
        },
        "refuse",
        {
            "use.law_enforcement_purpose": True,
            "use.operations": ["identification"],
            "use.subject_already_apprehended": True,
        },
        "use.subject_already_apprehended",
    ),
    (
        "HR-17",
        {"customer.org_type": "intelligence"},
        "escalate_senior",
        {"customer.org_type": "university"},
        "customer.org_type",
    ),
    (
        "HR-18",
        {"use.decision_effects": ["housing"]},
        "escalate_second",
        {"use.decision_effects": ["physical_access"]},
        "use.decision_effects",
    ),
    ("HR-19", {**RECOG, "scale.sites": 11}, "escalate_second", {**RECOG, "scale.sites": 10}, "scale.sites"),
    (
        "HR-20",
        {**RECOG, "scale.coverage": "city"},
        "escalate_senior",
        {**RECOG, "scale.coverage": "campus"},
        "scale.coverage",
    ),
    (
        "HR-21",
        {**RECOG, "use.environment": "publicly_accessible"},
        "escalate_senior",
        {**RECOG, "use.environment": "controlled_entry"},
        "use.environment",
    ),
    (
        "HR-22",
        {"people.includes_minors": True},
        "escalate_second",
        {"use.context": "workplace"},
        "people.includes_minors",
    ),
    (
        "HR-23",
        {"customer.is_reseller": True, "end_users": [{"name": "Shop", "org_type": "company"}]},
        "escalate_second",
        {"customer.is_reseller": False},
        "customer.is_reseller",
    ),
    (
        "HR-24",
        {**RECOG, "sites": [{"country": "IE"}]},
        "escalate_second",
        {**RECOG, "sites": [{"country": "NO"}]},
        "sites",
    ),
    (
        "HR-25",
        {"use.operations": ["verification"]},
        "conditions",
        {"use.operations": ["verification"], "customer.sector": "government"},
        "customer.sector",
    ),
    (
        "HR-26",
        {"use.operations": ["verification"], "safeguards.feedback_channel": False},
        "conditions",
        {"use.operations": ["verification"], "safeguards.feedback_channel": True},
        "use.operations",
    ),
    (
        "HR-27",
        {"use.operations": ["verification"], "data.retention_policy_public": False},
        "conditions",
        {"use.operations": ["verification"], "data.retention_policy_public": True},
        "use.operations",
    ),
    (
        "HR-28",
        {"use.operations": ["identification", "liveness"]},
        "conditions",
        {"use.operations": ["verification"]},
        "use.operations",
    ),
    ("HR-29", {"customer.sector": None}, "needs_information", {}, None),
    # A request alone: its customer's total is its own figure.
    (
        "HR-30",
        {"use.operations": ["identification"], "scale.cameras": 60},
        "escalate_second",
        {"use.operations": ["identification"]},
        "scale.cameras",
    ),
]


@pytest.mark.parametrize(("rule", "fire", "result", "quiet", "unknown"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_stays_quiet_and_asks_when_unknown(rule, fire, result, quiet, unknown):
    assert outcome(fire, rule) == result
    assert outcome(quiet, rule) == "none"
    if unknown is None:
        return
    doc = make({**fire, unknown: None})
    f = finding(doc, rule)
    assert f is not None and f.outcome == "needs_information", (rule, f and f.outcome)
    assert f.conditions == ()  # a rule left unknown adds no condition
    assert any(unknown in m for m in f.missing), f.missing


def test_covered_every_rule():
    assert sorted(c[0] for c in CASES) == [r.id for r in RS.rules]
    assert [r.id for r in RS.rules] == [f"HR-{i:02d}" for i in range(1, 31)]


# --------------------------------------------------------------- alternative outcomes


@pytest.mark.parametrize(
    ("rule", "changes", "result"),
    [
        (
            "HR-05",
            {"use.operations": ["emotion_inference"], "use.accessibility_scenario": True},
            "escalate_senior",
        ),
        (
            "HR-05",
            {"use.operations": ["emotion_inference"], "use.accessibility_scenario": None},
            "needs_information",
        ),
        (
            "HR-08",
            {
                "customer.country": "FR",
                "customer.org_type": "police",
                "use.operations": ["identification"],
                "use.real_time": "real_time",
                "use.environment": "public_street",
                "legal.eu_art5_objective": "imminent_threat",
                "legal.authorisation": "independent_admin",
            },
            "escalate_senior",
        ),
        (
            "HR-08",
            {
                "customer.country": "FR",
                "customer.org_type": "police",
                "use.operations": ["identification"],
                "use.real_time": "real_time",
                "use.environment": "public_street",
                "legal.eu_art5_objective": "imminent_threat",
                "legal.authorisation": "warrant",
            },
            "refuse",
        ),
        (
            "HR-08",
            {
                "customer.country": "FR",
                "customer.org_type": "police",
                "use.operations": ["identification"],
                "use.real_time": "real_time",
                "use.environment": "public_street",
                "legal.eu_art5_objective": None,
                "legal.authorisation": "judicial",
            },
            "needs_information",
        ),
        (
            "HR-09",
            {
                "use.tracks_individuals": True,
                "use.law_enforcement_purpose": True,
                "legal.authorisation": "warrant",
            },
            "escalate_senior",
        ),
        (
            "HR-09",
            {
                "use.tracks_individuals": True,
                "use.law_enforcement_purpose": True,
                "legal.authorisation": None,
            },
            "needs_information",
        ),
        (
            "HR-18",
            {"use.decision_effects": ["employment"], "safeguards.human_review": False},
            "escalate_senior",
        ),
        (
            "HR-18",
            {"use.decision_effects": ["employment"], "safeguards.human_review": None},
            "needs_information",
        ),
        ("HR-23", {"customer.is_reseller": True, "end_users": []}, "needs_information"),
        (
            "HR-25",
            {"use.operations": ["verification"], "safeguards.alternative_method": False},
            "escalate_second",
        ),
        (
            "HR-25",
            {"use.operations": ["verification"], "safeguards.alternative_method": None},
            "needs_information",
        ),
        (
            "HR-27",
            {
                "use.operations": ["verification"],
                "customer.country": "US",
                "customer.region": "IL",
                "people.enrollment_basis": "non_consensual_watchlist",
            },
            "escalate_senior",
        ),
        (
            "HR-27",
            {
                "use.operations": ["verification"],
                "customer.country": "US",
                "customer.region": "IL",
                "people.enrollment_basis": None,
            },
            "needs_information",
        ),
    ],
)
def test_alternative_outcomes(rule, changes, result):
    assert outcome(changes, rule) == result


def test_hr23_keeps_its_contract_conditions_when_it_asks_for_end_users():
    f = finding(make({"customer.is_reseller": True, "end_users": None}), "HR-23")
    assert f.outcome == "needs_information" and f.missing == ("end_users",)
    assert list(f.conditions) == [
        "contract passes the use limits and the code of conduct down to every end user",
        "contract excludes use by or for police in moratorium countries",
    ]


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("scale.enrolled_identities", 100_000),
        ("scale.identifications_per_day", 10_000),
        ("scale.people_scanned_per_day", 10_000),
        ("scale.cameras", 50),
        ("scale.sites", 10),
        ("scale.countries", 1),
        ("data.retention_days", 1_095),
    ],
)
def test_scale_second_thresholds_are_strict(field, limit):
    assert outcome({**RECOG, field: limit}, "HR-19") == "none"
    f = finding(make({**RECOG, field: limit + 1}), "HR-19")
    assert f.outcome == "escalate_second"
    assert f"{field} = {limit + 1} > {limit}" in f.explanation


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("scale.enrolled_identities", 1_000_000),
        ("scale.people_scanned_per_day", 100_000),
    ],
)
def test_scale_senior_thresholds_are_strict(field, limit):
    assert outcome({**RECOG, field: limit}, "HR-20") == "none"
    assert outcome({**RECOG, field: limit + 1}, "HR-20") == "escalate_senior"


def test_match_threshold_boundary():
    base = {"use.operations": ["identification"]}
    assert finding(make({**base, "safeguards.match_threshold": 0.99}), "HR-28").conditions == (
        "a match is a lead confirmed by a person, never the sole basis for action",
    )
    assert (
        "match threshold at least 0.99"
        in finding(make({**base, "safeguards.match_threshold": 0.989}), "HR-28").conditions
    )
    assert (
        "match threshold at least 0.99"
        in finding(make({**base, "safeguards.match_threshold": None}), "HR-28").conditions
    )


def test_known_facts_win_over_unknowns():
    doc = rq.validate(
        {
            "reference": "R-1",
            "received_on": "2026-11-20",
            "customer": {"name": "Springfield PD", "org_type": "police", "country": "US"},
        }
    )[0]
    ev = RS.evaluate(doc)
    hr01 = finding(doc, "HR-01")
    assert hr01.outcome == "refuse" and hr01.override == "never"
    assert ev.recommendation == "refuse"
    assert "customer.org_type = police is in police_types" in hr01.explanation


def test_unknown_safeguard_is_an_obligation_not_a_question():
    f = finding(make({"use.operations": ["verification"], "safeguards.staff_training": None}), "HR-26")
    assert f.outcome == "conditions"
    assert list(f.conditions) == ["training for everyone who operates the system"]


@pytest.mark.parametrize(
    ("name", "fires"),
    [
        ("Lake County Sheriff's Office", True),
        ("POLICÍA Municipal", True),
        ("Policia Local", True),
        ("North Highway   Patrol Club", True),
        ("Sheriffs' Association", False),
        ("Policemen Ltd", False),
        ("Copolice GmbH", False),
        ("Gendarmerie_Club", False),
        ("Carabinieri Veterans", True),
    ],
)
def test_police_name_terms_match_whole_words(name, fires):
    assert (outcome({"customer.name": name}, "HR-03") == "escalate_senior") is fires


@pytest.mark.parametrize(
    ("city", "fires"),
    [("Portland", True), ("  PORTLAND ", True), ("Portland Metro", False), ("Portlánd", True)],
)
def test_local_ban_city_match(city, fires):
    site = [{"country": "US", "region": "OR", "city": city, "public_accommodation": True}]
    assert (outcome({"sites": site}, "HR-13") == "refuse") is fires


def test_empty_parameter_list_is_false_even_for_unknown():
    assert outcome({"customer.country": None, "customer.org_type": "company"}, "HR-17") == "none"


def test_explanation_json_shape():
    doc = make({**RECOG, "scale.cameras": 900})
    out = RS.evaluate(doc).to_json("CLEAN-1")
    assert out["rule_set"] == "human-rights@2" and len(out["rule_set_sha256"]) == 64
    f19 = next(f for f in out["findings"] if f["rule"] == "HR-19")
    assert set(f19) == {
        "rule",
        "title",
        "outcome",
        "override",
        "explanation",
        "missing",
        "conditions",
        "source",
    }
    assert "scale.cameras = 900 > 50" in f19["explanation"]
    assert [f["rule"] for f in out["findings"]] == sorted(f["rule"] for f in out["findings"])


# --------------------------------------------------------------- the loader


def test_bundled_rule_set_identity_is_stable():
    again = load_text(bundled_text())
    assert again.sha256 == RS.sha256 and RS.key == "human-rights@2"
    reformatted = bundled_text().replace('id = "human-rights"', 'id     =     "human-rights"')
    assert load_text(reformatted).sha256 == RS.sha256  # parsed content, not bytes


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'when = "customer.org_type in police_types and customer.country in moratorium_countries"',
            'when = "customer.org_typ in police_types and customer.country in moratorium_countries"',
            "rule HR-01: when: unknown field path 'customer.org_typ'",
        ),
        (
            'when = "customer.org_type in police_types and customer.country in moratorium_countries"',
            'when = "customer.org_type inn police_types"',
            "rule HR-01: when: unknown operator 'inn'",
        ),
        (
            'when = "customer.org_type in police_types and customer.country in moratorium_countries"',
            'when = "customer.org_type in polise_types"',
            "rule HR-01: when: unknown parameter or field 'polise_types'",
        ),
        (
            '{ name = "EU police", request = { customer = { org_type = "police", country = "PT" } }, expect = "none" }',
            '{ name = "EU police", request = { customer = { org_type = "police", country = "PT" } }, expect = "refuse" }',
            "rule HR-01: example 'EU police' gives none, expected refuse",
        ),
        ('id = "HR-02"', 'id = "HR-01"', "rule HR-01: duplicate rule id"),
        (
            "when = \"use.use_case = 'other' or",
            "when = \"use.use_case = 'othre' or",
            "rule HR-12: when: 'othre' is not a value of use.use_case",
        ),
        (
            'outcome = "escalate_second"\nwhen = "customer.is_reseller = true"',
            'outcome = "escalate_2nd"\nwhen = "customer.is_reseller = true"',
            "rule HR-23: outcome: expected one of",
        ),
    ],
)
def test_malformed_rule_sets_are_refused_naming_the_rule(old, new, message):
    text = bundled_text()
    assert old in text
    with pytest.raises(InvalidInput) as info:
        load_text(text.replace(old, new, 1), origin="bad.toml")
    assert any(message in line for line in info.value.lines()), info.value.lines()


def test_evaluate_command_json_matches_cli_shape(cli, examples, expected, capsys):
    from reviewer.cli import main

    code = main(
        ["evaluate", "--format", "json", *map(str, examples), "--database", f"sqlite:///{cli.db_path}"]
    )
    out = capsys.readouterr().out
    assert code == 0
    results = json.loads(out)
    assert [r["recommendation"] for r in results] == [expected[p.name]["recommendation"] for p in examples]
    assert not cli.db_path.exists()  # evaluate stores nothing and creates no database
    code = main(["evaluate", str(examples[1])])
    text = capsys.readouterr().out
    assert code == 0 and "EX-0002: recommendation REFUSE" in text and "HR-01" in text


def _compiled_equals_interpreted(rs, docs) -> None:
    for d in docs:
        got, want = rs.evaluate(d).to_json(d["reference"]), rs.evaluate_interpreted(d).to_json(d["reference"])
        diff = [
            (a["rule"], a["explanation"], b["explanation"])
            for a, b in zip(got["findings"], want["findings"], strict=False)
            if a != b
        ]
        assert got == want, (d["reference"], diff)


def test_compiled_evaluation_equals_the_interpreted_one(examples, monkeypatch):
    """The generated function (decisions, the keys findings are remembered by, remembered
    findings, generated explanations) gives exactly what the condition nodes alone give: on a
    cold rule set, a warm one, and one whose caches are so small they keep forgetting."""
    import reviewer.rules as rules
    from reviewer.demo import generate

    docs = [rq.validate(rq.loads(p.read_text()))[0] for p in examples]
    docs += list(generate(1000, seed=21))
    docs += [make(change) for change in (
        {"customer.country": None}, {"end_users": None}, {"sites": None},
        {"sites": [{"country": "US", "region": "OR", "city": " portland "}]},
        {"customer.region": "IL", "customer.country": "US", "people.enrollment_basis": None},
        {"scale": None}, {"use.operations": None},
    )]  # fmt: skip
    cold = load_text(bundled_text())
    _compiled_equals_interpreted(cold, docs)  # cold
    _compiled_equals_interpreted(cold, docs)  # warm: remembered findings
    monkeypatch.setattr(rules, "CACHE_LIMIT", 8)
    small = load_text(bundled_text())
    _compiled_equals_interpreted(small, docs)
    assert all(len(r.cache) <= 8 for r in small.rules)
    assert small.budget.used <= 8 * len(small.rules)


def test_caches_stay_within_their_budget(monkeypatch):
    import reviewer.rules as rules
    from reviewer.demo import generate

    monkeypatch.setattr(rules, "CACHE_BUDGET", 100)
    rs = load_text(bundled_text())
    for d in generate(2000, seed=3):
        rs.evaluate(d)
    held = sum(len(r.cache) for r in rs.rules)
    assert held == rs.budget.used
    assert held <= 100 + len(rs.rules), held


SMALL_SET = """
id = "small"
version = 1
title = "Two rules"

[[rules]]
id = "S-1"
title = "Cameras"
outcome = "escalate_second"
when = "scale.cameras > 0"
source = "test"

[[rules]]
id = "S-2"
title = "Real time"
outcome = "escalate_senior"
when = "use.real_time = 'real_time'"
source = "test"
"""


def test_a_rule_whose_facts_never_repeat_stops_remembering(monkeypatch):
    """Every request has its own camera count, so S-1 misses on every evaluation: after a
    review it stops remembering (its cache emptied); S-2's two facts keep being remembered.
    Findings stay exactly those of the nodes throughout."""
    import reviewer.rules as rules

    monkeypatch.setattr(rules, "REVIEW_EVERY", 64)
    rs = load_text(SMALL_SET)
    docs = [make({"scale.cameras": i + 1, "use.real_time": "real_time"}) for i in range(400)]
    _compiled_equals_interpreted(rs, docs)
    s1, s2 = rs.rules
    assert not s1.remember and not s1.cache
    assert s2.remember and len(s2.cache) == 1
    assert rs.budget.used == 1


EVIL = "x'); __import__('os').system('echo pwned'); ('"


def test_generated_source_holds_no_text_from_the_rule_file():
    """Values from the rule file reach the generated function as bound constants, never as
    source text; the function sees no builtins but the few the compiler names."""
    text = bundled_text().replace(
        'when = "customer.org_type in police_types and customer.country in moratorium_countries"',
        'when = "customer.org_type in police_types and customer.country in moratorium_countries '
        "or (known(customer.name) and (customer.name = \\\"__import__('os')\\\" "
        'or customer.name contains_word evil_terms))"',
        1,
    )
    text = text.replace("[parameters]\n", f'[parameters]\nevil_terms = [{json.dumps(EVIL)}, "pwned"]\n', 1)
    rs = load_text(text)
    assert "evil_terms" in rs.rules[0].when_text
    assert "__import__" not in rs.compiled_source and "pwned" not in rs.compiled_source
    assert "police" not in rs.compiled_source and "moratorium" not in rs.compiled_source
    assert rs._evaluate.__globals__["__builtins__"] == {}
    hit = make({"customer.name": "Acme pwned Ltd"})
    assert finding(hit, "HR-01") is None  # RS, the bundled set, does not fire
    ev = rs.evaluate(hit)
    assert [f.rule.id for f in ev.findings][:1] == ["HR-01"]
    assert "pwned" in ev.findings[0].explanation
    assert rs.evaluate(make({"customer.name": "__import__('os')"})).findings[0].rule.id == "HR-01"
    _compiled_equals_interpreted(rs, [hit, CLEAN, make({"customer.name": EVIL})])


def test_equality_with_a_whole_number_compares_values():
    """`x = 1` on 0.5 is false (int.__eq__(0.5) would say NotImplemented, which is truthy)."""
    from reviewer.rules.lang import compile_condition

    node = compile_condition("safeguards.match_threshold = 1", {}, {})
    assert node.fn({"safeguards": {"match_threshold": 0.5}}, None) is False
    assert node.fn({"safeguards": {"match_threshold": 1.0}}, None) is True


def test_stored_evaluation_expands_back_to_the_cli_json(examples):
    from reviewer.rules import expand_evaluation, stored_evaluation

    for path in examples:
        doc, _ = rq.validate(rq.loads(path.read_text()))
        ev = RS.evaluate(doc)
        stored = json.loads(json.dumps(stored_evaluation(ev)))
        assert all("source" not in f and "title" not in f for f in stored["findings"])
        assert expand_evaluation(stored, RS, doc["reference"]) == ev.to_json(doc["reference"])


def test_an_evaluation_made_again_with_new_totals_is_the_fresh_one():
    """`RuleSet.stored_again` decides only the rules reading customer totals again and keeps
    the other findings: for every demo request, whatever its customer's other requests, the
    result is what a full evaluation with those totals stores (section made once or not)."""
    from reviewer import demo
    from reviewer.rules import evaluate_with, parts_of, stored_with, totals_section

    ruleset = load_bundled()
    docs = list(demo.generate(400, seed=11))
    groups: dict[str, list[dict]] = {}
    for d in docs:
        groups.setdefault(rq.customer_key(d["customer"]["name"], d["customer"].get("country")), []).append(d)
    changed = 0
    for group in groups.values():
        parts = parts_of(group + [make({"scale.cameras": 45, "use.operations": ["identification"]})])
        section, memo = totals_section(parts), {}
        for doc in group:
            alone = rq.compact_json(stored_with(ruleset, evaluate_with(ruleset, doc, None), None, doc))
            fresh = stored_with(ruleset, evaluate_with(ruleset, doc, parts), parts, doc)
            assert ruleset.stored_again(alone, doc, parts) == fresh, doc["reference"]
            assert ruleset.stored_again(alone, doc, parts, section) == fresh, doc["reference"]
            assert ruleset.stored_again(alone, doc, parts, section, memo) == fresh, doc["reference"]
            text = (rq.compact_json(fresh), fresh["recommendation"])
            assert ruleset.stored_again_text(alone, doc, parts, section, memo) == text, doc["reference"]
            assert ruleset.stored_again_text(alone, doc, parts) == text, doc["reference"]
            # What a customer's re-evaluation reads of the document (`totals.load`) is enough.
            sparse = {"reference": doc["reference"], "scale": dict(doc.get("scale") or {})}
            for path in ruleset.totals_facts or []:
                head, _, rest = path.partition(".")
                sparse.setdefault(head, {})[rest] = rq.get_path(doc, path)
            assert ruleset.stored_again_text(alone, sparse, parts, section, memo, lambda d=doc: d) == text
            changed += fresh["recommendation"] != json.loads(alone)["recommendation"]
    assert changed, "some requests must change with the totals"
    other = load_text(bundled_text().replace('title = "At scale"', 'title = "At scale (other)"', 1))
    stale = rq.compact_json(stored_with(other, evaluate_with(other, docs[0], None), None, docs[0]))
    parts = parts_of([docs[0]])
    assert ruleset.stored_again(stale, docs[0], parts) == stored_with(
        ruleset, evaluate_with(ruleset, docs[0], parts), parts, docs[0]
    )  # another rule set's evaluation: evaluated afresh
    sparse = {"reference": docs[0]["reference"], "scale": docs[0].get("scale")}
    assert ruleset.stored_again_text(stale, sparse, parts, whole=lambda: docs[0]) == (
        rq.compact_json(stored_with(ruleset, evaluate_with(ruleset, docs[0], parts), parts, docs[0])),
        stored_with(ruleset, evaluate_with(ruleset, docs[0], parts), parts, docs[0])["recommendation"],
    )  # the whole document is read for that


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ['},{"conditions":', '],"recommendation":"', ',"outcome":"refuse","override":null,"rule":"HR-01"}',
     '\\', '"', '\\"', ',"rule":"HR-30"}', ',"findings":[', ',"rule_set_sha256":"' + "0" * 64 + '"}']
)  # fmt: skip
_FINDING = st.fixed_dictionaries({
    "rule": st.sampled_from(["HR-01", "HR-19", "HR-30", "X.1_b"]),
    "outcome": st.sampled_from(["refuse", "needs_information", "escalate_senior", "escalate_second",
                                "conditions"]),
    "override": st.none() | _TEXT, "explanation": _TEXT, "missing": st.lists(_TEXT, max_size=3),
    "conditions": st.lists(_TEXT, max_size=3),
})  # fmt: skip


@given(findings=st.lists(_FINDING, max_size=6), refs=st.lists(_TEXT, min_size=1, max_size=3),
       totals=st.booleans())  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_a_stored_evaluation_is_split_into_its_findings_texts_whatever_they_say(findings, refs, totals):
    """`split_stored` finds each finding's text, rule and outcome in the text `compact_json`
    wrote, whatever the strings hold (quotes, backslashes, the separators it looks for), and
    declines a text in any other shape (which `stored_again_text` then parses)."""
    from reviewer.rules import split_stored

    stored: dict = {"recommendation": "refuse", "rule_set": "human-rights@2", "rule_set_sha256": "ab" * 32,
                    "findings": findings}  # fmt: skip
    if totals:
        stored["customer_total"] = {"cameras": [[r, 40] for r in refs], "sites": [[refs[0], None]]}
    text = rq.compact_json(stored)
    split = split_stored(text)
    assert split is not None and split.sha256 == "ab" * 32
    assert split.findings == [(f["rule"], f["outcome"], rq.compact_json(f)) for f in findings]
    assert split_stored(json.dumps(stored, indent=1)) is None
    assert split_stored(json.dumps(stored)) is None  # white space after separators
    if findings:
        odd = dict(stored, findings=[{**findings[0], "zz": 1}, *findings[1:]])
        assert split_stored(rq.compact_json(odd)) is None  # a key after "rule"


def _evaluate(db_path, *args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    from reviewer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["evaluate", *args, "--database", f"sqlite:///{db_path}"])
    return code, out.getvalue(), err.getvalue()


def test_evaluate_reads_large_input_twice_and_prints_the_same_or_nothing(tmp_path, monkeypatch, examples):
    """Input over `services.files.HOLD_BYTES` is validated in a first pass and evaluated and
    printed in a second, one request at a time: the same JSON and text as when it is held;
    an invalid record anywhere means nothing on stdout and the same errors; a file changed
    between the passes is named, exit 3."""
    from reviewer import demo
    from reviewer.services import files as readers

    big = tmp_path / "big.jsonl"
    docs = [rq.canonical_json(d) for d in demo.generate(300, seed=9)]
    big.write_text("".join(d + "\n" for d in docs), encoding="utf-8")
    files = [str(big), *map(str, examples)]
    held = {fmt: _evaluate(tmp_path / "x.db", *files, "--format", fmt) for fmt in ("json", "text")}
    monkeypatch.setattr(readers, "HOLD_BYTES", 0)
    for fmt, (code, out, err) in held.items():
        assert code == 0 and not err
        assert _evaluate(tmp_path / "x.db", *files, "--format", fmt) == (0, out, "")
    assert len(json.loads(held["json"][1])) == 300 + len(examples)
    reads = []
    real = readers.intake.read_records
    monkeypatch.setattr(readers.intake, "read_records", lambda *a, **k: reads.append(a[0]) or real(*a, **k))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "".join(d + "\n" for d in docs[:-1]) + docs[-1].replace('"received_on":"', '"received_on":"x') + "\n"
    )
    code, out, err = _evaluate(tmp_path / "x.db", str(bad))
    assert (code, out) == (3, "") and f"{bad}:300: received_on:" in err
    assert reads == [str(bad)]  # never read a second time

    def changing(paths, *args, **kwargs):
        checked = check(paths, *args, **kwargs)
        with big.open("a", encoding="utf-8") as fh:
            fh.write(docs[0].replace(demo_ref, "EX-CHANGED") + "\n")
        return checked

    check, demo_ref = readers.check_files, json.loads(docs[0])["reference"]
    monkeypatch.setattr(readers, "check_files", changing)
    code, out, err = _evaluate(tmp_path / "x.db", str(big))
    assert code == 3 and out == "" and f"{big}: changed while it was read" in err


def test_file_totals_give_each_request_its_customers_parts_with_a_databases_figures():
    """`services.files.FileTotals` holds a key, a reference and five figures a request and
    gives each request the totals `rules.parts_of` makes of its customer's requests in the
    files and those a database counts (sorted by reference, the stored beside the files')."""
    from reviewer import demo
    from reviewer.rules import parts_of
    from reviewer.services.files import FileTotals, figures_of

    docs = list(demo.generate(400, seed=3))
    groups: dict[str, list[dict]] = {}
    for doc in docs:
        groups.setdefault(figures_of(doc)[0], []).append(doc)
    largest = max(groups, key=lambda k: len(groups[k]))
    assert len(groups[largest]) > 2 and len(groups) > 50
    stored = {largest: [{"reference": "ZZ-STORED", "scale": {"cameras": 7}},
                        {"reference": "AA-STORED", "scale": {}}]}  # fmt: skip
    totals = FileTotals([figures_of(doc) for doc in docs], stored)
    for doc in docs:
        key = figures_of(doc)[0]
        assert totals.get(doc["reference"]) == parts_of([*groups[key], *stored.get(key, [])])
    assert [r for r, _v in totals.get(groups[largest][0]["reference"])["cameras"]][0] == "AA-STORED"
    assert totals.get("NOT-IN-THE-FILES") is None


def test_a_few_requests_are_evaluated_by_the_nodes_until_the_rule_set_is_compiled():
    """Up to FEW evaluations go by the nodes; more, or any once the rule set is compiled,
    by the generated function (both give the same evaluation)."""
    from reviewer.rules import FEW

    rs = load_text(bundled_text())  # a RuleSet of its own, not compiled yet
    assert rs.sooner_by_nodes(1) and rs.sooner_by_nodes(FEW) and not rs.sooner_by_nodes(FEW + 1)
    doc = make({})
    assert rs.evaluate_interpreted(doc).recommendation == rs.evaluate(doc).recommendation
    assert not rs.sooner_by_nodes(1)
