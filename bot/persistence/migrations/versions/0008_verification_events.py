"""Per-RUC verification limits: every code sent and every wrong code typed, from any chat.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ruc", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('code', 'wrong')", name="ck_verification_events_kind"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_events", schema=None) as batch_op:
        batch_op.create_index("ix_verification_events_ruc_kind_at", ["ruc", "kind", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verification_events", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_events_ruc_kind_at")
    op.drop_table("verification_events")
