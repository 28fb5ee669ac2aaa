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

import getpass

from alembic import op
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from reviewer.models import AuditEvent, ChainHead
from reviewer.request import canonical_json
from reviewer.services.audit import event_hash, utc_now
from reviewer.services.verify import snapshot

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    session = Session(bind=op.get_bind())
    if not session.execute(select(func.count()).select_from(AuditEvent)).scalar_one():
        return
    head = session.execute(select(ChainHead).where(ChainHead.id == 1)).scalar_one()
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        login = None
    payload = snapshot(session)
    body = {"seq": head.seq + 1, "time": utc_now(), "actor": "upgrade", "os_login": login,
            "action": "baseline", "reference": None, "payload": payload}  # fmt: skip
    digest = event_hash(head.hash, body)
    session.execute(insert(AuditEvent.__table__).values(
        **{**body, "payload": canonical_json(payload)}, prev_hash=head.hash, hash=digest))
    session.execute(update(ChainHead).where(ChainHead.id == 1).values(seq=body["seq"], hash=digest))
    session.flush()


def downgrade() -> None:
    """The baseline event stays: the audit trail is never shortened."""
