"""Migration 0007 isolates the handoffs that existed before it (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.persistence.database import alembic_config, sessionmaker, upgrade
from bot.persistence.tables import ChatLinkHistoryRow, HandoffRow, Id, UTCDateTime
from tests.factories import PYME_RUC, add_advisor, add_customer, add_distributor

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)

conversations = sa.table(
    "conversations", sa.column("id", Id), sa.column("channel"), sa.column("external_user_id"),
    sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()),
)  # fmt: skip
messages = sa.table(
    "messages", sa.column("id", Id), sa.column("conversation_id", Id), sa.column("direction"), sa.column("text"),
    sa.column("created_at", UTCDateTime()), sa.column("pushed", sa.Boolean()),
)  # fmt: skip
handoffs = sa.table(
    "handoffs", sa.column("id", Id), sa.column("conversation_id", Id), sa.column("status"), sa.column("reason"),
    sa.column("requested_at", UTCDateTime()), sa.column("advisor_id", Id), sa.column("claimed_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)  # fmt: skip
chat_links = sa.table(
    "chat_links", sa.column("conversation_id", Id), sa.column("customer_id", Id), sa.column("linked_at", UTCDateTime())
)


async def _downgrade(database: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with database.begin() as connection:
        await connection.run_sync(run)


async def test_existing_handoffs_and_links_are_backfilled(database: AsyncEngine, settings: Settings) -> None:
    await add_customer(database, settings, ruc=PYME_RUC)  # Distribuidora Sierra's
    await add_distributor(database, "Distribuidora Costa", "ventas@costa.ec")
    await add_advisor(database, "carla@costa.ec", "clave-de-prueba-123", distributor="Distribuidora Costa")
    await _downgrade(database, "0006")
    # As 0006 left it: Costa took an unverified chat, later linked to Sierra's customer.
    async with database.begin() as db:
        row = {"id": 1, "channel": "webchat", "external_user_id": "u", "created_at": T0, "updated_at": T0}
        await db.execute(sa.insert(conversations).values(**row))
        at = [T0, T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1, seconds=1)]
        for n, (direction, when) in enumerate(zip(["in", "out", "in", "out"], at, strict=True), start=1):
            row = {"id": n, "conversation_id": 1, "direction": direction, "text": f"m{n}", "created_at": when}
            await db.execute(sa.insert(messages).values(**row, pushed=False))
        carla = (await db.execute(sa.text("SELECT id FROM advisors WHERE email = 'carla@costa.ec'"))).scalar_one()
        row = {"id": 1, "conversation_id": 1, "status": "closed", "reason": "request", "requested_at": T0}
        await db.execute(sa.insert(handoffs).values(**row, advisor_id=carla, claimed_at=T0, updated_at=T0))
        customer = (await db.execute(sa.text(f"SELECT id FROM customers WHERE ruc = '{PYME_RUC}'"))).scalar_one()
        await db.execute(sa.insert(chat_links).values(conversation_id=1, customer_id=customer, linked_at=at[3]))
    await upgrade(database)
    async with sessionmaker(database)() as session:
        handoff = await session.get(HandoffRow, 1)
        costa = (
            await session.execute(sa.text("SELECT id FROM distributors WHERE name = 'Distribuidora Costa'"))
        ).scalar()
        history = (await session.execute(sa.select(ChatLinkHistoryRow))).scalars().all()
        sierra = (
            await session.execute(sa.text(f"SELECT distributor_id FROM customers WHERE id = {customer}"))
        ).scalar()
    assert handoff is not None and handoff.distributor_id == costa and handoff.request_message_id == 2
    assert [(h.conversation_id, h.customer_id, h.distributor_id, h.after_message_id) for h in history] == [
        (1, customer, sierra, 3)  # the reply sent with the link (same time) already belongs to it
    ]
