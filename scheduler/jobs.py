"""One tick: the billing sweeps (single replica), then outbox delivery (many workers)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence.database import dialect_of
from bot.persistence.tables import SchedulerStateRow
from bot.services.billing import BillingSweeps, SweepReport
from scheduler.delivery import DeliveryReport, DeliveryWorker

SWEEP_LOCK = 7_274_201  # pg_try_advisory_xact_lock key of the billing sweeps
LAST_SWEEP = "last_sweep"


@dataclass
class TickReport:
    now: dt.datetime
    sweeps: SweepReport | None
    skipped: str | None
    delivery: DeliveryReport


class Ticker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sweeps: BillingSweeps,
        worker: DeliveryWorker,
        zone: zoneinfo.ZoneInfo,
    ) -> None:
        self.sessions = sessions
        self.sweeps = sweeps
        self.worker = worker
        self.zone = zone

    async def tick(self, now: dt.datetime, *, deliver: bool = True) -> TickReport:
        sweeps, skipped = await self.sweep(now)
        delivery = await self.worker.run_once(now) if deliver else DeliveryReport()
        return TickReport(now, sweeps, skipped, delivery)

    async def sweep(self, now: dt.datetime) -> tuple[SweepReport | None, str | None]:
        """Run the sweeps unless another process is running them or the clock went back."""
        async with self.sessions.begin() as session:
            if dialect_of(session) == "postgresql":
                locked = (
                    await session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK})
                ).scalar()
                if not locked:
                    return None, "another process is running the sweeps"
            # (SQLite: this transaction began with BEGIN IMMEDIATE, so it is already exclusive.)
            last = await session.get(SchedulerStateRow, LAST_SWEEP)
            if last is not None and now < last.value:
                return None, (
                    f"the clock is behind the last sweep ({last.value.isoformat()}): sweeps wait until "
                    "it passes that time; nothing is undone"
                )
            report = await self.sweeps.run(session, now.astimezone(self.zone).date(), now)
            insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
            statement = insert(SchedulerStateRow).values(name=LAST_SWEEP, value=now)
            await session.execute(
                statement.on_conflict_do_update(index_elements=["name"], set_={"value": statement.excluded.value})
            )
            return report, None
