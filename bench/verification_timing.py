"""How long POST /api/chat takes to answer a RUC: a customer's vs a stranger's (issue 10, item 3).

If a customer's RUC took measurably longer than an unknown one (its code mail is written to
the outbox, a stranger's was not), the time alone would tell customers' RUCs apart. This sends
"cuanto debo" and then the RUC from a fresh chat each time, alternating a customer's RUC and an
unknown one, through the real app (ASGI, no network), and prints the median and p90 of the
second request for each, and the difference of the medians.

Usage: python bench/verification_timing.py [--runs N] [--database-url URL]
(default: a temporary SQLite file; PostgreSQL: postgresql+psycopg://root@127.0.0.1:5432/test,
in a schema of its own that is dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import build_engine, build_sql_store, pack_facts  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.persistence.database import create_engine, sessionmaker, upgrade  # noqa: E402
from bot.persistence.tables import CustomerRow, DistributorRow, PlanRow  # noqa: E402
from bot.services.catalog import load_default_plans  # noqa: E402
from bot.web.app import create_app  # noqa: E402

CUSTOMER_RUC = "1792205859001"
STRANGER_RUC = "0190000014001"


async def _add_customer(database, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    now = dt.datetime.now(dt.UTC)
    async with sessionmaker(database).begin() as session:
        await load_default_plans(session, pack_facts(settings)["plans"])
        await session.flush()
        plan = (await session.execute(select(PlanRow).limit(1))).scalar_one()
        distributor = DistributorRow(name="Distribuidora Sierra", email="ventas@sierra.ec")
        session.add(distributor)
        await session.flush()
        session.add(
            CustomerRow(
                ruc=CUSTOMER_RUC, razon_social="Comercial Andina S.A.", contact_name="María Pérez",
                email="maria@andina.ec", phone="+593991234567", plan_id=plan.id, signup_date=now.date(),
                distributor_id=distributor.id, created_at=now, updated_at=now,
            )
        )  # fmt: skip


async def measure(url: str, runs: int) -> dict[str, list[float]]:
    schema = None
    connect_args: dict[str, object] = {}
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url)
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await admin.dispose()
        connect_args = {"options": f"-csearch_path={schema}"}
    big = 1_000_000  # no limit may interfere with the measurement
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, secret_key="bench", chat_burst=big, chat_rate_per_minute=big,
        verify_codes_per_hour=big, verify_codes_per_day=big,
    )  # fmt: skip
    database = create_engine(url, connect_args=connect_args)
    try:
        await upgrade(database)
        await _add_customer(database, settings)
        store = build_sql_store(settings, sessionmaker(database))
        engine = build_engine(settings, store)
        try:
            app = create_app(engine, database, settings=settings)
        except TypeError:  # the code before issue 10 had no settings here
            app = create_app(engine, database)
        times: dict[str, list[float]] = {"customer": [], "unknown": []}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for n in range(runs * 2 + 20):
                kind, ruc = ("customer", CUSTOMER_RUC) if n % 2 == 0 else ("unknown", STRANGER_RUC)
                chat = str(uuid.uuid4())
                await http.post("/api/chat", json={"session_id": chat, "text": "cuanto debo"})
                started = time.perf_counter()
                response = await http.post("/api/chat", json={"session_id": chat, "text": ruc})
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200 and "***@" in response.text, response.text
                if n >= 20:  # warm-up
                    times[kind].append(elapsed)
        return times
    finally:
        await database.dispose()
        if schema:
            admin = create_engine(url)
            async with admin.begin() as connection:
                await connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="requests per kind of RUC")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        times = asyncio.run(measure(url, args.runs))
    medians = {}
    for kind, measured in times.items():
        values = sorted(measured)
        medians[kind] = statistics.median(values)
        p90 = values[int(len(values) * 0.9)]
        print(f"{kind:9} n={len(values)}  median {medians[kind]:.2f} ms  p90 {p90:.2f} ms")
    print(f"difference of medians (customer - unknown): {medians['customer'] - medians['unknown']:+.2f} ms")
    pairs = sorted(c - u for c, u in zip(times["customer"], times["unknown"], strict=True))
    low, high = pairs[len(pairs) // 4], pairs[(3 * len(pairs)) // 4]
    print(f"paired (customer request minus the unknown one after it): median {statistics.median(pairs):+.2f} ms")
    print(f"  interquartile range {low:+.2f} .. {high:+.2f} ms")


if __name__ == "__main__":
    main()
