"""Reminder benchmark (`make bench`): 100,000 customers through the billing sweeps and the outbox.

Measures, median of --runs runs, on a fresh SQLite database each run:
- import of N customers (perseo-bot's importer);
- the invoice run: the sweep of the 25th that issues one invoice per customer and plans its
  "invoice issued" message;
- reminder planning: the sweep two days before the due day (one reminder per customer);
- outbox drain against a fake channel: unthrottled (the worker's own overhead) and with the
  channel rate configured (it should be the limit);
- peak RSS of the process.

Usage: python bench/reminders.py [--customers N] [--runs R] [--drain D] [--rate MSG_PER_S]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from make_customers import write  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bot.bootstrap import billing_rules, iva_schedule, pack_facts  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.persistence.database import create_engine, sessionmaker, upgrade  # noqa: E402
from bot.persistence.tables import OutboxRow, SubscriptionRow  # noqa: E402
from bot.services.billing import BillingSweeps, SweepReport  # noqa: E402
from bot.services.catalog import load_default_plans  # noqa: E402
from bot.services.notifications import Notifier, load_templates  # noqa: E402
from knowledge.pack import PACKS_DIR  # noqa: E402
from scheduler.delivery import Delivered, DeliveryWorker, SendWindow  # noqa: E402

EC = dt.timezone(dt.timedelta(hours=-5))


class FakeChannel:
    """Accepts everything at once: what is left to measure is the worker and the database."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, row: OutboxRow) -> Delivered:
        self.sent += 1
        return Delivered("fake")


async def one_run(customers: int, drain: int, rate: float, folder: Path) -> dict[str, float]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    csv_path = folder / "customers.csv"
    if not csv_path.exists():
        write(customers, csv_path)
    database_path = folder / "bench.db"
    database_path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite+aiosqlite:///{database_path}")
    await upgrade(engine)
    sessions = sessionmaker(engine)
    figures: dict[str, float] = {}
    async with sessions.begin() as session:
        await load_default_plans(session, pack_facts(settings)["plans"])
    await engine.dispose()
    # The import runs as its own process (`perseo-bot import customers`), so the peak RSS below
    # is that of the sweeps and the delivery worker, not of holding the CSV file.
    start = time.perf_counter()
    environment = {**os.environ, "PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{database_path}"}
    command = [str(Path(sys.executable).parent / "perseo-bot"), "import", "customers", str(csv_path)]
    subprocess.run(command, env=environment, check=True, capture_output=True)
    figures["import_s"] = time.perf_counter() - start
    async with sessions.begin() as session:
        # bill from 2030: the sweep of 25 January issues exactly one invoice per customer
        await session.execute(update(SubscriptionRow).values(billed_from=dt.date(2030, 1, 1)))

    sweeps = BillingSweeps(
        billing_rules(settings), iva_schedule(settings), Notifier(load_templates(PACKS_DIR / "perseo"))
    )
    for label, day in (("invoice_run_s", dt.date(2030, 1, 25)), ("reminder_planning_s", dt.date(2030, 2, 3))):
        moment = dt.datetime.combine(day, dt.time(14), tzinfo=dt.UTC)
        start = time.perf_counter()
        async with sessions.begin() as session:
            report: SweepReport = await sweeps.run(session, day, moment)
        figures[label] = time.perf_counter() - start
        figures[label.replace("_s", "_planned")] = report.reminders_planned

    window = SendWindow(dt.time(0), dt.time(23, 59, 59), dt.UTC)  # type: ignore[arg-type]
    moment = dt.datetime(2030, 2, 3, 15, tzinfo=dt.UTC)
    for label, rates in (("drain_unthrottled_per_s", None), ("drain_at_rate_per_s", {"email": rate})):
        channel = FakeChannel()
        worker = DeliveryWorker(sessions, {"email": channel}, window, batch=200, rates=rates)
        limit = drain if rates is None else int(rate * 5)
        start = time.perf_counter()
        await worker.run_once(moment, limit=limit)
        figures[label] = channel.sent / (time.perf_counter() - start)
    await engine.dispose()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drain", type=int, default=10_000, help="messages drained unthrottled")
    parser.add_argument("--rate", type=float, default=80.0, help="configured channel rate (WhatsApp: 80/s)")
    args = parser.parse_args()
    console = Console()
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(args.runs):
            with console.status(f"run {number + 1}/{args.runs} ({args.customers:,} customers)"):
                runs.append(asyncio.run(one_run(args.customers, args.drain, args.rate, Path(scratch))))
    table = Table(title=f"reminders benchmark: {args.customers:,} customers, median of {args.runs} runs")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in runs[0]:
        table.add_row(key, f"{statistics.median(r[key] for r in runs):,.2f}")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
