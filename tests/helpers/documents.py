"""Request documents for the tests: CLEAN (no rule fires on it), `make`, which changes it, and
`demo_docs`/`jsonl`, files of many demo requests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

from reviewer import request as rq
from reviewer.demo import generate
from reviewer.export.documents import write_export_file

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


PADDING = "Staff are alerted when a person on the list enters the store. " * 56  # 3.5 KB


def demo_docs(n: int, seed: int, prefix: str = "DEMO", padded: bool = False) -> Iterator[dict]:
    """n demo requests; `padded`: each with 3.5 KB more description (5 KB in all), so that a
    file grows past a size (say the one that brings in import workers) with a fifth of the
    requests, and of the time, that plain ones need."""
    for doc in generate(n, seed=seed, prefix=prefix):
        if padded:
            doc["use"]["description"] = f"{doc['use'].get('description') or ''} {PADDING}"
        yield doc


def jsonl(path: Path, n: int, seed: int, prefix: str = "DEMO", padded: bool = False) -> Path:
    """A JSONL file of `demo_docs`, written as `reviewer export --format jsonl` writes."""
    write_export_file(demo_docs(n, seed, prefix, padded), "jsonl", str(path))
    return path
