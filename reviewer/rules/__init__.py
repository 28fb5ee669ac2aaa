"""Rule sets: TOML loading and checking, identity, evaluation into findings.

The contract is `shared/design/ruleset.md`. A rule set is data: parameters, named
definitions and rules whose conditions are written in the language of `lang.py`.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from itertools import repeat
from typing import Any

from reviewer.errors import InvalidInput
from reviewer.request import canonical_json, sha256_hex
from reviewer.rules.lang import LanguageError, Node, Result, compile_condition

RANK = {
    "refuse": 6, "needs_information": 5, "escalate_senior": 4, "escalate_second": 3,
    "conditions": 2, "approve": 1,
}  # fmt: skip
OUTCOMES = tuple(RANK)
OVERRIDES = ("never", "committee")
NEEDS_INFO = "needs_information"

TOP_KEYS = {"id", "version", "title", "effective_on", "description", "parameters",
            "definitions", "rules"}  # fmt: skip
RULE_KEYS = {"id", "title", "outcome", "override", "when", "instead", "adds", "source",
             "examples", "note"}  # fmt: skip


@dataclass(frozen=True)
class Add:
    text: str
    when: Node | None
    unless: Node | None


@dataclass(frozen=True)
class Instead:
    when: Node
    outcome: str


@dataclass
class Rule:
    id: str
    title: str
    outcome: str
    override: str | None
    when: Node
    source: str
    instead: list[Instead] = field(default_factory=list)
    adds: list[Add] = field(default_factory=list)
    note: str | None = None
    when_text: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        nodes = [self.when, *(i.when for i in self.instead)]
        nodes += [n for a in self.adds for n in (a.when, a.unless) if n is not None]
        self.fields = sorted(set().union(*(n.fields for n in nodes)))
        self.cache: dict[Any, Finding | None] = {}
        self.key_of: Any = None  # set by the rule set: picks this rule's values from a vector
        self.remember = True
        self.misses = 0

    def evaluate(self, d: dict[str, Any]) -> Finding | None:
        """The finding this rule gives for a document, or None (computed, never cached)."""
        v = self.when.fn(d, None)
        if v is False:
            return None
        return self._evaluate(d, v)

    def _evaluate(self, d: dict[str, Any], v: bool | None) -> Finding | None:
        if v is None:
            r = self.when.explain(d, None, "")
            missing = _unique(r.missing)
            return Finding(self, NEEDS_INFO, None,
                           "cannot be decided while unknown: " + ", ".join(missing),
                           tuple(missing), ())  # fmt: skip
        outcome = self.outcome
        extra = ""
        missing: list[str] = []
        for inst in self.instead:
            iv = inst.when.fn(d, None)
            if iv is False:
                continue
            ir = inst.when.explain(d, None, "")
            if iv is True:
                outcome = inst.outcome
                extra = f"; {inst.outcome} instead because " + "; ".join(_unique(ir.facts))
                if inst.outcome == NEEDS_INFO:
                    missing = _unique(ir.missing)
            else:
                outcome = NEEDS_INFO
                missing = _unique(ir.missing)
                extra = "; the outcome depends on unknown " + ", ".join(missing)
            break
        conditions = [
            a.text for a in self.adds
            if (a.when is None or a.when.fn(d, None) is not False)
            and (a.unless is None or a.unless.fn(d, None) is not True)
        ]
        if outcome == "conditions" and not conditions:
            return None
        r: Result = self.when.explain(d, None, "")
        if outcome == NEEDS_INFO and not missing:
            missing = _unique(r.missing)
        explanation = "; ".join(_unique(r.facts)) + extra
        override = self.override if outcome == "refuse" else None
        return Finding(self, outcome, override, explanation, tuple(missing), tuple(conditions))


CACHE_LIMIT = 4096  # remembered results per rule
REVIEW_EVERY = 2048  # evaluations between looks at each rule's hit rate
MAX_MISS_RATE = 0.5


def _no_key(vec: tuple[Any, ...]) -> Any:
    return _MISS


_MISS = object()


def _vector_function(fields: list[str]) -> Any:
    """A function giving the hashable values of the given fields of a document, in order.

    A field is `section.key` or a top-level `key`; `list[].key` is the tuple of that key over
    the list's items; a `?` suffix reads only whether the field is known; a `#` suffix the
    length of a list. Unknown is None; lists become tuples, so `[]` (known none) and None
    (unknown) stay different keys.
    """
    readers = [_field_reader(f) for f in fields]

    def vector(d: dict[str, Any]) -> tuple[Any, ...]:
        return tuple([read(d) for read in readers])

    return vector


def _field_reader(path: str) -> Any:
    if path.endswith("?"):
        inner = _field_reader(path[:-1])
        return lambda d: inner(d) is not None
    if path.endswith("#"):
        inner = _field_reader(path[:-1])
        return lambda d: None if (v := inner(d)) is None else len(v)
    if "[]." in path:
        lst, key = path.split("[].")
        head, _, tail = lst.partition(".")

        def get_list(d: dict[str, Any]) -> Any:
            v = d.get(head)
            return v.get(tail) if tail and v is not None else v

        def items(d: dict[str, Any]) -> Any:
            values = get_list(d)
            return None if values is None else tuple([x.get(key) for x in values])

        return items
    head, _, tail = path.partition(".")
    if not tail:
        def top(d: dict[str, Any]) -> Any:
            v = d.get(head)
            return _hashable(v) if type(v) is list else v

        return top

    def nested(d: dict[str, Any]) -> Any:
        section = d.get(head)
        if section is None:
            return None
        v = section.get(tail)
        return _hashable(v) if type(v) is list else v

    return nested


def _hashable(values: list[Any]) -> tuple[Any, ...]:
    if values and isinstance(values[0], dict):
        return tuple([tuple(x.items()) for x in values])
    return tuple(values)


def _rank(finding: Finding) -> int:
    return RANK[finding.outcome]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True, eq=False)
class Finding:
    """One rule's result for one request. Shared between requests with the same facts, so it
    is immutable; its JSON form is built once."""

    rule: Rule
    outcome: str
    override: str | None
    explanation: str
    missing: tuple[str, ...]
    conditions: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return dict(self._json)

    @functools.cached_property
    def _stored(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "outcome": self.outcome,
            "override": self.override,
            "explanation": self.explanation,
            "missing": list(self.missing),
            "conditions": list(self.conditions),
        }

    @functools.cached_property
    def _json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "title": self.rule.title,
            "outcome": self.outcome,
            "override": self.override,
            "explanation": self.explanation,
            "missing": list(self.missing),
            "conditions": [{"rule": self.rule.id, "text": t} for t in self.conditions],
            "source": self.rule.source,
        }


@dataclass
class Evaluation:
    ruleset: RuleSet
    findings: list[Finding]

    @property
    def recommendation(self) -> str:
        """The highest-ranked outcome among the findings; `approve` when there is none."""
        return max(self.findings, key=_rank).outcome if self.findings else "approve"

    @property
    def conditions(self) -> list[dict[str, str]]:
        return [c for f in self.findings for c in f._json["conditions"]]

    @property
    def missing(self) -> list[str]:
        return _unique([m for f in self.findings for m in f.missing])

    def to_json(self, reference: str | None) -> dict[str, Any]:
        """The JSON of `cli.md`. Finding objects inside are shared between evaluations:
        serialise it, don't change it."""
        return {
            "reference": reference,
            "recommendation": self.recommendation,
            "rule_set": self.ruleset.key,
            "rule_set_sha256": self.ruleset.sha256,
            "conditions": self.conditions,
            "findings": [f._json for f in self.findings],
        }


def stored_evaluation(evaluation: Evaluation) -> dict[str, Any]:
    """The evaluation as the requests table keeps it: titles, sources and the combined
    conditions are left out, since the rule set (stored beside it) gives them back."""
    return {
        "recommendation": evaluation.recommendation,
        "rule_set": evaluation.ruleset.key,
        "rule_set_sha256": evaluation.ruleset.sha256,
        "findings": [f._stored for f in evaluation.findings],
    }


def expand_evaluation(stored: dict[str, Any], ruleset: RuleSet, reference: str | None
                      ) -> dict[str, Any]:
    """The JSON of `cli.md` from a stored evaluation and the rule set it was made with."""
    rules = {r.id: r for r in ruleset.rules}
    findings = []
    conditions = []
    for f in stored["findings"]:
        rule = rules[f["rule"]]
        conds = [{"rule": rule.id, "text": t} for t in f["conditions"]]
        conditions.extend(conds)
        findings.append({
            "rule": rule.id, "title": rule.title, "outcome": f["outcome"],
            "override": f["override"], "explanation": f["explanation"],
            "missing": f["missing"], "conditions": conds, "source": rule.source,
        })  # fmt: skip
    return {
        "reference": reference, "recommendation": stored["recommendation"],
        "rule_set": stored["rule_set"], "rule_set_sha256": stored["rule_set_sha256"],
        "conditions": conditions, "findings": findings,
    }  # fmt: skip


@dataclass
class RuleSet:
    id: str
    version: int
    title: str
    effective_on: dt.date | None
    description: str
    parameters: dict[str, Any]
    definitions: dict[str, str]
    rules: list[Rule]
    sha256: str
    source_text: str

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def __post_init__(self) -> None:
        self.fields = sorted(set().union(*(rule.fields for rule in self.rules)))
        self._vector = _vector_function(self.fields)
        position = {f: i for i, f in enumerate(self.fields)}
        for rule in self.rules:
            idx = [position[f] for f in rule.fields]
            rule.key_of = operator.itemgetter(*idx) if idx else (lambda vec: ())
        self._key_getters = [rule.key_of for rule in self.rules]
        self._caches = [rule.cache for rule in self.rules]
        self.evaluations = 0

    def evaluate(self, doc: dict[str, Any]) -> Evaluation:
        """Evaluate every rule.

        A finding is a pure function of the values of the fields its rule reads, so each rule
        remembers its result by those values: requests that share the facts a rule reads (most
        facts are enums and yes/no answers) share its finding, explanation included. The
        values of all fields are read once per request into a vector; each rule picks its own.
        Caches are bounded (CACHE_LIMIT results a rule).
        """
        vec = self._vector(doc)
        keys = list(map(operator.call, self._key_getters, repeat(vec)))
        results = list(map(dict.get, self._caches, keys, repeat(_MISS)))
        if _MISS in results:
            for i, rule in enumerate(self.rules):
                if results[i] is _MISS:
                    results[i] = rule.evaluate(doc)
                    if rule.remember:
                        rule.misses += 1
                        cache = rule.cache
                        if len(cache) >= CACHE_LIMIT:
                            cache.clear()
                        cache[keys[i]] = results[i]
        self.evaluations += 1
        if self.evaluations % REVIEW_EVERY == 0:
            self._review_caches()
        return Evaluation(self, list(filter(None, results)))

    def _review_caches(self) -> None:
        """Stop remembering for a rule whose facts rarely repeat (names, exact figures):
        its cache would cost memory and lookups for few hits."""
        for i, rule in enumerate(self.rules):
            if rule.remember and rule.misses > REVIEW_EVERY * MAX_MISS_RATE:
                rule.remember = False
                rule.cache.clear()
                self._key_getters[i] = _no_key
                self._caches[i] = {}
            rule.misses = 0


    def fields_read(self) -> list[str]:
        """Every request field a rule of this set reads, `list[].key` for fields of list
        items (for the benchmark floor and forms)."""
        return sorted({f.rstrip("?#") for f in self.fields})


# --------------------------------------------------------------------------- loading


def _rule_sort_key(rule_id: str) -> tuple[str, int, str]:
    head, _, tail = rule_id.rpartition("-")
    return (head, int(tail), rule_id) if tail.isdigit() else (rule_id, 0, rule_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return value


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the parsed TOML, dates as ISO strings."""
    return sha256_hex(canonical_json(_jsonable(data)))


def load_text(text: str, origin: str = "rule set") -> RuleSet:
    """Parse, check and compile a rule set; raise InvalidInput naming rule and problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput([f"{origin}: not valid TOML: {exc}"]) from exc
    errors: list[str] = []

    def err(msg: str) -> None:
        errors.append(f"{origin}: {msg}")

    for key in data:
        if key not in TOP_KEYS:
            err(f"unknown key {key!r}")
    rs_id = data.get("id")
    version = data.get("version")
    if not isinstance(rs_id, str) or not rs_id:
        err("id: required text")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        err("version: required whole number >= 1")
    effective = data.get("effective_on")
    if effective is not None and not isinstance(effective, dt.date):
        err("effective_on: expected a date")
    params = data.get("parameters", {})
    if not isinstance(params, dict):
        err("parameters: expected a table")
        params = {}
    definitions_raw = data.get("definitions", {})
    definitions: dict[str, Node] = {}
    for name, expr in definitions_raw.items():
        if not isinstance(expr, str):
            err(f"definition {name}: expected a condition text")
            continue
        try:
            definitions[name] = compile_condition(expr, params, definitions)
        except LanguageError as exc:
            err(f"definition {name}: {exc}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("rules", [])):
        rid = raw.get("id") if isinstance(raw, dict) else None
        label = f"rule {rid}" if rid else f"rule #{i + 1}"
        if not isinstance(raw, dict) or not isinstance(rid, str):
            err(f"{label}: id: required text")
            continue
        if rid in seen:
            err(f"{label}: duplicate rule id")
            continue
        seen.add(rid)
        rule = _load_rule(raw, label, params, definitions, err)
        if rule is not None:
            rules.append(rule)
    if not data.get("rules"):
        err("rules: a rule set needs at least one rule")
    if errors:
        raise InvalidInput(errors)
    rules.sort(key=lambda r: _rule_sort_key(r.id))
    ruleset = RuleSet(
        id=rs_id, version=version, title=str(data.get("title", rs_id)),  # type: ignore[arg-type]
        effective_on=effective, description=str(data.get("description", "")),
        parameters=params, definitions=dict(definitions_raw), rules=rules,
        sha256=content_hash(data), source_text=text,
    )  # fmt: skip
    for rule in rules:
        _run_examples(rule, f"{origin}: rule {rule.id}", errors)
    if errors:
        raise InvalidInput(errors)
    return ruleset


def _load_rule(
    raw: dict[str, Any], label: str, params: dict[str, Any], definitions: dict[str, Node],
    err: Any,
) -> Rule | None:
    ok = True
    for key in raw:
        if key not in RULE_KEYS:
            err(f"{label}: unknown key {key!r}")
            ok = False
    outcome = raw.get("outcome")
    if outcome not in OUTCOMES:
        err(f"{label}: outcome: expected one of {', '.join(OUTCOMES)}, got {outcome!r}")
        ok = False
    override = raw.get("override")
    if outcome == "refuse" and override not in OVERRIDES:
        err(f"{label}: override: a refusal needs override 'never' or 'committee'")
        ok = False
    if outcome != "refuse" and override is not None:
        err(f"{label}: override: only a refusal has an override")
        ok = False
    for key in ("title", "when", "source"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            err(f"{label}: {key}: required text")
            ok = False

    def cond(text: Any, where: str) -> Node | None:
        nonlocal ok
        if not isinstance(text, str):
            err(f"{label}: {where}: expected a condition text")
            ok = False
            return None
        try:
            return compile_condition(text, params, definitions)
        except LanguageError as exc:
            err(f"{label}: {where}: {exc}")
            ok = False
            return None

    when = cond(raw.get("when", ""), "when") if isinstance(raw.get("when"), str) else None
    instead = []
    for j, inst in enumerate(raw.get("instead", [])):
        node = cond(inst.get("when"), f"instead[{j}].when")
        out = inst.get("outcome")
        if out not in OUTCOMES:
            err(f"{label}: instead[{j}].outcome: expected one of {', '.join(OUTCOMES)}")
            ok = False
        unknown_keys = set(inst) - {"when", "outcome"}
        if unknown_keys:
            err(f"{label}: instead[{j}]: unknown key {sorted(unknown_keys)[0]!r}")
            ok = False
        if node is not None:
            instead.append(Instead(node, out))
    adds = []
    for j, add in enumerate(raw.get("adds", [])):
        text = add.get("text")
        if not isinstance(text, str) or not text:
            err(f"{label}: adds[{j}].text: required text")
            ok = False
        unknown_keys = set(add) - {"text", "when", "unless"}
        if unknown_keys:
            err(f"{label}: adds[{j}]: unknown key {sorted(unknown_keys)[0]!r}")
            ok = False
        w = cond(add["when"], f"adds[{j}].when") if "when" in add else None
        u = cond(add["unless"], f"adds[{j}].unless") if "unless" in add else None
        adds.append(Add(str(text), w, u))
    if not ok or when is None:
        return None
    return Rule(
        id=raw["id"], title=raw["title"], outcome=outcome, override=override, when=when,
        source=raw["source"], instead=instead, adds=adds, note=raw.get("note"),
        when_text=raw["when"], raw=raw,
    )  # fmt: skip


def _run_examples(rule: Rule, label: str, errors: list[str]) -> None:
    for j, ex in enumerate(rule.raw.get("examples", [])):
        name = ex.get("name", f"#{j + 1}")
        expect = ex.get("expect")
        request = ex.get("request", {})
        if expect not in (*OUTCOMES, "none"):
            errors.append(f"{label}: example {name!r}: expect must be an outcome or 'none'")
            continue
        try:
            finding = rule.evaluate(request)
        except Exception as exc:  # noqa: BLE001 - a malformed example fragment
            errors.append(f"{label}: example {name!r}: cannot be evaluated: {exc}")
            continue
        got = finding.outcome if finding else "none"
        if got != expect:
            errors.append(f"{label}: example {name!r} gives {got}, expected {expect}")
            continue
        want_conditions = ex.get("conditions")
        if want_conditions is not None and finding is not None \
                and list(finding.conditions) != want_conditions:
            errors.append(f"{label}: example {name!r} adds {finding.conditions}, "
                          f"expected {want_conditions}")


BUNDLED = "human-rights-1.toml"
_BUNDLED_CACHE: list[RuleSet] = []


def bundled_text() -> str:
    return resources.files("reviewer.resources").joinpath("rulesets", BUNDLED).read_text("utf-8")


def load_bundled() -> RuleSet:
    """The default rule set shipped in resources/rulesets (parsed once per process)."""
    if not _BUNDLED_CACHE:
        _BUNDLED_CACHE.append(load_text(bundled_text(), origin=BUNDLED))
    return _BUNDLED_CACHE[0]


def load_file(path: str) -> RuleSet:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([f"{path}: cannot read: {exc}"]) from exc
    return load_text(text, origin=path)
