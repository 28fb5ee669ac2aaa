"""SQLAlchemy 2 typed models: the whole database of Reviewer.

Documents and evaluations are stored as their canonical JSON text, so a hash computed today
can be recomputed byte for byte years later. Every column the queue sorts or filters by is
indexed.

No `from __future__ import annotations` here: SQLAlchemy would evaluate every `Mapped[...]`
string again when it maps the classes, 20 ms of every command's start (a third of the
mapping); the one forward reference is quoted instead.
"""

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    case,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from reviewer import ageing
from reviewer.vocabulary import ROLES, ConditionStatus, Outcome, RuleSetState, Status

__all__ = [
    "ROLES",
    "Account",
    "AccountRole",
    "Attachment",
    "AttachmentChunk",
    "AuditEvent",
    "Base",
    "ChainHead",
    "Condition",
    "ConditionStatus",
    "Customer",
    "CustomerKey",
    "Decision",
    "Outcome",
    "Request",
    "RequestVersion",
    "RuleSetState",
    "RuleSetVersion",
    "Setting",
    "WAITS",
    "Status",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=32,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(32))
    roles: Mapped[list["AccountRole"]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> list[str]:
        return sorted(r.role for r in self.roles)


class AccountRole(Base):
    __tablename__ = "account_roles"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    account: Mapped[Account] = relationship(back_populates="roles")


class RuleSetVersion(Base):
    __tablename__ = "rule_sets"
    __table_args__ = (UniqueConstraint("rule_set_id", "version", name="uq_rule_sets_id_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[RuleSetState] = mapped_column(_enum(RuleSetState, "rule_set_state"), index=True)
    imported_by: Mapped[str | None] = mapped_column(String(128))
    imported_at: Mapped[str | None] = mapped_column(String(32))
    proposed_by: Mapped[str | None] = mapped_column(String(128))
    proposed_at: Mapped[str | None] = mapped_column(String(32))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[str | None] = mapped_column(String(32))
    backtest: Mapped[str | None] = mapped_column(Text)

    @property
    def key(self) -> str:
        return f"{self.rule_set_id}@{self.version}"


class Request(Base):
    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    customer_name: Mapped[str] = mapped_column(String(300), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    org_type: Mapped[str | None] = mapped_column(String(32), index=True)
    status: Mapped[Status] = mapped_column(_enum(Status, "request_status"), index=True)
    recommendation: Mapped[str | None] = mapped_column(String(32), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    updated_at: Mapped[str] = mapped_column(String(32), index=True)
    search_key: Mapped[str] = mapped_column(Text, index=True)
    # The version counter: raised by every change (edits, claims, decisions, ...).
    version: Mapped[int] = mapped_column(Integer)
    # The number of the current document version (request_versions.version).
    document_version: Mapped[int] = mapped_column(Integer, server_default="1")
    document: Mapped[str] = mapped_column(Text)
    document_sha256: Mapped[str] = mapped_column(String(64))
    evaluation: Mapped[str | None] = mapped_column(Text)
    rule_set_pk: Mapped[int | None] = mapped_column(ForeignKey("rule_sets.id"))
    # The customer record this request belongs to (`services.customers`): matched on the
    # folded name and country, or linked by hand (pinned: later versions keep the link).
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    customer_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    assignee: Mapped[Account | None] = relationship()


class Customer(Base):
    """One customer seen whole: the requests matched to it or linked to it by hand. A merged
    customer keeps its row (and its number) and points to the one it was merged into."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(128))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))


class CustomerKey(Base):
    """A match key (folded name and country) and the customer a new request with it joins."""

    __tablename__ = "customer_keys"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)


class Attachment(Base):
    """Evidence kept with a request, numbered 1, 2, ... in the order attached. Its bytes are
    in `attachment_chunks`; a redaction removes them and keeps name, size and hash."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("request_id", "number", name="uq_attachments_request_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(128))
    added_at: Mapped[str] = mapped_column(String(32))
    redacted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    redacted_by: Mapped[str | None] = mapped_column(String(128))
    redacted_at: Mapped[str | None] = mapped_column(String(32))
    redact_reason: Mapped[str | None] = mapped_column(Text)
    event_seq: Mapped[int | None] = mapped_column(Integer)


class AttachmentChunk(Base):
    """A piece (at most `services.attachments.CHUNK` bytes) of an attachment's content:
    files are written and read a chunk at a time, never whole in memory."""

    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RequestVersion(Base):
    __tablename__ = "request_versions"
    __table_args__ = (UniqueConstraint("request_id", "version", name="uq_request_versions_request_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(128))
    event_seq: Mapped[int | None] = mapped_column(Integer)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("request_id", "number", name="uq_decisions_request_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome, "decision_outcome"))
    final: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    checker_needed: Mapped[str | None] = mapped_column(String(32))
    request_version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    rule_set_key: Mapped[str] = mapped_column(String(96))
    rule_set_sha256: Mapped[str] = mapped_column(String(64))
    evaluation: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text)
    re_review_on: Mapped[dt.date | None] = mapped_column(Date)
    decider_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    decider_roles: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[str] = mapped_column(String(32), index=True)
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    checker_roles: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[str | None] = mapped_column(String(32))
    record_hash: Mapped[str | None] = mapped_column(String(64))
    event_seq: Mapped[int | None] = mapped_column(Integer)


class Condition(Base):
    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    status: Mapped[ConditionStatus] = mapped_column(_enum(ConditionStatus, "condition_status"), index=True)
    changed_by: Mapped[str | None] = mapped_column(String(128))
    changed_at: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    os_login: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32), index=True)
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[str | None] = mapped_column(String(32))


Index("ix_requests_status_updated", Request.status, Request.updated_at)

# The queue's "Waiting" order: the requests waiting on us (0) before the others (1), by the
# day received. Written with literals, as the indexes below hold it: an index serves only an
# expression written the same (a bound parameter is not the same). The longest wait first
# walks the first index; the shortest first (waiting requests still first) the second.
WAITS = case(
    (Request.status.in_([literal_column(f"'{s.value}'") for s in ageing.WAITING]), literal_column("0")),
    else_=literal_column("1"),
)
WAITS_SQL = "(CASE WHEN (status IN ({})) THEN 0 ELSE 1 END)".format(
    ", ".join(f"'{s.value}'" for s in ageing.WAITING)
)
Index("ix_requests_waiting", text(WAITS_SQL), Request.received_on)
Index("ix_requests_waiting_recent", text(WAITS_SQL), Request.received_on.desc())
