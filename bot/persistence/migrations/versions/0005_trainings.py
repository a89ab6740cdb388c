"""Trainings: admin-added sessions, cancellations, sign-ups; messages.pushed; outbox.expires_at.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 07:36:59.698625
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_cancellations",
        sa.Column("session_id", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("join_url", sa.String(length=500), nullable=False),
        sa.Column("meeting_id", sa.String(length=50), nullable=False),
        sa.Column("passcode", sa.String(length=50), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "training_signups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=60), nullable=False),
        sa.Column("session_start", UTCDateTime(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "conversation_id", name="uq_training_signups_session_chat"),
    )
    with op.batch_alter_table("training_signups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_signups_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_signups_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_signups_session_start"), ["session_start"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pushed", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Advisors' messages were the only ones delivered outside a turn until now.
    op.execute("UPDATE messages SET pushed = true WHERE advisor_id IS NOT NULL")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("pushed")

    with op.batch_alter_table("training_signups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_signups_session_start"))
        batch_op.drop_index(batch_op.f("ix_training_signups_session_id"))
        batch_op.drop_index(batch_op.f("ix_training_signups_conversation_id"))

    op.drop_table("training_signups")
    op.drop_table("training_sessions")
    op.drop_table("training_cancellations")
