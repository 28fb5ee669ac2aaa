"""Request documents for the tests: CLEAN (no rule fires on it) and `make`, which changes it."""

from __future__ import annotations

import copy

from reviewer import request as rq

# A request on which no rule fires: every fact known and harmless.
CLEAN = {
    "reference": "CLEAN-1", "received_on": "2026-11-20",
    "customer": {"name": "Harbour Ltd", "country": "GB", "region": "LND", "org_type": "company",
                 "sector": "commercial", "is_reseller": False},
    "end_users": [],
    "use": {"use_case": "detection_only", "operations": ["detection"], "real_time": "none",
            "camera_type": "user_device", "environment": "online", "context": "online_service",
            "law_enforcement_purpose": False, "tracks_individuals": False,
            "targets_protected_groups": False, "monitored_events": [],
            "captures_protected_spaces": False, "decision_effects": [],
            "accessibility_scenario": False},
    "people": {"includes_minors": False, "mostly_over_65": False, "enrollment_basis": "self_opt_in"},
    "scale": {"enrolled_identities": 10, "identifications_per_day": 10,
              "people_scanned_per_day": 10, "cameras": 1, "sites": 1, "countries": 1,
              "coverage": "site"},
    "data": {"gallery_sources": ["self_enrolled"], "retention_days": 30,
             "retention_policy_public": True, "sold_or_monetized": False,
             "shares_with_law_enforcement": False, "law_enforcement_recipients": []},
    "safeguards": {"consent": "explicit_opt_in", "enrollment_optional": True,
                   "alternative_method": True, "human_review": True, "operational_testing": True,
                   "demographic_testing": True, "staff_training": True, "feedback_channel": True,
                   "match_threshold": 0.995},
    "legal": {"authorisation": "none", "eu_art5_objective": "none", "dpia_completed": True},
    "sites": [{"country": "GB", "region": "LND", "city": "London", "public_accommodation": False}],
}  # fmt: skip


def make(changes: dict[str, object], base: dict | None = None) -> dict:
    """CLEAN with dotted-path changes; the value None deletes (makes unknown)."""
    doc = copy.deepcopy(base or CLEAN)
    for path, value in changes.items():
        head, _, rest = path.partition(".")
        target = doc if not rest else doc.setdefault(head, {})
        key = rest or head
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    clean, problems = rq.validate(doc)
    assert not problems, problems
    return clean
