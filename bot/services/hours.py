"""The hours ledger: included hours (the plan), purchased packs, sessions and paid support."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.hours import SupportCharge, charge_for, remaining_minutes, split_session
from bot.persistence.tables import (
    CustomerRow,
    HourPackRow,
    PlanRow,
    SupportChargeRow,
    SupportSessionRow,
)


class HoursError(ValueError):
    """Unknown customer or impossible numbers; the message says what to fix."""


@dataclass(frozen=True)
class SessionView:
    started_at: dt.datetime
    minutes: int
    topic: str
    advisor: str
    paid_minutes: int


@dataclass(frozen=True)
class HoursView:
    company: str
    plan: str
    included_minutes: int
    purchased_minutes: int
    consumed_minutes: int  # taken from the hours (paid support is not)
    remaining_minutes: int
    recent: tuple[SessionView, ...]  # newest first


async def ledger(session: AsyncSession, customer_id: int, recent: int = 3) -> HoursView:
    row = (
        await session.execute(
            select(CustomerRow.razon_social, PlanRow.name, PlanRow.included_hours)
            .join(PlanRow, PlanRow.id == CustomerRow.plan_id)
            .where(CustomerRow.id == customer_id)
        )
    ).one()
    purchased = (
        await session.execute(
            select(func.coalesce(func.sum(HourPackRow.minutes), 0)).where(HourPackRow.customer_id == customer_id)
        )
    ).scalar_one()
    consumed = (
        await session.execute(
            select(func.coalesce(func.sum(SupportSessionRow.covered_minutes), 0)).where(
                SupportSessionRow.customer_id == customer_id
            )
        )
    ).scalar_one()
    sessions = (
        await session.execute(
            select(SupportSessionRow)
            .where(SupportSessionRow.customer_id == customer_id)
            .order_by(SupportSessionRow.started_at.desc(), SupportSessionRow.id.desc())
            .limit(recent)
        )
    ).scalars()
    return HoursView(
        company=row.razon_social,
        plan=row.name,
        included_minutes=row.included_hours * 60,
        purchased_minutes=int(purchased),
        consumed_minutes=int(consumed),
        remaining_minutes=remaining_minutes(row.included_hours, int(purchased), int(consumed)),
        recent=tuple(SessionView(s.started_at, s.minutes, s.topic, s.advisor, s.paid_minutes) for s in sessions),
    )


async def customer_id_for(session: AsyncSession, ruc: str) -> int:
    found = (await session.execute(select(CustomerRow.id).where(CustomerRow.ruc == ruc))).scalar_one_or_none()
    if found is None:
        raise HoursError(f"no customer with RUC {ruc} (import it first: perseo-bot import customers FILE)")
    return int(found)


async def add_pack(session: AsyncSession, ruc: str, hours: Decimal, now: dt.datetime, note: str | None = None) -> int:
    """Add purchased hours (1.5 = 90 minutes); returns the minutes added."""
    minutes = hours * 60
    if hours <= 0 or hours > 1000 or minutes != minutes.to_integral_value():
        raise HoursError(f"{hours} hours: give a positive number of hours in whole minutes, up to 1000")
    customer_id = await customer_id_for(session, ruc)
    session.add(HourPackRow(customer_id=customer_id, minutes=int(minutes), note=note, created_at=now))
    return int(minutes)


async def log_session(
    session: AsyncSession,
    ruc: str,
    minutes: int,
    *,
    topic: str,
    advisor: str,
    channel: str,
    started_at: dt.datetime,
    now: dt.datetime,
    hourly_rate: Decimal,
    iva_rate: Decimal,
) -> tuple[int, SupportCharge | None]:
    """Record a session: its minutes come out of the hours left; any excess is charged."""
    if not topic.strip() or not advisor.strip():
        raise HoursError("a session needs a topic and an advisor")
    customer_id = await customer_id_for(session, ruc)
    before = await ledger(session, customer_id, recent=0)
    try:
        split = split_session(minutes, before.remaining_minutes)
    except ValueError as exc:
        raise HoursError(str(exc)) from None
    entry = SupportSessionRow(
        customer_id=customer_id,
        advisor=advisor.strip(),
        started_at=started_at,
        minutes=minutes,
        covered_minutes=split.covered_minutes,
        paid_minutes=split.paid_minutes,
        topic=topic.strip()[:300],
        channel=channel,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    charge = charge_for(split.paid_minutes, hourly_rate, iva_rate)
    if charge is not None:
        session.add(
            SupportChargeRow(
                session_id=entry.id,
                customer_id=customer_id,
                hours_billed=charge.hours_billed,
                subtotal=charge.subtotal,
                iva_rate=charge.iva_rate,
                iva=charge.iva,
                total=charge.total,
                created_at=now,
            )
        )
    return entry.id, charge


async def charges(session: AsyncSession) -> list[dict[str, object]]:
    query = (
        select(SupportChargeRow, SupportSessionRow, CustomerRow.ruc, CustomerRow.razon_social)
        .join(SupportSessionRow, SupportSessionRow.id == SupportChargeRow.session_id)
        .join(CustomerRow, CustomerRow.id == SupportChargeRow.customer_id)
        .order_by(SupportChargeRow.id)
    )
    return [
        {
            "id": c.id,
            "ruc": ruc,
            "company": company,
            "session_id": s.id,
            "started_at": s.started_at.isoformat(),
            "minutes": s.minutes,
            "paid_minutes": s.paid_minutes,
            "advisor": s.advisor,
            "topic": s.topic,
            "hours_billed": c.hours_billed,
            "subtotal": str(c.subtotal),
            "iva": str(c.iva),
            "total": str(c.total),
        }
        for c, s, ruc, company in (await session.execute(query)).all()
    ]
