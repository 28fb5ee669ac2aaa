"""The condition language of rule sets: parser, type checks, compiled three-valued nodes.

A condition is text such as

    customer.org_type in police_types and customer.country in moratorium_countries
    some end_users (org_type in police_types and country in moratorium_countries)
    use.operations meets {'emotion_inference', 'attribute_inference'}
    scale.cameras > scale_second.cameras
    unknown(customer.org_type, use.operations)

Truth values are True, False and None (unknown), combined with Kleene's logic. Every node
has a fast `fn(doc, item)` used to decide, and an `explain(doc, item, prefix)` used only for
rules that fire or stay unknown, which also names the facts and the missing fields.
Nothing here evaluates Python: the text is tokenised and parsed into a fixed set of nodes.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reviewer.request import LEAF_FIELDS, SCHEMA, FieldType, fold

Fn = Callable[[dict[str, Any], Any], bool | None]
EMPTY: dict[str, Any] = {}


class LanguageError(ValueError):
    """A condition that cannot be parsed or refers to something that does not exist."""


MAX_DEPTH = 64
"""The deepest a condition may nest: each parenthesis, `not`, `some`/`every`, `and`/`or`
and named definition is one level, counted through the definitions it uses. Deeper text is
refused (a rule set is read by people; nothing legitimate nests this deep), which keeps the
parser, the compiler (`codegen`) and the evaluation of the nodes far from Python's limits."""

MAX_TERMS = 2000
"""The most terms one condition may hold: comparisons and tests (`unknown(a, b)` counts its
fields, `place_in` its places), each definition it uses counted at its full size. Larger
conditions are refused; within the limit, compiling one stays well under a second."""


@dataclass
class Result:
    value: bool | None
    facts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- schema view

ITEM_FIELDS: dict[str, dict[str, FieldType]] = {
    p: t.item for p, t in LEAF_FIELDS.items() if t.kind == "objlist"
}
# The customer and the end users, for "some party" (the customer comes first).
PARTY_FIELDS = ITEM_FIELDS["end_users"]
LISTS = {**{p: p for p in ITEM_FIELDS}, "parties": "parties"}


# `customer_total.scale.<field>`: the sum of a figure over the customer's requests that are
# open or approved, this one included (see `Total`); not part of any request document.
CUSTOMER_TOTAL = "customer_total"
TOTAL_FIELDS = ("cameras", "enrolled_identities", "people_scanned_per_day",
                "identifications_per_day", "sites")  # fmt: skip
TOTAL_PATHS = {f"{CUSTOMER_TOTAL}.scale.{name}": f"scale.{name}" for name in TOTAL_FIELDS}


class Total:
    """A figure summed over a customer's requests, in three-valued logic: `parts` are
    (reference, figure or None when unknown). A known part already above a threshold puts
    the sum above it (figures are whole numbers >= 0); otherwise an unknown part makes a
    comparison unknown (None, as an unknown field)."""

    __slots__ = ("complete", "known", "parts")

    def __init__(self, parts: tuple[tuple[str, int | None], ...]) -> None:
        self.parts = parts
        self.known = sum(v for _r, v in parts if v is not None)
        self.complete = all(v is not None for _r, v in parts)

    def __gt__(self, other: Any) -> bool | None:
        return True if self.known > other else (False if self.complete else None)

    def __ge__(self, other: Any) -> bool | None:
        return True if self.known >= other else (False if self.complete else None)

    def __lt__(self, other: Any) -> bool | None:
        return self.known < other if self.complete else (False if self.known >= other else None)

    def __le__(self, other: Any) -> bool | None:
        return self.known <= other if self.complete else (False if self.known > other else None)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Total) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __str__(self) -> str:
        listed = ", ".join(f"{r}: {'unknown' if v is None else v}" for r, v in self.parts)
        return f"{self.known} ({listed})" if self.complete else f"at least {self.known} ({listed})"

    def __repr__(self) -> str:
        return f"Total({self.parts!r})"


def field_type(path: str) -> FieldType | None:
    if path in TOTAL_PATHS:
        return LEAF_FIELDS[TOTAL_PATHS[path]]
    if path in LEAF_FIELDS:
        return LEAF_FIELDS[path]
    head, _, rest = path.partition(".")
    if head in SCHEMA and isinstance(SCHEMA[head], dict) and rest in SCHEMA[head]:
        return SCHEMA[head][rest]  # type: ignore[no-any-return]
    return None


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<num>\d+(?:\.\d+)?)(?![\w.])|"
    r"(?P<op><=|>=|!=|=|<|>)|(?P<punct>[(){},])|(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)|"
    r"(?P<bad>\S))"
)
KEYWORDS = {"and", "or", "not", "in", "some", "every", "true", "false"}
WORD_OPS = {"in", "meets", "contains_word"}
FUNCTIONS = {"unknown", "known", "empty", "place_in"}


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the pattern always matches something
            break
        kind = m.lastgroup or "bad"
        value = m.group(kind)
        if kind == "bad":
            raise LanguageError(f"unexpected character {value!r} at position {m.start(kind)}")
        out.append(Tok(kind, value, m.start(kind)))
        pos = m.end()
    out.append(Tok("end", "", len(text)))
    return out


# --------------------------------------------------------------------------- values


def show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple, frozenset, set)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return "[" + ", ".join(show(v) for v in items) + "]"
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v is not None)
    return str(value)  # a Total prints its sum and its parts


class Operand:
    """Something with a value: a field (root or item), a parameter, or a literal."""

    kind: str  # "field", "item", "const"
    label: str
    type: FieldType | None = None
    value: Any = None
    get: Callable[[dict[str, Any], Any], Any]

    def display(self, prefix: str) -> str:
        if self.kind == "item":
            return f"{prefix}.{self.label}"
        return self.label


def _root_getter(path: str) -> Callable[[dict[str, Any], Any], Any]:
    parts = path.split(".", 1)
    if len(parts) == 1:
        key = parts[0]
        return lambda d, it: d.get(key)
    a, b = parts

    def get(d: dict[str, Any], it: Any) -> Any:
        return d.get(a, EMPTY).get(b)

    return get


def field_operand(path: str, ftype: FieldType) -> Operand:
    op = Operand()
    op.kind, op.label, op.type = "field", path, ftype
    op.get = _root_getter(path)
    return op


def item_operand(name: str, ftype: FieldType) -> Operand:
    op = Operand()
    op.kind, op.label, op.type = "item", name, ftype
    op.get = lambda d, it: it.get(name)
    return op


def const_operand(label: str, value: Any) -> Operand:
    op = Operand()
    op.kind, op.label, op.value = "const", label, value
    op.get = lambda d, it: value
    return op


# --------------------------------------------------------------------------- nodes


class Node:
    fn: Fn
    fields: set[str]
    _memo: Fn | None = None
    depth = 0  # the levels of nesting below this node (see MAX_DEPTH)
    size = 1  # its terms, definitions counted in full (see MAX_TERMS)
    asks = False  # it holds an `unknown(...)` test, which names its unknown fields (see Or)

    def memo_fn(self) -> Fn:
        """This node's fn, remembering its value for the last document it saw: definitions
        (LE, recognition, ...) are read by several rules of one evaluation. The document is
        held, not its id, so a new document can never be mistaken for the last one."""
        if self._memo is None:
            f = self.fn
            last: list[Any] = [None, None]

            def fn(d: dict[str, Any], it: Any) -> bool | None:
                if last[0] is d:
                    return last[1]  # type: ignore[no-any-return]
                v = f(d, it)
                last[0] = d
                last[1] = v
                return v

            self._memo = fn
        return self._memo

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:  # pragma: no cover
        raise NotImplementedError


def _and2(a: Fn, b: Fn) -> Fn:
    def fn(d: dict[str, Any], it: Any) -> bool | None:
        x = a(d, it)
        if x is False:
            return False
        y = b(d, it)
        if y is False:
            return False
        return None if x is None or y is None else True

    return fn


def _or2(a: Fn, b: Fn) -> Fn:
    def fn(d: dict[str, Any], it: Any) -> bool | None:
        x = a(d, it)
        if x is True:
            return True
        y = b(d, it)
        if y is True:
            return True
        return None if x is None or y is None else False

    return fn


CHAINED_PARTS = 8  # up to this many parts, a junction's fn is a chain of two-part closures


def _junction_fn(parts: list[Node], stop: bool) -> Fn:
    """Kleene `and` (stop at the first False) or `or` (stop at the first True) of the parts:
    a short chain of closures, or one loop over a long list (a chain of thousands of closures
    would call itself thousands of levels deep)."""
    fns = [p.fn for p in parts]
    if len(fns) <= CHAINED_PARTS:
        fn = fns[0]
        pair = _or2 if stop else _and2
        for f in fns[1:]:
            fn = pair(fn, f)
        return fn

    def loop(d: dict[str, Any], it: Any) -> bool | None:
        unknown = False
        for f in fns:
            v = f(d, it)
            if v is stop:
                return stop
            if v is None:
                unknown = True
        return None if unknown else not stop

    return loop


def _nested(node: Node, *inner: Node) -> None:
    """Set the depth and size of a node over its inner nodes."""
    node.depth = 1 + max(n.depth for n in inner)
    node.size = sum(n.size for n in inner)


class And(Node):
    def __init__(self, parts: list[Node]) -> None:
        self.parts = parts
        self.fields = set().union(*(p.fields for p in parts))
        self.asks = any(p.asks for p in parts)
        self.fn = _junction_fn(parts, False)
        _nested(self, *parts)

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        results = [p.explain(d, it, prefix) for p in self.parts]
        for r in results:
            if r.value is False:
                return Result(False, r.facts)
        if any(r.value is None for r in results):
            return Result(None, [f for r in results for f in r.facts],
                          [m for r in results for m in r.missing])  # fmt: skip
        return Result(True, [f for r in results for f in r.facts],
                      [m for r in results for m in r.missing])  # fmt: skip


class Or(Node):
    """Kleene `or`. A true part settles it: what its other parts miss cannot change it, so
    a true `or` names only what its true parts name, and what an unknown part that asks
    (holds `unknown(...)`, as HR-29 does) names: such a test names every unknown field it
    lists wherever it is not ruled out."""

    def __init__(self, parts: list[Node]) -> None:
        self.parts = parts
        self.fields = set().union(*(p.fields for p in parts))
        self.asks = any(p.asks for p in parts)
        self.fn = _junction_fn(parts, True)
        _nested(self, *parts)

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        results = [p.explain(d, it, prefix) for p in self.parts]
        if any(r.value is True for r in results):
            return Result(
                True,
                [f for r in results if r.value is True for f in r.facts],
                [
                    m
                    for p, r in zip(self.parts, results, strict=True)
                    if r.value is True or (r.value is None and p.asks)
                    for m in r.missing
                ],
            )
        if any(r.value is None for r in results):
            return Result(None, [], [m for r in results if r.value is None for m in r.missing])
        return Result(False, [f for r in results for f in r.facts])


class Not(Node):
    def __init__(self, inner: Node) -> None:
        self.inner = inner
        self.fields = inner.fields
        _nested(self, inner)
        f = inner.fn

        def fn(d: dict[str, Any], it: Any) -> bool | None:
            v = f(d, it)
            return None if v is None else not v

        self.fn = fn

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        r = self.inner.explain(d, it, prefix)
        return Result(None if r.value is None else not r.value, r.facts, r.missing)


class Ref(Node):
    """A named definition (LE, recognition, ...), shown by its name in explanations."""

    def __init__(self, name: str, inner: Node) -> None:
        self.name, self.inner = name, inner
        self.fields = inner.fields
        self.asks = inner.asks
        self.fn = inner.memo_fn()
        _nested(self, inner)

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        r = self.inner.explain(d, it, prefix)
        if r.value is None:
            return r
        if not r.value:
            return Result(False, [f"not {self.name}: " + "; ".join(r.facts)], r.missing)
        facts = [f"{self.name}: " + "; ".join(r.facts)] if r.facts else [self.name]
        return Result(True, facts, r.missing)


class Quant(Node):
    """`some LIST (cond)` / `every LIST (cond)` over end_users, sites, recipients, parties."""

    def __init__(self, every: bool, list_path: str, body: Node, used: set[str]) -> None:
        self.every, self.list_path, self.body = every, list_path, body
        self.asks = body.asks
        _nested(self, body)
        # What the quantifier reads: the item fields its body uses, as `list[].field`
        # (the customer's own fields for parties), or the whole list if it uses none.
        lst = "end_users" if list_path == "parties" else list_path
        read = {f"{lst}[].{n}" for n in used} or {lst}
        if list_path == "parties":
            read |= {f"customer.{n}" for n in used}
        self.fields = body.fields | read
        self.items = self._items_getter(list_path)
        b = body.fn
        stop = not every  # `some` stops at the first True, `every` at the first False

        def scan(d: dict[str, Any], items: list[Any], unknown: bool) -> bool | None:
            for x in items:
                v = b(d, x)
                if v is stop:
                    return stop
                if v is None:
                    unknown = True
            return None if unknown else not stop

        if list_path == "parties":

            def fn(d: dict[str, Any], it: Any) -> bool | None:
                v = b(d, d.get("customer", EMPTY))
                if v is stop:
                    return stop
                users = d.get("end_users")
                return None if users is None else scan(d, users, v is None)
        else:
            get = _root_getter(list_path)

            def fn(d: dict[str, Any], it: Any) -> bool | None:
                lst = get(d, None)
                return None if lst is None else scan(d, lst, False)

        self.fn = fn

    @staticmethod
    def _items_getter(path: str) -> Callable[[dict[str, Any]], Any]:
        if path == "parties":
            # The customer is always known; an unknown end-user list leaves the rest unknown.
            def parties(d: dict[str, Any]) -> Any:
                cust = d.get("customer", EMPTY)
                users = d.get("end_users")
                head = [("customer", cust)]
                if users is None:
                    return _Partial(head)
                return head + [(f"end_users[{i}]", u) for i, u in enumerate(users)]

            return parties
        get = _root_getter(path)

        def items(d: dict[str, Any]) -> Any:
            lst = get(d, None)
            if lst is None:
                return None
            return [(f"{path}[{i}]", x) for i, x in enumerate(lst)]

        return items

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        lst = self.items(d)
        results = [self.body.explain(d, x, label) for label, x in lst or ()]
        unknown_tail = lst is None or isinstance(lst, _Partial)
        missing_list = ["end_users" if self.list_path == "parties" else self.list_path]
        want = not self.every
        hits = [r for r in results if r.value is want]
        if hits:
            return Result(want, [f for r in hits for f in r.facts])
        unknowns = [r for r in results if r.value is None]
        if unknowns or unknown_tail:
            return Result(None, [], [m for r in unknowns for m in r.missing]
                          + (missing_list if unknown_tail else []))  # fmt: skip
        if not results:
            return Result(not want, [f"{self.list_path} is empty"])
        return Result(not want, [f for r in results for f in r.facts])


class _Partial(list):  # type: ignore[type-arg]
    """A list of items whose rest is unknown (parties with unknown end users)."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)

    def __bool__(self) -> bool:
        return True


class Compare(Node):
    """Binary comparisons; the three-valued result is unknown when a side is unknown."""

    OPS: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }

    def __init__(self, left: Operand, op: str, right: Operand) -> None:
        self.left, self.op, self.right = left, op, right
        self.explained_by_values: dict[Any, tuple[Any, list[str], list[str]]] = {}
        self.total_facts: dict[tuple[Any, Any, str], Result] = {}
        self.fields = {o.label for o in (left, right) if o.kind == "field"}
        self.test = self._test(op, left, right)
        lg, rg, test = left.get, right.get, self.test
        if right.kind == "const":
            rv = right.value
            if op == "in" and isinstance(rv, frozenset) and not rv:
                # Membership in an empty list is false, even for an unknown value.
                self.fn = lambda d, it: False
                return
            self.fn = _field_vs_const(left, op, rv, test)
            return
        if left.kind == "const" and op == "in" and right.kind == "field":
            self.fn = _const_in_field(left.value, right.label)
            return

        def fn2(d: dict[str, Any], it: Any) -> bool | None:
            a = lg(d, it)
            if a is None:
                return None
            b = rg(d, it)
            return None if b is None else test(a, b)

        self.fn = fn2

    @staticmethod
    def _test(op: str, left: Operand, right: Operand) -> Callable[[Any, Any], bool]:
        if op in Compare.OPS:
            return Compare.OPS[op]
        if op == "in":
            return lambda a, b: a in b  # a value in a list, or a literal in a set-valued field
        if op == "meets":
            return lambda a, b: not frozenset(a).isdisjoint(b)
        if op == "contains_word":
            # b is one compiled alternation of every term: the name is folded once.
            return lambda a, b: b.search(fold(a)) is not None
        raise LanguageError(f"unknown operator {op!r}")  # pragma: no cover

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        """The fact this comparison states (the reference: the generated explanations
        remember facts by values, see `explained`). A customer total's fact names every part,
        and the customer's requests are evaluated again one after the other with the same
        totals: those facts are remembered (by the total and the other side, a few at a time)."""
        lv = self.left.get(d, it)
        if type(lv) is not Total:
            return self._explain_values(lv, self.right.get(d, it), prefix, self.fn(d, it))
        rv = self.right.get(d, it)
        key = (lv, rv, prefix)
        cache = self.total_facts
        try:
            made = cache.get(key)
        except TypeError:  # the other side is not a figure (a list): nothing remembered
            return self._explain_values(lv, rv, prefix, self.fn(d, it))
        if made is None:
            if len(cache) >= 64:
                cache.clear()
            made = cache[key] = self._explain_values(lv, rv, prefix, self.fn(d, it))
        return made

    def explained(self, lv: Any, rv: Any, prefix: str, key: Any) -> tuple[Any, list[str], list[str]]:
        """(value, facts, missing) for these values, remembered in `explained_by_values`
        under `key` (the generated explanations look there first)."""
        if self.right.kind == "const" and self.op == "in" and isinstance(rv, frozenset) and not rv:
            value: bool | None = False
        elif (lv is None and self.left.kind != "const") or (rv is None and self.right.kind != "const"):
            value = None
        else:
            value = self.test(lv, rv)
        r = self._explain_values(lv, rv, prefix, value)
        cache = self.explained_by_values
        # A customer total rarely repeats beyond its customer's own requests, and its facts
        # name every part: keep few of them.
        if len(cache) >= (256 if type(lv) is Total else 4096):
            cache.clear()
        result = cache[key] = (r.value, r.facts, r.missing)
        return result

    def _explain_values(self, lv: Any, rv: Any, prefix: str, value: bool | None) -> Result:
        lname = self.left.display(prefix)
        rname = self.right.display(prefix)
        if value is None:
            missing = [o.display(prefix) for o, v in ((self.left, lv), (self.right, rv))
                       if (v is None or type(v) is Total) and o.kind != "const"]  # fmt: skip
            return Result(None, [], missing)
        return Result(value, [self._fact(value, lname, lv, rname, rv)])

    def _fact(self, value: bool, lname: str, lv: Any, rname: str, rv: Any) -> str:
        op = self.op
        left = lname if self.left.kind == "const" else f"{lname} = {show(lv)}"
        if self.right.kind == "const" and self.right.label.startswith("'"):
            right = show(rv)
        elif self.right.kind == "const":
            right = self.right.label if op in ("in", "meets", "contains_word") else show(rv)
        else:
            right = f"{rname} ({show(rv)})" if op in ("in", "meets") else f"{rname} = {show(rv)}"
        if op == "contains_word":
            terms = [t for t in getattr(self.right, "terms", ()) if _word(t).search(fold(lv))]
            if value:
                return f"{left} contains the term {show(terms[0]) if terms else '?'!r}"
            return f"{left} contains no term of {self.right.label}"
        if op == "meets":
            shared = sorted(set(lv) & set(rv)) if value else []
            return (f"{left} includes {show(shared)} from {right}" if value
                    else f"{left} shares nothing with {right}")  # fmt: skip
        if op == "in":
            if self.left.kind == "const":
                return (f"{rname} = {show(rv)} includes {show(lv)}" if value
                        else f"{rname} = {show(rv)} does not include {show(lv)}")  # fmt: skip
            return f"{left} is in {right}" if value else f"{left} is not in {right}"
        if op == "=":
            return (
                left
                if value and self.right.kind == "const"
                else (f"{left}, not {right}" if not value else f"{left} = {right}")
            )
        return f"{left} {op} {right}" if value else f"{left}, not {op} {right}"


def _field_vs_const(left: Operand, op: str, rv: Any, test: Callable[[Any, Any], bool]) -> Fn:
    """A comparison of a field with a constant, with the field access inlined: this is the
    innermost loop of every evaluation."""
    if op == "in" and isinstance(rv, frozenset):
        check: Callable[[Any], bool] = rv.__contains__
    elif op == "meets":

        def check(a: Any) -> bool:
            return not rv.isdisjoint(a)
    elif op == "=":
        # Not rv.__eq__: (1).__eq__(0.5) is NotImplemented, which is true.
        check = functools.partial(operator.eq, rv)
    else:

        def check(a: Any) -> bool:
            return test(a, rv)

    if left.kind == "item":
        name = left.label

        def item_fn(d: dict[str, Any], it: Any) -> bool | None:
            a = it.get(name)
            return None if a is None else check(a)

        return item_fn
    if left.kind == "field" and "." in left.label:
        sec, key = left.label.split(".", 1)

        def field_fn(d: dict[str, Any], it: Any) -> bool | None:
            s = d.get(sec)
            if s is None:
                return None
            a = s.get(key)
            return None if a is None else check(a)

        return field_fn
    get = left.get

    def other_fn(d: dict[str, Any], it: Any) -> bool | None:
        a = get(d, it)
        return None if a is None else check(a)

    return other_fn


def _const_in_field(value: Any, path: str) -> Fn:
    """`'identification' in use.operations`: a value in a set-valued field."""
    sec, key = path.split(".", 1)

    def fn(d: dict[str, Any], it: Any) -> bool | None:
        s = d.get(sec)
        if s is None:
            return None
        b = s.get(key)
        return None if b is None else value in b

    return fn


def _word_pattern(term: str) -> str:
    return r"\s+".join(re.escape(w) for w in fold(term).split())


def _word(term: str) -> re.Pattern[str]:
    """One term as whole words: no letter, digit or underscore touches it on either side."""
    return re.compile(r"(?<![\w])" + _word_pattern(term) + r"(?![\w])")


def _words(terms: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])(?:" + "|".join(_word_pattern(t) for t in terms) + r")(?![\w])")


class Unknown(Node):
    """`unknown(a, b, ...)`: true when any field is unknown (two-valued); `known(...)`:
    true when all are known."""

    def __init__(self, operands: list[Operand], want_unknown: bool) -> None:
        self.operands, self.want_unknown = operands, want_unknown
        self.asks = want_unknown
        self.size = max(1, len(operands))
        self.fields = {f"{o.label}?" for o in operands if o.kind == "field"}
        gets = [o.get for o in operands]
        if want_unknown:
            self.fn = lambda d, it: any(g(d, it) is None for g in gets)
        else:
            self.fn = lambda d, it: all(g(d, it) is not None for g in gets)

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        missing = [o.display(prefix) for o in self.operands if o.get(d, it) is None]
        value = bool(missing) if self.want_unknown else not missing
        if missing:
            return Result(value, [f"{m} is unknown" for m in missing], missing)
        return Result(value, ["all of " + ", ".join(o.display(prefix) for o in self.operands)
                              + " are known"])  # fmt: skip


class Empty(Node):
    def __init__(self, operand: Operand) -> None:
        self.operand = operand
        self.fields = {operand.label} if operand.kind == "field" else set()
        g = operand.get

        def fn(d: dict[str, Any], it: Any) -> bool | None:
            v = g(d, it)
            return None if v is None else len(v) == 0

        self.fn = fn

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        v = self.operand.get(d, it)
        name = self.operand.display(prefix)
        if v is None:
            return Result(None, [], [name])
        if not v:  # an empty list is what it names as missing (HR-23 with `end_users: []`)
            return Result(True, [f"{name} is empty"], [name])
        return Result(False, [f"{name} = {show(v)}"])


class PlaceIn(Node):
    """`place_in([customer,] PARAM)`: country and region equal, and the city equal ignoring
    case, accents and surrounding white space where the place names one."""

    def __init__(self, target: str | None, places: list[dict[str, str]], label: str) -> None:
        self.target, self.places, self.label = target, places, label
        self.size = max(1, len(places))
        # What it compares, and so reads and shows: the city only where a place names one.
        self.keys = (
            ("city", "region", "country") if any(p.get("city") for p in places) else ("region", "country")
        )
        self.fields = {f"{target}.{k}" for k in self.keys} if target else set()
        folded = [(p.get("country"), p.get("region"), fold_city(p.get("city")))
                  for p in places]  # fmt: skip

        def match(obj: dict[str, Any]) -> bool | None:
            c, r, city = obj.get("country"), obj.get("region"), obj.get("city")
            result: bool | None = False
            for pc, pr, pcity in folded:
                parts = [None if c is None else c == pc, None if r is None else r == pr]
                if pcity is not None:
                    parts.append(None if city is None else fold_city(city) == pcity)
                if False in parts:
                    continue
                if None in parts:
                    result = None
                    continue
                return True
            return result

        self.match = match
        if target:
            self.fn = lambda d, it: match(d.get(target, EMPTY))
        else:
            self.fn = lambda d, it: match(it)

    def explain(self, d: dict[str, Any], it: Any, prefix: str) -> Result:
        obj = d.get(self.target, EMPTY) if self.target else it
        name = self.target or prefix
        v = self.match(obj)
        shown = show({k: obj.get(k) for k in self.keys}) or "unknown"
        if v is None:
            missing = [f"{name}.{k}" for k in reversed(self.keys) if obj.get(k) is None]
            return Result(None, [], missing)
        return Result(v, [f"{name} = {shown} {'is' if v else 'is not'} in {self.label}"])


def fold_city(city: str | None) -> str | None:
    """A city as place_in compares it: accents and case folded first, then the surrounding
    white space trimmed (so a spacing accent such as "Portland\u00a8" leaves no trace)."""
    return None if city is None else fold(city).strip()


# --------------------------------------------------------------------------- parser


@dataclass
class Scope:
    item_fields: dict[str, FieldType] | None = None
    used: set[str] = field(default_factory=set)  # item fields the body reads


class Parser:
    """Recursive descent over the tokens of one condition."""

    def __init__(
        self,
        text: str,
        params: dict[str, Any],
        definitions: dict[str, Node],
    ) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0
        self.params = params
        self.definitions = definitions
        self.scopes: list[Scope] = [Scope()]
        self.params_used: set[str] = set()
        self.depth = 0  # parentheses, `not` and quantifiers open here (see MAX_DEPTH)
        self.terms = 0  # terms parsed so far (see MAX_TERMS)

    # limits
    def deeper(self, pos: int) -> None:
        """One more level of nesting opens at `pos`: refused beyond MAX_DEPTH, before the
        descent goes on (so no text can exhaust the parser's stack)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LanguageError(_too_deep(f" at position {pos}"))

    def count(self, node: Node) -> Node:
        """Count a term (or a definition at its full size): refused beyond MAX_TERMS at once,
        so no text can make the parser build more."""
        self.terms += node.size
        if self.terms > MAX_TERMS:
            raise LanguageError(_too_large())
        return node

    # token helpers
    def peek(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind in ("name", "punct", "op") and tok.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            tok = self.peek()
            got = tok.text or "end of condition"
            raise LanguageError(f"expected {text!r} at position {tok.pos}, got {got!r}")

    def parse(self) -> Node:
        node = self.parse_or()
        tok = self.peek()
        if tok.kind != "end":
            raise LanguageError(f"unexpected {tok.text!r} at position {tok.pos}")
        if node.depth > MAX_DEPTH:  # and/or and the definitions it uses count too
            raise LanguageError(_too_deep(" (counting and/or and the definitions it uses)"))
        return node

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.accept("or"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(parts)

    def parse_and(self) -> Node:
        parts = [self.parse_not()]
        while self.accept("and"):
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else And(parts)

    def parse_not(self) -> Node:
        tok = self.peek()
        if self.accept("not"):
            self.deeper(tok.pos)
            node = Not(self.parse_not())
            self.depth -= 1
            return node
        return self.parse_atom()

    def parse_atom(self) -> Node:
        tok = self.peek()
        if self.accept("("):
            self.deeper(tok.pos)
            node = self.parse_or()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "name" and tok.text in ("some", "every"):
            self.next()
            lst = self.next()
            if lst.kind != "name" or lst.text not in LISTS:
                raise LanguageError(
                    f"{tok.text} needs a list (one of {', '.join(sorted(LISTS))}), got {lst.text!r}"
                )
            item_fields = PARTY_FIELDS if lst.text == "parties" else ITEM_FIELDS[lst.text]
            self.expect("(")
            self.deeper(tok.pos)
            self.scopes.append(Scope(item_fields))
            body = self.parse_or()
            used = self.scopes.pop().used
            self.expect(")")
            self.depth -= 1
            return Quant(tok.text == "every", lst.text, body, used)
        if tok.kind == "name" and tok.text in FUNCTIONS and self.toks[self.i + 1].text == "(":
            return self.count(self.parse_function())
        if tok.kind == "name" and tok.text in self.definitions:
            self.next()
            return self.count(Ref(tok.text, self.definitions[tok.text]))
        left = self.parse_operand()
        optok = self.peek()
        op = optok.text
        if optok.kind == "op":
            self.next()
        elif optok.kind == "name" and op == "not" and self.toks[self.i + 1].text == "in":
            self.i += 2
            return Not(self.make_compare(left, "in", self.parse_operand()))
        elif optok.kind == "name" and op in WORD_OPS:
            self.next()
        elif optok.kind == "name" and op not in KEYWORDS:
            raise LanguageError(f"unknown operator {op!r} at position {optok.pos}")
        else:
            raise LanguageError(f"expected an operator after {left.label!r} at position {optok.pos}")
        return self.make_compare(left, op, self.parse_operand())

    def parse_function(self) -> Node:
        name = self.next().text
        self.expect("(")
        args: list[Operand] = []
        raw_names: list[str] = []
        while True:
            tok = self.peek()
            raw_names.append(tok.text)
            if name == "place_in" and tok.kind == "name" and tok.text == "customer":
                self.next()
                args.append(const_operand("customer", None))
            else:
                args.append(self.parse_operand())
            if not self.accept(","):
                break
        self.expect(")")
        if name in ("unknown", "known"):
            for a in args:
                if a.kind == "const":
                    raise LanguageError(f"{name}() takes field paths, got {a.label!r}")
            return Unknown(args, name == "unknown")
        if name == "empty":
            if len(args) != 1 or args[0].type is None or args[0].type.kind not in ("set", "objlist"):
                raise LanguageError("empty() takes one list field")
            return Empty(args[0])
        # place_in([customer,] PARAM)
        target = "customer" if raw_names[0] == "customer" else None
        param = args[-1]
        if (
            param.kind != "const"
            or not isinstance(param.value, list)
            or not all(
                isinstance(p, dict)
                and all(isinstance(p.get(k), (str, type(None))) for k in ("country", "region", "city"))
                for p in param.value
            )
        ):
            raise LanguageError("place_in() takes a parameter listing places")
        if target is None and self.scopes[-1].item_fields is None:
            raise LanguageError(
                "place_in(PARAM) outside some/every needs customer: place_in(customer, PARAM)"
            )
        node = PlaceIn(target, param.value, param.label)
        if target is None:
            self.scopes[-1].used.update(node.keys)
        return node

    def parse_operand(self) -> Operand:
        tok = self.next()
        if tok.kind == "str":
            return const_operand(tok.text, tok.text[1:-1])
        if tok.kind == "num":
            return const_operand(tok.text, float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "punct" and tok.text == "{":
            values = []
            while True:
                t = self.next()
                if t.kind != "str":
                    raise LanguageError(f"a set literal holds quoted values, got {t.text!r}")
                values.append(t.text[1:-1])
                if self.accept("}"):
                    break
                self.expect(",")
            label = "{" + ", ".join(values) + "}"
            return const_operand(label, frozenset(values))
        if tok.kind != "name":
            raise LanguageError(
                f"expected a field, parameter or value at position {tok.pos}, "
                f"got {tok.text or 'end of condition'!r}"
            )
        name = tok.text
        if name in ("true", "false"):
            return const_operand(name, name == "true")
        scope = self.scopes[-1]
        if scope.item_fields is not None and name in scope.item_fields:
            scope.used.add(name)
            return item_operand(name, scope.item_fields[name])
        head, _, rest = name.partition(".")
        if head in self.params:
            self.params_used.add(head)
            value = self.params[head]
            if rest:
                if not isinstance(value, dict) or rest not in value:
                    raise LanguageError(f"unknown parameter {name!r}")
                value = value[rest]
            return self._param_operand(name, value)
        if name.startswith(CUSTOMER_TOTAL + ".") or name == CUSTOMER_TOTAL:
            if name not in TOTAL_PATHS:
                raise LanguageError(f"unknown field path {name!r} (a customer total is one of "
                                    f"{', '.join(sorted(TOTAL_PATHS))})")  # fmt: skip
            return field_operand(name, LEAF_FIELDS[TOTAL_PATHS[name]])
        if "." in name or name in SCHEMA:
            ftype = field_type(name)
            if ftype is None or isinstance(SCHEMA.get(name), dict):
                raise LanguageError(f"unknown field path {name!r}")
            return field_operand(name, ftype)
        raise LanguageError(f"unknown parameter or field {name!r}")

    @staticmethod
    def _param_operand(name: str, value: Any) -> Operand:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            op = const_operand(name, frozenset(value))
            op.terms = value  # type: ignore[attr-defined]
            return op
        return const_operand(name, value)

    def make_compare(self, left: Operand, op: str, right: Operand) -> Node:
        self._check_literals(left, op, right)
        if op == "contains_word":
            terms = getattr(right, "terms", None)
            if terms is None:
                raise LanguageError("contains_word takes a parameter listing terms")
            _check_types(left, op, right)
            r = const_operand(right.label, _words(terms))
            r.terms = terms  # type: ignore[attr-defined]
            return self.count(Compare(left, op, r))
        _check_types(left, op, right)
        totals = [o.label for o in (left, right) if o.kind == "field" and o.label in TOTAL_PATHS]
        if totals and op not in ("<", "<=", ">", ">="):
            raise LanguageError(f"{totals[0]} is a sum: it is compared with < <= > >=, not {op}")
        if op == "meets" and right.kind == "const" and not right.value:
            return self.count(Compare(left, "in", const_operand(right.label, frozenset())))
        return self.count(Compare(left, op, right))

    @staticmethod
    def _check_literals(left: Operand, op: str, right: Operand) -> None:
        """A quoted value compared with an enum field must be one of its values."""
        for field_side, lit in ((left, right), (right, left)):
            t = field_side.type
            if t is None or lit.kind != "const" or not t.values:
                continue
            vals = (
                lit.value
                if isinstance(lit.value, frozenset)
                else ({lit.value} if isinstance(lit.value, str) and lit.label[:1] in "'\"" else set())
            )
            if lit.label[:1] not in "'\"{":
                continue
            bad = sorted(v for v in vals if v not in t.values)
            if bad:
                raise LanguageError(f"{', '.join(repr(b) for b in bad)} is not a value of {field_side.label}")


def compile_condition(text: str, params: dict[str, Any], definitions: dict[str, Node]) -> Node:
    return Parser(text, params, definitions).parse()


def _too_deep(where: str) -> str:
    return (
        f"nested too deeply{where}: at most {MAX_DEPTH} levels of parentheses, not, "
        "some/every, and/or and definitions"
    )


def _too_large() -> str:
    return (
        f"too large: more than {MAX_TERMS} terms (comparisons and tests, each definition "
        "it uses counted in full)"
    )


# --------------------------------------------------------------------------- type checks

_TEXT_KINDS = {"str", "email", "reference", "date", "country", "region", "currency", "enum"}
_NUMBER_KINDS = {"int", "number"}


def _shape(op: Operand) -> tuple[bool, str]:
    """What an operand holds: (many, kind) with kind text, number, bool, object, table,
    date (a TOML date), any (an empty list) or mixed."""
    if op.kind != "const":
        t = op.type
        kind = "" if t is None else t.kind
        if kind in _TEXT_KINDS:
            return False, "text"
        if kind in _NUMBER_KINDS:
            return False, "number"
        if kind == "bool":
            return False, "bool"
        if kind == "set":
            return True, "text"
        return True, "object"  # objlist
    return _value_shape(op.value)


def _value_shape(value: Any) -> tuple[bool, str]:
    if isinstance(value, bool):
        return False, "bool"
    if isinstance(value, (int, float)):
        return False, "number"
    if isinstance(value, str):
        return False, "text"
    if isinstance(value, (dt.date, dt.time)):
        return False, "date"
    if isinstance(value, dict):
        return False, "table"
    if isinstance(value, (list, frozenset)):
        kinds = {_value_shape(v) for v in value}
        if not kinds:
            return True, "any"
        if len(kinds) == 1:
            many, kind = kinds.pop()
            return True, ("mixed" if many else kind)
        return True, "mixed"
    return False, "mixed"  # pragma: no cover - TOML has no other values


_ONE = {"text": "text", "number": "a number", "bool": "true or false", "table": "a table",
        "date": "a TOML date", "mixed": "a value of another kind"}  # fmt: skip
_MANY = {"text": "a list of values", "number": "a list of numbers",
         "object": "a list of objects", "bool": "a list of true/false values",
         "any": "an empty list", "mixed": "a list of mixed values",
         "date": "a list of dates", "table": "a list of tables"}  # fmt: skip


def _describe(shape: tuple[bool, str]) -> str:
    many, kind = shape
    return (_MANY if many else _ONE).get(kind, kind)


def _check_types(left: Operand, op: str, right: Operand) -> None:
    """Each operator takes values of the kinds it can compare (the request schema gives the
    fields' kinds): `customer.country > 5`, `scale.cameras = 'many'` and
    `use.operations meets 5` are refused when the rule set is loaded, never at evaluation."""
    ls, rs = _shape(left), _shape(right)
    (lmany, lkind), (rmany, rkind) = ls, rs
    ok: bool
    if op in ("=", "!="):
        ok = not lmany and not rmany and lkind == rkind and lkind in ("text", "number", "bool")
        need = "two values of one kind"
    elif op in ("<", "<=", ">", ">="):
        dates = "date" in {t.kind for t in (left.type, right.type) if t is not None}
        ok = not lmany and not rmany and lkind == rkind and (lkind == "number" or (lkind == "text" and dates))
        need = "two numbers (or a date field and a date written 'YYYY-MM-DD')"
    elif op == "in":
        ok = not lmany and rmany and rkind in (lkind, "any") and lkind in ("text", "number", "bool")
        need = "a value and a list of such values"
    elif op == "meets":
        ok = (
            lmany and rmany and (lkind == rkind or "any" in (lkind, rkind)) and "object" not in (lkind, rkind)
        )
        need = "two lists of values"
    elif op == "contains_word":
        ok = not lmany and lkind == "text"
        need = "a text and a parameter listing terms"
    else:  # pragma: no cover - the parser knows no other operator
        raise LanguageError(f"unknown operator {op!r}")
    if not ok:
        raise LanguageError(
            f"{left.label} {op} {right.label}: {op} takes {need}, got {_describe(ls)} and {_describe(rs)}"
        )


# --------------------------------------------------------------------------- rule parts


@dataclass(frozen=True)
class Add:
    """A condition a rule adds when it fires, `when` (and `unless`) its tests."""

    text: str
    when: Node | None
    unless: Node | None


@dataclass(frozen=True)
class Instead:
    """An alternative outcome of a rule when its test holds."""

    when: Node
    outcome: str
