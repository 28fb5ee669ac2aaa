"""What matters and what would change it: decisive facts and what-ifs for one request.

Rules are data, three-valued and compiled, so the two questions a reviewer asks every day
have answers that can be checked by evaluating again:

* *decisive facts* (for a request that needs information): each missing fact whose value
  settles at least one rule, with the recommendation each of its candidate values gives while
  every other unknown stays unknown;
* *what would change it* (for a request that is not `approve`): every change of at most two
  known facts, each to a concrete request-format value, that gives a strictly lower rank other
  than needs_information; one-fact changes first, then two-fact changes that contain none of
  them, by resulting rank, at most `MAX_WHAT_IFS`. Identity facts (`IDENTITY`) are not offered
  where a refusal with override `never` rests on them; such a refusal that no change of the
  use can lift is listed under `no_change`.

Every claim is made by applying the change to the request and evaluating it with the same
compiled rule set, so it holds by construction (the tests apply each claim again, and search
the same candidate values by brute force for anything left out).

Candidate values come from the rule set itself (`Candidates`): for a yes/no fact true and
false; for an enumeration one value of each class the rules tell apart; for a set the empty
set and one value of each such class; for a number the thresholds the rules compare it with
and the values just either side (what-ifs use the thresholds themselves); for a country,
region or city the places the rules name and one elsewhere; for a name one that holds a term
the rules look for and one that holds none; for a list of objects the empty list (and, when
unknown, one item whose facts are unknown).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Protocol

from reviewer.request import LEAF_FIELDS, MAX_WHOLE, SHAPES, FieldType, normalise
from reviewer.rules import NEEDS_INFO, RANK, rule_order, with_totals
from reviewer.rules.lang import (
    TOTAL_PATHS,
    And,
    Compare,
    Empty,
    Node,
    Not,
    Or,
    PlaceIn,
    Quant,
    Ref,
    Unknown,
    fold_city,
)

MAX_WHAT_IFS = 10
BUDGET = 2_000
"""What one explanation may spend on evaluating changed requests: each evaluation costs one
unit and one more for every 10 items in the request's lists (an evaluation reads every item).
The generated benchmark requests need 19 evaluations at the median, 828 at most; a request
with many sites gets an explanation cut short (`_truncated`, and it says so) instead of
taking seconds. For what-ifs, items that are copies of an earlier item of their list are not
tried again: the rules read lists as sets of items, so a copy's change is its twin's."""
MAX_PAIR_EVALUATIONS = 300
"""The most two-fact changes evaluated (the one-fact changes come first and are complete)."""
MAX_PAIRED = 300
"""The most one-fact changes that two-fact changes are made of (pairs of these)."""
IDENTITY = ("customer.org_type", "customer.country", "customer.name", "end_users")
NO_CHANGE_REASON = "no change of the request's use makes this acceptable"
# Codes that no rule names, for "somewhere else" (the first one the rule set leaves free).
ELSEWHERE_COUNTRIES = ("GB", "CA", "JP", "CH", "NO", "AU", "NZ", "BR", "IN", "ZA")
ELSEWHERE_REGIONS = ("WA", "TX", "NY", "ON", "BY", "QC")
ELSEWHERE_CITY = "Springfield"
NEUTRAL_NAME = "Example Organisation"


class RuleSetLike(Protocol):
    @property
    def rules(self) -> list[Any]: ...

    def evaluate(self, doc: dict[str, Any]) -> Any: ...


# --------------------------------------------------------------------------- paths

_STEP = re.compile(r"([a-z_0-9]+)(?:\[(\d+)\])?")


@functools.lru_cache(maxsize=4096)
def template(path: str) -> str:
    """`sites[0].city` -> `sites[].city`: the schema path a concrete path is an instance of."""
    return re.sub(r"\[\d+\]", "[]", path)


def field_type(path: str) -> FieldType | None:
    t = template(path)
    if t in LEAF_FIELDS:
        return LEAF_FIELDS[t]
    head, sep, name = t.partition("[].")
    if sep and head in LEAF_FIELDS:
        return LEAF_FIELDS[head].item.get(name)
    return None


@functools.lru_cache(maxsize=4096)
def _steps(path: str) -> tuple[tuple[str, int | None], ...]:
    out = []
    for part in re.split(r"\.(?![^\[]*\])", path):
        m = _STEP.fullmatch(part)
        if m is None:
            raise ValueError(f"not a field path: {path!r}")
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return tuple(out)


def get_value(doc: dict[str, Any], path: str) -> Any:
    cur: Any = doc
    for key, index in _steps(path):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
        if index is not None:
            if not isinstance(cur, list) or index >= len(cur):
                return None
            cur = cur[index]
    return cur


def _with(node: Any, steps: tuple[tuple[str, int | None], ...], value: Any) -> Any:
    """A copy of `node` (a dict) with the value at `steps` set; only the path is copied."""
    new = dict(node) if isinstance(node, dict) else {}
    (key, index), rest = steps[0], steps[1:]
    if index is None:
        new[key] = _with(new.get(key), rest, value) if rest else value
        return new
    items = list(new.get(key) or [])
    while len(items) <= index:
        items.append({})
    items[index] = _with(items[index], rest, value) if rest else value
    new[key] = items
    return new


def apply(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The request with each path set to its value (a request-format value), in canonical form:
    the changes a what-if or an option states, applied as a reviewer would."""
    new = doc
    for path, value in changes.items():
        new = _with(new, _steps(path), value)
    return normalise(new)


# --------------------------------------------------------------------------- candidates

Test = Callable[[Any], Any]


@dataclass
class _Constraint:
    """One way the rules look at a field: a test of its value, and the values it names."""

    test: Test
    values: tuple[Any, ...] = ()
    threshold: float | int | None = None


def _walk(node: Node, items: tuple[str, ...], out: dict[str, list[_Constraint]]) -> None:
    """Collect every comparison of a field with a constant, under the schema path of the
    field (item fields under each list the quantifier ranges over)."""
    if isinstance(node, (And, Or)):
        for p in node.parts:
            _walk(p, items, out)
    elif isinstance(node, (Not, Ref)):
        _walk(node.inner, items, out)
    elif isinstance(node, Quant):
        lists = ("customer", "end_users[]") if node.list_path == "parties" else (f"{node.list_path}[]",)
        _walk(node.body, lists, out)
    elif isinstance(node, Compare):
        _compare(node, items, out)
    elif isinstance(node, PlaceIn):
        bases = (f"{node.target}",) if node.target else items
        for key in node.keys:
            wanted = tuple(p.get(key) for p in node.places if p.get(key) is not None)
            test = _city_in(wanted) if key == "city" else _member(frozenset(wanted))
            for base in bases:
                out.setdefault(f"{base}.{key}", []).append(_Constraint(test, wanted))
    elif isinstance(node, Empty) and node.operand.kind != "const":
        op = node.operand
        paths = (op.label,) if op.kind == "field" else tuple(f"{i}.{op.label}" for i in items)
        for path in paths:
            out.setdefault(path, []).append(_Constraint(_empty))
    elif isinstance(node, Unknown):
        return


def _unique_value(v: Any) -> Any:
    """The signature part of a field compared with another field: the value itself."""
    return repr(v)


def _member(values: frozenset[Any]) -> Test:
    return values.__contains__


def _city_in(cities: tuple[Any, ...]) -> Test:
    folded = frozenset(fold_city(c) for c in cities)

    def test(v: Any) -> bool:
        return fold_city(v) in folded

    return test


def _empty(v: Any) -> bool:
    return len(v) == 0


def _holds(value: Any) -> Test:
    def test(v: Any) -> bool:
        return value in v

    return test


def _against(test_of: Callable[[Any, Any], bool], rv: Any) -> Test:
    def test(v: Any) -> bool:
        return test_of(v, rv)

    return test


def _compare(node: Compare, items: tuple[str, ...], out: dict[str, list[_Constraint]]) -> None:
    left, right = node.left, node.right
    if left.kind == "const" and right.kind == "field" and node.op == "in":  # 'x' in set field
        out.setdefault(right.label, []).append(_Constraint(_holds(left.value), (left.value,)))
        return
    if right.kind != "const" or left.kind == "const":
        # Compared with another field: its values are not told apart by constants alone.
        for side in (left, right):
            if side.kind == "field":
                out.setdefault(side.label, []).append(_Constraint(_unique_value))
            elif side.kind == "item":
                for i in items:
                    out.setdefault(f"{i}.{side.label}", []).append(_Constraint(_unique_value))
        return
    # A customer total moves with the request's own figure: its thresholds are that figure's.
    label = TOTAL_PATHS.get(left.label, left.label)
    paths = (label,) if left.kind == "field" else tuple(f"{i}.{left.label}" for i in items)
    rv = right.value
    test = _against(node.test, rv)
    if node.op == "contains_word":
        c = _Constraint(test, tuple(getattr(right, "terms", ())))
    elif isinstance(rv, frozenset):
        c = _Constraint(test, tuple(sorted(rv)))
    elif isinstance(rv, (int, float)) and not isinstance(rv, bool):
        c = _Constraint(test, (rv,), rv)
    else:
        c = _Constraint(test, (rv,))
    for path in paths:
        out.setdefault(path, []).append(c)


class Candidates:
    """The candidate values of every field the rule set reads (see the module text)."""

    def __init__(self, ruleset: RuleSetLike) -> None:
        self.constraints: dict[str, list[_Constraint]] = {}
        for rule in ruleset.rules:
            for node in [rule.when, *(i.when for i in rule.instead),
                         *(n for a in rule.adds for n in (a.when, a.unless) if n is not None)]:  # fmt: skip
                _walk(node, (), self.constraints)
        self._cache: dict[tuple[str, bool], list[Any]] = {}

    def signature(self, path: str, value: Any) -> tuple[Any, ...]:
        """How the rules see a value of a field (a concrete or schema path): the result of
        every test of it against a constant."""
        return self._signature(template(path), value)

    def _signature(self, path: str, value: Any) -> tuple[Any, ...]:
        out = []
        for c in self.constraints.get(path, ()):
            try:
                out.append(c.test(value))
            except TypeError:  # pragma: no cover - a value of another kind
                out.append(None)
        return tuple(out)

    def _distinct(self, path: str, values: list[Any]) -> list[Any]:
        seen: set[tuple[Any, ...]] = set()
        out = []
        for v in values:
            sig = self._signature(path, v)
            if sig not in seen:
                seen.add(sig)
                out.append(v)
        return out

    def values(self, path: str, what_if: bool = False) -> list[Any]:
        """Candidate values of a field (a concrete or schema path); what-ifs take the
        thresholds themselves for numbers and the empty list for lists of objects."""
        key = (template(path), what_if)
        if key not in self._cache:
            self._cache[key] = self._values(key[0], what_if)
        return self._cache[key]

    def _values(self, path: str, what_if: bool) -> list[Any]:
        t = field_type(path)
        if t is None:
            return []
        named = [v for c in self.constraints.get(path, ()) for v in c.values]
        kind = t.kind
        if kind == "bool":
            return [True, False]
        if kind == "enum":
            return self._distinct(path, list(t.values))
        if kind == "set":
            # One value of each class the rules tell apart, and the empty set where it differs.
            singles = [[v] for v in t.values]
            return self._distinct(path, [*singles, []])
        if kind in ("int", "number"):
            return self._numbers(path, t, what_if)
        if kind in ("country", "region"):
            # Only codes the request format accepts (a rule set may hold anything).
            codes = [v for v in named if isinstance(v, str) and SHAPES[kind].fullmatch(v)]
            elsewhere = ELSEWHERE_COUNTRIES if kind == "country" else ELSEWHERE_REGIONS
            return self._distinct(path, [*codes, *elsewhere])
        if kind == "objlist":
            return [[]] if what_if else [[], [{}]]
        if kind == "str":
            if path.endswith(".city"):
                return self._distinct(path, [*named, ELSEWHERE_CITY])
            terms = [c.values[0] for c in self.constraints.get(path, ()) if c.values]
            return [*(str(term).title() for term in terms[:1]), NEUTRAL_NAME] if terms else []
        return []

    def _numbers(self, path: str, t: FieldType, what_if: bool) -> list[Any]:
        top = MAX_WHOLE if t.kind == "int" else (t.maximum if t.maximum is not None else MAX_WHOLE)
        out: list[Any] = []
        for c in self.constraints.get(path, ()):
            x = c.threshold
            if x is None:
                continue
            near: list[Any]
            if t.kind == "int":  # whole numbers only, whatever the rule set wrote (50 or 50.0)
                low, high = math.floor(x), math.ceil(x)
                near = [low, high] if what_if else [low - 1, low, high, high + 1]
            else:
                near = [x] if what_if else [round(x - 0.01, 6), x, round(x + 0.01, 6)]
            for v in near:
                if 0 <= v <= top and not any(v == o and type(v) is type(o) for o in out):
                    out.append(v)
        return out


# --------------------------------------------------------------------------- explanation


@dataclass
class _Outcome:
    recommendation: str
    rank: int
    rules: dict[str, str]  # rule id -> outcome
    missing: list[str]


def _outcome(ev: Any) -> _Outcome:
    """What a what-if compares of an evaluation (`reviewer.rules.Evaluation`)."""
    rules = {f.rule.id: f.outcome for f in ev.findings}
    return _Outcome(ev.recommendation, RANK[ev.recommendation], rules, ev.missing)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(repr, a)) == sorted(map(repr, b))
    return bool(a == b and type(a) is type(b))


def _reads(path: str, fields: set[str]) -> bool:
    """Whether a rule reading `fields` reads the fact at schema path `path` (a list of objects
    is read through any of its items' fields)."""
    return path in fields or any(f.startswith(path + "[") for f in fields)


def is_identity(path: str) -> bool:
    t = template(path)
    return t in IDENTITY or t.startswith("end_users")


class Explainer:
    """Explains requests under one compiled rule set (candidates worked out once)."""

    def __init__(self, ruleset: RuleSetLike) -> None:
        self.ruleset = ruleset
        self.candidates = Candidates(ruleset)
        self.reads: set[str] = set()
        self.rule_fields: dict[str, set[str]] = {}
        for rule in ruleset.rules:
            fields = {f.rstrip("?") for f in rule.fields}
            fields |= {TOTAL_PATHS[f] for f in fields if f in TOTAL_PATHS}  # its own part
            self.rule_fields[rule.id] = fields
            self.reads |= fields

    def evaluate(
        self, doc: dict[str, Any], changes: dict[str, Any], budget: _Budget | None = None
    ) -> _Outcome:
        if budget is not None:
            budget.spend()
        return _outcome(self.ruleset.evaluate(self._full(apply(doc, changes))))

    def _full(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The request with its customer totals (those of this `explain` call) when the rule
        set reads any."""
        if not getattr(self.ruleset, "reads_totals", False):
            return doc
        return with_totals(doc, _PARTS.get())

    # ---------------------------------------------------------------- known facts

    def known_paths(self, doc: dict[str, Any]) -> Iterator[str]:
        """Every known fact a rule reads, as a concrete path, in schema order."""
        for path, t in LEAF_FIELDS.items():
            value = get_value(doc, path)
            if value is None:
                continue
            if t.kind == "objlist":
                if value and _reads(path, self.reads):
                    yield path
                seen: set[str] = set()
                for i, item in enumerate(value):
                    twin = repr(sorted(item.items()))
                    if twin in seen:
                        continue  # a copy of an earlier item: its changes are its twin's
                    seen.add(twin)
                    for key in t.item:
                        if f"{path}[].{key}" in self.reads and item.get(key) is not None:
                            yield f"{path}[{i}].{key}"
            elif path in self.reads:
                yield path

    # ---------------------------------------------------------------- decisive facts

    def decisive(self, doc: dict[str, Any], now: _Outcome, budget: _Budget) -> list[dict[str, Any]]:
        asking = {r for r, o in now.rules.items() if o == NEEDS_INFO}
        out: list[dict[str, Any]] = []
        budget.partial = out
        for path in now.missing:  # copies of an item too: sales answers for each
            options = []
            # Values the rules cannot tell apart (49 and 50 against "> 50") lead to the same
            # findings but for the value they state: evaluated once.
            # (Not for lists of objects: the rules read their items, not the list.)
            by_signature: dict[tuple[Any, ...], _Outcome] = {}
            listed = (t := field_type(path)) is not None and t.kind == "objlist"
            for value in self.candidates.values(path):
                sig = self.candidates.signature(path, value)
                got = None if listed else by_signature.get(sig)
                if got is None:
                    got = by_signature[sig] = self.evaluate(doc, {path: value}, budget)
                settled = sorted((r for r in asking if got.rules.get(r) != NEEDS_INFO), key=rule_order)
                options.append({"value": value, "recommendation": got.recommendation, "rules": settled,
                                "_missing": got.missing})  # what is still unknown: for the text  # fmt: skip
            if any(o["rules"] for o in options):
                out.append({"field": path, "options": options})
        return out

    # ---------------------------------------------------------------- what would change it

    def changes(self, doc: dict[str, Any], paths: list[str]) -> Iterator[tuple[str, Any]]:
        for path in paths:
            current = get_value(doc, path)
            for value in self.candidates.values(path, what_if=True):
                if not _same(value, current):
                    yield path, value

    def what_if(
        self, doc: dict[str, Any], now: _Outcome, budget: _Budget
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        if now.rank == 1:
            return [], []
        # A refusal with override never that rests on who the parties are, or may (it waits for
        # a fact): changing who they are is never offered (a police department cannot become a
        # bakery, nor a police end user a company while its country is unknown).
        never = [r for r in self.ruleset.rules if r.override == "never"
                 and now.rules.get(r.id) in ("refuse", NEEDS_INFO)
                 and any(is_identity(f) for f in self.rule_fields[r.id])]  # fmt: skip
        resting = [r for r in never if now.rules.get(r.id) == "refuse"]
        top = [r for r, o in now.rules.items() if RANK[o] == now.rank]
        top_fields = set().union(*(self.rule_fields[r] for r in top))
        # A finding depends only on the facts its rule reads: a change of a fact that no
        # top finding reads leaves them all, and so the rank, as they are.
        paths = [p for p in self.known_paths(doc) if _reads(template(p), top_fields)]
        if never:
            paths = [p for p in paths if not is_identity(p)]
        tried: list[tuple[str, Any, _Outcome]] = []
        singles: list[dict[str, Any]] = []
        for path, value in self.changes(doc, paths):
            try:
                got = self.evaluate(doc, {path: value}, budget)
            except _Exhausted:
                budget.partial = sorted(singles, key=lambda e: RANK[e["recommendation"]])[:MAX_WHAT_IFS]
                raise
            tried.append((path, value, got))
            if got.rank < now.rank and got.recommendation != NEEDS_INFO:
                singles.append(self._entry(now, {path: value}, got))
        singles.sort(key=lambda e: RANK[e["recommendation"]])
        out = singles[:MAX_WHAT_IFS]
        stopped = {r.id for r in resting if any(r.id not in got.rules or got.rules[r.id] != "refuse"
                                                for _p, _v, got in tried)}  # fmt: skip
        pairs: list[dict[str, Any]] = []
        if len(out) < MAX_WHAT_IFS or len(stopped) < len(resting):
            qualifying = {(p, repr(v)) for e in singles for p, v in e["set"].items()}
            pool = [(p, v) for p, v, _got in tried if (p, repr(v)) not in qualifying][:MAX_PAIRED]
            alone = {(p, repr(v)): got for p, v, got in tried}
            paired = 0
            for (pa, va), (pb, vb) in combinations(pool, 2):
                if pa == pb or paired >= MAX_PAIR_EVALUATIONS:
                    continue
                ta, tb = template(pa), template(pb)
                # Together the two facts reach every top finding; one that only one of them
                # reaches is then what that fact alone made it (its finding reads no other), so
                # that fact alone must have moved it off the top rank.
                a, b = alone[(pa, repr(va))], alone[(pb, repr(vb))]
                covers = all(self._moved_by_pair(r, ta, tb, a, b, now.rank) for r in top)
                lifts = [r.id for r in resting if r.id not in stopped
                         and _reads(ta, self.rule_fields[r.id])
                         and _reads(tb, self.rule_fields[r.id])]  # fmt: skip
                if not covers and not lifts:
                    continue
                paired += 1
                try:
                    got = self.evaluate(doc, {pa: va, pb: vb}, budget)
                except _Exhausted:
                    pairs.sort(key=lambda e: RANK[e["recommendation"]])
                    budget.partial = out + pairs[: MAX_WHAT_IFS - len(out)]
                    raise
                for rid in lifts:
                    if got.rules.get(rid) != "refuse":
                        stopped.add(rid)
                if covers and got.rank < now.rank and got.recommendation != NEEDS_INFO:
                    pairs.append(self._entry(now, {pa: va, pb: vb}, got))
        pairs.sort(key=lambda e: RANK[e["recommendation"]])
        out += pairs[: MAX_WHAT_IFS - len(out)]
        no_change = [{"rule": r.id, "reason": NO_CHANGE_REASON} for r in resting if r.id not in stopped]
        return out, no_change

    def _moved_by_pair(self, rule: str, ta: str, tb: str, a: _Outcome, b: _Outcome, rank: int) -> bool:
        """Whether changing the facts at ta and tb together may move a top finding off the top
        rank: both read by its rule (only evaluating tells), or one, whose change alone did."""
        fields = self.rule_fields[rule]
        ra, rb = _reads(ta, fields), _reads(tb, fields)
        if ra and rb:
            return True
        if ra:
            return RANK.get(a.rules.get(rule, ""), 0) < rank
        if rb:
            return RANK.get(b.rules.get(rule, ""), 0) < rank
        return False

    @staticmethod
    def _entry(now: _Outcome, changes: dict[str, Any], got: _Outcome) -> dict[str, Any]:
        return {
            "set": dict(changes),
            "recommendation": got.recommendation,
            "rules_stop": sorted((r for r in now.rules if r not in got.rules), key=rule_order),
            "rules_start": sorted((r for r in got.rules if r not in now.rules), key=rule_order),
            # Rules that fire before and after with another outcome (HR-05 refuse -> escalate_senior):
            # for the text forms; the JSON keeps the shape of the issue.
            "_changed": [
                (r, now.rules[r], got.rules[r])
                for r in sorted(now.rules, key=rule_order)
                if r in got.rules and got.rules[r] != now.rules[r]
            ],
        }

    # ---------------------------------------------------------------- the whole

    def explain(self, doc: dict[str, Any], parts: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON of `reviewer explain` for one validated (canonical) request, with its
        customer totals' parts (`rules.Parts`; its own figures alone when None)."""
        token = _PARTS.set(parts)
        try:
            return self._explain(doc)
        finally:
            _PARTS.reset(token)

    def _explain(self, doc: dict[str, Any]) -> dict[str, Any]:
        now = _outcome(self.ruleset.evaluate(self._full(doc)))
        lists = [v for v in (doc.get("sites"), doc.get("end_users"),
                             (doc.get("data") or {}).get("law_enforcement_recipients")) if v]  # fmt: skip
        budget = _Budget(BUDGET, 1 + sum(map(len, lists)) // 10)
        decisive: list[dict[str, Any]] = []
        what_if: list[dict[str, Any]] = []
        no_change: list[dict[str, str]] = []
        try:
            if now.recommendation == NEEDS_INFO:
                decisive = self.decisive(doc, now, budget)
        except _Exhausted:
            decisive = budget.partial
        if not budget.exhausted:
            try:
                what_if, no_change = self.what_if(doc, now, budget)
            except _Exhausted:
                what_if = budget.partial
        return {
            "reference": doc.get("reference"),
            "recommendation": now.recommendation,
            "decisive": decisive,
            "what_if": what_if,
            "no_change": no_change,
            "_missing": now.missing,
            "_truncated": budget.exhausted,
        }


class _Exhausted(Exception):
    """The explanation's budget is spent."""


class _Budget:
    def __init__(self, units: int, cost: int) -> None:
        self.left, self.cost = units, cost
        self.exhausted = False
        self.partial: list[Any] = []  # what the step under way had found when it ran out

    def spend(self) -> None:
        self.left -= self.cost
        if self.left < 0:
            self.exhausted = True
            raise _Exhausted


def public(explanation: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of the judgement issue, without what only the text forms use."""
    out = _shown(explanation)
    out["what_if"] = [_shown(w) for w in out["what_if"]]
    out["decisive"] = [{**d, "options": [_shown(o) for o in d["options"]]} for d in out["decisive"]]
    return out


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


# The customer totals of the request being explained (a context variable: one Explainer
# serves every thread).
_PARTS: ContextVar[dict[str, Any] | None] = ContextVar("customer_parts", default=None)


def explainer_for(ruleset: Any) -> Explainer:
    """One Explainer per compiled rule set (its candidates are worked out once)."""
    cached: Explainer | None = getattr(ruleset, "_explainer", None)
    if cached is None:
        cached = Explainer(ruleset)
        ruleset._explainer = cached
    return cached
