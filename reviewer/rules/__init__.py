"""Rule sets: TOML loading and checking, identity, evaluation into findings.

The contract is `shared/design/ruleset.md`. A rule set is data: parameters, named
definitions and rules whose conditions are written in the language of `lang.py`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
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

    @property
    def alternatives(self) -> list[str]:
        return [i.outcome for i in self.instead]

    def evaluate(self, d: dict[str, Any]) -> Finding | None:
        """The finding this rule gives for a document, or None."""
        v = self.when.fn(d, None)
        if v is False:
            return None
        if v is None:
            r = self.when.explain(d, None, "")
            missing = _unique(r.missing)
            return Finding(self, NEEDS_INFO, None,
                           "cannot be decided while unknown: " + ", ".join(missing),
                           missing, [])  # fmt: skip
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
        return Finding(self, outcome, override, explanation, missing, conditions)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass
class Finding:
    rule: Rule
    outcome: str
    override: str | None
    explanation: str
    missing: list[str]
    conditions: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id,
            "title": self.rule.title,
            "outcome": self.outcome,
            "override": self.override,
            "explanation": self.explanation,
            "missing": self.missing,
            "conditions": [{"rule": self.rule.id, "text": t} for t in self.conditions],
            "source": self.rule.source,
        }


@dataclass
class Evaluation:
    ruleset: RuleSet
    findings: list[Finding]

    @property
    def recommendation(self) -> str:
        best = "approve"
        for f in self.findings:
            if RANK[f.outcome] > RANK[best]:
                best = f.outcome
        return best

    @property
    def conditions(self) -> list[dict[str, str]]:
        return [{"rule": f.rule.id, "text": t} for f in self.findings for t in f.conditions]

    @property
    def missing(self) -> list[str]:
        return _unique([m for f in self.findings for m in f.missing])

    def to_json(self, reference: str | None) -> dict[str, Any]:
        return {
            "reference": reference,
            "recommendation": self.recommendation,
            "rule_set": self.ruleset.key,
            "rule_set_sha256": self.ruleset.sha256,
            "conditions": self.conditions,
            "findings": [f.to_json() for f in self.findings],
        }


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

    def evaluate(self, doc: dict[str, Any]) -> Evaluation:
        findings = []
        for rule in self.rules:
            f = rule.evaluate(doc)
            if f is not None:
                findings.append(f)
        return Evaluation(self, findings)

    def fields_read(self) -> list[str]:
        """Every request field a rule of this set reads (for the benchmark floor and forms)."""
        out: set[str] = set()
        for rule in self.rules:
            nodes = [rule.when, *(i.when for i in rule.instead)]
            nodes += [n for a in rule.adds for n in (a.when, a.unless) if n is not None]
            for n in nodes:
                out |= n.fields
        return sorted(out)


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
                and finding.conditions != want_conditions:
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
