"""Plans: shipped defaults from the facts file, editable in the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.persistence.tables import PlanRow


async def load_default_plans(session: AsyncSession, plans: Iterable[Mapping[str, Any]]) -> int:
    """Insert the pack's plans that the database lacks; never overwrite an edited plan."""
    existing = set((await session.execute(select(PlanRow.name))).scalars())
    added = 0
    for plan in plans:
        if plan["name"] not in existing:
            session.add(
                PlanRow(
                    name=str(plan["name"]),
                    monthly_price=parse_price(str(plan["monthly_price"])),
                    included_hours=int(plan["included_hours"]),
                )
            )
            added += 1
    return added


async def set_plan(session: AsyncSession, name: str, price: Decimal | None, hours: int | None) -> PlanRow:
    plan = (await session.execute(select(PlanRow).where(PlanRow.name == name))).scalar_one_or_none()
    if plan is None:
        if price is None or hours is None:
            raise ValueError(f"plan {name!r} does not exist: give --price and --hours to create it")
        plan = PlanRow(name=name, monthly_price=price, included_hours=hours)
        session.add(plan)
    if price is not None:
        plan.monthly_price = price
    if hours is not None:
        plan.included_hours = hours
    return plan


def parse_price(text: str) -> Decimal:
    """A non-negative amount with at most two decimals."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount (use 30.00)") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{text!r}: an amount is positive with at most two decimals")
    return value.quantize(Decimal("0.01"))
