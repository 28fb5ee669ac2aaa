"""Writes bench/peer/human-rights.json: Reviewer's bundled rule set (human-rights@2) as one
GoRules ZEN decision graph (JDM), for FULLY KNOWN requests only (two-valued logic).

The rule conditions are translated by hand into ZEN expressions below (one row of a decision
table per rule, two rows for a rule with an `instead`); the parameters (lists and thresholds)
are read from resources/rulesets/human-rights-2.toml, so the graph follows the TOML's values.
Run it with any Python 3.11+ (it needs only the standard library):

    python bench/peer/make_graph.py            # writes bench/peer/human-rights.json

The graph:  request -> definitions (expression node) -> rules (decision table, collect)
            -> recommendation (expression node) -> response

Its response: {"recommendation": "refuse"|...|"approve", "findings": [{"rule", "outcome"}]}.
What it leaves out, because it cannot occur in a fully known request or ZEN has no such
function (see README.md): HR-29 (facts needed: nothing is unknown), three-valued logic
(an unknown fact is read as null and simply fails a comparison), accent folding in HR-03's
name terms and HR-13's city (case-insensitive matching only), and customer totals across
requests (HR-30 reads the request's own scale figures: one request per customer).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOML = HERE.parent.parent / "resources" / "rulesets" / "human-rights-2.toml"
OUT = HERE / "human-rights.json"

RANK = {"refuse": 6, "needs_information": 5, "escalate_senior": 4, "escalate_second": 3,
        "conditions": 2, "approve": 1}  # fmt: skip


def lit(values: list[str]) -> str:
    """A ZEN list literal."""
    return json.dumps(values, ensure_ascii=False)


def word_regex(terms: list[str]) -> str:
    """Whole words in a lower-cased name (Rust regex: \\W is Unicode-aware; ZEN string literals
    take backslashes as they are)."""
    alts = "|".join(r"\s+".join(t.lower().split()) for t in terms)
    for ch in alts:
        if not (ch.isalpha() or ch in "\\s+|"):
            raise SystemExit(f"a police name term needs escaping for the regex: {ch!r}")
    return r"(?:^|\W)(?:" + alts + r")(?:\W|$)"


def name_test(name: str, org_type: str, p: dict[str, Any]) -> str:
    """HR-03 for one party. ZEN compiles a `matches` pattern at every call (about 1.5 ms for
    this one), so the regex runs only where it can change the result: the org type is not a
    law-enforcement one and the lower-cased name contains the longest word of some term."""
    longest = sorted({max(t.lower().split(), key=len) for t in p["police_name_terms"]})
    pre = " or ".join(f'contains(lower({name}), "{w}")' for w in longest)
    return (
        f"{org_type} not in {lit(p['law_enforcement_types'])} and ({pre}) and "
        f'matches(lower({name}), "{word_regex(p["police_name_terms"])}")'
    )


def build(p: dict[str, Any]) -> dict[str, Any]:
    police, le_types = lit(p["police_types"]), lit(p["law_enforcement_types"])
    moratorium, eu = lit(p["moratorium_countries"]), lit(p["eu_countries"])
    s2, s3 = p["scale_second"], p["scale_senior"]
    [ban] = p["local_bans"]  # one place: Portland, OR, US
    [bipa] = p["bipa_places"]  # one place: US-IL

    definitions = {
        "le": f"customer.org_type in {le_types} or some(end_users, #.org_type in {le_types}) "
              "or use.law_enforcement_purpose == true",
        "recognition": f"some(use.operations, # in {lit(p['recognition_operations'])})",
        "identification": '"identification" in use.operations',
        "eu_deployment": f"customer.country in {eu} or some(sites, #.country in {eu})",
        "private": 'customer.sector in ["commercial", "nonprofit"]',
        "illinois": f'(customer.country == "{bipa["country"]}" and customer.region == "{bipa["region"]}") '
                    f'or some(sites, #.country == "{bipa["country"]}" and #.region == "{bipa["region"]}")',
        "real_time": 'use.real_time in ["near_real_time", "real_time"]',
    }  # fmt: skip
    d = {k: f"def.{k}" for k in definitions}

    def over(fields: dict[str, int], prefix: str) -> str:
        return " or ".join(f"{prefix}.{k} > {v}" for k, v in fields.items() if not isinstance(v, list))

    scale_second = over({k: v for k, v in s2.items() if k != "retention_days"}, "scale")
    hr30_second = over({k: v for k, v in s2.items() if k not in ("retention_days", "countries")}, "scale")
    hr30_senior = over(s3, "scale")
    # (rule, condition, outcome): a rule with `instead` is two rows, instead first.
    rows: list[tuple[str, str, str]] = []

    def rule(rid: str, when: str, outcome: str, instead: tuple[str, str] | None = None) -> None:
        if instead is None:
            rows.append((rid, when, outcome))
        else:
            rows.append((rid, f"({when}) and ({instead[0]})", instead[1]))
            rows.append((rid, f"({when}) and not ({instead[0]})", outcome))

    rule("HR-01", f"customer.org_type in {police} and customer.country in {moratorium}", "refuse")
    rule("HR-02", f"some(end_users, #.org_type in {police} and #.country in {moratorium}) or "
                  f"(data.shares_with_law_enforcement == true and some(data.law_enforcement_recipients, "
                  f"#.org_type in {police} and #.country in {moratorium}))", "refuse")  # fmt: skip
    rule(
        "HR-03",
        f"({name_test('customer.name', 'customer.org_type', p)}) or "
        f"some(end_users, {name_test('#.name', '#.org_type', p)})",
        "escalate_senior",
    )
    mobile = '["body_worn", "dash_mounted", "handheld_mobile"]'
    rule("HR-04", f"{d['le']} and {d['real_time']} and use.camera_type in {mobile}", "refuse")
    rule(
        "HR-05",
        'some(use.operations, # in ["emotion_inference", "attribute_inference"])',
        "refuse",
        ("use.accessibility_scenario == true", "escalate_senior"),
    )
    rule("HR-06", '"sensitive_attribute_inference" in use.operations', "refuse")
    rule("HR-07", 'some(data.gallery_sources, # in ["scraped_internet", "harvested_cctv"])', "refuse")
    rule("HR-08", f'{d["eu_deployment"]} and {d["le"]} and {d["identification"]} and {d["real_time"]} and '
                  'use.environment in ["publicly_accessible", "public_street"]', "refuse",
         ('legal.eu_art5_objective != "none" and legal.authorisation in ["judicial", "independent_admin"]',
          "escalate_senior"))  # fmt: skip
    rule("HR-09", "use.tracks_individuals == true", "refuse",
         (f'{d["le"]} and legal.authorisation in ["warrant", "court_order", "judicial", "exigent"]',
          "escalate_senior"))  # fmt: skip
    rule("HR-10", "use.targets_protected_groups == true or len(use.monitored_events) > 0", "refuse")
    rule("HR-11", "use.captures_protected_spaces == true", "refuse")
    rule("HR-12", f'use.use_case == "other" or (use.use_case in {lit(p["government_only_use_cases"])} and '
                  'customer.sector not in ["government", "international"])', "refuse")  # fmt: skip
    at_ban = f'#.country == "{ban["country"]}" and #.region == "{ban["region"]}"'
    city = f'lower(trim(#.city)) == "{ban["city"].lower()}"'
    rule("HR-13", f'{d["private"]} and some(sites, {at_ban} and {city} and #.public_accommodation == true)',
         "refuse")  # fmt: skip
    rule("HR-14", "data.sold_or_monetized == true", "refuse")
    rule("HR-15", d["le"], "escalate_senior")
    rule("HR-16", f'{d["le"]} and {d["identification"]} and use.subject_already_apprehended == false and '
                  'use.use_case not in ["emergency_imminent_danger", "humanitarian"]', "refuse")  # fmt: skip
    rule("HR-17", f'customer.org_type in {lit(p["security_state_types"])} or '
                  f'customer.country in {lit(p["high_risk_countries"])}', "escalate_senior")  # fmt: skip
    rule(
        "HR-18",
        f"some(use.decision_effects, # in {lit(p['consequential_effects'])})",
        "escalate_second",
        ("safeguards.human_review == false", "escalate_senior"),
    )
    rule("HR-19", f'{d["recognition"]} and ({scale_second} or data.retention_days > {s2["retention_days"]})',
         "escalate_second")  # fmt: skip
    rule("HR-20", f'{d["recognition"]} and ({over(s3, "scale")} or scale.coverage in {lit(s3["coverage"])})',
         "escalate_senior")  # fmt: skip
    watchlist = 'people.enrollment_basis == "non_consensual_watchlist"'
    public = 'use.environment in ["publicly_accessible", "public_street"]'
    rule("HR-21", f"{d['identification']} and ({watchlist} or {public})", "escalate_senior")
    rule("HR-22", 'people.includes_minors == true or people.mostly_over_65 == true or '
                  'use.context in ["school", "eldercare"]', "escalate_second")  # fmt: skip
    rule(
        "HR-23",
        "customer.is_reseller == true",
        "escalate_second",
        ("len(end_users) == 0", "needs_information"),
    )
    rule("HR-24", f"{d['eu_deployment']} and {d['identification']}", "escalate_second")
    # HR-25 always adds its condition, so it fires whenever its test is true.
    rule("HR-25", f'{d["private"]} and {d["recognition"]}', "conditions",
         ("safeguards.enrollment_optional == false or safeguards.alternative_method == false",
          "escalate_second"))  # fmt: skip
    # A `conditions` rule fires only when it adds a condition.
    safeguards = ("human_review", "operational_testing", "staff_training", "feedback_channel")
    not_all = " or ".join(f"safeguards.{k} != true" for k in safeguards)
    rule("HR-26", f'{d["recognition"]} and ({not_all})', "conditions")  # fmt: skip
    # HR-27: escalate_senior fires whatever it adds; conditions only when it adds one.
    rows.append(("HR-27", f"{d['recognition']} and {d['illinois']} and {watchlist}", "escalate_senior"))
    rows.append(("HR-27", f'{d["recognition"]} and not ({d["illinois"]} and {watchlist}) and '
                          '(data.retention_policy_public != true or '
                          f'({d["illinois"]} and safeguards.consent != "written_release"))',
                 "conditions"))  # fmt: skip
    rule("HR-28", d["identification"], "conditions")  # always adds its first condition
    # HR-30 over the request's own figures (one request per customer).
    rule(
        "HR-30",
        f"{d['recognition']} and ({hr30_second})",
        "escalate_second",
        (hr30_senior, "escalate_senior"),
    )

    nodes: list[dict[str, Any]] = []
    x = 0

    def node(kind: str, name: str, content: dict[str, Any] | None = None) -> str:
        nonlocal x
        nid = f"n{len(nodes) + 1}"
        n: dict[str, Any] = {"id": nid, "type": kind, "name": name, "position": {"x": x, "y": 100}}
        if content is not None:
            n["content"] = content
        nodes.append(n)
        x += 260
        return nid

    ids = [
        node("inputNode", "request"),
        node("expressionNode", "definitions", {
            "passThrough": True, "inputField": None, "outputPath": None,
            "expressions": [{"id": f"def{i}", "key": f"def.{k}", "value": v}
                            for i, (k, v) in enumerate(definitions.items(), 1)],
        }),
        node("decisionTableNode", "rules", {
            "hitPolicy": "collect", "passThrough": False, "inputField": None, "outputPath": "findings",
            "executionMode": "single",
            "inputs": [{"id": "when", "name": "fires when", "field": None}],
            "outputs": [{"id": "rule", "name": "rule", "field": "rule"},
                        {"id": "outcome", "name": "outcome", "field": "outcome"},
                        {"id": "rank", "name": "rank", "field": "rank"}],
            "rules": [{"_id": f"row{i}", "_description": rid, "when": cond, "rule": json.dumps(rid),
                       "outcome": json.dumps(outcome), "rank": str(RANK[outcome])}
                      for i, (rid, cond, outcome) in enumerate(rows, 1)],
        }),
        node("expressionNode", "recommendation", {
            "passThrough": False, "inputField": None, "outputPath": None,
            "expressions": [
                {"id": "top", "key": "top", "value": "len(findings) == 0 ? 1 : max(map(findings, #.rank))"},
                {"id": "recommendation", "key": "recommendation",
                 "value": '$.top == 6 ? "refuse" : $.top == 5 ? "needs_information" : '
                          '$.top == 4 ? "escalate_senior" : $.top == 3 ? "escalate_second" : '
                          '$.top == 2 ? "conditions" : "approve"'},
                {"id": "findings", "key": "findings",
                 "value": "map(findings, {rule: #.rule, outcome: #.outcome})"},
            ],
        }),
        node("outputNode", "response"),
    ]  # fmt: skip
    edges = [{"id": f"e{i}", "sourceId": a, "targetId": b, "type": "edge"}
             for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False), 1)]  # fmt: skip
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def main() -> int:
    ruleset = tomllib.loads(TOML.read_text(encoding="utf-8"))
    ids = [r["id"] for r in ruleset["rules"]]
    wanted = [f"HR-{i:02d}" for i in range(1, 31)]
    if ruleset["id"] != "human-rights" or ruleset["version"] != 2 or ids != wanted:
        print(f"{TOML}: not the rule set this graph was written for (human-rights@2, HR-01..HR-30)",
              file=sys.stderr)  # fmt: skip
        return 1
    graph = build(ruleset["parameters"])
    OUT.write_text(json.dumps(graph, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(graph['nodes'][2]['content']['rules'])} table rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
