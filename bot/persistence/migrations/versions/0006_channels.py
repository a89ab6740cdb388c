"""Telegram and WhatsApp: channel events (replay protection), reachability, the 24-hour window, outbox delivery status.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:48:49.583816
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import Json, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("payload", Json, nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "event_id", name="uq_channel_events_channel_event"),
    )
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_events_processed_at"), ["processed_at"], unique=False)

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_inbound_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("unreachable_at", UTCDateTime(), nullable=True))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", Json, nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("channel_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("channel_status_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_external_id"), ["external_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_external_id"))
        batch_op.drop_column("channel_status_at")
        batch_op.drop_column("channel_status")
        batch_op.drop_column("external_id")
        batch_op.drop_column("data")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")
        batch_op.drop_column("last_inbound_at")

    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_events_processed_at"))

    op.drop_table("channel_events")
