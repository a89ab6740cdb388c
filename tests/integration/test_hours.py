"""The hours ledger and paid support on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.persistence.database import sessionmaker
from bot.services.hours import HoursError, add_pack, charges, customer_id_for, ledger, log_session
from tests.factories import add_customer

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
RUC = "1792205859001"


async def _log(database: AsyncEngine, minutes: int, topic: str = "Firma electrónica"):  # type: ignore[no-untyped-def]
    async with sessionmaker(database).begin() as session:
        return await log_session(
            session,
            RUC,
            minutes,
            topic=topic,
            advisor="ana@sierra.ec",
            channel="phone",
            started_at=NOW,
            now=NOW,
            hourly_rate=Decimal("25.00"),
            iva_rate=Decimal("0.15"),
        )


async def _view(database: AsyncEngine):  # type: ignore[no-untyped-def]
    async with sessionmaker(database)() as session:
        return await ledger(session, await customer_id_for(session, RUC))


async def test_sessions_use_included_and_purchased_time_then_are_charged(
    database: AsyncEngine, settings: Settings
) -> None:
    await add_customer(database, settings)  # Pyme: 2 hours included
    _, charge = await _log(database, 25)
    assert charge is None
    view = await _view(database)
    assert (view.included_minutes, view.consumed_minutes, view.remaining_minutes) == (120, 25, 95)
    async with sessionmaker(database).begin() as session:
        assert await add_pack(session, RUC, Decimal("0.5"), NOW) == 30
    _, charge = await _log(database, 190, "Inventarios")  # 125 left: 65 minutes paid -> 2 hours
    assert charge is not None and (charge.hours_billed, charge.total) == (2, Decimal("57.50"))
    view = await _view(database)
    assert (view.purchased_minutes, view.consumed_minutes, view.remaining_minutes) == (30, 150, 0)
    assert [s.topic for s in view.recent][:2] == ["Inventarios", "Firma electrónica"]
    _, charge = await _log(database, 10)
    assert charge is not None and charge.total == Decimal("28.75")  # 10 minutes: one hour + IVA
    async with sessionmaker(database)() as session:
        listed = await charges(session)
    assert [row["total"] for row in listed] == ["57.50", "28.75"]


async def test_bad_input(database: AsyncEngine, settings: Settings) -> None:
    await add_customer(database, settings)
    with pytest.raises(HoursError, match="1 to 600"):
        await _log(database, 0)
    with pytest.raises(HoursError, match="1 to 600"):
        await _log(database, 100_000)
    async with sessionmaker(database).begin() as session:
        with pytest.raises(HoursError, match="no customer"):
            await add_pack(session, "0190000014001", Decimal(2), NOW)
        with pytest.raises(HoursError, match="positive"):
            await add_pack(session, RUC, Decimal("-1"), NOW)
        with pytest.raises(HoursError, match="whole minutes"):
            await add_pack(session, RUC, Decimal("0.001"), NOW)
    assert (await _view(database)).consumed_minutes == 0  # nothing half-written
