"""Rule sets: TOML loading and checking, identity, evaluation into findings.

The contract is `shared/design/ruleset.md`. A rule set is data: parameters, named
definitions and rules whose conditions are written in the language of `lang.py`.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import json
import logging
import math
import operator
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count, islice
from typing import Any, NamedTuple, Protocol

from reviewer.errors import IntegrityProblem, InvalidInput
from reviewer.intake import file_kind
from reviewer.request import canonical_json, compact_json, get_path, sha256_hex
from reviewer.rules import diskcache
from reviewer.rules.lang import (
    CUSTOMER_TOTAL,
    TOTAL_FIELDS,
    Add,
    Instead,
    LanguageError,
    Node,
    Result,
    Total,
    compile_condition,
)

log = logging.getLogger(__name__)

RANK = {
    "refuse": 6, "needs_information": 5, "escalate_senior": 4, "escalate_second": 3,
    "conditions": 2, "approve": 1,
}  # fmt: skip
OUTCOMES = tuple(RANK)
OVERRIDES = ("never", "committee")
NEEDS_INFO = "needs_information"

RULE_SET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""What a rule set's id may be: it names the set in commands (`ID@VERSION`) and files."""
MAX_VERSION = 2**31 - 1  # a version is a 32-bit integer in the database (PostgreSQL's integer)
TOP_KEYS = {"id", "version", "title", "effective_on", "description", "parameters",
            "definitions", "rules"}  # fmt: skip
RULE_KEYS = {"id", "title", "outcome", "override", "when", "instead", "adds", "source",
             "examples", "note"}  # fmt: skip


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
        self.budget = _Budget([self])  # the rule set's, once in one (see RuleSet)
        # A rule reading customer totals never remembers: its facts are one customer's sums.
        self.remember = not any(f.startswith(CUSTOMER_TOTAL + ".") for f in self.fields)
        self.misses = 0
        self.plain = not self.instead and not self.adds

    def make(
        self, v: bool | None, explained: tuple[Explained, ...], adds: tuple[bool | None, ...], key: Any
    ) -> Finding | None:
        """The finding the generated evaluation asks for when it has none under `key`: `v` is
        the value of `when`, `explained` the explanation of `when` and of each `instead` test
        (a false one unexplained), `adds` the values of each add's `when` and `unless`. The
        finding is remembered under `key` (see `codegen.rule_key`); with key None it is
        only made."""
        _, facts, when_missing = explained[0]
        if v is True and self.plain:  # no instead, no adds: the outcome, and why
            # A rule that asks for information (HR-29) names every field it lacks.
            missing = tuple(_unique(when_missing)) if self.outcome == NEEDS_INFO else ()
            result = Finding(self, self.outcome, self.override, "; ".join(dict.fromkeys(facts)),
                             missing, ()) if self.outcome != "conditions" else None  # fmt: skip
        elif v is None and not self._may_give_finding(explained[1:], adds):
            result = None  # no completion of the unknowns gives a finding (HR-26, all in place)
        elif v is None:
            lacking = _unique(when_missing)
            result = Finding(
                self, NEEDS_INFO, None, "cannot be decided while unknown: " + ", ".join(lacking),
                tuple(lacking), ())  # fmt: skip
        else:
            result = self._decided(facts, when_missing, explained[1:], adds)
        if key is None:
            return result
        self.misses += 1
        if self.remember:
            cache, budget = self.cache, self.budget
            if cache and (len(cache) >= CACHE_LIMIT or budget.used >= CACHE_BUDGET):
                # Forget the older half (a dict keeps the order keys came in).
                old = list(islice(cache, (len(cache) + 1) // 2))
                for k in old:
                    cache.pop(k, None)
                budget.used -= len(old)
            cache[key] = result
            budget.used += 1
            if budget.misses_until_review <= 0:
                budget.review()
            budget.misses_until_review -= 1
        return result

    def _may_give_finding(self, instead: tuple[Explained, ...], adds: tuple[bool | None, ...]) -> bool:
        """Whether some completion of the unknown facts could make this rule, whose `when` is
        unknown, give a finding: an outcome other than `conditions` is possible, or some add
        is (its `when` not false, its `unless` not true). Its tests are combined in Kleene's
        logic, which is exact where they read different fields (as in the bundled rules)."""
        outcomes = []
        for inst, (iv, _facts, _missing) in zip(self.instead, instead, strict=False):
            if iv is False:
                continue
            outcomes.append(inst.outcome)
            if iv is True:
                break
        else:
            outcomes.append(self.outcome)
        if any(o != "conditions" for o in outcomes):
            return True
        return any(w is not False and u is not True for w, u in zip(adds[0::2], adds[1::2], strict=True))

    def evaluate(self, d: dict[str, Any]) -> Finding | None:
        """The finding this rule gives for a document, or None, by the condition nodes alone
        (nothing generated, nothing remembered)."""
        v = self.when.fn(d, None)
        if v is False:
            return None
        instead = [_node_explanation(inst.when, d) for inst in self.instead]
        adds: list[bool | None] = []
        for a in self.adds:
            adds.append(True if a.when is None else a.when.fn(d, None))
            adds.append(False if a.unless is None else a.unless.fn(d, None))
        return self.make(v, (_node_explanation(self.when, d), *instead), tuple(adds), None)

    def _decided(
        self,
        facts: list[str],
        when_missing: list[str],
        instead: tuple[Explained, ...],
        adds: tuple[bool | None, ...],
    ) -> Finding | None:
        outcome = self.outcome
        extra = ""
        missing: list[str] = []
        for inst, (iv, ifacts, imissing) in zip(self.instead, instead, strict=False):
            if iv is False:
                continue
            if iv is True:
                outcome = inst.outcome
                extra = f"; {inst.outcome} instead because " + "; ".join(_unique(ifacts))
                if inst.outcome == NEEDS_INFO:
                    missing = _unique(imissing)
            else:
                outcome = NEEDS_INFO
                missing = _unique(imissing)
                extra = "; the outcome depends on unknown " + ", ".join(missing)
            break
        conditions = [a.text for a, w, u in zip(self.adds, adds[0::2], adds[1::2], strict=True)
                      if w is not False and u is not True] if adds else []  # fmt: skip
        if outcome == "conditions" and not conditions:
            return None
        if outcome == NEEDS_INFO and not missing:
            missing = _unique(when_missing)
        explanation = "; ".join(dict.fromkeys(facts)) + extra
        override = self.override if outcome == "refuse" else None
        return Finding(self, outcome, override, explanation, tuple(missing), tuple(conditions))


Explained = tuple[bool | None, list[str], list[str]]  # value, facts, missing


def _node_explanation(node: Node, d: dict[str, Any]) -> Explained:
    r: Result = node.explain(d, None, "")
    return r.value, r.facts, r.missing


CACHE_LIMIT = 32_768  # findings one rule remembers
CACHE_BUDGET = 65_536  # findings the rules of one rule set remember together (about 60 MB)


REVIEW_EVERY = 2048  # misses between looks at the rules' hit rates
MAX_MISS_RATE = 0.5  # a rule that misses on more evaluations than this stops remembering


class _Budget:
    """The findings the rules of one rule set remember, counted, and the look at their hit
    rates that every REVIEW_EVERY misses takes (over at least REVIEW_EVERY evaluations,
    counted by the generated function on `evaluations`)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.used = 0
        self.misses_until_review = REVIEW_EVERY
        self.evaluations = count()
        self.last_review = 0

    def review(self) -> None:
        """Stop remembering for a rule whose facts rarely repeat (names, exact figures):
        its cache would cost memory for few hits."""
        self.misses_until_review = REVIEW_EVERY
        now = next(self.evaluations)
        window = now - self.last_review
        if window < REVIEW_EVERY:
            return
        self.last_review = now
        for rule in self.rules:
            if rule.remember and rule.misses > window * MAX_MISS_RATE:
                rule.remember = False
                rule.cache.clear()
            rule.misses = 0
        self.used = sum(len(rule.cache) for rule in self.rules)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Finding:
    """One rule's result for one request. Shared between requests with the same facts, so it
    is immutable by convention; its JSON form is built once, when it is made."""

    __slots__ = (
        "rule",
        "outcome",
        "override",
        "explanation",
        "missing",
        "conditions",
        "rank",
        "condition_json",
        "_json",
    )

    def __init__(
        self,
        rule: Rule,
        outcome: str,
        override: str | None,
        explanation: str,
        missing: tuple[str, ...],
        conditions: tuple[str, ...],
    ) -> None:
        self.rule, self.outcome, self.override = rule, outcome, override
        self.explanation, self.missing, self.conditions = explanation, missing, conditions
        self.rank = RANK[outcome]
        self.condition_json = [{"rule": rule.id, "text": t} for t in conditions] if conditions else []
        self._json = {
            "rule": rule.id, "title": rule.title, "outcome": outcome, "override": override,
            "explanation": explanation, "missing": list(missing),
            "conditions": self.condition_json, "source": rule.source,
        }  # fmt: skip

    @property
    def _stored(self) -> dict[str, Any]:
        return {
            "rule": self.rule.id, "outcome": self.outcome, "override": self.override,
            "explanation": self.explanation, "missing": list(self.missing),
            "conditions": list(self.conditions),
        }  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return dict(self._json)

    def __repr__(self) -> str:
        return f"Finding({self.rule.id}, {self.outcome}, {self.explanation!r})"


_get_rank = operator.attrgetter("rank")
_get_json = operator.attrgetter("_json")
OUTCOME_OF_RANK = {rank: outcome for outcome, rank in RANK.items()}


class Evaluation(tuple):  # type: ignore[type-arg]
    """The findings of one request under one rule set, in rule order, with the combined
    conditions and the highest rank among the findings (1, approve, when there is none):
    made as `Evaluation((ruleset, findings, conditions, rank))` (see `evaluation_of`), a
    tuple, so that the generated evaluation makes one without a Python call."""

    __slots__ = ()
    ruleset: RuleSet = property(operator.itemgetter(0))  # type: ignore[assignment]
    findings: list[Finding] = property(operator.itemgetter(1))  # type: ignore[assignment]

    @property
    def recommendation(self) -> str:
        """The highest-ranked outcome among the findings; `approve` when there is none."""
        return OUTCOME_OF_RANK[self[3]]

    @property
    def conditions(self) -> list[dict[str, str]]:
        return list(self[2])

    @property
    def missing(self) -> list[str]:
        return _unique([m for f in self.findings for m in f.missing])

    def to_json(self, reference: str | None) -> dict[str, Any]:
        """The JSON of `cli.md`. Finding objects inside are shared between evaluations:
        serialise it, don't change it."""
        rs, fs, conditions, rank = self
        return {
            "reference": reference,
            "recommendation": OUTCOME_OF_RANK[rank],
            "rule_set": rs.key,
            "rule_set_sha256": rs.sha256,
            "conditions": conditions,
            "findings": list(map(_get_json, fs)),
        }


def evaluation_of(ruleset: RuleSet, findings: list[Finding]) -> Evaluation:
    """The Evaluation of findings, its conditions and rank computed here."""
    return Evaluation(
        (
            ruleset,
            findings,
            [c for f in findings for c in f.condition_json],
            max([RANK["approve"], *map(_get_rank, findings)]),
        )
    )


def stored_evaluation(evaluation: Evaluation, totals: Parts | None = None) -> dict[str, Any]:
    """The evaluation as the requests table keeps it: titles, sources and the combined
    conditions are left out, since the rule set (stored beside it) gives them back. With
    `totals`, the customer totals it was made with (see `evaluate_with`)."""
    out: dict[str, Any] = {
        "recommendation": evaluation.recommendation,
        "rule_set": evaluation.ruleset.key,
        "rule_set_sha256": evaluation.ruleset.sha256,
        "findings": [f._stored for f in evaluation.findings],
    }
    if totals is not None:
        out[CUSTOMER_TOTAL] = totals
    return out


# --------------------------------------------------------------------------- customer totals

Parts = dict[str, list[list[Any]]]
"""The parts of each customer total: figure name (`cameras`, ...) -> [[reference, figure or
None when unknown], ...] in reference order, over the customer's requests that count (open or
approved), the evaluated one included. Stored in its evaluation, so it stays reproducible."""


def own_parts(doc: dict[str, Any]) -> Parts:
    """The totals of a request that is its customer's only one."""
    scale = doc.get("scale") or {}
    ref = doc.get("reference", "this request")
    return {name: [[ref, scale.get(name)]] for name in TOTAL_FIELDS}


def parts_of(docs: list[dict[str, Any]]) -> Parts:
    """The totals over these requests (documents with a reference)."""
    ordered = sorted(docs, key=lambda d: str(d["reference"]))
    return {name: [[d["reference"], (d.get("scale") or {}).get(name)] for d in ordered]
            for name in TOTAL_FIELDS}  # fmt: skip


def totals_section(parts: Parts) -> dict[str, Total]:
    """What the rule language reads as `customer_total.scale.<name>`."""
    return {f"scale.{name}": Total(tuple((str(r), v) for r, v in parts.get(name, ())))
            for name in TOTAL_FIELDS}  # fmt: skip


def with_totals(doc: dict[str, Any], parts: Parts | None) -> dict[str, Any]:
    """The request with the customer totals the rule language reads: `parts` (its own figures
    alone when None), its own part always the document's figures (so a what-if that changes
    `scale.cameras` changes the total too)."""
    if parts is None:
        parts = own_parts(doc)
    else:
        ref, scale = doc.get("reference"), doc.get("scale") or {}
        parts = {name: [[r, scale.get(name) if r == ref else v] for r, v in listed]
                 for name, listed in parts.items()}  # fmt: skip
    full = dict(doc)
    full[CUSTOMER_TOTAL] = totals_section(parts)
    return full


def _plain_path(path: str) -> bool:
    """A field a rule reads that is a dotted path to one value (not into a list's items)."""
    return path.replace("_", "").replace(".", "").isalnum() and ".." not in path


def _own_part_agrees(doc: dict[str, Any], parts: Parts) -> bool:
    """Whether the request's own part of these totals is its document's figures."""
    ref, scale = doc.get("reference"), doc.get("scale") or {}
    return all(v == scale.get(name) for name, listed in parts.items() for r, v in listed if r == ref)


FEW = 200
"""Up to this many requests are evaluated sooner by the rules' nodes than by generating and
compiling the evaluating function first (`evaluate_with(..., by_nodes=True)`): compiling the
bundled rule set takes about 60 ms, and the nodes take about 0.15 ms a request more."""


def evaluate_with(ruleset: RuleSet, doc: dict[str, Any], parts: Parts | None,
                  by_nodes: bool = False) -> Evaluation:  # fmt: skip
    """Evaluate a request with its customer totals (its own figures alone when `parts` is
    None); a rule set that reads no customer total evaluates the document as it is. With
    `by_nodes`, by the nodes (`RuleSet.evaluate_interpreted`, the same evaluation), without
    compiling the rule set: for a few requests (`FEW`)."""
    evaluate = ruleset.evaluate_interpreted if by_nodes else ruleset.evaluate
    if not ruleset.reads_totals:
        return evaluate(doc)
    return evaluate(with_totals(doc, parts))


def stored_with(ruleset: RuleSet, evaluation: Evaluation, parts: Parts | None,
                doc: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """`stored_evaluation` with the totals the evaluation was made with, when it read any."""
    if not ruleset.reads_totals:
        return stored_evaluation(evaluation)
    return stored_evaluation(evaluation, parts if parts is not None else own_parts(doc))


def _example_totals(raw: Any) -> dict[str, Total]:
    """A rule example's `customer_total = { cameras = [40, 40, "unknown"] }`."""
    if not isinstance(raw, dict):
        raise ValueError("customer_total lists figures by name")
    parts: Parts = {}
    for name, figures in raw.items():
        if name not in TOTAL_FIELDS or not isinstance(figures, list):
            raise ValueError(f"customer_total.{name}: not a list of figures of a known total")
        parts[name] = [[f"#{i + 1}", None if v == "unknown" else v] for i, v in enumerate(figures)]
    return totals_section(parts)


class StoredText(NamedTuple):
    """A stored evaluation's findings as (rule, outcome, JSON text), and its rule set's hash."""

    findings: list[tuple[str, str, str]]
    sha256: str


_FINDINGS = ',"findings":['
_NEXT = '},{"conditions":'
_SHA = ',"rule_set_sha256":"'


def split_stored(text: str) -> StoredText | None:
    """The findings of a stored evaluation read from its text without parsing it, when the
    text is in the shape `compact_json` gives `stored_with`'s dict (keys sorted, no white
    space): there a quote inside a string always follows a backslash and one outside never
    does, so `,"findings":[`, `],"recommendation":"`, `},{"conditions":`, `,"outcome":"` and
    `,"rule":"` can only be the structure they look like. None for any other text (the
    caller parses it)."""
    if text.startswith('{"customer_total":'):
        at = text.find(_FINDINGS)
        if at < 0:
            return None
        start = at + len(_FINDINGS)
    elif text.startswith('{"findings":['):
        start = len('{"findings":[')
    else:
        return None
    end = text.rfind('],"recommendation":"')
    sha_at = text.rfind(_SHA)
    sha = text[sha_at + len(_SHA) : -2]
    if end < start or sha_at < end or not text.endswith('"}') or len(sha) != 64:
        return None
    findings: list[tuple[str, str, str]] = []
    if end == start:
        return StoredText(findings, sha)
    if not text.startswith('{"conditions":', start) or text[end - 1] != "}":
        return None
    pos = start
    while pos < end:
        nxt = text.find(_NEXT, pos, end)
        stop = end if nxt < 0 else nxt + 1
        one = text[pos:stop]
        pos = stop + 1
        o = one.rfind(',"outcome":"') + 12
        r = one.rfind(',"rule":"') + 9
        q = one.find('"', o)
        rule, outcome = one[r:-2], one[o:q]
        if o < 12 or r < o or not one.endswith('"}') or one[q : q + 13] != '","override":' or \
                not rule.replace("-", "").replace("_", "").replace(".", "").isalnum():  # fmt: skip
            return None
        findings.append((rule, outcome, one))
    return StoredText(findings, sha)


def expand_evaluation(stored: dict[str, Any], ruleset: RuleSet, reference: str | None) -> dict[str, Any]:
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
    key: str = field(init=False, repr=False)  # id@version

    def __post_init__(self) -> None:
        self.key = f"{self.id}@{self.version}"
        self.fields = sorted(set().union(*(rule.fields for rule in self.rules)))
        # Whether an evaluation needs the customer's other requests (`evaluate_with`).
        self.reads_totals = any(f.startswith(CUSTOMER_TOTAL + ".") for f in self.fields)
        self.budget = _Budget(self.rules)
        for rule in self.rules:
            rule.budget = self.budget
        # The evaluating function is generated and compiled by the first `evaluate` (`compile`):
        # a rule set loaded to be checked, shown or to evaluate a few requests by its nodes
        # (`evaluate_with(..., by_nodes=True)`) never pays for it.

    def compile(self) -> None:
        """Generate and compile the evaluating function (`codegen`), once. Then calls of
        `evaluate` go straight to the generated function, which makes the Evaluation itself;
        a rule set reading customer totals gives a request without them its own figures alone."""
        if "compiled_source" in self.__dict__:
            return
        from reviewer.rules.codegen import compile_rules  # only to compile (a few ms to load)

        evaluate, source = compile_rules(self.rules, self, Evaluation)
        self._evaluate = evaluate  # type: ignore[method-assign]
        self.evaluate = self._with_own_totals if self.reads_totals else self._evaluate  # type: ignore[method-assign]
        self.__dict__["compiled_source"] = source

    def sooner_by_nodes(self, requests: int) -> bool:
        """Whether `requests` evaluations are done sooner by the nodes (`evaluate_interpreted`,
        the same evaluation) than by the generated function: up to `FEW` of them, unless it
        is compiled already. A command deciding or re-reviewing one request, or verifying a
        small database, does not pay for compiling the rule set."""
        return requests <= FEW and "compiled_source" not in self.__dict__

    @functools.cached_property
    def compiled_source(self) -> str:
        """The generated source of the evaluating function (compiled if it is not yet)."""
        self.compile()
        return str(self.__dict__["compiled_source"])

    @functools.cached_property
    def _total_rules(self) -> tuple[list[tuple[Rule, list[str] | None]], dict[str, int], frozenset[str]]:
        """The rules reading a customer total, each with the other fields it reads when they
        are all dotted paths to one value (None otherwise); every rule's place in rule order;
        the ids of the rules reading a total."""
        reading = []
        for r in self.rules:
            if any(f.startswith(CUSTOMER_TOTAL + ".") for f in r.fields):
                facts = sorted(f for f in r.fields if not f.startswith(CUSTOMER_TOTAL + "."))
                reading.append((r, facts if all(_plain_path(f) for f in facts) else None))
        return reading, {r.id: i for i, r in enumerate(self.rules)}, frozenset(r.id for r, _f in reading)

    @functools.cached_property
    def totals_facts(self) -> list[str] | None:
        """The fields of the document that the rules reading a customer total read besides
        the totals, when each is a dotted path to one value: with those, the request's
        reference and its five figures, `stored_again` needs nothing more of the document
        (None when a rule reads into a list's items, or no rule reads a total)."""
        reading, _order, _ids = self._total_rules
        if not reading or any(facts is None for _r, facts in reading):
            return None
        return sorted({f for _r, facts in reading for f in facts or ()})

    def stored_again(self, stored_text: str | None, doc: dict[str, Any], parts: Parts,
                     section: dict[str, Total] | None = None,
                     memo: dict[Any, Any] | None = None,
                     whole: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
        """A request's stored evaluation (`stored_with`) made again with other customer totals,
        the document unchanged: only the rules reading a total are decided again, the others'
        findings are the stored ones (a finding depends on the document alone). The same as
        evaluating it afresh (verify does that), at the cost of those rules; a stored
        evaluation of another rule set, or none, is evaluated afresh. `section`: the totals as
        the rule language reads them, made once for the customer's requests (`parts`);
        `memo`: findings kept across the requests of those totals (a rule's finding depends on
        the values it reads alone: requests of one customer that share them share it).
        `doc` may hold only what `totals_facts` names (with the reference and the figures),
        when `whole` gives the whole document for an evaluation afresh."""
        stored: Any = None
        if stored_text:
            try:
                stored = json.loads(stored_text)
            except ValueError:
                stored = None
        findings = stored.get("findings") if isinstance(stored, dict) else None
        if not isinstance(findings, list) or stored.get("rule_set_sha256") != self.sha256 or \
                any(not isinstance(f, dict) or f.get("outcome") not in RANK for f in findings):  # fmt: skip
            doc = doc if whole is None else whole()  # another rule set's, or not one at all
            return stored_with(self, evaluate_with(self, doc, parts), parts, doc)
        findings = [f for f in findings if f.get("rule") not in self._total_rules[2]]
        findings += [dict(f) for f, _text in self._totals_findings(doc, parts, section, memo)]
        order = self._total_rules[1]
        findings.sort(key=lambda f: order.get(f["rule"], len(order)))
        rank = max([RANK["approve"], *(RANK[f["outcome"]] for f in findings)])
        return {"recommendation": OUTCOME_OF_RANK[rank], "rule_set": self.key,
                "rule_set_sha256": self.sha256, "findings": findings, CUSTOMER_TOTAL: parts}  # fmt: skip

    def stored_again_text(self, stored_text: str | None, doc: dict[str, Any], parts: Parts,
                          section: dict[str, Total] | None = None,
                          memo: dict[Any, Any] | None = None,
                          whole: Callable[[], dict[str, Any]] | None = None) -> tuple[str, str]:  # fmt: skip
        """`compact_json(stored_again(...))` and its recommendation. A stored text in the shape
        `compact_json` writes is not parsed: its findings' texts are kept as they are, and only
        the totals and the findings of the rules reading them are written (`split_stored`);
        any other text takes `stored_again`'s way."""
        split = split_stored(stored_text) if stored_text else None
        if split is None or split.sha256 != self.sha256 or any(o not in RANK for _r, o, _t in split.findings):
            again = self.stored_again(stored_text, doc, parts, section, memo, whole)
            return compact_json(again), again["recommendation"]
        _reading, order, ids = self._total_rules
        listed = [f for f in split.findings if f[0] not in ids]
        listed += [(f["rule"], f["outcome"], text)
                   for f, text in self._totals_findings(doc, parts, section, memo, texts=True)]  # fmt: skip
        listed.sort(key=lambda f: order.get(f[0], len(order)))
        rec = OUTCOME_OF_RANK[max([RANK["approve"], *(RANK[o] for _r, o, _t in listed)])]
        known = None if memo is None else memo.get(("parts", id(parts)))
        if known is None or known[0] is not parts:
            known = (parts, compact_json(parts))
            if memo is not None:
                memo[("parts", id(parts))] = known
        totals_text = known[1]
        text = "".join((
            '{"customer_total":', totals_text, ',"findings":[', ",".join(t for _r, _o, t in listed),
            '],"recommendation":', compact_json(rec), ',"rule_set":', compact_json(self.key),
            ',"rule_set_sha256":', compact_json(self.sha256), "}",
        ))  # fmt: skip
        return text, rec

    def _totals_findings(self, doc: dict[str, Any], parts: Parts, section: dict[str, Total] | None,
                         memo: dict[Any, Any] | None, texts: bool = False
                         ) -> list[tuple[dict[str, Any], str]]:  # fmt: skip
        """The stored findings of the rules reading a customer total, decided with these
        totals (shared with `memo`: not to be changed), each with its JSON text when `texts`
        ("" otherwise; the memo keeps a text made once with its finding)."""
        reading, _order, _ids = self._total_rules
        shared = section is not None and _own_part_agrees(doc, parts)
        if shared:
            full = dict(doc)
            full[CUSTOMER_TOTAL] = section
        else:
            full, memo = with_totals(doc, parts), None
        out = []
        for rule, plain_facts in reading:
            entry: list[Any] | None = None  # [finding or None, its text or ""]
            key: Any = None
            if memo is not None and plain_facts is not None:
                facts = [get_path(doc, f) for f in plain_facts]
                key = (rule.id, id(section), json.dumps(facts, sort_keys=True))
                entry = memo.get(key)
            if entry is None:
                found = rule.evaluate(full)
                entry = [None if found is None else found._stored, ""]
                if key is not None and memo is not None:
                    memo[key] = entry
            made = entry[0]
            if made is None:
                continue
            if texts and not entry[1]:
                entry[1] = compact_json(made)
            out.append((made, entry[1]))
        return out

    def _with_own_totals(self, doc: dict[str, Any]) -> Evaluation:
        return self._evaluate(doc if CUSTOMER_TOTAL in doc else with_totals(doc, None))

    def _evaluate(self, doc: dict[str, Any]) -> Evaluation:
        """The generated function (this method stands for it until `compile` has made it)."""
        self.compile()
        return self._evaluate(doc)

    def evaluate(self, doc: dict[str, Any]) -> Evaluation:
        """Evaluate every rule, with the function `codegen` made of this rule set.

        It reads every field once, decides each rule's `when` in three-valued logic, and for
        a rule that fires or is unknown takes its finding from the rule: a finding is a pure
        function of the values of the fields its rule reads, so each rule remembers findings
        by those values, and requests that share the facts a rule reads (most facts are
        enums and yes/no answers) share its finding, explanation included. Caches are bounded
        (CACHE_LIMIT findings a rule, CACHE_BUDGET all rules); a rule whose facts rarely repeat
        stops remembering.

        The first call generates and compiles the function (`compile`).
        """
        self.compile()
        return self.evaluate(doc)

    def evaluate_interpreted(self, doc: dict[str, Any]) -> Evaluation:
        """The same evaluation by the condition nodes alone, nothing generated or remembered:
        the reference that the compiled evaluation is tested against."""
        if self.reads_totals and CUSTOMER_TOTAL not in doc:
            doc = with_totals(doc, None)
        findings = [r.evaluate(doc) for r in self.rules]
        return evaluation_of(self, [f for f in findings if f is not None])

    @functools.cached_property
    def titles(self) -> dict[str, str]:
        """Rule id -> title (what explanations print beside an id)."""
        return {r.id: r.title for r in self.rules}

    @functools.cached_property
    def asking(self) -> frozenset[str]:
        """The rules that only ask for facts (outcome needs_information, as HR-29)."""
        return frozenset(r.id for r in self.rules if r.outcome == NEEDS_INFO)

    def fields_read(self) -> list[str]:
        """Every request field a rule of this set reads, `list[].key` for fields of list
        items (for the benchmark floor and forms)."""
        return sorted({f.rstrip("?") for f in self.fields if not f.startswith(CUSTOMER_TOTAL + ".")})


# --------------------------------------------------------------------------- loading


def rule_order(rule_id: str) -> tuple[str, int, str]:
    """Rule ids in their natural order (HR-2 before HR-10)."""
    head, _, tail = rule_id.rpartition("-")
    return (head, int(tail), rule_id) if tail.isascii() and tail.isdigit() else (rule_id, 0, rule_id)


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


def text_hash(text: str) -> str | None:
    """The hash a rule-set text would have (`content_hash`), without checking or compiling
    it; None when it is not TOML at all (for verify, which compares it with the stored hash)."""
    import tomllib  # loaded only to parse (`_parsed`)

    try:
        return content_hash(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        return None


def _parsed(text: str, origin: str) -> dict[str, Any]:
    """The TOML of a rule-set text, or InvalidInput saying why it is not TOML."""
    # tomllib is loaded only to parse: a rule set from the disk cache needs none (3 ms a start).
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput([f"{origin}: not valid TOML: {exc}"]) from exc
    except RecursionError as exc:
        raise InvalidInput([f"{origin}: not valid TOML: nested too deeply"]) from exc


MAX_RULES = 500
"""The most rules one rule set may hold (the bundled one has 29)."""

MAX_RULE_SET_TERMS = 5_000
"""The most terms all the conditions of one rule set may hold together (each condition at
most `lang.MAX_TERMS`, definitions counted in full where they are used): loading a rule set
at the limits takes a few seconds and a few hundred megabytes at most."""

MAX_FILE_BYTES = 4 * 1024 * 1024
"""The largest rule-set file read (the bundled one is about 25 kB)."""


def _non_finite(value: Any, path: str = "") -> str | None:
    """The dotted key of the first nan or inf in parsed TOML (canonical JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        subs = [(f"{path}.{k}" if path else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        subs = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        return None
    for sub_path, sub in subs:
        found = _non_finite(sub, sub_path)
        if found is not None:
            return found
    return None


def _tables(value: Any) -> bool:
    """A TOML array of tables (`[[rules]]`, `instead = [{...}]`)."""
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def load_text(text: str, origin: str = "rule set", cache: bool = True) -> RuleSet:
    """Parse and check a rule set (its evaluating function is compiled when it first
    evaluates); raise InvalidInput naming rule and problem. With `cache`, a text loaded before
    is not parsed again: its TOML comes from the disk cache (`diskcache`, data only), and is
    used only if the rule set made of it has the hash the entry names."""
    kept = diskcache.read(text) if cache else None
    if kept is not None:
        try:
            ruleset: RuleSet | None = _load(kept[0], text, origin)
        except (InvalidInput, RecursionError):
            ruleset = None  # loaded afresh below, which says why
        if ruleset is not None and ruleset.sha256 == kept[1]:
            return ruleset
        log.debug("rule-set cache entry for %s not used: it does not give its rule set", origin)
    data = _parsed(text, origin)
    try:
        fresh = _load(data, text, origin)
    except RecursionError as exc:  # pragma: no cover - the limits keep every part shallow
        raise InvalidInput([f"{origin}: nested too deeply"]) from exc
    if cache:
        diskcache.write(text, data, fresh.sha256)
    return fresh


def _load(data: dict[str, Any], text: str, origin: str) -> RuleSet:
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
    bad_number = _non_finite(data)
    if bad_number is not None:
        err(f"{bad_number}: nan and inf are not allowed (the rule set's hash is of its JSON)")
    definitions_raw = data.get("definitions", {})
    if not isinstance(definitions_raw, dict):
        err('definitions: expected a table of name = "condition"')
        definitions_raw = {}
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
    rules_raw = data.get("rules", [])
    if not isinstance(rules_raw, list):
        err("rules: expected a list of rules ([[rules]] tables)")
    elif not rules_raw:
        err("rules: a rule set needs at least one rule")
    elif len(rules_raw) > MAX_RULES:
        err(f"rules: too many: {len(rules_raw)} rules, more than {MAX_RULES}")
        rules_raw = []
    if not isinstance(rules_raw, list):
        rules_raw = []
    for i, raw in enumerate(rules_raw):
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
    terms = sum(_rule_terms(r) for r in rules)
    if terms > MAX_RULE_SET_TERMS:
        err(
            f"rules: too large: {terms} terms in all, more than {MAX_RULE_SET_TERMS} (each "
            "definition counted in full where it is used)"
        )
    if errors:
        raise InvalidInput(errors)
    rules.sort(key=lambda r: rule_order(r.id))
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


def _rule_terms(rule: Rule) -> int:
    nodes = [rule.when, *(i.when for i in rule.instead)]
    nodes += [n for a in rule.adds for n in (a.when, a.unless) if n is not None]
    return sum(n.size for n in nodes)


def _load_rule(
    raw: dict[str, Any],
    label: str,
    params: dict[str, Any],
    definitions: dict[str, Node],
    err: Any,
) -> Rule | None:
    ok = True
    for key in raw:
        if key not in RULE_KEYS:
            err(f"{label}: unknown key {key!r}")
            ok = False
    outcome: Any = raw.get("outcome")  # a text of OUTCOMES once checked
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
    for key in ("instead", "adds", "examples"):
        if not _tables(raw.get(key, [])):
            err(f"{label}: {key}: expected a list of tables")
            ok = False
            raw = {k: v for k, v in raw.items() if k != key}
    for j, ex in enumerate(raw.get("examples", [])):
        if not isinstance(ex.get("request", {}), dict):
            err(f"{label}: example {ex.get('name', f'#{j + 1}')!r}: request: expected a table")
            ok = False
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
        if isinstance(request, dict) and CUSTOMER_TOTAL in request:
            try:
                request = {**request, CUSTOMER_TOTAL: _example_totals(request[CUSTOMER_TOTAL])}
            except ValueError as exc:
                errors.append(f"{label}: example {name!r}: {exc}")
                continue
        elif isinstance(request, dict) and any(f.startswith(CUSTOMER_TOTAL + ".") for f in rule.fields):
            request = with_totals(request, None)
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
        if (
            want_conditions is not None
            and finding is not None
            and list(finding.conditions) != want_conditions
        ):
            errors.append(f"{label}: example {name!r} adds {finding.conditions}, expected {want_conditions}")


BUNDLED = "human-rights-2.toml"
_BUNDLED_CACHE: list[RuleSet] = []


def bundled_text() -> str:
    """The bundled rule set's text: the file in the `reviewer.resources` package's folder,
    which is where importlib.resources finds it for a package on disk (read here without that
    module, which costs 5 ms a start); through importlib.resources otherwise."""
    package = importlib.import_module("reviewer.resources")  # (resources/ in a checkout)
    try:
        with open(os.path.join(os.path.dirname(package.__file__ or ""), "rulesets", BUNDLED),
                  encoding="utf-8") as fh:  # fmt: skip
            return fh.read()
    except OSError:
        from importlib import resources

        return resources.files("reviewer.resources").joinpath("rulesets", BUNDLED).read_text("utf-8")


def load_bundled() -> RuleSet:
    """The default rule set shipped in resources/rulesets (parsed once per process)."""
    if not _BUNDLED_CACHE:
        _BUNDLED_CACHE.append(load_text(bundled_text(), origin=BUNDLED))
    return _BUNDLED_CACHE[0]


class StoredRuleSet(Protocol):
    """A rule set as the database stores it (a `RuleSetVersion` row)."""

    @property
    def key(self) -> str: ...

    @property
    def sha256(self) -> str: ...

    @property
    def content(self) -> str: ...


COMPILED_LIMIT = 8  # compiled rule sets kept per process (each holds its findings cache)
# hash -> (the compiled rule set, the SHA-256 of the exact text it was compiled from)
_COMPILED: OrderedDict[str, tuple[RuleSet, str]] = OrderedDict()


def compiled(row: StoredRuleSet) -> RuleSet:
    """The compiled rule set of a stored version, from a bounded cache keyed by its hash.

    Text is compiled only when it hashes to the stored hash, and a cached rule set is served
    only for the very text it was compiled from (its SHA-256 is compared on every call), so
    an edited text is refused (IntegrityProblem, exit 1, naming the rule set) instead of
    being evaluated."""
    digest = sha256_hex(row.content)
    cached = _COMPILED.get(row.sha256)
    if cached is not None and cached[1] == digest:
        _COMPILED.move_to_end(row.sha256)
        return cached[0]
    ruleset = load_text(row.content, origin=f"stored rule set {row.key}")
    if ruleset.sha256 != row.sha256:  # not from the disk cache: its text is what is checked
        ruleset = load_text(row.content, origin=f"stored rule set {row.key}", cache=False)
    if ruleset.sha256 != row.sha256:
        raise IntegrityProblem(
            f"stored rule set {row.key}: its text does not match its hash {row.sha256[:16]}...: "
            "it was changed outside Reviewer; nothing was evaluated (run reviewer verify)"
        )
    _COMPILED[row.sha256] = (ruleset, digest)
    while len(_COMPILED) > COMPILED_LIMIT:
        _COMPILED.popitem(last=False)
    return ruleset


def read_file(path: str) -> str:
    """The text of a rule-set file: a regular file of at most MAX_FILE_BYTES, in UTF-8."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InvalidInput([f"{path}: cannot read: {exc}"]) from exc
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput([f"{path}: {file_kind(info.st_mode)}, not a rule-set file"])
    if info.st_size > MAX_FILE_BYTES:
        raise InvalidInput([f"{path}: {info.st_size:,} bytes, more than a rule-set file may "
                            f"hold ({MAX_FILE_BYTES:,})"])  # fmt: skip
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput([f"{path}: cannot read: {exc}"]) from exc


def load_file(path: str) -> RuleSet:
    """A rule-set file (to import, check or evaluate with): a rule set, with an id, version
    and title a database and a command line can hold. A stored text (`load_text`) is loaded
    as it was imported, whatever an earlier version allowed."""
    ruleset = load_text(read_file(path), origin=path)
    problems = []
    if not RULE_SET_ID.fullmatch(ruleset.id):
        problems.append(f"{path}: id: 1 to 64 of A-Z a-z 0-9 . _ - starting with a letter or digit, "
                        f"got {json.dumps(ruleset.id)[:80]}")  # fmt: skip
    if ruleset.version > MAX_VERSION:
        problems.append(f"{path}: version: at most {MAX_VERSION:,}, got {str(ruleset.version)[:30]}")
    if len(ruleset.title) > 300 or "\x00" in ruleset.title:
        problems.append(f"{path}: title: text of at most 300 characters, no NUL")
    if problems:
        raise InvalidInput(problems)
    return ruleset
