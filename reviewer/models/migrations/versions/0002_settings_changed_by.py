"""organisation settings remember who changed them and when

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_by", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("updated_by")
