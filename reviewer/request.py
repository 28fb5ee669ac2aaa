"""The request document `reviewer.request/1`: schema, validation, canonical JSON, hashes.

The contract is `shared/design/request-format.md`. A validated document is a plain dict in
canonical form: unknown facts are absent (never None), sets are sorted, blank optional
strings are dropped, and a non-reseller's absent `end_users` is written `[]`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

FORMAT = "reviewer.request/1"
MAX_WHOLE = 10**15
DEFAULT_MAX_LEN = 300

ORG_TYPES = (
    "company", "police", "sheriff", "federal_law_enforcement", "immigration_enforcement",
    "corrections", "prosecutor", "court", "ministry_interior", "intelligence", "military",
    "government_agency", "local_government", "transport_authority", "school", "university",
    "research_lab", "healthcare_provider", "ngo", "international_org",
)  # fmt: skip
USE_CASES = (
    "liveness_only", "detection_only", "identity_verification", "touchless_access",
    "personalization", "duplicate_prevention", "media_archive", "le_apprehended_suspect",
    "intl_justice", "public_media_archive", "emergency_imminent_danger", "humanitarian", "other",
)  # fmt: skip
SECTORS = ("commercial", "government", "international", "nonprofit", "academic")


@dataclass(frozen=True)
class FieldType:
    """One leaf of the request schema."""

    kind: str
    required: bool = False
    max_len: int = DEFAULT_MAX_LEN
    values: tuple[str, ...] = ()
    maximum: float | None = None
    item: dict[str, FieldType] = field(default_factory=dict)

    def describe(self) -> str:
        return _DESCRIPTIONS.get(self.kind, self.kind)


_DESCRIPTIONS = {
    "str": "text",
    "int": "a whole number >= 0",
    "number": "a number >= 0",
    "bool": "true or false",
    "date": "a date YYYY-MM-DD",
    "country": "a country code of two upper-case letters",
    "region": "a region code of 1 to 3 upper-case letters or digits",
    "currency": "a currency code of three upper-case letters",
    "email": "an e-mail address",
    "reference": "a reference of 2 to 64 of A-Z a-z 0-9 . _ / - starting with a letter or digit",
    "enum": "one of the listed values",
    "set": "a list of distinct listed values",
    "objlist": "a list of objects",
}


def _t(kind: str, *values: str, **kw: Any) -> FieldType:
    return FieldType(kind, values=tuple(values), **kw)


S = _t("str")
B = _t("bool")
INT = _t("int")
COUNTRY = _t("country")
REGION = _t("region")
ORG = _t("enum", *ORG_TYPES)

SCHEMA: dict[str, Any] = {
    "format": S,
    "reference": _t("reference", required=True),
    "received_on": _t("date", required=True),
    "title": _t("str", max_len=200),
    "sales": {
        "owner": S, "product": S, "contract_value": _t("number"), "currency": _t("currency"),
    },
    "customer": {
        "name": _t("str", required=True),
        "country": COUNTRY, "region": REGION, "city": S, "org_type": ORG,
        "sector": _t("enum", *SECTORS), "is_reseller": B, "contact_email": _t("email"),
    },
    "end_users": _t("objlist", item={"name": S, "country": COUNTRY, "region": REGION,
                                      "org_type": ORG}),
    "use": {
        "use_case": _t("enum", *USE_CASES),
        "operations": _t("set", "detection", "redaction", "liveness", "verification",
                         "identification", "emotion_inference", "attribute_inference",
                         "sensitive_attribute_inference"),
        "real_time": _t("enum", "none", "near_real_time", "real_time"),
        "camera_type": _t("enum", "user_device", "fixed_entry_point", "fixed_cctv", "body_worn",
                          "dash_mounted", "handheld_mobile", "archive_media"),
        "environment": _t("enum", "controlled_entry", "private_premises", "publicly_accessible",
                          "public_street", "online"),
        "context": _t("enum", "workplace", "higher_education", "school", "eldercare",
                      "healthcare", "retail", "venue", "transport_hub", "online_service",
                      "government_service", "law_enforcement", "detention", "media", "other"),
        "law_enforcement_purpose": B, "subject_already_apprehended": B,
        "tracks_individuals": B, "targets_protected_groups": B,
        "monitored_events": _t("set", "protest", "religious_service", "political_rally",
                               "union_meeting"),
        "captures_protected_spaces": B,
        "decision_effects": _t("set", "physical_access", "digital_access", "financial",
                               "employment", "education", "housing", "insurance", "healthcare",
                               "social_benefits", "legal_status", "criminal_justice"),
        "accessibility_scenario": B,
        "description": _t("str", max_len=20_000),
    },
    "people": {
        "includes_minors": B, "mostly_over_65": B,
        "enrollment_basis": _t("enum", "self_opt_in", "employer_required", "customer_records",
                               "non_consensual_watchlist", "government_records"),
    },
    "scale": {
        "enrolled_identities": INT, "identifications_per_day": INT,
        "people_scanned_per_day": INT, "cameras": INT, "sites": INT, "countries": INT,
        "coverage": _t("enum", "site", "campus", "city", "region", "national"),
    },
    "data": {
        "gallery_sources": _t("set", "self_enrolled", "id_documents", "internal_watchlist",
                              "government_records", "licensed_media", "scraped_internet",
                              "harvested_cctv"),
        "retention_days": INT, "retention_policy_public": B, "sold_or_monetized": B,
        "shares_with_law_enforcement": B,
        "law_enforcement_recipients": _t("objlist", item={"country": COUNTRY, "org_type": ORG}),
    },
    "safeguards": {
        "consent": _t("enum", "written_release", "explicit_opt_in", "implied_by_signage", "none"),
        "enrollment_optional": B, "alternative_method": B, "human_review": B,
        "operational_testing": B, "demographic_testing": B, "staff_training": B,
        "feedback_channel": B, "match_threshold": _t("number", maximum=1.0),
    },
    "legal": {
        "authorisation": _t("enum", "none", "warrant", "court_order", "judicial",
                            "independent_admin", "exigent", "statute"),
        "eu_art5_objective": _t("enum", "none", "victim_search", "imminent_threat",
                                "serious_crime"),
        "dpia_completed": B,
    },
    "sites": _t("objlist", item={"country": COUNTRY, "region": REGION, "city": S,
                                 "public_accommodation": B}),
}  # fmt: skip

SECTIONS = tuple(k for k, v in SCHEMA.items() if isinstance(v, dict))


def leaf_fields() -> dict[str, FieldType]:
    """Every column of the flat (CSV) view: dotted path -> type; lists of objects are one
    column each."""
    out: dict[str, FieldType] = {}
    for key, spec in SCHEMA.items():
        if isinstance(spec, dict):
            for sub, t in spec.items():
                out[f"{key}.{sub}"] = t
        else:
            out[key] = spec
    return out


LEAF_FIELDS = leaf_fields()


# --------------------------------------------------------------------------- JSON parsing


class _Obj(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the keys it saw twice."""

    duplicates: tuple[str, ...] = ()


class _BadNumber:
    """A JSON number we refuse (NaN, Infinity, or too many digits), kept for its message."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    dups = [k for k, _v in pairs if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
    marked = _Obj(obj)
    marked.duplicates = tuple(dups)
    return marked


def _parse_float(text: str) -> Any:
    value = float(text)
    if not math.isfinite(value):
        return _BadNumber(text)
    return _FloatText(value, text)


class _FloatText(float):
    """A float that remembers how it was written (`5.0`, `1e3`), so a whole-number field can
    say why it refuses it."""

    text: str

    def __new__(cls, value: float, text: str) -> _FloatText:
        obj = super().__new__(cls, value)
        obj.text = text
        return obj

    def __reduce__(self) -> tuple[type[_FloatText], tuple[float, str]]:
        # Records travel to the worker processes of a large import: pickle value and text.
        return (_FloatText, (float(self), self.text))


DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs,
    parse_float=_parse_float,
    parse_constant=_BadNumber,
)


def loads(text: str) -> Any:
    """Strict JSON: duplicate keys remembered, NaN/Infinity/huge numbers kept as markers."""
    return DECODER.decode(text)


# --------------------------------------------------------------------------- validation

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/\-]{1,63}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z0-9]{1,3}")
_CURRENCY = re.compile(r"[A-Z]{3}")
SHAPES = {"reference": _REF, "date": _DATE, "country": _COUNTRY, "region": _REGION, "currency": _CURRENCY}
"""The patterns the text kinds must match in full (`reference`, `country`, ...)."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


# --------------------------------------------------------------------------- safe text

# What a terminal must not be handed raw: control characters (C0, DEL, C1), format characters
# (bidi embeddings, overrides and isolates, the Arabic letter mark, zero-width characters:
# category Cf), line and paragraph separators, and lone surrogates, which are no characters.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NOT_PLAIN = re.compile(r"[^\x20-\x7e]")
_NOT_PLAIN_OR_LINES = re.compile(r"[^\x20-\x7e\n\t]")
_JSON_CANDIDATES = re.compile(r"[^\x00-\x7e]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escaped(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _escape_unsafe(m: re.Match[str]) -> str:
    ch = m.group()
    return _escaped(ord(ch)) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch


def terminal_safe(text: str, lines: bool = False) -> str:
    """Text as a terminal may show it: every control, format (bidi, zero-width), line or
    paragraph separator character and lone surrogate written as a `\\u202e`-style escape
    (`\\U000e0001` above U+FFFF), so text from a request or a rule set can neither move the
    cursor, recolour nor reorder what a reviewer reads. With `lines`, new lines and tabs
    stay (multi-line text); otherwise they are escaped too (one line). Printable text is
    returned as it is."""
    return (_NOT_PLAIN_OR_LINES if lines else _NOT_PLAIN).sub(_escape_unsafe, text)


def _json_escape(m: re.Match[str]) -> str:
    ch = m.group()
    if unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
        return ch
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_safe(text: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`, which escapes C0 but not DEL,
    C1, format characters or lone surrogates) with those written as `\\u` escapes as well:
    the same JSON value, lossless, and safe to print to a terminal."""
    return _JSON_CANDIDATES.sub(_json_escape, text)


def has_surrogate(text: str) -> bool:
    """Whether text holds a lone surrogate (a JSON escape such as \\ud800 makes one), which
    no UTF-8 text can hold: it could be neither stored nor printed."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def _show(value: Any) -> str:
    if isinstance(value, _FloatText):
        return value.text
    if isinstance(value, _BadNumber):
        return value.text
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:40] + "..."
        return terminal_safe(json.dumps(short, ensure_ascii=False))
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return json.dumps(value)


class Problems:
    """Collects `(field, message)` pairs for one record."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def _check_text(value: str, path: str, t: FieldType, problems: Problems) -> bool:
    if "\x00" in value:
        problems.add(path, "NUL characters are not allowed in text")
        return False
    if has_surrogate(value):
        code = ord(_SURROGATE.search(value).group())  # type: ignore[union-attr]
        problems.add(path, f"a lone surrogate ({_escaped(code)}) is not a character: not allowed in text")
        return False
    if len(value) > t.max_len:
        problems.add(path, f"text longer than {t.max_len} characters ({len(value)})")
        return False
    return True


def _scalar(value: Any, path: str, t: FieldType, problems: Problems) -> Any:
    """Validate one present, non-null value; return its canonical form or None (dropped)."""
    kind = t.kind
    if isinstance(value, _BadNumber):
        if value.text.lstrip("-")[:1].isdigit():
            problems.add(path, f"number too large (at most 10^15), got {value.text[:30]}")
        else:
            problems.add(path, f"{value.text} is not a number")
        return None
    if kind in ("str", "email", "reference", "date", "country", "region", "currency", "enum"):
        if not isinstance(value, str):
            problems.add(path, f"expected {t.describe()}, got {_show(value)}")
            return None
        if not _check_text(value, path, t, problems):
            return None
        if kind == "str":
            if not value.strip():
                if t.required:
                    problems.add(path, "must not be empty")
                return None
            return value
        if kind == "email":
            if not value.strip():
                return None
            if not _EMAIL.fullmatch(value):
                problems.add(path, f"expected {t.describe()}, got {_show(value)}")
                return None
            return value
        pattern = SHAPES.get(kind)
        if pattern is not None:
            if not pattern.fullmatch(value):
                problems.add(path, f"expected {t.describe()}, got {_show(value)}")
                return None
            if kind == "date":
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    problems.add(path, f"not a valid date: {_show(value)}")
                    return None
            return value
        if value not in t.values:
            problems.add(path, f"unknown value {_show(value)}; expected one of {', '.join(t.values)}")
            return None
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            problems.add(path, f"expected true or false, got {_show(value)}")
            return None
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.add(path, f"expected {t.describe()}, got {_show(value)}")
            return None
        if value > MAX_WHOLE:
            problems.add(path, f"number too large (at most 10^15), got {value}")
            return None
        return int(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.add(path, f"expected {t.describe()}, got {_show(value)}")
            return None
        if value < 0 or (t.maximum is not None and value > t.maximum):
            bound = f" and <= {t.maximum:g}" if t.maximum is not None else ""
            problems.add(path, f"expected a number >= 0{bound}, got {_show(value)}")
            return None
        if value > MAX_WHOLE:
            problems.add(path, f"number too large (at most 10^15), got {_show(value)}")
            return None
        number = float(value)
        # A whole number is one fact however it is written: 5, 5.0 and 5e0 store as 5.
        return int(number) if number.is_integer() else number
    if kind == "set":
        if not isinstance(value, list):
            problems.add(path, f"expected a list of values, got {_show(value)}")
            return None
        seen: set[str] = set()
        ok = True
        for i, item in enumerate(value):
            if not isinstance(item, str) or item not in t.values:
                problems.add(
                    f"{path}[{i}]",
                    f"unknown value {_show(item)}; expected one of {', '.join(t.values)}",
                )
                ok = False
            elif item in seen:
                problems.add(f"{path}[{i}]", f"duplicate value {_show(item)}")
                ok = False
            else:
                seen.add(item)
        return sorted(seen) if ok else None
    if kind == "objlist":
        if not isinstance(value, list):
            problems.add(path, f"expected a list of objects, got {_show(value)}")
            return None
        out = []
        for i, item in enumerate(value):
            ipath = f"{path}[{i}]"
            if not isinstance(item, dict):
                problems.add(ipath, f"expected an object, got {_show(item)}")
                continue
            out.append(_object(item, ipath, t.item, problems, required_ok=True))
        return out
    raise AssertionError(f"unhandled kind {kind}")  # pragma: no cover


_FAIL = object()


def _fast_check(t: FieldType) -> Any:
    """A quick acceptance test for the common, valid case of one field: returns the
    canonical value, None (dropped), or _FAIL when `_scalar` must look closer and explain."""
    kind = t.kind
    if kind == "str":
        max_len, required = t.max_len, t.required

        def check_str(v: Any) -> Any:
            if type(v) is not str or len(v) > max_len or "\x00" in v or has_surrogate(v):
                return _FAIL
            if v.strip():
                return v
            return _FAIL if required else None

        return check_str
    if kind == "bool":
        return lambda v: v if v is True or v is False else _FAIL
    if kind == "int":
        return lambda v: v if type(v) is int and 0 <= v <= MAX_WHOLE else _FAIL
    if kind == "enum":
        values = frozenset(t.values)
        return lambda v: v if type(v) is str and v in values else _FAIL
    if kind == "set":
        values = frozenset(t.values)

        def check_set(v: Any) -> Any:
            if type(v) is not list:
                return _FAIL
            seen = set(v) if all(type(x) is str for x in v) else None
            if seen is None or len(seen) != len(v) or not seen <= values:
                return _FAIL
            return sorted(v)

        return check_set
    if kind == "objlist":
        item_spec = t.item

        def check_list(v: Any) -> Any:
            if type(v) is not list or not all(type(x) is dict for x in v):
                return _FAIL
            problems = Problems()
            out = [_object(x, "", item_spec, problems) for x in v]
            return _FAIL if problems else out

        return check_list
    return lambda v: _FAIL  # dates, codes, numbers, e-mails: `_scalar` checks them


def _compile(spec: dict[str, Any]) -> dict[str, Any]:
    """Per key: a sub-spec (dict) for sections, else (type, quick check)."""
    out: dict[str, Any] = {}
    for key, sub in spec.items():
        out[key] = _compile(sub) if isinstance(sub, dict) else (sub, _fast_check(sub))
    return out


def _object(
    obj: dict[str, Any],
    prefix: str,
    spec: dict[str, Any],
    problems: Problems,
    required_ok: bool = False,
) -> dict[str, Any]:
    compiled = _COMPILED.get(id(spec))
    if compiled is None:
        compiled = _COMPILED[id(spec)] = _compile(spec)
    for dup in getattr(obj, "duplicates", ()):
        problems.add(_join(prefix, dup), "duplicate key")
    out: dict[str, Any] = {}
    for key, value in obj.items():
        sub = compiled.get(key)
        if sub is None:
            problems.add(_join(prefix, key), "unknown field")
            continue
        if type(sub) is dict:
            if value is None:
                continue  # a required section (customer) is named once, with the required keys
            if not isinstance(value, dict):
                problems.add(_join(prefix, key), f"expected an object, got {_show(value)}")
                continue
            section = _object(value, _join(prefix, key), spec[key], problems)
            if section:
                out[key] = section
            continue
        if value is None:
            continue
        ftype, quick = sub
        clean = quick(value)
        if clean is _FAIL:
            clean = _scalar(value, _join(prefix, key), ftype, problems)
        if clean is not None:
            out[key] = clean
    for key in _REQUIRED.get(id(spec), ()):
        if key not in out and obj.get(key) is None:
            problems.add(_join(prefix, key), "required")
    return out


def _required_keys(spec: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        k for k, sub in spec.items() if (isinstance(sub, FieldType) and sub.required) or k == "customer"
    )


_COMPILED: dict[int, dict[str, Any]] = {}
_REQUIRED: dict[int, tuple[str, ...]] = {id(SCHEMA): _required_keys(SCHEMA)}
for _section in SCHEMA.values():
    if isinstance(_section, dict):
        _REQUIRED[id(_section)] = _required_keys(_section)
    elif isinstance(_section, FieldType) and _section.item:
        _REQUIRED[id(_section.item)] = _required_keys(_section.item)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def validate(raw: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Validate one parsed request. Returns (canonical document, []) or (None, problems)."""
    problems = Problems()
    if not isinstance(raw, dict):
        problems.add("", f"expected a request object, got {_show(raw)}")
        return None, problems.items
    fmt = raw.get("format")
    if fmt is not None and fmt != FORMAT:
        problems.add("format", f"expected {FORMAT!r}, got {_show(fmt)}")
    doc = _object(raw, "", SCHEMA, problems)
    if problems:
        return None, problems.items
    return normalise(doc), []


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Apply the canonical conventions that go beyond dropping nulls."""
    doc["format"] = FORMAT
    customer = doc.get("customer", {})
    if "end_users" not in doc and customer.get("is_reseller") is False:
        doc["end_users"] = []
    return doc


# --------------------------------------------------------------------------- canonical form


def canonical_json(value: Any) -> str:
    """UTF-8-ready canonical JSON: keys sorted, no white space, nulls dropped."""
    return json.dumps(
        drop_nulls(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def compact_json(value: Any) -> str:
    """Canonical JSON of a value known to hold no nulls to drop (validated documents), or
    where nulls are part of the shape (stored evaluations)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def drop_nulls(value: Any) -> Any:
    """The value without null members, at any depth (absent and null are one fact)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_hash(doc: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(doc))


# --------------------------------------------------------------------------- helpers


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for search keys and name matching. Invisible
    format characters (a soft hyphen, a zero-width space, bidi marks) are dropped too: what a
    reader cannot see must not decide a match ("Port\u00adland" is Portland)."""
    if text.isascii():
        return text.lower()  # the same as the full fold for ASCII, and much cheaper
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)
                   and unicodedata.category(c) != "Cf").casefold()  # fmt: skip


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def visible_length(text: str) -> int:
    """How many characters of `text` a reader sees, spaces, tabs and line breaks included:
    control and format characters (a zero-width space, a bidi mark), surrogates, private-use
    and unassigned code points are not counted. What a minimum length asks of a
    justification or a reason is words, not 40 zero-width spaces."""
    if text.isascii():
        return sum(1 for c in text if " " <= c <= "~" or c in "\n\t")
    return sum(1 for c in text if c in "\n\t" or unicodedata.category(c) not in _INVISIBLE)


def too_short(text: str, what: str, minimum: int) -> str | None:
    """Why `text` is too short for a `what` of at least `minimum` visible characters
    (`visible_length`, the invisible ones named), None when it is long enough."""
    seen = visible_length(text)
    if seen >= minimum:
        return None
    hidden = f"; {len(text) - seen} invisible characters are not counted" if seen != len(text) else ""
    return f"a {what} needs at least {minimum} characters (got {seen}{hidden})"


def customer_key(name: str, country: str | None) -> str:
    """What makes two requests one customer: the folded name, its words joined by single
    spaces, and the country (`ACME  Gmbh` in DE is `acme gmbh|DE`; no country is its own)."""
    return f"{' '.join(fold(name).split())}|{country or ''}"


def search_key(doc: dict[str, Any]) -> str:
    parts = [doc["reference"], doc["customer"]["name"]]
    parts.extend(u["name"] for u in doc.get("end_users", ()) if u.get("name"))
    return fold(" | ".join(parts))


def get_path(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None when unknown."""
    cur: Any = doc
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
        if cur is None:
            return None
    return cur
