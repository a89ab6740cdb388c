"""`import customers`: validation of every row, all-or-nothing, idempotent upsert by RUC."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import pack_facts
from bot.config import Settings
from bot.persistence.database import sessionmaker
from bot.persistence.tables import CustomerRow, DistributorRow, SubscriptionRow
from bot.services.catalog import load_default_plans
from bot.services.importer import ImportRejected, import_customers

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
HEADER = "ruc,razon_social,contacto,email,telefono,plan,fecha_alta,distribuidor,email_distribuidor\n"
GOOD = (
    "1792205859001,Comercial Andina S.A.,María Pérez,maria@andina.ec,0991234567,Pyme,2026-11-12,"
    "Distribuidora Sierra,ventas@sierra.ec\n"
    "0190000014001,Ferretería Austro Cía. Ltda.,Juan León,juan@austro.ec,+593 2 245 6789,emprendedor,"
    "01/10/2026,Distribuidora Sierra,ventas@sierra.ec\n"
)


@pytest.fixture
async def db(database: AsyncEngine, settings: Settings) -> AsyncEngine:
    async with sessionmaker(database).begin() as session:
        await load_default_plans(session, pack_facts(settings)["plans"])
    return database


async def _import(db: AsyncEngine, path: Path):  # type: ignore[no-untyped-def]
    async with sessionmaker(db).begin() as session:
        return await import_customers(session, path, NOW, NOW.date())


async def _count(db: AsyncEngine, table) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker(db)() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def test_import_normalises_and_opens_subscriptions(db: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "clientes.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    summary = await _import(db, path)
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    async with sessionmaker(db)() as session:
        customers = {c.ruc: c for c in (await session.execute(select(CustomerRow))).scalars()}
        subscriptions = list((await session.execute(select(SubscriptionRow))).scalars())
    assert customers["1792205859001"].phone == "+593991234567"
    assert customers["0190000014001"].phone == "+59322456789"
    assert customers["0190000014001"].signup_date == dt.date(2026, 10, 1)
    prices = {s.customer_id: s.monthly_price for s in subscriptions}
    assert prices[customers["1792205859001"].id] == Decimal("55.00")  # Pyme
    assert prices[customers["0190000014001"].id] == Decimal("30.00")  # Emprendedor
    assert len(subscriptions) == 2 and await _count(db, DistributorRow) == 1


async def test_reimporting_the_same_file_changes_nothing(db: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "clientes.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    await _import(db, path)
    async with sessionmaker(db)() as session:
        before = [(c.id, c.updated_at) for c in (await session.execute(select(CustomerRow))).scalars()]
    summary = await _import(db, path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2)
    async with sessionmaker(db)() as session:
        after = [(c.id, c.updated_at) for c in (await session.execute(select(CustomerRow))).scalars()]
    assert before == after and await _count(db, SubscriptionRow) == 2


async def test_a_changed_row_is_updated(db: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "clientes.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    await _import(db, path)
    path.write_text(HEADER + GOOD.replace("maria@andina.ec", "pagos@andina.ec"), encoding="utf-8")
    summary = await _import(db, path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)


async def test_json_with_the_same_keys(db: AsyncEngine, tmp_path: Path) -> None:
    keys = HEADER.strip().split(",")
    rows = [dict(zip(keys, line.split(","), strict=True)) for line in GOOD.strip().splitlines()]
    path = tmp_path / "clientes.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    assert (await _import(db, path)).created == 2


async def test_any_bad_row_imports_nothing_and_every_problem_is_listed(db: AsyncEngine, tmp_path: Path) -> None:
    bad = (
        "1714325221001,Mala S.A.,Ana,ana@mala.ec,0991234567,Pyme,2026-11-01,"
        "Distribuidora Sierra,ventas@sierra.ec\n"
        "1792205859001,Repetida S.A.,Luis,luis@@mal,12,Oro,31/02/2026,Distribuidora Sierra,otra@sierra.ec\n"
        ",,,,,,,,\n"
    )
    path = tmp_path / "clientes.csv"
    path.write_text(HEADER + GOOD + bad, encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        await _import(db, path)
    problems = {(e.line, e.field) for e in rejected.value.errors}
    assert (4, "ruc") in problems  # the letter's cédula as a RUC: wrong check digit
    assert {(5, "ruc"), (5, "email"), (5, "telefono"), (5, "plan"), (5, "fecha_alta")} <= problems
    assert (5, "email_distribuidor") in problems  # same distributor, another e-mail
    assert {(6, "ruc"), (6, "razon_social"), (6, "contacto"), (6, "email")} <= problems
    assert await _count(db, CustomerRow) == 0 and await _count(db, DistributorRow) == 0


async def test_missing_columns_are_reported(db: AsyncEngine, tmp_path: Path) -> None:
    path = tmp_path / "clientes.csv"
    path.write_text("ruc,razon_social\n1792205859001,X\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as rejected:
        await _import(db, path)
    assert {e.field for e in rejected.value.errors} >= {"email", "plan", "fecha_alta"}
