"""Nothing acts on unverified text: the rule set and the evaluation an action relies on.

A stored rule set is compiled only when its text hashes to its stored hash (`rules.compiled`)
and that hash and its state are the ones its audit events record; a request's evaluation is
recomputed from its document (checked against its hash) under that rule set, and the stored
one is never trusted. A mismatch of text or hash stops the action with IntegrityProblem
(exit 1) naming what differs, before anything is decided on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reviewer import request as rq
from reviewer.errors import IntegrityProblem, NotFound
from reviewer.export.text import information_request
from reviewer.models import AuditEvent, Request, RuleSetState, RuleSetVersion
from reviewer.rules import Parts, RuleSet, compiled, evaluate_with, load_bundled
from reviewer.rules.explain import explainer_for
from reviewer.services import totals
from reviewer.services.replay import RULE_SET_ACTIONS, Replay, RuleSetRecord, rule_set_mismatch


@dataclass
class ActiveRules:
    pk: int | None
    ruleset: RuleSet


def _recorded(session: Session) -> dict[str, RuleSetRecord]:
    """Each rule set's hash and state as its audit events record them (verify's replay, fed
    only the events about rule sets)."""
    replay = Replay()
    events = session.execute(
        select(AuditEvent.action, AuditEvent.actor, AuditEvent.payload)
        .where(AuditEvent.action.in_(RULE_SET_ACTIONS)).order_by(AuditEvent.seq)
    )  # fmt: skip
    for action, actor, text in events:
        replay.apply(action, actor, None, json.loads(text))
    return replay.rule_sets


def verified_rules(session: Session, row: RuleSetVersion) -> RuleSet:
    """The compiled rule set of a stored version whose text, hash and state are as recorded."""
    problem = rule_set_mismatch(_recorded(session), row.key, row.sha256, row.state.value)
    if problem is not None:
        raise IntegrityProblem(problem)
    return compiled(row)


def active_rules(session: Session) -> ActiveRules:
    """The active rule set, verified and compiled (from the cache of `rules.compiled`)."""
    row = session.execute(
        select(RuleSetVersion).where(RuleSetVersion.state == RuleSetState.ACTIVE)
    ).scalar_one_or_none()
    if row is None:
        return ActiveRules(None, load_bundled())
    return ActiveRules(row.id, verified_rules(session, row))


def fresh_evaluation(session: Session, req: Request) -> dict[str, Any]:
    """The request's evaluation (the JSON of `cli.md`) recomputed from its verified document
    under its verified rule set. A stored evaluation that differs is never used: what is
    decided rests on the verified facts (and `verify` names the stored one)."""
    if rq.sha256_hex(req.document) != req.document_sha256:
        raise IntegrityProblem(f"{req.reference}: its stored document differs from its hash; "
                               "nothing was decided (run reviewer verify)")  # fmt: skip
    row = session.get(RuleSetVersion, req.rule_set_pk) if req.rule_set_pk else None
    if row is None or req.evaluation is None:
        raise NotFound(f"{req.reference} has no stored evaluation")
    ruleset = verified_rules(session, row)
    parts = _parts(session, req, ruleset)
    evaluation = evaluate_with(ruleset, json.loads(req.document), parts, ruleset.sooner_by_nodes(1))
    result: dict[str, Any] = evaluation.to_json(req.reference)
    if parts is not None:
        result["customer_total"] = parts
    return result


def _parts(session: Session, req: Request, ruleset: RuleSet) -> Parts | None:
    """The customer totals as the database holds them now, when the rule set reads any."""
    if not ruleset.reads_totals:
        return None
    return totals.parts_for(session, req)


@dataclass
class Explained:
    """A stored request explained: decisive facts and what-ifs under its verified rule set."""

    explanation: dict[str, Any]
    document: dict[str, Any]
    ruleset: RuleSet

    def draft(self) -> str:
        """The drafted request for information to sales (`export.text.information_request`)."""
        return information_request(self.explanation, self.document, self.ruleset.titles,
                                   self.ruleset.asking)  # fmt: skip


def explain_stored(session: Session, req: Request) -> Explained:
    """Explain a stored request from its verified document under its verified rule set (the
    same footing as `fresh_evaluation`: nothing rests on the stored evaluation)."""
    if rq.sha256_hex(req.document) != req.document_sha256:
        raise IntegrityProblem(f"{req.reference}: its stored document differs from its hash "
                               "(run reviewer verify)")  # fmt: skip
    row = session.get(RuleSetVersion, req.rule_set_pk) if req.rule_set_pk else None
    if row is None:
        raise NotFound(f"{req.reference} has no stored evaluation")
    ruleset = verified_rules(session, row)
    doc = json.loads(req.document)
    parts = _parts(session, req, ruleset)
    return Explained(explainer_for(ruleset).explain(doc, parts), doc, ruleset)
