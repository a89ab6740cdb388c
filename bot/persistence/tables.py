"""Table definitions. Alembic migrations in `migrations/versions` create them; keep both in step
(`tests/integration/test_persistence.py` checks the migrated schema matches these models)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware in Python, UTC in the database, whatever the backend keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware value")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite returns what it stored: UTC without an offset
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """Decimal dollars in Python, integer cents in the database (exact on SQLite too)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{value} has fractions of a cent")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


class Rate(TypeDecorator[Decimal]):
    """A tax rate such as 0.15, stored as text so no backend rounds it."""

    impl = String(12)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_user_id", name="uq_conversations_channel_user"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_user_id: Mapped[str] = mapped_column(String(255))
    state: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The customer's last message (WhatsApp's 24-hour window; "the channel they last used").
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The platform refuses to deliver here (the user blocked the bot): nothing more is sent.
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (CheckConstraint("direction IN ('in', 'out')", name="ck_messages_direction"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str] | None] = mapped_column(Json, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fallback: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Delivered outside a turn (an advisor's reply, a reminder): channels fetch or push these.
    pushed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Written by a person in the console (a relayed reply or a handoff notice), not by the bot.
    advisor_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("advisors.id", ondelete="SET NULL", name="fk_messages_advisor_id"), nullable=True
    )


class DistributorRow(Base):
    __tablename__ = "distributors"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(254))


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    monthly_price: Mapped[Decimal] = mapped_column(Money())  # before IVA
    included_hours: Mapped[int] = mapped_column(Integer)


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ruc: Mapped[str] = mapped_column(String(13), unique=True)
    razon_social: Mapped[str] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    plan_id: Mapped[int] = mapped_column(Id, ForeignKey("plans.id"))
    signup_date: Mapped[dt.date] = mapped_column(Date)
    distributor_id: Mapped[int] = mapped_column(Id, ForeignKey("distributors.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SubscriptionRow(Base):
    """One contract. A customer who returns after the end gets a new row."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'suspended', 'cancelling', 'ended')", name="ck_subscriptions_state"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(Id, ForeignKey("plans.id"))
    monthly_price: Mapped[Decimal] = mapped_column(Money())  # the price agreed at signup
    signup_date: Mapped[dt.date] = mapped_column(Date)
    # The first issue date this system bills: invoices before it belong to the distributor's
    # previous system (an imported customer is not re-billed for the past).
    billed_from: Mapped[dt.date] = mapped_column(Date)
    cancelled_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "sequence", name="uq_invoices_subscription_sequence"),
        CheckConstraint("status IN ('issued', 'reported', 'paid', 'overdue', 'void')", name="ck_invoices_status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(Id, ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    subtotal: Mapped[Decimal] = mapped_column(Money())
    iva_rate: Mapped[Decimal] = mapped_column(Rate())
    iva: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(10), default="issued")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PaymentReportRow(Base):
    __tablename__ = "payment_reports"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name="ck_reports_status"),
        CheckConstraint("method IN ('deposito', 'transferencia')", name="ck_reports_method"),
        # at most one report under review or accepted per invoice
        Index(
            "uq_reports_open_invoice",
            "invoice_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'confirmed')"),
            postgresql_where=text("status IN ('pending', 'confirmed')"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    invoice_id: Mapped[int] = mapped_column(Id, ForeignKey("invoices.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(Id, ForeignKey("conversations.id"), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_on: Mapped[dt.date] = mapped_column(Date)
    bank: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(15))
    reference: Mapped[str] = mapped_column(String(60))
    receipt_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ChatLinkRow(Base):
    """A conversation verified as belonging to a customer (a company may have several)."""

    __tablename__ = "chat_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ChatLinkHistoryRow(Base):
    """Every change of a conversation's verified account, kept for good: linked to a customer
    (and so to that customer's distributor) or unlinked (both None). `chat_links` holds only
    the present; the console needs the past to show an advisor only the stretch of a
    conversation that belonged to nobody or to the advisor's own distributor."""

    __tablename__ = "chat_link_history"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True)
    distributor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("distributors.id"), nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The conversation's newest message when the change happened: later messages (larger ids)
    # were written under this link. Ids, not times: one turn's messages share a timestamp.
    after_message_id: Mapped[int] = mapped_column(Id)


class LinkCodeRow(Base):
    """A pending verification: the code is kept only as an HMAC."""

    __tablename__ = "link_codes"
    __table_args__ = (UniqueConstraint("conversation_id", "ruc", name="uq_link_codes_conversation_ruc"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"))
    ruc: Mapped[str] = mapped_column(String(13))
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class VerificationEventRow(Base):
    """A verification code sent for a RUC, or a wrong code typed for it, from any chat: the
    per-RUC limits count these (bot.domain.verification). Kept for a day."""

    __tablename__ = "verification_events"
    __table_args__ = (
        CheckConstraint("kind IN ('code', 'wrong')", name="ck_verification_events_kind"),
        Index("ix_verification_events_ruc_kind_at", "ruc", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    ruc: Mapped[str] = mapped_column(String(13))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """Every proactive message. The idempotency key makes planning it twice a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="ck_outbox_status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="CASCADE"), nullable=True, index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(Id, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))  # "email", "webchat", ...
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)  # which worker holds it
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # After this the message is pointless (a reminder of a training that has started): cancelled.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)  # template parameters
    external_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)  # e.g. the wamid
    channel_status: Mapped[str | None] = mapped_column(String(20), nullable=True)  # delivered, read, failed
    channel_status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SchedulerStateRow(Base):
    """The latest time a tick ran (to notice a clock moved backwards)."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class HourPackRow(Base):
    """Implementation hours bought on top of the plan's."""

    __tablename__ = "hour_packs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SupportSessionRow(Base):
    """Time an advisor spent with a customer: what came out of their hours, what was paid."""

    __tablename__ = "support_sessions"
    __table_args__ = (CheckConstraint("minutes > 0", name="ck_support_sessions_minutes"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    advisor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    covered_minutes: Mapped[int] = mapped_column(Integer)
    paid_minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SupportChargeRow(Base):
    """Paid support for one session: every started hour beyond the customer's hours."""

    __tablename__ = "support_charges"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(Id, ForeignKey("support_sessions.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    hours_billed: Mapped[int] = mapped_column(Integer)
    subtotal: Mapped[Decimal] = mapped_column(Money())
    iva_rate: Mapped[Decimal] = mapped_column(Rate())
    iva: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AdvisorRow(Base):
    """A person who answers customers in the console. Admins see every distributor."""

    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    distributor_id: Mapped[int] = mapped_column(Id, ForeignKey("distributors.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ConsoleSessionRow(Base):
    """A logged-in console tab. The cookie holds a random token; only its SHA-256 is kept."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    advisor_id: Mapped[int] = mapped_column(Id, ForeignKey("advisors.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LoginThrottleRow(Base):
    """Console login attempts that did not (yet) succeed, one counter per scope: "pair" (an
    e-mail from one address), "address" (any e-mail from one address), "email" (one e-mail
    from anywhere; the unused part is ""). An attempt is counted *before* its password is
    checked, by a conditional UPDATE, so concurrent attempts can never pass the limit."""

    __tablename__ = "login_throttles"
    __table_args__ = (CheckConstraint("scope IN ('pair', 'address', 'email')", name="ck_login_throttles_scope"),)

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class HandoffRow(Base):
    """A conversation handed to a person: waiting in the queue, owned by an advisor, then
    closed (or left by the customer). At most one open handoff per conversation."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'active', 'closed', 'left')", name="ck_handoffs_status"),
        CheckConstraint("minutes IS NULL OR minutes > 0", name="ck_handoffs_minutes"),
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'active')"),
            postgresql_where=text("status IN ('waiting', 'active')"),
        ),
        Index("ix_handoffs_status_requested", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )  # None: an unverified chat
    # The customer's distributor; for an unverified chat None while it waits (any advisor may
    # take it), then the distributor of the advisor who claimed it: theirs from then on.
    distributor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("distributors.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    reason: Mapped[str] = mapped_column(String(20))  # request, fallback, flow
    question: Mapped[str | None] = mapped_column(Text, nullable=True)  # what the customer asked last
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The conversation's newest message when the handoff was requested: where the handoff sits
    # in the conversation's link history (`chat_link_history.after_message_id`).
    request_message_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    advisor_id: Mapped[int | None] = mapped_column(Id, ForeignKey("advisors.id"), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    support_session_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("support_sessions.id", ondelete="SET NULL"), nullable=True
    )
    # Paid support: the price the customer saw and accepted before joining the queue.
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consent_hourly: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    consent_iva_rate: Mapped[Decimal | None] = mapped_column(Rate(), nullable=True)
    consent_total: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    consent_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TrainingSessionRow(Base):
    """A one-off training an admin added (`perseo-bot trainings add`); the series live in
    the pack's trainings.yaml."""

    __tablename__ = "training_sessions"

    id: Mapped[str] = mapped_column(String(60), primary_key=True)  # "extra-20261210-1000"
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(200))
    join_url: Mapped[str] = mapped_column(String(500))
    meeting_id: Mapped[str] = mapped_column(String(50))
    passcode: Mapped[str] = mapped_column(String(50))
    seats: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TrainingCancellationRow(Base):
    """A session (of a series, of the file or added) that will not take place."""

    __tablename__ = "training_cancellations"

    session_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    reason: Mapped[str] = mapped_column(String(300))
    cancelled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TrainingSignupRow(Base):
    """A chat signed up to a session (and the customer, when the chat is linked)."""

    __tablename__ = "training_signups"
    __table_args__ = (UniqueConstraint("session_id", "conversation_id", name="uq_training_signups_session_chat"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(60), index=True)
    session_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    conversation_id: Mapped[int] = mapped_column(Id, ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the latest sign-up, if re-signed
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ChannelEventRow(Base):
    """Every update a platform sent us, stored before it is processed: a replayed update id
    (Telegram) or message id (WhatsApp, which retries for days) is recognised and ignored.

    `status`: "new" (stored, not finished), "done", "unusable" (a payload of a shape the bot
    cannot use: acknowledged and never processed) or "dead" (processing failed `attempts`
    times: given up, with an alert). `reason` says why for the last two (for "new", the last
    error). `processed_at` is when it finished, whichever way."""

    __tablename__ = "channel_events"
    __table_args__ = (UniqueConstraint("channel", "event_id", name="uq_channel_events_channel_event"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class BackofficeAuditRow(Base):
    """Who did what in the back office, and when: payments confirmed or rejected, hours added,
    trainings added or cancelled. Admins read it at /console/backoffice/audit."""

    __tablename__ = "backoffice_audit"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    advisor_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("advisors.id", ondelete="SET NULL", name="fk_backoffice_audit_advisor_id"), nullable=True
    )
    advisor_email: Mapped[str] = mapped_column(String(254))  # kept if the advisor is removed
    distributor_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("distributors.id", name="fk_backoffice_audit_distributor_id"), nullable=True
    )  # whose customer it concerned; None for trainings (shared by all)
    action: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)
