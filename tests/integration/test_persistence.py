"""The SQL store on SQLite and PostgreSQL: migrations, keys, durability, flow state, races."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.context import Knowledge
from bot.engine import Engine
from bot.messages import Message
from bot.persistence.database import sessionmaker, upgrade
from bot.persistence.sql_store import SqlConversationStore
from bot.persistence.tables import Base, ConversationRow, MessageRow
from bot.router import Router
from tests.conftest import fixed_clock

pytestmark = pytest.mark.postgres


def _engine(database: AsyncEngine, knowledge: Knowledge) -> Engine:
    store = SqlConversationStore(sessionmaker(database), fixed_clock)
    return Engine(Router(knowledge, 2000), store, fixed_clock)


async def _rows(database: AsyncEngine) -> list[MessageRow]:
    async with sessionmaker(database)() as session:
        return list((await session.execute(select(MessageRow).order_by(MessageRow.id))).scalars())


async def test_migrations_match_the_models_and_are_idempotent(database: AsyncEngine) -> None:
    await upgrade(database)  # a second run changes nothing

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with database.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_replies_and_state_are_stored(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    engine = _engine(database, knowledge)
    await engine.handle(message_factory("firma"))
    rows = await _rows(database)
    assert [r.direction for r in rows] == ["in", "out"]
    assert rows[0].processed_at is not None and rows[0].created_at.tzinfo is not None
    assert rows[1].source == "clarify" and rows[1].fallback is True and rows[1].options
    async with sessionmaker(database)() as session:
        conversation = (await session.execute(select(ConversationRow))).scalar_one()
    assert conversation.state is not None and conversation.state["flow"] == "clarify"


async def test_conversations_are_keyed_by_channel_and_user(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    engine = _engine(database, knowledge)
    await engine.handle(message_factory("hola", user="42", channel="webchat"))
    await engine.handle(message_factory("hola", user="42", channel="terminal"))
    await engine.handle(message_factory("gracias", user="42", channel="webchat"))
    async with sessionmaker(database)() as session:
        keys = (await session.execute(select(ConversationRow.channel, ConversationRow.external_user_id))).all()
    assert sorted(keys) == [("terminal", "42"), ("webchat", "42")]


async def test_flow_resumes_in_another_process(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    first = await _engine(database, knowledge).handle(message_factory("clave"))
    # a new store and engine: nothing shared in memory with the first one
    outcome = await _engine(database, knowledge).handle(message_factory("1"))
    assert outcome.source == first.meta["candidates"][0]


async def test_inbound_survives_a_crash_while_processing(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    class Exploding(Router):
        async def decide(self, turn, state):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    store = SqlConversationStore(sessionmaker(database), fixed_clock)
    with pytest.raises(RuntimeError):
        await Engine(Exploding(knowledge, 2000), store, fixed_clock).handle(message_factory("hola"))
    rows = await _rows(database)
    assert [(r.direction, r.text, r.processed_at) for r in rows] == [("in", "hola", None)]


async def test_concurrent_messages_of_one_new_conversation(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    """Ten messages at once from a new user: one conversation, every message in and answered."""
    engine = _engine(database, knowledge)
    texts = ["cual es la clave del facturador" + "?" * i for i in range(10)]
    outcomes = await asyncio.gather(*(engine.handle(message_factory(t, user="rush")) for t in texts))
    assert all(o.source == "clave-facturador" for o in outcomes)
    rows = await _rows(database)
    assert sorted(r.text for r in rows if r.direction == "in") == sorted(texts)
    assert sum(r.direction == "out" for r in rows) == 10
    assert all(r.processed_at is not None for r in rows if r.direction == "in")
    async with sessionmaker(database)() as session:
        assert (await session.execute(select(func.count()).select_from(ConversationRow))).scalar_one() == 1


async def test_text_postgres_cannot_hold_is_kept_visibly(
    database: AsyncEngine, knowledge: Knowledge, message_factory: Callable[..., Message]
) -> None:
    await _engine(database, knowledge).handle(message_factory("clave\x00 del facturador"))
    rows = await _rows(database)
    assert rows[0].text == "clave\ufffd del facturador"
    assert rows[1].source == "clave-facturador"


async def test_naive_datetimes_are_refused(database: AsyncEngine, knowledge: Knowledge) -> None:
    engine = _engine(database, knowledge)
    with pytest.raises(Exception, match="naive datetime"):
        await engine.handle(Message("webchat", "n", "hola", dt.datetime(2026, 1, 1, 12)))
