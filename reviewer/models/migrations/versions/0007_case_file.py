"""the case file: customers (requests matched on folded name and country, linked by hand,
merged), attachments kept in the database a chunk at a time

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 08:00:00

Stored requests are matched to customers here, one customer per folded name and country,
and one `customers` event records every customer made and the requests it holds, so verify
replays it. In team mode the group role may add customers and keys, link requests (the
customer columns of requests), attach files (as itself) and, as an admin, redact them
(row-level security); `reevaluate` events are no longer reserved to the owner, because an
import, a decision or a link re-evaluates the customer's other open requests, but one that
carries the upgrade's `kept` hashes or `reason` still is.
"""

from __future__ import annotations

import importlib
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviewer.models import AuditEvent, Request, RuleSetVersion
from reviewer.request import compact_json, customer_key
from reviewer.rules import compiled, evaluate_with, parts_of, stored_with
from reviewer.services import totals
from reviewer.services.audit import append_upgrade_event, utc_now

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APP_ROLE = "reviewer_app"


def _team_mode() -> None:
    team = importlib.import_module("reviewer.models.migrations.versions.0004_team_security")
    reserved = team._quoted((*team.RESERVED, "reevaluate"))
    now_reserved = team._quoted((*team.RESERVED, "customers"))
    append = team.APPEND.replace(team._quoted(team.RESERVED), now_reserved)
    assert now_reserved in append
    upgrade_only = (
        "  IF p_action = 'reevaluate' AND (p_payload::jsonb ? 'kept' OR p_payload::jsonb ? "
        "'reason') THEN\n    RAISE EXCEPTION 'permission denied: an upgrade''s reevaluate "
        "event is written only by the database owner' USING ERRCODE = '42501';\n  END IF;\n"
        f"  IF p_action IN ({now_reserved}) THEN"
    )
    append = append.replace(f"  IF p_action IN ({now_reserved}) THEN", upgrade_only, 1)
    assert reserved not in append and "upgrade''s reevaluate" in append
    op.execute(append)
    grants = [
        f"GRANT INSERT ON public.customers, public.customer_keys, public.attachments, "
        f"public.attachment_chunks TO {APP_ROLE}",
        f"GRANT UPDATE (merged_into) ON public.customers TO {APP_ROLE}",
        f"GRANT UPDATE (customer_id) ON public.customer_keys TO {APP_ROLE}",
        f"GRANT UPDATE (customer_id, customer_pinned) ON public.requests TO {APP_ROLE}",
        f"GRANT UPDATE (redacted, redacted_by, redacted_at, redact_reason) ON "
        f"public.attachments TO {APP_ROLE}",
        f"GRANT DELETE ON public.attachment_chunks TO {APP_ROLE}",
    ]
    for table in ("customers", "attachments"):
        grants.append(
            f"DO $$ BEGIN EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}', "
            f"pg_get_serial_sequence('public.{table}', 'id')); END $$"
        )
    for table in ("customers", "customer_keys", "attachments", "attachment_chunks"):
        grants.append(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
        grants.append(f"CREATE POLICY reviewer_read ON public.{table} FOR SELECT USING (true)")
    active = "public.reviewer_account_id() IS NOT NULL"
    grants += [
        f"CREATE POLICY reviewer_insert ON public.customers FOR INSERT WITH CHECK ({active} "
        "AND created_by = session_user)",
        f"CREATE POLICY reviewer_update ON public.customers FOR UPDATE USING (true) "
        "WITH CHECK (public.reviewer_has_role(ARRAY['reviewer', 'senior', 'admin']))",
        f"CREATE POLICY reviewer_insert ON public.customer_keys FOR INSERT WITH CHECK ({active})",
        "CREATE POLICY reviewer_update ON public.customer_keys FOR UPDATE USING (true) "
        "WITH CHECK (public.reviewer_has_role(ARRAY['reviewer', 'senior', 'admin']))",
        f"CREATE POLICY reviewer_insert ON public.attachments FOR INSERT WITH CHECK ({active} "
        "AND added_by = session_user AND NOT redacted)",
        "CREATE POLICY reviewer_update ON public.attachments FOR UPDATE USING (true) "
        "WITH CHECK (public.reviewer_has_role(ARRAY['admin']) AND redacted_by = session_user)",
        f"CREATE POLICY reviewer_insert ON public.attachment_chunks FOR INSERT "
        f"WITH CHECK ({active})",
        "CREATE POLICY reviewer_delete ON public.attachment_chunks FOR DELETE "
        "USING (public.reviewer_has_role(ARRAY['admin']))",
    ]
    for line in grants:
        op.execute(line)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["merged_into"], ["customers.id"],
                                name=op.f("fk_customers_merged_into_customers")),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_name"), "customers", ["name"], unique=False)
    op.create_table(
        "customer_keys",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_keys_customer_id_customers")),  # fmt: skip
        sa.PrimaryKeyConstraint("key", name=op.f("pk_customer_keys")),
    )
    op.create_index(op.f("ix_customer_keys_customer_id"), "customer_keys", ["customer_id"])
    # Added in place (SQLite too: no copy of the requests table, which others reference).
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE requests ADD COLUMN customer_id INTEGER CONSTRAINT "
                   "fk_requests_customer_id_customers REFERENCES customers (id)")  # fmt: skip
    else:
        op.add_column("requests", sa.Column("customer_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_requests_customer_id_customers", "requests", "customers",
                              ["customer_id"], ["id"])  # fmt: skip
    op.add_column("requests", sa.Column("customer_pinned", sa.Boolean(), server_default="0",
                                        nullable=False))  # fmt: skip
    op.create_index(op.f("ix_requests_customer_id"), "requests", ["customer_id"], unique=False)
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.String(length=32), nullable=False),
        sa.Column("redacted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("redacted_by", sa.String(length=128), nullable=True),
        sa.Column("redacted_at", sa.String(length=32), nullable=True),
        sa.Column("redact_reason", sa.Text(), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"],
                                name=op.f("fk_attachments_request_id_requests")),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("request_id", "number", name="uq_attachments_request_number"),
    )
    op.create_index(op.f("ix_attachments_request_id"), "attachments", ["request_id"])
    op.create_table(
        "attachment_chunks",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachments.id"],
                                name=op.f("fk_attachment_chunks_attachment_id_attachments")),  # fmt: skip
        sa.PrimaryKeyConstraint("attachment_id", "number", name=op.f("pk_attachment_chunks")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _team_mode()
    _match_stored_requests()


def _match_stored_requests() -> None:
    """Every stored request joins the customer of its folded name and country, made here;
    one `customers` event lists them (new databases have none)."""
    session = Session(bind=op.get_bind())
    if not session.execute(select(func.count()).select_from(AuditEvent)).scalar_one():
        return
    conn = session.connection()
    rows = conn.execute(sa.text("SELECT id, reference, customer_name, country FROM requests "
                                "ORDER BY id")).all()  # fmt: skip
    now = utc_now()
    ids: dict[str, int] = {}
    made: list[list[object]] = []
    members: dict[int, list[str]] = {}
    for rid, ref, name, country in rows:
        key = customer_key(name, country)
        if key not in ids:
            cid = conn.execute(
                sa.text("INSERT INTO customers (name, country, created_at, created_by) "
                        "VALUES (:n, :c, :t, 'upgrade') RETURNING id"),
                {"n": name, "c": country, "t": now},
            ).scalar_one()  # fmt: skip
            conn.execute(sa.text("INSERT INTO customer_keys (key, customer_id) VALUES (:k, :c)"),
                         {"k": key, "c": cid})  # fmt: skip
            ids[key] = cid
            made.append([cid, name, country, key])
        members.setdefault(ids[key], []).append(ref)
        conn.execute(sa.text("UPDATE requests SET customer_id = :c WHERE id = :r"),
                     {"c": ids[key], "r": rid})  # fmt: skip
    evaluated = _evaluate_with_customers(session, [c for c, refs in members.items() if len(refs) > 1])
    append_upgrade_event(session, "customers", {
        "customers": made, "requests": {str(c): refs for c, refs in members.items()},
        "evaluated": evaluated})  # fmt: skip


def _evaluate_with_customers(session: Session, customer_ids: list[int]) -> list[str]:
    """Under a rule set that reads customer totals, the open requests of a customer of
    several requests are evaluated again with its totals (a new version each, which the
    event lists); under the others nothing changes."""
    rules = {r.id: compiled(r) for r in session.execute(select(RuleSetVersion)).scalars()}
    if not any(r.reads_totals for r in rules.values()):
        return []
    counted, open_ids = totals.counting_of(session, customer_ids)
    now, done = utc_now(), []
    for cid, rid, ref in sorted(open_ids, key=lambda t: t[2]):
        req = session.get(Request, rid)
        assert req is not None
        ruleset = rules.get(req.rule_set_pk or -1)
        if ruleset is None or not ruleset.reads_totals:
            continue
        doc, parts = json.loads(req.document), parts_of(counted.get(cid, []))
        evaluation = evaluate_with(ruleset, doc, parts)
        text = compact_json(stored_with(ruleset, evaluation, parts, doc))
        if text != req.evaluation:
            req.evaluation, req.recommendation = text, evaluation.recommendation
            req.version, req.updated_at = req.version + 1, now
            done.append(ref)
    session.flush()
    return done


def downgrade() -> None:
    """The events stay (the audit trail is never shortened); the tables go."""
    op.drop_table("attachment_chunks")
    op.drop_table("attachments")
    op.drop_index("ix_requests_customer_id", table_name="requests")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_requests_customer_id_customers", "requests", type_="foreignkey")
    op.drop_column("requests", "customer_pinned")
    op.drop_column("requests", "customer_id")  # SQLite 3.35+: in place
    op.drop_table("customer_keys")
    op.drop_table("customers")
