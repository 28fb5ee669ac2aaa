"""requests keep the number of their current document version apart from the change counter

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("document_version", sa.Integer(), server_default="1", nullable=False)
        )
    op.execute(
        "UPDATE requests SET document_version = (SELECT max(v.version) FROM request_versions v "
        "WHERE v.request_id = requests.id) WHERE EXISTS (SELECT 1 FROM request_versions v "
        "WHERE v.request_id = requests.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("document_version")
