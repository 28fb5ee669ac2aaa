"""Compiles a rule set's conditions into one Python function that evaluates a request.

The nodes of `lang.py` evaluate each condition by calling one closure per node: exact, but
most of the time goes into calls. This module turns the same checked nodes into the body of
one function: every field the rule set reads is read once into a local variable, the
three-valued logic of every `when` runs as straight-line statements over those locals, and a
rule that does not stay quiet looks its finding up by the values its explanation depends on
(`rule_key`); if it is not there, a generated function of that rule explains it, value first,
exactly as the nodes' `explain` would, and `Rule.make` makes (and remembers) the finding.
The first generation of each function only learns its `_Plan`; the second uses it.

The rule file never reaches the generated text. The source is made only of names this module
invents (`v3`, `t12`, `K4`...), a fixed set of operators and statements, and the keys of the
request schema (checked to be plain identifiers). Every value from the rule file (parameters,
quoted values, term patterns, places) is bound to a `K` name in the function's namespace,
which has no builtins but the few named here. Nothing in a rule file can become code; the
loader has already refused anything the language does not define.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Protocol

from reviewer.request import LEAF_FIELDS, fold
from reviewer.rules.lang import (
    Add,
    And,
    Compare,
    Empty,
    Instead,
    Node,
    Not,
    Operand,
    Or,
    PlaceIn,
    Quant,
    Ref,
    Unknown,
    fold_city,
)


class Rule(Protocol):
    """What the compiler reads of a rule (`reviewer.rules.Rule`)."""

    @property
    def when(self) -> Node: ...

    @property
    def instead(self) -> Sequence[Instead]: ...

    @property
    def adds(self) -> Sequence[Add]: ...

    @property
    def cache(self) -> dict[Any, Any]: ...

    @property
    def make(self) -> Callable[..., Any]: ...  # bound into the code (see `Rule.make`)


class RuleSet(Protocol):
    """What the compiler reads of a rule set (`reviewer.rules.RuleSet`)."""

    @property
    def budget(self) -> Any: ...  # its `evaluations` counter is bound into the code


_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?")  # scale.cameras: a customer total

# The shape of the generated code stays within Python's limits (100 levels of indentation,
# about 200 of nested brackets) and grows linearly with the conditions, however they nest:
NESTED_PARTS = 8
"""An and/or decides its first parts (cheapest first) in nested blocks, which let later parts
use what earlier ones read; the parts after these in flat blocks, one level deeper in all."""
INLINE_PARTS = 64
"""An and/or of more parts is decided by its own closure (one loop over its parts) and
explained by its node: its code is a line or two however long the chain."""
INLINE_DEPTH = 5
"""A node nested deeper than this (`Node.depth`) is decided by its closure and explained by
its node: generated code explains each level over the values of the levels below, so its
size grows faster than the node (conditions nest at most `lang.MAX_DEPTH` levels; the
bundled rule set 4)."""
INLINE_SIZE = 64
"""A node of more terms (`Node.size`) is decided by its closure and explained by its node."""
SOURCE_BUDGET = 400_000
"""The characters of code generated for rules, in rule order (the bundled rule set needs
about 175,000): the rules after the budget is spent are decided by their closures and
explained by their nodes (a few lines each), so compiling any rule set within the loader's
limits takes a second or two at most."""
DEEP = 40
"""Below this indentation every node but a comparison is decided by its closure and
explained by its node."""

INLINE_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
MISS = object()
EMPTY: dict[str, Any] = {}


def _key(name: str) -> str:
    """A schema key as a literal; only plain identifiers ever get here."""
    if not _KEY.fullmatch(name):  # pragma: no cover - the schema has no other keys
        raise ValueError(f"not a schema key: {name!r}")
    return repr(name)


def _hashable_list(values: list[Any] | None) -> Any:
    if values is None:
        return None
    if values and isinstance(values[0], dict):
        return tuple([tuple(x.items()) for x in values])
    return tuple(values)


class _Memo:
    """A function of one value, remembered (at most `limit` values at a time)."""

    def __init__(self, fn: Any, limit: int = 4096) -> None:
        self.fn, self.limit = fn, limit
        self.known: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if len(self.known) >= self.limit:
            self.known.clear()
        result = self.known[value] = self.fn(value)
        return result


class _Module:
    """The namespace shared by the generated functions, and the names they use."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "__builtins__": {}, "MISS": MISS, "EMPTY": EMPTY, "tuple": tuple, "len": len,
            "map": map, "frozenset": frozenset, "fold": fold, "DG": dict.get, "RP": repeat,
            "H": _hashable_list, "str": str, "enumerate": enumerate, "next": next,
        }  # fmt: skip
        self.count = 0
        self.bound: dict[int, str] = {}
        self.spent = 0  # characters of code emitted (see SOURCE_BUDGET)
        self.fold_city = _Memo(fold_city)

    def tmp(self, prefix: str = "t") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def bind(self, value: Any, prefix: str = "K") -> str:
        """A name for a value from the rule set (one name per object)."""
        name = self.bound.get(id(value))
        if name is None or self.namespace.get(name) is not value:
            name = self.bound[id(value)] = self.tmp(prefix)
            self.namespace[name] = value
        return name


@dataclass
class _Plan:
    """What the first generation of a function learns for the second: how many places need
    the value of each node (a value needed once is not worth remembering), and which fields
    it reads at the top level or under one test (read at the start, with no check for MISS:
    they are needed on most calls)."""

    uses: dict[int, int] = field(default_factory=dict)
    always: set[str] = field(default_factory=set)


class _Function:
    """One generated function of `d`: its statements, and the fields it reads."""

    def __init__(self, module: _Module, plan: _Plan | None = None) -> None:
        self.module = module
        # What a first generation of the same function learnt (see `_Plan`); None in it.
        self.plan = plan
        self.learnt = _Plan()
        self.local_count = 0
        self.text = ""  # the function's source, once generated
        self.interpreted = False  # the rule at hand is decided and explained by its nodes
        # Per block level, what code run on every path to a line has set: the locals of
        # fields, tuples and remembered values, and the locals holding node values.
        self.known: list[set[str]] = []
        self.known_values: list[dict[int, str]] = []
        # For the local of an `and`: what is set wherever it is not false.
        self.when_not_false: dict[str, tuple[set[str], dict[int, str]]] = {}
        self.lines: list[str] = []
        self.fields: dict[str, str] = {}  # field path -> local variable
        self.sections: dict[str, str] = {}  # section (or top-level key) -> local variable
        self.memo: dict[int, str] = {}  # id(node) -> local holding its value once computed
        self.item_tuples: dict[str, str] = {}  # `list[].key` -> local, MISS until needed
        self.hashed_fields: dict[str, str] = {}  # list field path -> local holding a tuple

    def tmp(self, prefix: str = "t") -> str:
        """A local for a value used only inside the current scope (one rule's block): names
        are used again by the next rule, which keeps the frame of the function small."""
        self.local_count += 1
        return f"{prefix}{self.local_count}"

    def new_scope(self) -> None:
        self.local_count = 0
        self.known_values = []  # the names of values are used again in the new scope
        self.when_not_false = {}

    def bind(self, value: Any, prefix: str = "K") -> str:
        return self.module.bind(value, prefix)

    def source(self, name: str, body: list[str], result: str) -> str:
        return "\n".join([f"def {name}(d):", *self.preamble(), *body, f"    return {result}", ""])

    def emit(self, line: str, indent: int) -> None:
        # A line at `indent` leaves every deeper block: what they settled no longer holds.
        del self.known[indent + 1 :]
        del self.known_values[indent + 1 :]
        self.lines.append("    " * indent + line)
        self.module.spent += 4 * indent + len(line)

    def settled(self, var: str, ind: int) -> bool:
        """Whether code already run on every path to here (at `ind`) has set `var`; if not,
        note that it is set from here on (the caller emits what sets it)."""
        while len(self.known) <= ind:
            self.known.append(set())
        if any(var in level for level in self.known[: ind + 1]):
            return True
        self.known[ind].add(var)
        return False

    def unset(self, var: str, ind: int) -> bool:
        """Whether `var` (a local that starts as MISS) may still be unset here; if so, emit
        the test for it, and the caller emits what sets it at `ind + 1`."""
        if self.settled(var, ind):
            return False
        self.emit(f"if {var} is MISS:", ind)
        return True

    def known_value(self, node: Node, ind: int) -> str | None:
        for level in self.known_values[: ind + 1]:
            if id(node) in level:
                return level[id(node)]
        return None

    def note_value(self, node: Node, var: str, ind: int) -> None:
        while len(self.known_values) <= ind:
            self.known_values.append({})
        self.known_values[ind][id(node)] = var

    def opaque(self, node: Node, ind: int) -> bool:
        """Whether `node` is decided by its closure and explained by its node (`_opaque`,
        or any node but a comparison of a rule past the SOURCE_BUDGET)."""
        if self.interpreted and not isinstance(node, (Compare, Unknown, Empty)):
            return True
        return _opaque(node, ind)

    # ---------------------------------------------------------------- reading the request

    def section(self, name: str) -> str:
        if name not in self.sections:
            self.sections[name] = f"S_{name}"
            _key(name)
        return self.sections[name]

    def field(self, path: str, ind: int) -> str:
        """The local holding a root field (`section.key` or a top-level key). A section key is
        read the first time a call needs it: its local starts as MISS, and each place that
        reads it first reads it from the section if it is still MISS."""
        head, _, tail = path.partition(".")
        section = self.section(head)
        if not tail:
            return section
        var = self.fields.get(path)
        if var is None:
            var = self.fields[path] = f"v_{head}_{_key(tail)[1:-1].replace('.', '_')}"
        if ind <= 2:
            # Read at the top level (on every call) or under one test: read at the start,
            # which costs less than checking for MISS at each of its places.
            self.learnt.always.add(path)
        if (self.plan is None or path not in self.plan.always) and self.unset(var, ind):
            self.emit(f"{var} = {section}.get({_key(tail)})", ind + 1)
        return var

    def hashed(self, path: str, ind: int) -> str:
        """A local holding a list field as a tuple (None if unknown), made once per call."""
        var = self.field(path, ind)
        h = self.hashed_fields[path] = f"h{var}"
        t = LEAF_FIELDS.get(path)
        if self.unset(h, ind):
            if t is not None and t.kind == "set":  # a list of values
                self.emit(f"{h} = None if {var} is None else tuple({var})", ind + 1)
            else:
                self.emit(f"{h} = H({var})", ind + 1)
        return h

    def preamble(self) -> list[str]:
        """Read every section once (a section that is not there is EMPTY; a top-level list
        may be None); everything else starts as MISS."""
        out = []
        for name, var in self.sections.items():
            default = "" if name in LEAF_FIELDS else " or EMPTY"
            out.append(f"    {var} = d.get({_key(name)}){default}")
        always = self.plan.always if self.plan is not None else set()
        for path, var in self.fields.items():
            if path in always:
                head, _, tail = path.partition(".")
                out.append(f"    {var} = {self.sections[head]}.get({_key(tail)})")
        lazy = [var for path, var in self.fields.items() if path not in always]
        starts = [*lazy, *self.hashed_fields.values(), *self.memo.values(),
                  *self.item_tuples.values()]  # fmt: skip
        for i in range(0, len(starts), 20):
            out.append("    " + " = ".join(starts[i : i + 20]) + " = MISS")
        return out

    # ---------------------------------------------------------------- conditions

    def operand(self, op: Operand, item: str | None, ind: int) -> str:
        if op.kind == "const":
            v = op.value
            if v is None or type(v) is bool or type(v) is int:
                return repr(v)  # True, False, None or digits: nothing else reaches the text
            return self.bind(v)
        if op.kind == "item":
            assert item is not None
            return f"{item}.get({_key(op.label)})"
        return self.field(op.label, ind)

    def value(self, node: Node, item: str | None, ind: int) -> str:
        """Emit what computes `node` (True, False or None) and return an expression for it
        that is cheap to read more than once (a local, a constant or a literal).

        Outside a quantifier, what is more than one comparison (a definition, `and`, `or`,
        a quantifier...) and is needed in more than one place is computed at most once per
        call: its local starts as MISS and every place that needs it computes it only if it
        is still MISS.
        """
        if isinstance(node, Ref):  # a definition: its node is remembered, not each use
            return self.value(node.inner, item, ind)
        key = id(node)
        if item is None:
            self.learnt.uses[key] = self.learnt.uses.get(key, 0) + 1
        many = self.plan is not None and self.plan.uses.get(key, 0) > 1
        if item is None and many and not isinstance(node, (Compare, Unknown, Empty)):
            var = self.memo.get(key)
            if var is None:
                var = self.memo[key] = self.module.tmp("n")
            if self.unset(var, ind):
                t = self._value(node, item, ind + 1)
                self.emit(f"{var} = {t}", ind + 1)
            return var
        if item is None:
            known = self.known_value(node, ind)
            if known is not None:
                return known
            t = self._value(node, item, ind)
            self.note_value(node, t, ind)
            return t
        return self._value(node, item, ind)

    def _value(self, node: Node, item: str | None, ind: int) -> str:
        if self.opaque(node, ind):
            t = self.tmp()
            self.emit(f"{t} = {self.bind(node.fn, 'F')}(d, {item or 'None'})", ind)
            return t
        if isinstance(node, And) or isinstance(node, Or):
            return self._junction(node, item, ind)
        if isinstance(node, Not):
            inner = self.value(node.inner, item, ind)
            t = self.tmp()
            self.emit(f"{t} = None if {inner} is None else not {inner}", ind)
            return t
        if isinstance(node, Quant):
            return self._quantifier(node, item, ind)
        if isinstance(node, PlaceIn):
            return self._place_in(node, item, ind)
        t = self.tmp()
        self.emit(f"{t} = {self._atom(node, item, ind)}", ind)
        return t

    def _place_in(self, node: PlaceIn, item: str | None, ind: int) -> str:
        """Country and region equal, and the city (folded) where the place names one: true
        for the first place that matches, else unknown if one might, else false."""
        obj = self.section(node.target) if node.target else item
        assert obj is not None
        t = self.tmp()
        got = {k: self.tmp("x") for k in node.keys}
        for k, var in got.items():
            self.emit(f"{var} = {obj}.get({_key(k)})", ind)
        if "city" in got:
            city = got["city"]
            memo = self.module.fold_city
            known, fold_it = self.bind(memo.known), self.bind(memo, "F")
            self.emit(f"if {city} is not None:", ind)
            self.emit(f"{city} = {known}[{city}] if {city} in {known} else {fold_it}({city})", ind + 1)
        self.emit(f"{t} = False", ind)
        for place in node.places:
            wanted = {"country": place.get("country"), "region": place.get("region"),
                      "city": fold_city(place.get("city"))}  # fmt: skip
            checks = [(got[k], self.bind(wanted[k])) for k in ("country", "region", "city")
                      if k in got and (k != "city" or wanted[k] is not None)]  # fmt: skip
            mismatch = " or ".join(f"({v} is not None and {v} != {want})" for v, want in checks)
            unknown = " or ".join(f"{v} is None" for v, _ in checks)
            self.emit(f"if {t} is not True and not ({mismatch}):", ind)
            self.emit(f"{t} = None if {unknown} else True", ind + 1)
        return t

    def _junction(self, node: And | Or, item: str | None, ind: int) -> str:
        """Kleene `and` stops at the first False, `or` at the first True; otherwise unknown
        if any part is unknown."""
        if isinstance(node, Or) and all(isinstance(p, (Compare, Unknown, Empty)) for p in node.parts):
            # Comparisons only: decide them all (an `or` is mostly false, so all are needed
            # anyway), at this level, where a key made later can use their values.
            values = [self.value(p, item, ind) for p in node.parts]
            t = self.tmp()
            self.emit(
                f"{t} = True if {' or '.join(f'{v} is True' for v in values)} else "
                f"(None if {' or '.join(f'{v} is None' for v in values)} else False)",
                ind,
            )
            return t
        stop = "False" if isinstance(node, And) else "True"
        t = self.tmp()
        self.emit(f"{t} = {'True' if stop == 'False' else 'False'}", ind)
        level = ind
        # The value does not depend on the order of the parts, only the work does: the
        # cheapest first (explanations keep the order of the text).
        for j, part in enumerate(sorted(node.parts, key=_cost)):
            if j >= NESTED_PARTS:  # flat: each part in a block of its own (NESTED_PARTS)
                self.emit(f"if {t} is not {stop}:", level)
                x = self.value(part, item, level + 1)
                self.emit(f"if {x} is {stop}:", level + 1)
                self.emit(f"{t} = {stop}", level + 2)
                self.emit(f"elif {x} is None:", level + 1)
                self.emit(f"{t} = None", level + 2)
                continue
            x = self.value(part, item, level)
            self.emit(f"if {x} is {stop}:", level)
            self.emit(f"{t} = {stop}", level + 1)
            self.emit("else:", level)
            level += 1
            self.emit(f"if {x} is None:", level)
            self.emit(f"{t} = None", level + 1)
        if stop == "False":
            # Where the `and` is not false, every part ran: what they set is set.
            self.when_not_false[t] = (
                set().union(*self.known[: level + 1]),
                {k: v for d in self.known_values[: level + 1] for k, v in d.items()},
            )
        return t

    def assume_not_false(self, var: str, ind: int) -> None:
        """Code at `ind` runs only where `var` (a value just computed) is not false."""
        known = self.when_not_false.get(var)
        if known is None:
            return
        self.settled("", ind)  # make room for level `ind`
        while len(self.known_values) <= ind:
            self.known_values.append({})
        self.known[ind] |= known[0]
        self.known_values[ind].update(known[1])

    def _quantifier(self, node: Quant, item: str | None, ind: int) -> str:
        stop = "False" if node.every else "True"
        other = "True" if node.every else "False"
        t, unknown, it = self.tmp(), self.tmp("u"), self.tmp("it")
        if node.list_path == "parties":
            first = self.value(node.body, self.section("customer"), ind)
            users = self.field("end_users", ind)
            self.emit(f"if {first} is {stop}:", ind)
            self.emit(f"{t} = {stop}", ind + 1)
            self.emit(f"elif {users} is None:", ind)
            self.emit(f"{t} = None", ind + 1)
            self.emit("else:", ind)
            self.emit(f"{unknown} = {first} is None", ind + 1)
            lst = users
        else:
            lst = self.field(node.list_path, ind)
            self.emit(f"if {lst} is None:", ind)
            self.emit(f"{t} = None", ind + 1)
            self.emit("else:", ind)
            self.emit(f"{unknown} = False", ind + 1)
        self.emit(f"{t} = {other}", ind + 1)
        self.emit(f"for {it} in {lst}:", ind + 1)
        b = self.value(node.body, it, ind + 2)
        self.emit(f"if {b} is {stop}:", ind + 2)
        self.emit(f"{t} = {stop}", ind + 3)
        self.emit("break", ind + 3)
        self.emit(f"if {b} is None:", ind + 2)
        self.emit(f"{unknown} = True", ind + 3)
        self.emit("else:", ind + 1)
        self.emit(f"if {unknown}:", ind + 2)
        self.emit(f"{t} = None", ind + 3)
        return t

    def _atom(self, node: Node, item: str | None, ind: int) -> str:
        if isinstance(node, Compare):
            return self._compare(node, item, ind)
        if isinstance(node, Unknown):
            reads = [self.operand(o, item, ind) for o in node.operands]
            if node.want_unknown:
                return "(" + " or ".join(f"{r} is None" for r in reads) + ")"
            return "(" + " and ".join(f"{r} is not None" for r in reads) + ")"
        if isinstance(node, Empty):
            a = self.operand(node.operand, item, ind)
            x = self.tmp("x")
            return f"(None if ({x} := {a}) is None else len({x}) == 0)"
        # Any other node: its own closure (exact, only slower).
        fn = self.bind(node.fn, "F")
        return f"{fn}(d, {item or 'None'})"

    def _compare(self, node: Compare, item: str | None, ind: int) -> str:
        left, op, right = node.left, node.op, node.right
        if right.kind == "const" and op == "in" and isinstance(right.value, frozenset) and not right.value:
            return "False"  # membership in an empty list is false, even for an unknown value
        a, b = self.operand(left, item, ind), self.operand(right, item, ind)
        nullable = []
        if left.kind == "item":
            x = self.tmp("x")
            nullable.append(f"({x} := {a}) is None")
            a = x
        elif left.kind != "const":
            nullable.append(f"{a} is None")
        if right.kind == "item":
            y = self.tmp("x")
            nullable.append(f"({y} := {b}) is None")
            b = y
        elif right.kind != "const":
            nullable.append(f"{b} is None")
        if op in INLINE_OPS:
            test = f"{a} {INLINE_OPS[op]} {b}"
        elif op == "in":
            test = f"{a} in {b}"
        elif op == "meets" and right.kind == "const":
            test = f"not {b}.isdisjoint({a})"
        elif op == "contains_word" and right.kind == "const":
            memo = _Memo(lambda name, pattern=right.value: pattern.search(fold(name)) is not None)
            known, compute = self.bind(memo.known), self.bind(memo)
            test = f"({known}[{a}] if {a} in {known} else {compute}({a}))"
        else:
            test = f"{self.bind(node.test, 'T')}({a}, {b})"
        if not nullable:
            return f"({test})"
        return f"(None if {' or '.join(nullable)} else {test})"

    # ---------------------------------------------------------------- explanations

    def explain(self, node: Node, item: str | None, prefix: str, ind: int) -> tuple[str, str, str]:
        """Emit what computes `node.explain(d, item, prefix)` as three locals: the value,
        the facts and the missing fields (lists never changed in place once made)."""
        e, f, m = self.tmp("e"), self.tmp("f"), self.tmp("m")
        if self.opaque(node, ind):
            x = self.bind(node.explain, "X")
            r = self.tmp("r")
            self.emit(f"{r} = {x}(d, {item or 'None'}, {prefix})", ind)
            self.emit(f"{e}, {f}, {m} = {r}.value, {r}.facts, {r}.missing", ind)
        elif isinstance(node, Compare):
            self._explain_compare(node, item, prefix, ind, (e, f, m))
        elif isinstance(node, And):
            self._explain_and(node, item, prefix, ind, (e, f, m))
        elif isinstance(node, Or):
            self._explain_or(node, item, prefix, ind, (e, f, m))
        elif isinstance(node, Not):
            ie, i_f, im = self.explain(node.inner, item, prefix, ind)
            self.emit(f"{e} = None if {ie} is None else not {ie}", ind)
            self.emit(f"{f} = {i_f}", ind)
            self.emit(f"{m} = {im}", ind)
        elif isinstance(node, Ref):
            ie, i_f, im = self.explain(node.inner, item, prefix, ind)
            yes, no, name = (self.bind(f"{node.name}: "), self.bind(f"not {node.name}: "),
                             self.bind(node.name))  # fmt: skip
            self.emit(f"{e} = {ie}", ind)
            self.emit(f"{m} = {im}", ind)
            self.emit(f"if {ie} is None:", ind)
            self.emit(f"{f} = {i_f}", ind + 1)
            self.emit(f"elif {ie}:", ind)
            self.emit(f"{f} = [{yes} + '; '.join({i_f})] if {i_f} else [{name}]", ind + 1)
            self.emit("else:", ind)
            self.emit(f"{f} = [{no} + '; '.join({i_f})]", ind + 1)
        elif isinstance(node, Quant):
            self._explain_quantifier(node, item, prefix, ind, (e, f, m))
        else:  # Unknown, Empty, PlaceIn: their own explanation
            x = self.bind(node.explain, "X")
            r = self.tmp("r")
            self.emit(f"{r} = {x}(d, {item or 'None'}, {prefix})", ind)
            self.emit(f"{e}, {f}, {m} = {r}.value, {r}.facts, {r}.missing", ind)
        return e, f, m

    def _explain_compare(
        self, node: Compare, item: str | None, prefix: str, ind: int, out: tuple[str, str, str]
    ) -> None:
        key = []
        sides = []
        for op in (node.left, node.right):
            expr = self.operand(op, item, ind)
            if op.kind != "const":
                x = self.tmp("x")
                self.emit(f"{x} = {expr}", ind)
                expr = x
                listy = op.type is not None and op.type.kind in ("set", "objlist")
                key.append(f"H({x})" if listy else x)
            sides.append(expr)
        if "item" in (node.left.kind, node.right.kind):
            key.append(prefix)
        k, r = self.tmp("k"), self.tmp("r")
        cache, compute = self.bind(node.explained_by_values, "E"), self.bind(node.explained, "X")
        # One value is its own key (each comparison has its own cache, so keys never mix).
        self.emit(f"{k} = {key[0]}" if len(key) == 1 else f"{k} = ({''.join(p + ', ' for p in key)})", ind)
        self.emit(f"{r} = {cache}.get({k})", ind)
        self.emit(f"if {r} is None:", ind)
        self.emit(f"{r} = {compute}({sides[0]}, {sides[1]}, {prefix}, {k})", ind + 1)
        self.emit(f"{', '.join(out)} = {r}", ind)

    def _explain_and(
        self, node: And, item: str | None, prefix: str, ind: int, out: tuple[str, str, str]
    ) -> None:
        """Values first: a false `and` states only its first false part."""
        e, f, m = out
        values = [self.value(p, item, ind) for p in node.parts]
        first = self.tmp("j")
        if len(values) <= NESTED_PARTS:
            chain = "-1"
            for j in reversed(range(len(values))):
                chain = f"{j} if {values[j]} is False else ({chain})"
            self.emit(f"{first} = {chain}", ind)
        else:  # one statement a part: a nested expression would grow past Python's limits
            self.emit(f"{first} = -1", ind)
            for j in reversed(range(len(values))):
                self.emit(f"if {values[j]} is False:", ind)
                self.emit(f"{first} = {j}", ind + 1)
        self.emit(f"{f}, {m} = [], []", ind)
        for j, part in enumerate(node.parts):
            self.emit(f"if {first} == -1 or {first} == {j}:", ind)
            pe, pf, pm = self.explain(part, item, prefix, ind + 1)
            self.emit(f"{f} += {pf}", ind + 1)
            self.emit(f"{m} += {pm}", ind + 1)
        self.emit(f"if {first} != -1:", ind)
        self.emit(f"{e}, {m} = False, []", ind + 1)
        self.emit("else:", ind)
        unknown = " or ".join(f"{v} is None" for v in values)
        self.emit(f"{e} = None if {unknown} else True", ind + 1)

    def _explain_or(
        self, node: Or, item: str | None, prefix: str, ind: int, out: tuple[str, str, str]
    ) -> None:
        """Values first: a true `or` states its true parts and what they miss (and what its
        unknown parts that ask miss, see `lang.Or`), an unknown one what its unknown parts
        miss, a false one all its parts."""
        e, f, m = out
        values = [self.value(p, item, ind) for p in node.parts]
        self.emit(f"{e} = {self.value(node, item, ind)}", ind)
        self.emit(f"{f}, {m} = [], []", ind)
        if all(isinstance(p, (Compare, Unknown, Empty)) for p in node.parts):
            # Comparisons only: one branch per value of the `or`, each explaining its parts.
            for j, (want, test) in enumerate((("True", "is True"), ("None", "is None"),
                                               ("False", None))):  # fmt: skip
                self.emit(("if" if j == 0 else "elif") + f" {e} is {want}:"
                          if test else "else:", ind)  # fmt: skip
                for v, part in zip(values, node.parts, strict=True):
                    level = ind + 1
                    if want != "False":
                        self.emit(f"if {v} is not False:" if want == "True" else f"if {v} is None:", level)
                        level += 1
                    # Under a true `or`, an unknown part names what it misses only if it asks.
                    named = want != "True" or part.asks
                    _pe, pf, pm = self.explain(part, item, prefix, level)
                    if want == "True":
                        self.emit(f"if {v} is True:", level)
                        self.emit(f"{f} += {pf}", level + 1)
                    if want == "False":
                        self.emit(f"{f} += {pf}", level)
                    elif named:
                        self.emit(f"{m} += {pm}", level)
                    else:
                        self.emit(f"if {v} is True:", level)
                        self.emit(f"{m} += {pm}", level + 1)
            return
        for v, part in zip(values, node.parts, strict=True):
            under_true = f"{v} is not False" if part.asks else f"{v} is True"
            self.emit(
                f"if ({e} is True and {under_true}) or ({e} is None and {v} is None) or {e} is False:",
                ind,
            )
            _pe, pf, pm = self.explain(part, item, prefix, ind + 1)
            self.emit(f"if {e} is not None and {v} is not None:", ind + 1)
            self.emit(f"{f} += {pf}", ind + 2)
            self.emit(f"if {e} is not False:", ind + 1)
            self.emit(f"{m} += {pm}", ind + 2)

    def _explain_quantifier(
        self, node: Quant, item: str | None, prefix: str, ind: int, out: tuple[str, str, str]
    ) -> None:
        """Values first: `some` that holds states the items that hold; one that is unknown
        what the unknown items miss (and the list, if unknown); one that does not hold,
        every item (each of which then does not hold). So the items explained are those
        whose value is the quantifier's."""
        e, f, m = out
        want = "False" if node.every else "True"
        q = self.value(node, item, ind)
        self.emit(f"{e}, {f}, {m} = {q}, [], []", ind)

        def one(it: str, label: str, level: int) -> None:
            b = self.value(node.body, it, level)
            self.emit(f"if {b} is {q}:", level)
            _be, bf, bm = self.explain(node.body, it, label, level + 1)
            self.emit(f"{f} += {bf}", level + 1)
            self.emit(f"{m} += {bm}", level + 1)

        if node.list_path == "parties":
            one(self.section("customer"), self.bind("customer"), ind)
            lst, name = self.field("end_users", ind), "end_users"
        else:
            lst, name = self.field(node.list_path, ind), node.list_path
        i, it, label = self.tmp("i"), self.tmp("it"), self.tmp("p")
        opening = self.bind(f"{name}[")
        self.emit(f"if {lst} is not None:", ind)
        self.emit(f"for {i}, {it} in enumerate({lst}):", ind + 1)
        self.emit(f"{label} = {opening} + str({i}) + ']'", ind + 2)
        one(it, label, ind + 2)
        self.emit(f"if {q} is {want}:", ind)
        self.emit(f"{m} = []", ind + 1)
        self.emit(f"elif {q} is None:", ind)
        self.emit(f"{f} = []", ind + 1)
        self.emit(f"if {lst} is None:", ind + 1)
        self.emit(f"{m} = {m} + {self.bind([name])}", ind + 2)
        self.emit("else:", ind)
        self.emit(f"{m} = []", ind + 1)
        if node.list_path != "parties":
            self.emit(f"if {lst} is not None and len({lst}) == 0:", ind + 1)
            self.emit(f"{f} = [{self.bind(f'{node.list_path} is empty')}]", ind + 2)

    # ---------------------------------------------------------------- keys

    def item_tuple(self, path: str, ind: int) -> str:
        """A local holding `list[].key` as a tuple (None if the list is unknown), computed the
        first time it is needed in a call."""
        lst, name = path.split("[].")
        items = self.field(lst, ind)
        var = self.item_tuples.get(path)
        if var is None:
            var = self.item_tuples[path] = self.module.tmp("z")
        if self.unset(var, ind):
            self.emit(
                f"{var} = None if {items} is None else tuple(map(DG, {items}, RP({_key(name)})))", ind + 1
            )
        return var

    def values(self, fields: list[str], ind: int) -> list[str]:
        """Expressions for the hashable values of fields: a list becomes a tuple,
        `list[].key` the tuple of that key over the items, `path?` whether it is known."""
        parts = []
        for f in fields:
            known = f.endswith("?")
            path = f.rstrip("?")
            if "[]." in path:
                var = expr = self.item_tuple(path, ind)
            else:
                var = self.field(path, ind)
                t = LEAF_FIELDS.get(path)
                listy = t is not None and t.kind in ("set", "objlist")
                expr = self.hashed(path, ind) if listy else var
            parts.append(f"{var} is not None" if known else expr)
        return parts

    def rule_key(self, rule: Rule, ind: int) -> str:
        """Emit what computes the key a rule's finding is remembered under, once its `when`
        is known not to be false, and return its local.

        The finding depends on the explanation of `when` (which settles its value too);
        then on each `instead` test in turn, only on its value while that is false and on
        its explanation once it is not; and on the values of the `adds` tests, which a test
        of yes/no or listed-value fields keys by those values (as few, and cheaper to read
        than to decide). See `explanation_key` for what an explanation depends on. Requests
        that differ only in facts that no part of the finding states share it.
        """
        parts = list(self.explanation_key(rule.when, ind))
        for inst in rule.instead:
            parts += self._unless_false(inst.when, ind)
        for add in rule.adds:
            for test in (add.when, add.unless):
                if test is not None:
                    parts += (self.values(sorted(test.fields), ind) if _few_values(test)
                              else [self.value(test, None, ind)])  # fmt: skip
        k = self.tmp("k")
        parts = list(dict.fromkeys(parts))  # a local read twice at one point holds one value
        self.emit(f"{k} = ({''.join(p + ', ' for p in parts)})", ind)
        return k

    def explanation_key(self, node: Node, ind: int) -> list[str]:
        """Emit what computes values on which `node.explain(d, None, '')` depends, given that
        its value is not false, and return expressions for them.

        A part of an `and` that is not false is not false either, so each part counts; the
        explanation of a true or unknown `or` states nothing of its false parts, so those
        count by their value alone; anything else counts by the values of the fields it
        reads."""
        if isinstance(node, Ref):
            return self.explanation_key(node.inner, ind)
        if self.opaque(node, ind):  # explained by its node: keyed by everything it reads
            return self.values(sorted(node.fields), ind)
        if isinstance(node, And):
            return [p for part in node.parts for p in self.explanation_key(part, ind)]
        if isinstance(node, Or):
            return [p for part in node.parts for p in
                    (self.values(sorted(part.fields), ind) if _few_values(part)
                     else self._unless_false(part, ind))]  # fmt: skip
        return self.values(sorted(node.fields), ind)

    def _unless_false(self, node: Node, ind: int) -> list[str]:
        """The value of `node`, and its `explanation_key` where it is not false (None for
        each where it is). A comparison needs no value: its values settle it, and MISS
        stands for them all where it is false."""
        v = self.value(node, None, ind)
        self.emit(f"if {v} is not False:", ind)
        sub = self.explanation_key(node, ind + 1)
        held = [self.tmp("q") for _ in sub]
        for var, expr in zip(held, sub, strict=True):
            self.emit(f"{var} = {expr}", ind + 1)
        atom = isinstance(node, (Compare, Unknown, Empty)) and held
        if held:
            self.emit("else:", ind)
            self.emit(" = ".join(held) + (" = MISS" if atom else " = None"), ind + 1)
        return held if atom else [v, *held]


def _opaque(node: Node, ind: int) -> bool:
    """Whether a node is decided by its closure and explained by its node rather than by
    generated code: an and/or of more than INLINE_PARTS parts, a node of more than
    INLINE_SIZE terms or nested deeper than INLINE_DEPTH, or anything but a comparison at
    DEEP indentation. Exact either way (the nodes are the reference), only slower; the
    bundled rule set comes nowhere near."""
    if isinstance(node, (Compare, Unknown, Empty)):
        return False
    if isinstance(node, (And, Or)) and len(node.parts) > INLINE_PARTS:
        return True
    return node.size > INLINE_SIZE or node.depth > INLINE_DEPTH or ind >= DEEP


def _few_values(node: Node) -> bool:
    """A test of at most two yes/no or listed-value fields (or whether fields are known),
    outside any quantifier: its values are few, so they key it about as well as its truth
    value, and are cheaper to read than to decide."""
    if isinstance(node, Quant) or len(node.fields) > 2:
        return False
    for f in node.fields:
        t = LEAF_FIELDS.get(f.rstrip("?"))
        if not f.endswith("?") and (t is None or t.kind not in ("bool", "enum")):
            return False
    return bool(node.fields) and not any("[]." in f for f in node.fields)


def _cost(node: Node) -> int:
    """A rough measure of the work of deciding a node, to order the parts of and/or."""
    if isinstance(node, (Ref, Not)):
        return _cost(node.inner)
    if isinstance(node, (And, Or)):
        return sum(_cost(p) for p in node.parts)
    if isinstance(node, Quant):
        return 8 + 3 * _cost(node.body)
    if isinstance(node, PlaceIn):
        return 8 if "city" in node.keys else 4
    if isinstance(node, Compare) and node.op == "contains_word":
        return 3
    return 1


def compile_rules(rules: Sequence[Rule], ruleset: RuleSet, evaluation: type) -> tuple[Any, str]:
    """Generate and compile the function `evaluate(d)`, which returns the list of findings.

    For each rule: decide `when`; if it is not false, make the key of the finding and look
    it up in the rule's cache; if it is not there, call the rule's own generated function
    (`explain_<rule>`), which explains `when` and the `instead` tests that are not false
    (exactly as the nodes' `explain(d, None, "")` would) and has the rule make the finding
    of those (`Rule.make`). Each function is generated twice: the first time only to learn
    its `_Plan`. `evaluate` returns `evaluation((ruleset, findings, conditions, rank))`.
    Returns `evaluate` and the whole source.
    """
    first = _generate(_Module(), rules, None, ruleset, evaluation)
    module = _Module()
    functions = _generate(module, rules, [fn.learnt for fn in first], ruleset, evaluation)
    source = "\n".join(fn.text for fn in functions)
    code = compile(source, "<rule set>", "exec")
    exec(code, module.namespace)  # noqa: S102 - our own generated source, see the module text
    return module.namespace["evaluate"], source


def _generate(
    module: _Module, rules: Sequence[Rule], plans: list[_Plan] | None, ruleset: RuleSet, evaluation: type
) -> list[_Function]:
    plan = iter(plans) if plans is not None else None
    functions = []
    # The explaining functions and `evaluate` have a SOURCE_BUDGET each; past it, a rule's
    # conditions are its nodes' (either may stop first: each keys and explains on its own).
    for i, rule in enumerate(rules):
        interpreted = module.spent > SOURCE_BUDGET
        functions.append(
            _explaining_function(module, rule, f"explain_{i}", next(plan) if plan else None, interpreted)
        )
    module.spent = 0
    main = _Function(module, next(plan) if plan else None)
    for i, rule in enumerate(rules):
        main.new_scope()
        main.interpreted = module.spent > SOURCE_BUDGET
        main.emit(f"# rule {i}", 1)
        v = main.value(rule.when, None, 1)
        cache = main.bind(rule.cache, "C")
        main.emit(f"if {v} is not False:", 1)
        main.assume_not_false(v, 2)
        k = main.rule_key(rule, 2)
        main.emit(f"f = {cache}.get({k}, MISS)", 2)
        main.emit("if f is MISS:", 2)
        main.emit(f"f = explain_{i}(d, {v}, {k})", 3)
        main.emit("if f is not None:", 2)
        main.emit("out.append(f)", 3)
        main.emit("if f.rank > top:", 3)
        main.emit("top = f.rank", 4)
        if rule.adds:
            main.emit("if f.conditions:", 3)
            main.emit("conditions += f.condition_json", 4)
    counter, made = main.bind(ruleset.budget.evaluations, "N"), main.bind(evaluation, "EV")
    main.text = main.source(
        "evaluate",
        [f"    next({counter})", "    out, conditions, top = [], [], 1", *main.lines],
        f"{made}(({main.bind(ruleset, 'RS')}, out, conditions, top))",
    )
    functions.append(main)
    return functions


def _explaining_function(
    module: _Module, rule: Rule, name: str, plan: _Plan | None, interpreted: bool = False
) -> _Function:
    fn = _Function(module, plan)
    fn.interpreted = interpreted
    explained = ["(" + ", ".join(fn.explain(rule.when, None, "''", 1)) + ")"]
    for inst in rule.instead:
        iv = fn.value(inst.when, None, 1)
        x = fn.tmp("w")
        fn.emit(f"if {iv} is False:", 1)
        fn.emit(f"{x} = (False, [], [])", 2)
        fn.emit("else:", 1)
        fn.emit(f"{x} = (" + ", ".join(fn.explain(inst.when, None, "''", 2)) + ")", 2)
        explained.append(x)
    adds = []
    for add in rule.adds:
        for test, absent in ((add.when, "True"), (add.unless, "False")):
            adds.append(absent if test is None else fn.value(test, None, 1))
    make = fn.bind(rule.make, "R")
    result = f"{make}(v, ({''.join(x + ', ' for x in explained)}), ({''.join(a + ', ' for a in adds)}), k)"
    fn.text = fn.source(name, fn.lines, result).replace(f"def {name}(d):", f"def {name}(d, v, k):", 1)
    return fn
