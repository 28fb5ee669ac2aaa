"""an audited baseline: the state an upgraded database starts from, so verify replays from it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00

Events written before this revision do not carry everything verify now replays (the body
hash of a decision awaiting its check). An upgrade of a database that holds events appends one
`baseline` event with the state of its tables, in the same transaction as the migration;
verify replays from the last baseline. A new database needs none.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reviewer.models import AuditEvent
from reviewer.services.audit import append_upgrade_event
from reviewer.services.verify import snapshot

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    session = Session(bind=op.get_bind())
    if not session.execute(select(func.count()).select_from(AuditEvent)).scalar_one():
        return
    append_upgrade_event(session, "baseline", snapshot(session))


def downgrade() -> None:
    """The baseline event stays: the audit trail is never shortened."""
