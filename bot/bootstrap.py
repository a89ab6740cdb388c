"""The composition root: the one place that wires settings, knowledge, store and engine.

Heavy pieces are imported inside the functions that need them, so `perseo-bot ask` does not
pay for the web framework or the database driver.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.context import Knowledge
from bot.domain.billing import BillingRules
from bot.domain.facts import with_derived
from bot.domain.tax import IvaRate, parse_schedule
from bot.engine import Clock, Engine
from bot.router import Router
from bot.store import ConversationStore
from knowledge.pack import Pack, load_pack, read_facts, resolve_pack_dir
from knowledge.retrieval import Retriever, load_thresholds

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.channels.outbound import PushClient
    from bot.domain.trainings import Calendar
    from bot.persistence.sql_store import SqlConversationStore
    from bot.services.notifications import Notifier
    from scheduler.jobs import Ticker


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def pack_facts(settings: Settings) -> dict[str, Any]:
    return read_facts(resolve_pack_dir(settings.knowledge_pack))


def billing_rules(settings: Settings) -> BillingRules:
    return BillingRules.from_facts(pack_facts(settings)["billing"])


def iva_schedule(settings: Settings) -> list[IvaRate]:
    return parse_schedule(pack_facts(settings)["tax"]["iva"])


def build_notifier(settings: Settings) -> Notifier:
    """The proactive-message texts of the configured pack (reminders.yaml)."""
    from bot.services.notifications import Notifier, load_templates

    return Notifier(load_templates(resolve_pack_dir(settings.knowledge_pack)))


def build_calendar(settings: Settings) -> Calendar:
    """The pack's trainings.yaml (an empty calendar when the pack has none)."""
    import yaml

    from bot.domain.trainings import Calendar, parse_calendar

    path = resolve_pack_dir(settings.knowledge_pack) / "trainings.yaml"
    if not path.exists():
        return Calendar(settings.zone, (), ())
    return parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, settings.zone)


def build_knowledge(settings: Settings, clock: Clock = system_clock) -> Knowledge:
    pack_dir = resolve_pack_dir(settings.knowledge_pack)
    today = clock().astimezone(zoneinfo.ZoneInfo(settings.timezone)).date()
    facts = with_derived(read_facts(pack_dir), today)
    from bot.domain.trainings import schedule_text

    schedule = schedule_text(build_calendar(settings))
    if schedule and isinstance(facts.get("training"), dict):
        facts["training"]["schedule"] = schedule  # the calendar is the truth about when
    pack = load_pack(pack_dir, facts)
    return knowledge_from_pack(pack, pack_dir)


def knowledge_from_pack(pack: Pack, pack_dir: Path) -> Knowledge:
    """What the router knows, built from a loaded pack. Cross-validation (`bot.crossval`)
    builds it from a changed copy of the pack (questions or articles left out), so every
    index the understanding needs must be built here, from `pack`, and nowhere else."""
    return Knowledge(pack, Retriever(pack, load_thresholds(pack_dir)))


def build_engine(
    settings: Settings,
    store: ConversationStore,
    *,
    knowledge: Knowledge | None = None,
    clock: Clock = system_clock,
) -> Engine:
    knowledge = knowledge or build_knowledge(settings, clock)
    return Engine(Router(knowledge, settings.max_message_chars, settings.office_hours()), store, clock, settings.zone)


def build_ticker(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clients: Mapping[str, PushClient] | None = None
) -> Ticker:
    """The billing sweeps and the delivery worker, wired to the configured mail transport and
    to the chat platforms in `clients` (Telegram, WhatsApp)."""
    from bot.channels.outbound import ConversationSender, RoutingSender
    from bot.mail import build_mailer
    from bot.services.billing import BillingSweeps
    from scheduler.delivery import DeliveryWorker, EmailSender, SendWindow
    from scheduler.jobs import Ticker

    sweeps = BillingSweeps(billing_rules(settings), iva_schedule(settings), build_notifier(settings))
    email = EmailSender(build_mailer(settings), settings.mail_from)
    chats = ConversationSender(sessions, clients, email)
    senders = {"email": RoutingSender(sessions, email, chats, settings.reminder_channels), "chat": chats}
    window = SendWindow(settings.send_window_start, settings.send_window_end, settings.zone)
    worker = DeliveryWorker(
        sessions,
        senders,
        window,
        lease=dt.timedelta(seconds=settings.outbox_lease_seconds),
        batch=settings.outbox_batch,
    )
    return Ticker(sessions, sweeps, worker, settings.zone)


def build_sql_store(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> SqlConversationStore:
    """The conversation store whose turns can see and change customer accounts."""
    from bot.persistence.sql_store import SqlConversationStore
    from bot.services.accounts import SqlAccounts
    from bot.services.handoffs import SqlHandoffs
    from bot.services.trainings import SqlTrainings

    notifier = build_notifier(settings)
    key = settings.hashing_key()
    receipts = settings.receipts_dir
    office = settings.office_hours()
    calendar = build_calendar(settings)
    reminders = settings.reminder_minutes()
    limits = settings.verification_limits()
    return SqlConversationStore(
        sessions,
        system_clock,
        accounts=lambda session: SqlAccounts(session, key, notifier, receipts, limits, public_url=settings.public_url),
        handoffs=lambda session: SqlHandoffs(session, office),
        trainings=lambda session: SqlTrainings(session, calendar, notifier, reminders),
    )
