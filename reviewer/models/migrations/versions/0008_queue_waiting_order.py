"""the queue's Waiting order served by an index either way

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:30:00

The queue sorts by "Waiting" on an expression (the requests waiting on us first, then by the
day received): without an index on that expression SQLite sorted a temporary table of every
request (about a second at a million). Two indexes hold it, one for each way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As the models write it (reviewer.models.WAITS_SQL) on the day of this revision.
WAITS = "(CASE WHEN (status IN ('new', 'in_review', 'awaiting_second')) THEN 0 ELSE 1 END)"


def upgrade() -> None:
    op.create_index("ix_requests_waiting", "requests", [sa.text(WAITS), "received_on"])
    op.create_index("ix_requests_waiting_recent", "requests", [sa.text(WAITS), sa.text("received_on DESC")])


def downgrade() -> None:
    op.drop_index("ix_requests_waiting_recent", table_name="requests")
    op.drop_index("ix_requests_waiting", table_name="requests")
