"""Hours ledger: purchased hour packs, support sessions and paid-support charges.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 06:32:12.949136
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import Money, Rate, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hour_packs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hour_packs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hour_packs_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "support_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("advisor", sa.String(length=200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("covered_minutes", sa.Integer(), nullable=False),
        sa.Column("paid_minutes", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("minutes > 0", name="ck_support_sessions_minutes"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_sessions_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "support_charges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hours_billed", sa.Integer(), nullable=False),
        sa.Column("subtotal", Money(), nullable=False),
        sa.Column("iva_rate", Rate(), nullable=False),
        sa.Column("iva", Money(), nullable=False),
        sa.Column("total", Money(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["support_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id"),
    )
    with op.batch_alter_table("support_charges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_charges_customer_id"), ["customer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("support_charges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_charges_customer_id"))

    op.drop_table("support_charges")
    with op.batch_alter_table("support_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_sessions_customer_id"))

    op.drop_table("support_sessions")
    with op.batch_alter_table("hour_packs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hour_packs_customer_id"))

    op.drop_table("hour_packs")
