"""Test data: a customer with a subscription, created through the real tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import pack_facts
from bot.config import Settings
from bot.persistence.database import sessionmaker
from bot.persistence.tables import CustomerRow, DistributorRow, PlanRow, SubscriptionRow
from bot.services.catalog import load_default_plans


async def add_customer(
    database: AsyncEngine,
    settings: Settings,
    *,
    signup: dt.date = dt.date(2026, 11, 12),
    ruc: str = "1792205859001",
    email: str = "maria@andina.ec",
    plan_name: str = "Pyme",
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
            ruc=ruc, razon_social="Comercial Andina S.A.", contact_name="María Pérez", email=email,
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
