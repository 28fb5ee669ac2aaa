"""Property tests (hypothesis), bounded so CI stays quick: round trips keep the canonical hash,
evaluation ignores key order, an unknown made known never overturns what known facts decided,
the generated evaluator agrees with the condition nodes,
and the evaluator never raises on a valid document."""

from __future__ import annotations

import io
import os
import random
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer import intake
from reviewer import request as rq
from reviewer.export.documents import write_export
from reviewer.rules import NEEDS_INFO, load_bundled
from tests.helpers.strategies import REQUESTS, valid, value_strategy

RS = load_bundled()


def reimport(doc: dict, fmt: str) -> dict:
    buf = io.StringIO()
    write_export([doc], fmt, buf)
    with tempfile.TemporaryDirectory() as folder:  # not a fixed name: suites may run at once
        path = os.path.join(folder, f"export.{fmt}")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
        records = list(intake.read_records(path))
    assert len(records) == 1 and not records[0].problems, records[0].problems
    return valid(records[0].raw)


QUICK = settings(
    max_examples=int(os.environ.get("REVIEWER_PROPERTY_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@QUICK
@given(REQUESTS)
def test_export_then_import_keeps_the_canonical_hash(raw):
    doc = valid(raw)
    for fmt in ("json", "jsonl", "csv"):
        assert rq.document_hash(reimport(doc, fmt)) == rq.document_hash(doc), fmt


def shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@QUICK
@given(REQUESTS, st.integers(0, 10**6))
def test_evaluation_does_not_depend_on_key_order(raw, seed):
    doc = valid(raw)
    again = valid(shuffled(raw, random.Random(seed)))
    assert RS.evaluate(again).to_json("x") == RS.evaluate(doc).to_json("x")


LEAVES = [
    (path, t)
    for path, t in rq.LEAF_FIELDS.items()
    if path not in ("reference", "received_on", "customer.name", "format")
]


def decided(doc: dict) -> dict[str, str]:
    """Rule -> outcome for every rule whose result known facts settle: it did not fire, or it
    fired with an outcome other than needs_information. Rules whose outcome is `conditions`
    are left out: an unknown safeguard is an obligation, so learning it can lift one."""
    found = {f.rule.id: f.outcome for f in RS.evaluate(doc).findings}
    return {
        r.id: found.get(r.id, "none")
        for r in RS.rules
        if r.outcome != "conditions" and found.get(r.id) != NEEDS_INFO
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQUESTS, st.data())
def test_learning_an_unknown_never_overturns_a_decided_finding(raw, data):
    doc = valid(raw)
    unknown = [(p, t) for p, t in LEAVES if rq.get_path(doc, p) is None]
    if not unknown:
        return
    path, t = data.draw(st.sampled_from(unknown))
    value = data.draw(value_strategy(t))
    changed = dict(raw)
    if "." in path:
        head, key = path.split(".")
        changed[head] = dict(changed.get(head) or {})
        changed[head][key] = value
    else:
        changed[path] = value
    after = decided(valid(changed))
    for rule, outcome in decided(doc).items():
        assert after.get(rule, NEEDS_INFO) in (outcome,), (rule, path, value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(REQUESTS)
def test_compiled_evaluation_equals_the_interpreted_one(raw):
    """The generated evaluator, cold and warm, against the condition nodes alone, on any
    valid document (unknowns, empty lists, odd values...)."""
    doc = valid(raw)
    want = RS.evaluate_interpreted(doc).to_json("x")
    assert RS.evaluate(doc).to_json("x") == want
    assert RS.evaluate(doc).to_json("x") == want  # remembered
