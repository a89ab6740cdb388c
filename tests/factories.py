"""Test data: a customer with a subscription, created through the real tables."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import pack_facts
from bot.config import Settings
from bot.persistence.database import sessionmaker
from bot.persistence.tables import ConversationRow, CustomerRow, DistributorRow, PlanRow, SubscriptionRow
from bot.services import chat_links
from bot.services.catalog import load_default_plans


async def add_customer(
    database: AsyncEngine,
    settings: Settings,
    *,
    signup: dt.date = dt.date(2026, 11, 12),
    ruc: str = "1792205859001",
    email: str = "maria@andina.ec",
    plan_name: str = "Pyme",
    company: str = "Comercial Andina S.A.",
) -> int:
    """A customer and its subscription (billed from signup); returns the subscription id."""
    now = dt.datetime.combine(signup, dt.time(13), tzinfo=dt.UTC)
    async with sessionmaker(database).begin() as session:
        await load_default_plans(session, pack_facts(settings)["plans"])
        await session.flush()
        plan = (await session.execute(select(PlanRow).where(PlanRow.name == plan_name))).scalar_one()
        distributor = (
            await session.execute(select(DistributorRow).where(DistributorRow.name == "Distribuidora Sierra"))
        ).scalar_one_or_none()
        if distributor is None:
            distributor = DistributorRow(name="Distribuidora Sierra", email="ventas@sierra.ec")
            session.add(distributor)
            await session.flush()
        customer = CustomerRow(
            ruc=ruc, razon_social=company, contact_name="María Pérez", email=email,
            phone="+593991234567", plan_id=plan.id, signup_date=signup, distributor_id=distributor.id,
            created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        subscription = SubscriptionRow(
            customer_id=customer.id, plan_id=plan.id, monthly_price=plan.monthly_price,
            signup_date=signup, billed_from=signup, state="active", created_at=now,
        )  # fmt: skip
        session.add(subscription)
        await session.flush()
        return subscription.id


def full_app(database: AsyncEngine, settings: Settings, knowledge: object, clock: Callable[[], dt.datetime]) -> FastAPI:
    """The web app wired like `perseo-bot run` (accounts, handoffs, trainings, the console), on `clock`."""
    from bot.bootstrap import build_calendar, build_engine, build_notifier
    from bot.persistence.sql_store import SqlConversationStore
    from bot.services.accounts import SqlAccounts
    from bot.services.handoffs import SqlHandoffs
    from bot.services.trainings import SqlTrainings
    from bot.web.app import create_app

    notifier = build_notifier(settings)
    office = settings.office_hours()
    calendar = build_calendar(settings)
    reminders = settings.reminder_minutes()
    store = SqlConversationStore(
        sessionmaker(database),
        clock,
        accounts=lambda session: SqlAccounts(
            session, b"test-key", notifier, settings.receipts_dir, settings.verification_limits()
        ),
        handoffs=lambda session: SqlHandoffs(session, office),
        trainings=lambda session: SqlTrainings(session, calendar, notifier, reminders),
    )
    engine = build_engine(settings, store, knowledge=knowledge, clock=clock)  # type: ignore[arg-type]
    return create_app(engine, database, calendar=calendar, settings=settings)


def session_id(name: str) -> str:
    """A web-chat session id the API accepts (a UUID), stable for a readable test name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"perseo-test:{name}"))


async def link_chat(database: AsyncEngine, user_id: str, ruc: str, channel: str = "webchat") -> int:
    """A chat already verified as the customer's (as after the RUC + code dialogue)."""
    now = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)
    async with sessionmaker(database).begin() as session:
        conversation = ConversationRow(channel=channel, external_user_id=user_id, created_at=now, updated_at=now)
        session.add(conversation)
        await session.flush()
        customer_id = (await session.execute(select(CustomerRow.id).where(CustomerRow.ruc == ruc))).scalar_one()
        await chat_links.link(session, conversation.id, customer_id, now)
        return conversation.id


async def add_distributor(database: AsyncEngine, name: str, email: str) -> None:
    async with sessionmaker(database).begin() as session:
        session.add(DistributorRow(name=name, email=email))


async def add_advisor(
    database: AsyncEngine, email: str, password: str, distributor: str = "Distribuidora Sierra", admin: bool = False
) -> None:
    from bot.services.advisors import add_advisor as create

    async with sessionmaker(database).begin() as session:
        await create(
            session, email, name=email.split("@")[0].title(), distributor=distributor, password=password,
            is_admin=admin, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )  # fmt: skip


PYME_RUC = "1792205859001"  # Comercial Andina, plan Pyme: 2 hours included
NO_HOURS_RUC = "1790012345001"  # Ferretería El Tornillo, plan Emprendedor: none
ADVISOR_PASSWORD = "clave-de-prueba-123"


async def add_support_world(database: AsyncEngine, settings: Settings) -> None:
    """The handoff tests' customers (one with hours, one without, both of Distribuidora
    Sierra) and Sierra's advisor andrea@sierra.ec."""
    await add_customer(database, settings, ruc=PYME_RUC)
    await add_customer(
        database, settings, ruc=NO_HOURS_RUC, email="luis@tornillo.ec", plan_name="Emprendedor",
        company="Ferretería El Tornillo",
    )  # fmt: skip
    await add_advisor(database, "andrea@sierra.ec", ADVISOR_PASSWORD)
