"""Back office: the audit log of what distributors and admins did (payments, hours, trainings).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.persistence.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "backoffice_audit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("advisor_id", _ID, nullable=True),
        sa.Column("advisor_email", sa.String(length=254), nullable=False),
        sa.Column("distributor_id", _ID, nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"], ["advisors.id"], name="fk_backoffice_audit_advisor_id", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["distributor_id"], ["distributors.id"], name="fk_backoffice_audit_distributor_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("backoffice_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backoffice_audit_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("backoffice_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backoffice_audit_at"))
    op.drop_table("backoffice_audit")
