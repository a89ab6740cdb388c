"""Channel events: status (new, done, unusable, dead), reason and attempts, so an update of an
unusable shape is recorded and never processed, and a poison update is given up after a few tries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), server_default="new", nullable=False))
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    # Rows from before: finished ones are done; an unfinished one was tried once already.
    op.execute("UPDATE channel_events SET status = 'done', attempts = 1 WHERE processed_at IS NOT NULL")
    op.execute("UPDATE channel_events SET attempts = 1 WHERE processed_at IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("reason")
        batch_op.drop_column("status")
