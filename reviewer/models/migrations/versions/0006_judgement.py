"""the judgement fixes: stored requests that are not decided are evaluated again, audited

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00

The evaluation now names exactly the facts that can change a rule (HR-29 every field it
lacks), a conditions rule that could add nothing is silent, and a city is folded before it is
trimmed (`shared/design/ruleset.md`). That changes results under the same rule-set text, so
this revision evaluates again, under its stored rule set, every request that is not decided
(new, in review, returned): its evaluation and recommendation are replaced and its version
moves on, as on an activation. A decided request, or one whose decision awaits its check,
keeps the evaluation its decision was made on. One `reevaluate` event records it all: how
many were evaluated again and what changed, and the SHA-256 of each kept evaluation, which
verify checks from then on in place of an evaluation under the new rules. In team mode the
action is reserved to the owner (an ordinary login's `append_event` refuses it).
"""

from __future__ import annotations

import importlib
import json
from collections import Counter

from alembic import op
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from reviewer.models import AuditEvent, Request, RuleSetVersion
from reviewer.request import compact_json, sha256_hex
from reviewer.rules import compiled, evaluate_with, stored_with
from reviewer.services.audit import append_upgrade_event, utc_now

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

KEEP = ("decided", "awaiting_second")  # their decision's evaluation stays
REASON = ("evaluation fixes of the judgement issue (ruleset.md): exact missing fields, HR-29 "
          "names every field it lacks, silent conditions rules, cities folded then trimmed")  # fmt: skip


def _reserve_in_team_mode() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    team = importlib.import_module("reviewer.models.migrations.versions.0004_team_security")
    old = team._quoted(team.RESERVED)
    new = team._quoted((*team.RESERVED, "reevaluate"))
    assert old in team.APPEND
    op.execute(team.APPEND.replace(old, new))


def upgrade() -> None:
    _reserve_in_team_mode()
    session = Session(bind=op.get_bind())
    if not session.execute(select(func.count()).select_from(AuditEvent)).scalar_one():
        return  # a new database: nothing stored was evaluated before
    rules = {r.id: r for r in session.execute(select(RuleSetVersion)).scalars()}
    matrix: Counter[str] = Counter()
    kept: dict[str, str] = {}
    params = []
    count = 0
    rows = session.execute(
        select(Request.id, Request.reference, Request.status, Request.document,
               Request.rule_set_pk, Request.recommendation, Request.evaluation)
        .order_by(Request.id)
    ).all()  # fmt: skip
    for rid, ref, status, document, pk, old_rec, old_eval in rows:
        if status.value in KEEP:
            kept[ref] = sha256_hex(old_eval or "")
            continue
        count += 1
        ruleset, doc = compiled(rules[pk]), json.loads(document)
        ev = evaluate_with(ruleset, doc, None)  # no rule set read customer totals before 0007
        if ev.recommendation != old_rec:
            matrix[f"{old_rec}->{ev.recommendation}"] += 1
        params.append({"rid": rid, "rec": ev.recommendation,
                       "ev": compact_json(stored_with(ruleset, ev, None, doc))})  # fmt: skip
    now = utc_now()
    table = Request.__table__
    stmt = (update(table).where(table.c.id == bindparam("rid"))  # type: ignore[attr-defined]
            .values(recommendation=bindparam("rec"), evaluation=bindparam("ev"),
                    version=table.c.version + 1, updated_at=now))  # type: ignore[attr-defined]  # fmt: skip
    for i in range(0, len(params), 1000):
        session.connection().execute(stmt, params[i : i + 1000])
    append_upgrade_event(session, "reevaluate", {
        "reason": REASON, "requests": count, "changed": sum(matrix.values()),
        "matrix": dict(sorted(matrix.items())), "kept": kept})  # fmt: skip


def downgrade() -> None:
    """The event stays (the audit trail is never shortened), and so do the evaluations."""
