"""The four defects of the judgement issue, each pinned by the request that showed it: HR-29
names what it lacks, a conditions rule that could add nothing is silent, a finding's missing
fields are exactly those that can change it, and a spacing accent cannot hide Portland."""

from __future__ import annotations

import pytest

from reviewer import request as rq
from reviewer.rules import load_bundled
from tests.helpers.documents import make

RS = load_bundled()
RECOG = {"use.operations": ["identification"]}


def findings(doc: dict) -> dict[str, object]:
    compiled = {f.rule.id: f for f in RS.evaluate(doc).findings}
    interpreted = {f.rule.id: f for f in RS.evaluate_interpreted(doc).findings}
    # The generated evaluation and the reference nodes agree on every point tested here.
    assert {k: (f.outcome, f.missing, f.conditions) for k, f in compiled.items()} == {
        k: (f.outcome, f.missing, f.conditions) for k, f in interpreted.items()
    }
    return compiled


# ------------------------------------------------------------------ HR-29 names what it lacks


def test_hr29_lists_every_unknown_field_it_names():
    doc = make({**RECOG, "customer.sector": None, "scale.cameras": None, "use.real_time": None})
    hr29 = findings(doc)["HR-29"]
    assert hr29.outcome == "needs_information"
    assert list(hr29.missing) == ["customer.sector", "use.real_time", "scale.cameras"]


def test_hr29_asks_for_the_recognition_facts_while_the_operations_are_unknown():
    """With use.operations unknown, recognition may hold: the facts HR-29 needs for it stay
    asked (they are not ruled out by a false part)."""
    doc = make({"use.operations": None, "scale.sites": None})
    assert list(findings(doc)["HR-29"].missing) == ["use.operations", "scale.sites"]


def test_hr29_does_not_ask_for_recognition_facts_without_recognition():
    doc = make({"use.operations": ["detection"], "scale.sites": None, "customer.country": None})
    assert list(findings(doc)["HR-29"].missing) == ["customer.country"]


def test_every_field_hr29_names_is_among_the_missing_facts_of_the_evaluation():
    doc = make({**RECOG, "scale.coverage": None, "people.enrollment_basis": None})
    ev = RS.evaluate(doc)
    assert {"scale.coverage", "people.enrollment_basis"} <= set(ev.missing)


# ------------------------------------------------- a conditions rule that could add nothing


def test_hr26_is_silent_while_operations_are_unknown_and_every_safeguard_is_in_place():
    doc = make({"use.operations": None})
    got = findings(doc)
    assert "HR-26" not in got
    assert "use.operations" in got["HR-29"].missing


def test_hr26_asks_while_operations_are_unknown_and_a_safeguard_is_missing():
    doc = make({"use.operations": None, "safeguards.staff_training": False})
    f = findings(doc)["HR-26"]
    assert f.outcome == "needs_information" and f.missing == ("use.operations",) and not f.conditions


def test_hr26_asks_when_an_unknown_safeguard_could_add_its_condition():
    doc = make({"use.operations": None, "safeguards.feedback_channel": None})
    assert findings(doc)["HR-26"].outcome == "needs_information"


def test_hr27_is_silent_when_no_completion_adds_a_condition():
    doc = make({"use.operations": None})  # public schedule, nowhere in Illinois
    assert "HR-27" not in findings(doc)
    doc = make({"use.operations": None, "data.retention_policy_public": False})
    assert findings(doc)["HR-27"].outcome == "needs_information"


def test_a_conditions_rule_whose_instead_may_hold_still_asks():
    """HR-27 with Illinois and a watchlist is escalate_senior whatever it adds: unknown
    operations then ask, even with every condition settled."""
    doc = make({"use.operations": None, "customer.country": "US", "customer.region": "IL",
                "safeguards.consent": "written_release",
                "people.enrollment_basis": "non_consensual_watchlist"})  # fmt: skip
    assert findings(doc)["HR-27"].outcome == "needs_information"


def test_hr28_always_adds_its_lead_condition_so_it_asks():
    assert findings(make({"use.operations": None}))["HR-28"].outcome == "needs_information"


# ---------------------------------------- missing lists exactly the fields that can change it


def test_a_sheriff_customer_is_not_asked_about_a_law_enforcement_purpose():
    doc = make({"customer.org_type": "sheriff", "use.law_enforcement_purpose": None,
                "use.real_time": None, "use.camera_type": "body_worn"})  # fmt: skip
    got = findings(doc)
    assert got["HR-04"].missing == ("use.real_time",)
    for f in got.values():
        assert "use.law_enforcement_purpose" not in f.missing, f


def test_a_site_in_the_eu_settles_eu_deployment_whatever_the_customer_country():
    doc = make({"customer.country": None, "customer.org_type": "police", **RECOG,
                "sites": [{"country": "CZ", "city": "Brno"}], "use.real_time": None,
                "use.environment": "public_street"})  # fmt: skip
    got = findings(doc)
    assert got["HR-08"].missing == ("use.real_time",)
    assert got["HR-24"].outcome == "escalate_second"
    for rule in ("HR-08", "HR-24"):
        assert "customer.country" not in got[rule].missing
    assert "customer.country" in got["HR-29"].missing  # HR-29 still asks: it names it


def test_an_unknown_or_still_names_what_each_unknown_part_lacks():
    doc = make({"customer.country": None, "sites": None, **RECOG})
    assert findings(doc)["HR-24"].missing == ("customer.country", "sites")


def test_a_reseller_with_an_empty_end_user_list_is_asked_for_end_users():
    doc = make({"customer.is_reseller": True, "end_users": []})
    f = findings(doc)["HR-23"]
    assert f.outcome == "needs_information" and f.missing == ("end_users",)
    assert len(f.conditions) == 2  # its contract conditions stand


def test_a_false_part_of_an_and_settles_it():
    doc = make({"customer.org_type": "company", "use.law_enforcement_purpose": False,
                "use.real_time": None})  # fmt: skip
    assert "HR-04" not in findings(doc)


# --------------------------------------------------------------- spacing accents and blanks


@pytest.mark.parametrize(
    "city",
    ["Portland\u00a8", "\u00b4Portland", " PORTLAND\u00b4 ", "Portland\u02dc", "Port\u00adland",
     "Portland\u200b", "\u200ePortland"],
)  # fmt: skip
def test_a_spacing_accent_does_not_escape_the_portland_ban(city):
    doc = make({"customer.sector": "commercial", "sites": [
        {"country": "US", "region": "OR", "city": city, "public_accommodation": True}]})  # fmt: skip
    assert findings(doc)["HR-13"].outcome == "refuse"


def test_portland_metro_is_still_not_portland():
    doc = make({"customer.sector": "commercial", "sites": [
        {"country": "US", "region": "OR", "city": "Portland\u00a8 Metro", "public_accommodation": True}]})  # fmt: skip
    assert "HR-13" not in findings(doc)


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_an_empty_or_blank_optional_string_is_unknown(blank):
    raw = {"reference": "B-1", "received_on": "2026-11-20",
           "customer": {"name": "Shop", "city": blank}, "sites": [{"city": blank}]}  # fmt: skip
    doc, problems = rq.validate(raw)
    assert problems == [] and doc is not None
    assert "city" not in doc["customer"] and doc["sites"] == [{}]


def test_an_invisible_character_does_not_hide_a_police_name():
    doc = make({"customer.name": "City Pol\u00adice Benevolent Fund", "customer.org_type": "ngo"})
    assert findings(doc)["HR-03"].outcome == "escalate_senior"
