"""Realistic, varied synthetic requests for demos, screenshots and benchmarks.

Deterministic for a seed: the same seed gives the same documents on any machine. The first
requests walk every org type and every use case, so any count of at least 20 covers them all;
scale figures fall on both sides of every threshold, sites include US, EU, Illinois and
Portland, and some facts are left unknown.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from reviewer import request as rq

GOVERNMENT = {"police", "sheriff", "federal_law_enforcement", "immigration_enforcement",
              "corrections", "prosecutor", "court", "ministry_interior", "intelligence",
              "military", "government_agency", "local_government", "transport_authority",
              "school"}  # fmt: skip
PLACES = [
    ("US", "IL", "Chicago"), ("US", "OR", "Portland"), ("US", "TX", "Austin"),
    ("US", "NY", "New York"), ("US", "CA", "San Jose"), ("DE", "BE", "Berlin"),
    ("FR", "IDF", "Paris"), ("ES", "MD", "Madrid"), ("PT", "11", "Lisboa"),
    ("NL", "NH", "Amsterdam"), ("GB", "LND", "London"), ("CA", "ON", "Toronto"),
    ("IN", "KA", "Bengaluru"), ("JP", "13", "Tōkyō"), ("BR", "SP", "São Paulo"),
    ("NZ", "CAN", "Christchurch"), ("AE", "DU", "Dubai"), ("PL", "14", "Warszawa"),
]  # fmt: skip
STEMS = ["Northwind", "Harbour", "Bluebird", "Keystone", "Meridian", "Aurora", "Lakeside",
         "Summit", "Cedar", "Orchard", "Granite", "Riverside", "Müller & Söhne", "Crédit Évora",
         "Пример", "示例", "شركة مثال", "Zephyr", "Pinecrest", "Atlas"]  # fmt: skip
# Names up to 40 characters (the queue shows one whole at 1280 px).
NAME_BY_TYPE = {
    "company": "{stem} {what} {suffix}",
    "police": "{city} Police Department",
    "sheriff": "{stem} County Sheriff's Office",
    "federal_law_enforcement": "Investigations Bureau, {city}",
    "immigration_enforcement": "Immigration Service, {city}",
    "corrections": "{stem} Correctional Facility",
    "prosecutor": "District Attorney, {city}",
    "court": "{city} District Court",
    "ministry_interior": "Ministry of the Interior, {city}",
    "intelligence": "National Intelligence Directorate",
    "military": "{stem} Air Base Security",
    "government_agency": "Department of Licensing, {city}",
    "local_government": "City of {city}",
    "transport_authority": "{city} Transit Authority",
    "school": "{stem} High School",
    "university": "University of {city}",
    "research_lab": "{stem} Vision Lab",
    "healthcare_provider": "{stem} Health Clinic",
    "ngo": "{stem} Refugee Aid",
    "international_org": "{stem} International Committee",
}
WHAT = ["Retail", "Bank", "Logistics", "Stadiums", "Hotels", "Fitness", "Security", "Media",
        "Airlines", "Insurance", "Pharmacy", "Casino"]  # fmt: skip
SUFFIX = ["Inc.", "Ltd", "GmbH", "S.A.", "LLC", "plc", "AG", "B.V."]
TITLES = {
    "liveness_only": "Liveness check for app sign-in",
    "detection_only": "Face detection for photo cropping",
    "identity_verification": "Selfie check against ID document",
    "touchless_access": "Touchless door access for staff",
    "personalization": "Personalised greeting at kiosks",
    "duplicate_prevention": "Find duplicate accounts",
    "media_archive": "Tag people in the media archive",
    "le_apprehended_suspect": "Identify suspects already in custody",
    "intl_justice": "Identify victims for an international tribunal",
    "public_media_archive": "Index the public broadcaster's archive",
    "emergency_imminent_danger": "Search for a missing person in danger",
    "humanitarian": "Reunite separated families",
    "other": "Custom analytics project",
}
OPERATIONS = {
    "liveness_only": ["liveness"],
    "detection_only": ["detection"],
    "identity_verification": ["verification", "liveness"],
    "touchless_access": ["verification"],
    "personalization": ["identification"],
    "duplicate_prevention": ["identification"],
    "media_archive": ["identification", "detection"],
    "le_apprehended_suspect": ["identification"],
    "intl_justice": ["identification"],
    "public_media_archive": ["identification", "detection"],
    "emergency_imminent_danger": ["identification"],
    "humanitarian": ["identification"],
    "other": ["identification", "attribute_inference"],
}
SECTOR_BY_TYPE = {"company": "commercial", "university": "academic", "research_lab": "academic",
                  "healthcare_provider": "commercial", "ngo": "nonprofit",
                  "international_org": "international"}  # fmt: skip

# Values on both sides of each threshold of the default rule set.
SCALE = {
    "enrolled_identities": [0, 800, 100_000, 100_001, 250_000, 1_000_000, 1_000_001, 20_000_000],
    "identifications_per_day": [0, 500, 10_000, 10_001, 60_000],
    "people_scanned_per_day": [140, 5_000, 10_000, 10_001, 100_000, 100_001, 2_000_000],
    "cameras": [0, 2, 50, 51, 75, 100, 101, 900],
    "sites": [0, 1, 10, 11, 300],
    "countries": [1, 1, 1, 2, 5],
}


def _pick(rng: random.Random, values: list[Any], unknown: float = 0.0) -> Any:
    if unknown and rng.random() < unknown:
        return None
    return rng.choice(values)


def _bool(rng: random.Random, p_true: float, unknown: float = 0.03) -> bool | None:
    if rng.random() < unknown:
        return None
    return rng.random() < p_true


def generate(count: int, seed: int = 1, start: int = 1, prefix: str = "DEMO") -> Iterator[dict[str, Any]]:
    """Yield `count` valid request documents (canonical form)."""
    rng = random.Random(seed)
    repeat = random.Random(seed * 7919 + 1)  # its own stream: the rest stays as it was
    seen: dict[str, list[dict[str, Any]]] = {}
    base = dt.date(2026, 1, 5)
    for i in range(start - 1, start - 1 + count):
        org = rq.ORG_TYPES[i % len(rq.ORG_TYPES)] if i < 40 else rng.choice(rq.ORG_TYPES)
        use_case = rq.USE_CASES[i % len(rq.USE_CASES)] if i < 26 else rng.choice(rq.USE_CASES)
        country, region, city = rng.choice(PLACES)
        stem = rng.choice(STEMS)
        name = NAME_BY_TYPE[org].format(stem=stem, city=city, what=rng.choice(WHAT),
                                        suffix=rng.choice(SUFFIX))  # fmt: skip
        sector = "government" if org in GOVERNMENT else SECTOR_BY_TYPE.get(org, "commercial")
        reseller = rng.random() < 0.12
        doc: dict[str, Any] = {
            "format": rq.FORMAT,
            "reference": f"{prefix}-{i + 1:06d}",
            "received_on": (base + dt.timedelta(days=rng.randrange(320))).isoformat(),
            "title": TITLES[use_case],
            "sales": {"owner": rng.choice(["j.doe", "m.okafor", "s.iyer", "f.rocha", "t.ngata"]),
                      "product": rng.choice(["Face API: Verify", "Face API: Identify",
                                             "Face API: Detect"]),
                      "contract_value": rng.choice([9_500, 18_000, 61_000, 250_000, 1_200_000]),
                      "currency": rng.choice(["USD", "EUR", "GBP", "INR"])},
            "customer": {"name": name, "country": country, "region": region, "city": city,
                         "org_type": org, "sector": sector, "is_reseller": reseller,
                         "contact_email": f"privacy{i}@customer.example"},
        }  # fmt: skip
        if reseller:
            if rng.random() < 0.8:
                n = rng.randint(1, 3)
                doc["end_users"] = [
                    {"name": NAME_BY_TYPE[t].format(stem=rng.choice(STEMS), city=c, what="Retail",
                                                    suffix="Ltd"),
                     "country": c2, "region": r, "org_type": t}
                    for t, (c2, r, c) in ((rng.choice(rq.ORG_TYPES), rng.choice(PLACES))
                                          for _ in range(n))
                ]  # fmt: skip
        else:
            doc["end_users"] = []
        if rng.random() < 0.04:  # an unknown org type: sales forgot to say
            del doc["customer"]["org_type"]
        le = org in {"police", "sheriff", "federal_law_enforcement", "immigration_enforcement",
                     "corrections", "prosecutor"}  # fmt: skip
        ops = list(OPERATIONS[use_case])
        if rng.random() < 0.03:
            ops.append(rng.choice(["emotion_inference", "sensitive_attribute_inference"]))
        doc["use"] = {
            "use_case": use_case,
            "operations": sorted(set(ops)),
            "real_time": rng.choice(["none", "near_real_time", "real_time"]),
            "camera_type": rng.choice(["user_device", "fixed_entry_point", "fixed_cctv",
                                       "body_worn", "archive_media"]),
            "environment": rng.choice(["controlled_entry", "private_premises",
                                       "publicly_accessible", "public_street", "online"]),
            "context": rng.choice(["workplace", "retail", "venue", "transport_hub",
                                   "online_service", "government_service", "school",
                                   "eldercare", "healthcare"]),
            "law_enforcement_purpose": le or rng.random() < 0.03,
            "subject_already_apprehended": _bool(rng, 0.5, 0.2) if le else None,
            "tracks_individuals": _bool(rng, 0.03),
            "targets_protected_groups": _bool(rng, 0.01),
            "monitored_events": ["protest"] if rng.random() < 0.01 else [],
            "captures_protected_spaces": _bool(rng, 0.01),
            "decision_effects": sorted(rng.sample(
                ["physical_access", "digital_access", "financial", "employment", "insurance"],
                rng.randint(0, 2))),
            "accessibility_scenario": rng.random() < 0.05,
            "description": f"Request {i + 1}: {TITLES[use_case].lower()} for {name}.",
        }  # fmt: skip
        doc["people"] = {
            "includes_minors": _bool(rng, 0.2, 0.08), "mostly_over_65": _bool(rng, 0.05),
            "enrollment_basis": _pick(rng, ["self_opt_in", "employer_required",
                                            "customer_records", "non_consensual_watchlist",
                                            "government_records"], 0.05),
        }  # fmt: skip
        if rng.random() > 0.07:  # sometimes the whole scale section is unknown
            scale: dict[str, Any] = {k: rng.choice(v) for k, v in SCALE.items()}
            scale["coverage"] = rng.choice(["site", "campus", "city", "region", "national"])
            if rng.random() < 0.1:
                del scale[rng.choice(list(scale))]
            doc["scale"] = scale
        doc["data"] = {
            "gallery_sources": rng.sample(["self_enrolled", "id_documents", "internal_watchlist",
                                           "government_records", "licensed_media"],
                                          rng.randint(1, 2))
            + (["scraped_internet"] if rng.random() < 0.02 else []),
            "retention_days": rng.choice([0, 14, 90, 365, 1095, 1096, 3650]),
            "retention_policy_public": _bool(rng, 0.6),
            "sold_or_monetized": _bool(rng, 0.01),
            "shares_with_law_enforcement": le or rng.random() < 0.05,
            "law_enforcement_recipients": [],
        }  # fmt: skip
        if doc["data"]["shares_with_law_enforcement"] and not le:
            doc["data"]["law_enforcement_recipients"] = [
                {
                    "country": rng.choice(["US", "DE", "GB"]),
                    "org_type": rng.choice(["police", "prosecutor", "federal_law_enforcement"]),
                }
            ]
        doc["safeguards"] = {
            "consent": _pick(rng, ["written_release", "explicit_opt_in", "implied_by_signage",
                                   "none"], 0.03),
            "enrollment_optional": _bool(rng, 0.8), "alternative_method": _bool(rng, 0.8),
            "human_review": _bool(rng, 0.85), "operational_testing": _bool(rng, 0.7),
            "demographic_testing": _bool(rng, 0.6), "staff_training": _bool(rng, 0.8),
            "feedback_channel": _bool(rng, 0.6),
            "match_threshold": rng.choice([0.9, 0.95, 0.99, 0.995]),
        }  # fmt: skip
        doc["legal"] = {
            "authorisation": rng.choice(["none", "none", "warrant", "judicial", "statute"]),
            "eu_art5_objective": "none" if rng.random() < 0.9 else "victim_search",
            "dpia_completed": _bool(rng, 0.6),
        }
        if rng.random() > 0.05:
            sites = []
            for _ in range(rng.randint(0, 3)):
                c, r, ci = rng.choice(PLACES)
                sites.append({"country": c, "region": r, "city": ci, "public_accommodation": _bool(rng, 0.5)})
            doc["sites"] = sites
        low = i >= 40 and rng.random() < 0.35
        if low:
            _low_risk(doc, rng)
        _same_customer(doc, "company" if low else org, i, repeat, seen)
        clean, problems = rq.validate(rq.drop_nulls(doc))
        if problems or clean is None:  # pragma: no cover - a generator bug
            raise AssertionError(f"demo generator produced an invalid request: {problems}")
        yield clean


def _same_customer(doc: dict[str, Any], kind: str, i: int, repeat: random.Random,
                   seen: dict[str, list[dict[str, Any]]]) -> None:  # fmt: skip
    """About one request in four after the first 40 comes from a customer already seen (of
    the same kind): customers come back, and HR-30 counts their requests together."""
    pool = seen.setdefault(kind, [])
    if i >= 40 and pool and repeat.random() < 0.25:
        earlier = repeat.choice(pool)
        for key in ("name", "country", "region", "city"):
            if key in earlier:
                doc["customer"][key] = earlier[key]
            else:
                doc["customer"].pop(key, None)
        doc["use"]["description"] = f"Request {i + 1}: {doc['title'].lower()} for {earlier['name']}."
    elif len(pool) < 500:
        pool.append({k: v for k, v in doc["customer"].items() if k in ("name", "country", "region", "city")})


def _low_risk(doc: dict[str, Any], rng: random.Random) -> None:
    """A well-prepared request for an approved use: most real requests look like this, and
    the queue needs some that can be approved (with or without conditions)."""
    use_case = rng.choice(["identity_verification", "touchless_access", "liveness_only", "detection_only"])
    doc["customer"].update(
        org_type="company", sector=rng.choice(["commercial", "commercial", "nonprofit"]), is_reseller=False
    )
    doc["customer"]["name"] = f"{rng.choice(STEMS)} {rng.choice(WHAT)} {rng.choice(SUFFIX)}"
    doc["end_users"] = []
    doc["title"] = TITLES[use_case]
    doc["use"].update(
        use_case=use_case, operations=OPERATIONS[use_case], law_enforcement_purpose=False,
        subject_already_apprehended=None, tracks_individuals=False,
        targets_protected_groups=False, monitored_events=[], captures_protected_spaces=False,
        decision_effects=rng.choice([[], ["physical_access"], ["digital_access"]]),
        environment=rng.choice(["controlled_entry", "online", "private_premises"]),
        context=rng.choice(["workplace", "online_service", "retail"]),
        accessibility_scenario=False, camera_type=rng.choice(["user_device", "fixed_entry_point"]),
    )  # fmt: skip
    doc["people"] = {"includes_minors": False, "mostly_over_65": False, "enrollment_basis": "self_opt_in"}
    doc["scale"] = {"enrolled_identities": rng.choice([0, 800, 5_000, 90_000]),
                    "identifications_per_day": 0,
                    "people_scanned_per_day": rng.choice([140, 1_500, 9_000]),
                    "cameras": rng.choice([0, 2, 12, 50, 75, 100]), "sites": rng.choice([1, 3, 10]),
                    "countries": 1, "coverage": rng.choice(["site", "campus"])}  # fmt: skip
    doc["data"] = {
        "gallery_sources": ["self_enrolled"],
        "retention_days": rng.choice([14, 90, 365]),
        "retention_policy_public": rng.random() < 0.7,
        "sold_or_monetized": False,
        "shares_with_law_enforcement": False,
        "law_enforcement_recipients": [],
    }
    doc["safeguards"] = {"consent": "explicit_opt_in", "enrollment_optional": True,
                         "alternative_method": True, "human_review": True,
                         "operational_testing": rng.random() < 0.85, "demographic_testing": True,
                         "staff_training": True, "feedback_channel": rng.random() < 0.8,
                         "match_threshold": 0.995}  # fmt: skip
    doc["legal"] = {"authorisation": "none", "eu_art5_objective": "none", "dpia_completed": True}
    country, region, city = rng.choice([p for p in PLACES if p[0] not in ("US",)])
    doc["customer"].update(country=country, region=region, city=city)
    doc["sites"] = [{"country": country, "region": region, "city": city, "public_accommodation": False}]
