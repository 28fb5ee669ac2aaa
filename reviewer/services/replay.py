"""The replay of the audit trail: the state its events describe (accounts, rule sets,
settings, requests, decisions, conditions, attachments, customers), rebuilt from the events
alone. `verify` compares the tables with it; a command that relies on a stored rule set
checks that rule set's hash and state against it (`services.evaluations`, and
`services.direct` for `evaluate` on SQLite). Plain Python: no database layer is loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RuleSetRecord:
    sha256: str
    state: str
    imported_by: str | None
    proposed_by: str | None = None
    approved_by: str | None = None


@dataclass
class RequestRecord:
    status: str
    assignee: str | None
    version: int
    document_version: int
    sha256: str
    kept: str | None = None  # the SHA-256 of the evaluation a `reevaluate` event kept


@dataclass
class DecisionRecord:
    outcome: str
    final: bool = False
    rejected: bool = False
    record_hash: str | None = None
    body_sha256: str | None = None  # None: recorded before decide events carried it
    reason: str | None = None  # a rejection's, as its check event says (None: not recorded)


@dataclass
class AttachmentRecord:
    name: str
    size: int
    sha256: str
    redacted: bool = False
    # Who redacted it, when and why, as its redact_attachment event says (None: not recorded).
    redacted_by: str | None = None
    redacted_at: str | None = None
    reason: str | None = None


@dataclass
class Replay:
    """The state the audit trail describes."""

    accounts: dict[str, tuple[bool, list[str]]] = field(default_factory=dict)
    rule_sets: dict[str, RuleSetRecord] = field(default_factory=dict)
    active: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    requests: dict[str, RequestRecord] = field(default_factory=dict)
    decisions: dict[tuple[str, int], DecisionRecord] = field(default_factory=dict)
    # condition id -> status, note, and who marked it when (None: not recorded)
    conditions: dict[int, tuple[str, str | None, str | None, str | None]] = field(default_factory=dict)
    attachments: dict[tuple[str, int], AttachmentRecord] = field(default_factory=dict)
    # customer number -> (name, country, merged into); request -> its customer
    customers: dict[int, list[Any]] = field(default_factory=dict)
    customer_of: dict[str, int] = field(default_factory=dict)
    # match key -> the customer it sends new requests to; requests linked or unlinked by hand
    keys: dict[str, int] = field(default_factory=dict)
    pinned: set[str] = field(default_factory=set)
    now: str | None = None  # the time of the event being applied (when the caller gives it)

    def apply(self, action: str, actor: str, ref: str | None, p: dict[str, Any],
              time: str | None = None) -> None:  # fmt: skip
        handler = _HANDLERS.get(action)
        if handler is not None:
            self.now = time
            handler(self, actor, ref or "", p)

    # accounts, rule sets, settings -------------------------------------------------------

    def _bootstrap(self, actor: str, _ref: str, p: dict[str, Any]) -> None:
        self.accounts[p["account"]] = (True, sorted(p["roles"]))
        self.rule_sets[p["rule_set"]] = RuleSetRecord(p["rule_set_sha256"], "active", actor,
                                                      None, actor)  # fmt: skip
        self.active = p["rule_set"]

    def _users_add(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        self.accounts[p["account"]] = (True, sorted(p["roles"]))

    def _users_role(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        active, _roles = self.accounts.get(p["account"], (True, []))
        self.accounts[p["account"]] = (active, sorted(p["roles"]))

    def _users_disable(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        _active, roles = self.accounts.get(p["account"], (False, []))
        self.accounts[p["account"]] = (False, roles)

    def _settings(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        self.settings[p["key"]] = p["value"]

    def _rules_import(self, actor: str, _ref: str, p: dict[str, Any]) -> None:
        self.rule_sets[p["rule_set"]] = RuleSetRecord(p["sha256"], "draft", actor)

    def _rules_propose(self, actor: str, _ref: str, p: dict[str, Any]) -> None:
        record = self.rule_sets.get(p["rule_set"])
        if record is not None:
            record.state, record.proposed_by = "proposed", actor

    def _rules_activate(self, actor: str, _ref: str, p: dict[str, Any]) -> None:
        previous = self.rule_sets.get(p.get("previous") or "")
        if previous is not None:
            previous.state = "retired"
        record = self.rule_sets.get(p["rule_set"])
        if record is not None:
            record.state, record.approved_by = "active", actor
        self.active = p["rule_set"]
        for req in self.requests.values():  # activation re-evaluates every stored request
            req.version += 1
            req.kept = None

    def _reevaluate(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        """An upgrade evaluated again every request that was not decided; a decided one kept
        its evaluation, whose hash the event records. With a reference: one request evaluated
        again because its customer's requests changed (a new version)."""
        if ref:
            self._step(ref, p)
            return
        kept = p.get("kept", {})
        for ref, req in self.requests.items():
            if ref in kept:
                req.kept = kept[ref]
            else:
                req.version += 1

    # requests ------------------------------------------------------------------------------

    def _import(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self.requests[ref] = RequestRecord("new", None, 1, p["version"], p["sha256"])
        if "customer" in p:
            self.customer_of[ref] = p["customer"]

    # customers -----------------------------------------------------------------------------

    def _customer_add(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        self.customers[p["customer"]] = [p["name"], p.get("country"), None]
        if p.get("key") is not None:
            self.keys[p["key"]] = p["customer"]

    def _customer_move(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p)
        self.customer_of[ref] = p["customer"]
        self.pinned.add(ref)

    def _customer_merge(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        if p["customer"] in self.customers:
            self.customers[p["customer"]][2] = p["into"]
        for ref in p["requests"]:
            self.customer_of[ref] = p["into"]
        for key, cid in self.keys.items():
            if cid == p["customer"]:
                self.keys[key] = p["into"]

    def _customers(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        """An upgrade matched the stored requests to customers it made."""
        for cid, name, country, key in p["customers"]:
            self.customers[cid] = [name, country, None]
            self.keys[key] = cid
        for cid, refs in p["requests"].items():
            for ref in refs:
                self.customer_of[ref] = int(cid)
        for ref in p.get("evaluated", ()):  # evaluated again with its customer's totals
            self.requests[ref].version += 1

    def _update(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        req = self.requests.get(ref)
        if req is None:
            return
        if req.status == "returned":
            req.assignee = None
        req.status, req.version = p["status"], req.version + 1
        req.document_version, req.sha256 = p["version"], p["sha256"]
        req.kept = None  # a new document is evaluated afresh
        if "customer" in p:
            self.customer_of[ref] = p["customer"]

    def _step(self, ref: str, p: dict[str, Any], status: str | None = None,
              assignee: str | None | bool = False) -> None:  # fmt: skip
        req = self.requests.get(ref)
        if req is None:
            return
        req.version = p.get("version", req.version + 1)
        if status is not None:
            req.status = status
        if assignee is not False:
            req.assignee = assignee  # type: ignore[assignment]  # False: unchanged

    def _claim(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p, "in_review", p.get("assignee"))

    def _release(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p, "new", None)

    def _take_over(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p, None, p.get("assignee"))

    def _reopen(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p, "in_review", p.get("assignee"))

    def _rereview(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        """A re-review: in review again, evaluated afresh under the active rule set (so an
        evaluation an upgrade kept with its decision is kept no more)."""
        self._step(ref, p, "in_review", p.get("assignee"))
        req = self.requests.get(ref)
        if req is not None:
            req.kept = None

    def _decide(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        final = "record_hash" in p
        self._step(ref, p, "awaiting_second" if p.get("checker_needed") and not final else "decided")
        self.decisions[(ref, p["decision"])] = DecisionRecord(
            p["outcome"], final, False, p.get("record_hash"), p.get("body_sha256")
        )

    def _return(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p, "returned", None)
        self.decisions[(ref, p["decision"])] = DecisionRecord(p["outcome"], True, False, p.get("record_hash"))

    def _check(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        decision = self.decisions.get((ref, p["decision"]))
        if p.get("result") == "confirm":
            self._step(ref, p, "decided")
            if decision is not None:
                decision.final, decision.record_hash = True, p.get("record_hash")
        else:
            self._step(ref, p, "in_review", p["assignee"] if "assignee" in p else False)
            if decision is not None:
                decision.rejected, decision.reason = True, p.get("reason")

    def _condition(self, actor: str, ref: str, p: dict[str, Any]) -> None:
        self._step(ref, p)
        self.conditions[p["condition"]] = (p["status"], p.get("note"), actor, self.now)

    def _attach(self, _actor: str, ref: str, p: dict[str, Any]) -> None:
        self.attachments[(ref, p["number"])] = AttachmentRecord(p["name"], p["size"], p["sha256"])

    def _redact_attachment(self, actor: str, ref: str, p: dict[str, Any]) -> None:
        record = self.attachments.get((ref, p["number"]))
        if record is not None:
            record.redacted, record.redacted_by, record.redacted_at = True, actor, self.now
            record.reason = p.get("reason")

    def _baseline(self, _actor: str, _ref: str, p: dict[str, Any]) -> None:
        """The state an upgrade started from: everything before it is replaced."""
        self.accounts = {a["name"]: (a["active"], sorted(a["roles"])) for a in p["accounts"]}
        self.rule_sets = {
            r["rule_set"]: RuleSetRecord(r["sha256"], r["state"], r.get("imported_by"),
                                         r.get("proposed_by"), r.get("approved_by"))
            for r in p["rule_sets"]
        }  # fmt: skip
        self.active = next((k for k, r in self.rule_sets.items() if r.state == "active"), None)
        self.settings = dict(p.get("settings", {}))
        self.requests = {r[0]: RequestRecord(*r[1:]) for r in p["requests"]}
        self.decisions = {(d[0], d[1]): DecisionRecord(*d[2:]) for d in p["decisions"]}
        self.conditions = {c[0]: (c[1], c[2], None, None) for c in p["conditions"]}
        # Baselines written before attachments existed carry none.
        self.attachments = {(a[0], a[1]): AttachmentRecord(*a[2:]) for a in p.get("attachments", [])}


_HANDLERS = {
    "bootstrap": Replay._bootstrap, "users_add": Replay._users_add,
    "users_role": Replay._users_role, "users_disable": Replay._users_disable,
    "settings": Replay._settings, "rules_import": Replay._rules_import,
    "rules_propose": Replay._rules_propose, "rules_activate": Replay._rules_activate,
    "import": Replay._import, "update": Replay._update, "claim": Replay._claim,
    "release": Replay._release, "take_over": Replay._take_over, "reopen": Replay._reopen,
    "rereview": Replay._rereview,
    "decide": Replay._decide, "return": Replay._return, "check": Replay._check,
    "condition": Replay._condition, "baseline": Replay._baseline,
    "attach": Replay._attach, "redact_attachment": Replay._redact_attachment,
    "reevaluate": Replay._reevaluate, "customer_add": Replay._customer_add,
    "customer_link": Replay._customer_move, "customer_unlink": Replay._customer_move,
    "customer_merge": Replay._customer_merge, "customers": Replay._customers,
}  # fmt: skip


# The events a stored rule set's hash and state come from (`rule_set_mismatch`).
RULE_SET_ACTIONS = ("bootstrap", "rules_import", "rules_propose", "rules_activate", "baseline")


def rule_set_mismatch(recorded: dict[str, RuleSetRecord], key: str, sha256: str, state: str) -> str | None:
    """Why a stored rule set (`key`, its stored hash and state) is not what the replay of its
    audit events (`Replay.rule_sets`, fed the RULE_SET_ACTIONS events) records; None when it is."""
    record = recorded.get(key)
    if record is None or record.sha256 != sha256:
        return (f"stored rule set {key}: its hash {sha256[:16]}... is not the one its audit event "
                "records; nothing was evaluated (run reviewer verify)")  # fmt: skip
    if record.state != state:
        return (f"stored rule set {key} is {state}, its audit events say {record.state}; nothing "
                "was evaluated (run reviewer verify)")  # fmt: skip
    return None
