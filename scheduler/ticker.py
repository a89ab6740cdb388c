"""APScheduler 3 as a ticker inside `perseo-bot run`: it only calls the sweeps and the delivery
worker on an interval. Its job store is in memory and holds nothing that matters: every job
is an idempotent sweep over the database, so a restart or a second replica is harmless."""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from scheduler.jobs import Ticker

log = logging.getLogger("perseo.scheduler")


def start_ticker(ticker: Ticker, settings: Settings) -> AsyncIOScheduler:
    """Start the sweeps (every PERSEO_TICK_SECONDS) and delivery (every PERSEO_DELIVERY_SECONDS)."""

    async def sweeps() -> None:
        try:
            report, skipped = await ticker.sweep(dt.datetime.now(dt.UTC))
            if skipped:
                log.info("sweeps skipped: %s", skipped)
            elif report and (report.invoices_issued or report.suspended or report.reminders_planned):
                log.info("sweeps: %s", report)
        except Exception:
            log.exception("billing sweeps failed; they run again at the next tick")

    async def delivery() -> None:
        try:
            report = await ticker.worker.run_once(dt.datetime.now(dt.UTC))
            if report.handled:
                log.info(
                    "delivery: sent %d, retried %d, failed %d, cancelled %d, expired %d",
                    *(report.sent, report.retried, report.failed, report.cancelled, report.expired),
                )
        except Exception:
            log.exception("outbox delivery failed; it runs again at the next tick")

    scheduler = AsyncIOScheduler(
        timezone=settings.zone,
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
    )
    now = dt.datetime.now(settings.zone)
    scheduler.add_job(sweeps, "interval", seconds=settings.tick_seconds, id="sweeps", next_run_time=now)
    scheduler.add_job(delivery, "interval", seconds=settings.delivery_seconds, id="delivery", next_run_time=now)
    scheduler.start()
    return scheduler
