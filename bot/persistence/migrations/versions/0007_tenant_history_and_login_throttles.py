"""Tenant isolation of handoffs (chat link history, where a handoff sits in its conversation,
unverified handoffs owned by the claiming advisor's distributor) and atomic login throttles.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:45:00.000000

Backfills, so existing data is isolated too: a claimed unverified handoff gets the claiming
advisor's distributor; every handoff gets the newest message of its conversation at its
request; every present chat link becomes the first entry of its conversation's history
(the links replaced before this migration were never kept, so nothing older is known).
Pending failed-login rows are dropped: the new counters start empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_link_history",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("distributor_id", ID, nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("after_message_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["distributor_id"], ["distributors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("chat_link_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_link_history_conversation_id"), ["conversation_id"], unique=False)

    op.create_table(
        "login_throttles",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("scope IN ('pair', 'address', 'email')", name="ck_login_throttles_scope"),
        sa.PrimaryKeyConstraint("scope", "email", "address"),
    )
    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttles_last_failure_at"), ["last_failure_at"], unique=False)

    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_email_at")
        batch_op.drop_index(batch_op.f("ix_login_attempts_address"))
    op.drop_table("login_attempts")

    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_message_id", ID, nullable=True))

    op.execute(
        "UPDATE handoffs SET distributor_id = "
        "(SELECT advisors.distributor_id FROM advisors WHERE advisors.id = handoffs.advisor_id) "
        "WHERE distributor_id IS NULL AND advisor_id IS NOT NULL"
    )
    op.execute(
        "UPDATE handoffs SET request_message_id = "
        "(SELECT max(messages.id) FROM messages WHERE messages.conversation_id = handoffs.conversation_id "
        "AND messages.created_at <= handoffs.requested_at)"
    )
    # Strictly before the link: a turn's replies share its timestamp, and they already belong
    # to the link (they name the company).
    op.execute(
        "INSERT INTO chat_link_history (conversation_id, customer_id, distributor_id, changed_at, after_message_id) "
        "SELECT chat_links.conversation_id, chat_links.customer_id, customers.distributor_id, chat_links.linked_at, "
        "COALESCE((SELECT max(messages.id) FROM messages WHERE messages.conversation_id = chat_links.conversation_id "
        "AND messages.created_at < chat_links.linked_at), 0) "
        "FROM chat_links JOIN customers ON customers.id = chat_links.customer_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("request_message_id")

    op.create_table(
        "login_attempts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_attempts_address"), ["address"], unique=False)
        batch_op.create_index("ix_login_attempts_email_at", ["email", "created_at"], unique=False)

    with op.batch_alter_table("login_throttles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttles_last_failure_at"))
    op.drop_table("login_throttles")

    with op.batch_alter_table("chat_link_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_link_history_conversation_id"))
    op.drop_table("chat_link_history")
