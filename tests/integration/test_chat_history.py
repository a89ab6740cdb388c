"""The conversation so far (`store.history`, `GET /api/chat/history`): what a reloaded web chat
page shows again, on SQLite and PostgreSQL and in memory."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_engine
from bot.channels.webchat import HISTORY_MESSAGES, MIN_SESSION_ID_CHARS
from bot.config import Settings
from bot.context import Knowledge
from bot.messages import Message, Outcome
from bot.persistence.database import sessionmaker
from bot.persistence.sql_store import SqlConversationStore
from bot.persistence.tables import AdvisorRow, ConversationRow, MessageRow
from bot.store import ChatLine, InMemoryConversationStore, pending_options
from tests.conftest import FIXED_NOW, fixed_clock
from tests.factories import add_advisor, add_distributor, full_app

SESSION = "s" * MIN_SESSION_ID_CHARS  # the shortest id the API takes
OTHER = "o" * 40


def said(outcome: Outcome) -> list[tuple[str, str, tuple[str, ...]]]:
    return [("bot", r.text, r.options) for r in outcome.replies]


def lines(history: list[ChatLine]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(line.role, line.text, line.options) for line in history]


@pytest.mark.parametrize(
    ("history", "pending"),
    [
        ([], ()),
        ([ChatLine(1, "customer", "hola"), ChatLine(2, "bot", "¡Hola!", ("A", "B"))], ("A", "B")),
        ([ChatLine(1, "bot", "Elija", ("A",)), ChatLine(2, "customer", "A")], ()),  # answered
        ([ChatLine(1, "bot", "Elija", ("A",)), ChatLine(2, "bot", "Y además…")], ("A",)),  # a later plain reply
        ([ChatLine(1, "bot", "Elija", ("A",)), ChatLine(2, "advisor", "Hola, soy Andrea")], ("A",)),
        ([ChatLine(1, "advisor", "¿Algo más?")], ()),
    ],
)
def test_pending_options_are_the_last_offered_while_the_customer_has_not_answered(
    history: list[ChatLine], pending: tuple[str, ...]
) -> None:
    assert pending_options(history) == pending


async def test_sql_history_is_the_chat_in_order_with_roles_and_options(
    database: AsyncEngine, settings: Settings, knowledge: Knowledge
) -> None:
    store = SqlConversationStore(sessionmaker(database), fixed_clock)
    engine = build_engine(settings, store, knowledge=knowledge, clock=fixed_clock)
    first = await engine.handle(Message("webchat", SESSION, "hola", FIXED_NOW))
    second = await engine.handle(Message("webchat", SESSION, "formas de pago", FIXED_NOW))
    await engine.handle(Message("webchat", OTHER, "otra persona", FIXED_NOW))
    await engine.handle(Message("telegram", SESSION, "mismo id, otro canal", FIXED_NOW))
    await add_distributor(database, "Distribuidora Sierra", "ventas@sierra.ec")
    await add_advisor(database, "andrea@sierra.ec", "clave-de-prueba-123")
    async with sessionmaker(database).begin() as session:  # as the console relays a reply
        advisor = (await session.execute(select(AdvisorRow.id))).scalar_one()
        conversation = (
            (await session.execute(select(ConversationRow.id).where(ConversationRow.external_user_id == SESSION)))
            .scalars()
            .first()
        )
        session.add(
            MessageRow(
                conversation_id=conversation, direction="out", text="Hola, soy Andrea", created_at=FIXED_NOW,
                advisor_id=advisor, pushed=True,
            )
        )  # fmt: skip

    history = await store.history("webchat", SESSION, HISTORY_MESSAGES)
    expected = [("customer", "hola", ()), *said(first), ("customer", "formas de pago", ()), *said(second)]
    assert lines(history) == [*expected, ("advisor", "Hola, soy Andrea", ())]
    assert [line.id for line in history] == sorted(line.id for line in history)
    assert lines(await store.history("webchat", SESSION, 2)) == lines(history)[-2:]  # the most recent
    assert await store.history("webchat", "nadie" * 8, HISTORY_MESSAGES) == []
    assert lines(await store.history("telegram", SESSION, 10))[0] == ("customer", "mismo id, otro canal", ())


async def test_memory_history_matches(settings: Settings, knowledge: Knowledge) -> None:
    store = InMemoryConversationStore()
    engine = build_engine(settings, store, knowledge=knowledge, clock=fixed_clock)
    first = await engine.handle(Message("cli", "u1", "hola", FIXED_NOW))
    await engine.handle(Message("cli", "u2", "otra", FIXED_NOW))
    assert lines(await store.history("cli", "u1", 50)) == [("customer", "hola", ()), *said(first)]
    assert lines(await store.history("cli", "u1", 1)) == said(first)[-1:]
    assert await store.history("cli", "nobody", 50) == []


@pytest.fixture
async def client(database: AsyncEngine, settings: Settings, knowledge: Knowledge):  # type: ignore[no-untyped-def]
    app = full_app(database, settings, knowledge, fixed_clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_history_endpoint_returns_the_chat_and_its_pending_options(client: httpx.AsyncClient) -> None:
    hello = (await client.post("/api/chat", json={"session_id": SESSION, "text": "hola"})).json()
    assert hello["replies"][-1]["options"]  # the greeting offers topics
    response = await client.get("/api/chat/history", params={"session_id": SESSION})
    assert response.status_code == 200
    body = response.json()
    replies = [{"role": "bot", "text": r["text"]} for r in hello["replies"]]
    assert body["messages"] == [{"role": "customer", "text": "hola"}, *replies]
    assert body["options"] == hello["replies"][-1]["options"]
    # Polling from the history's cursor never shows again what the history showed.
    updates = (await client.get("/api/chat/updates", params={"session_id": SESSION, "after": body["cursor"]})).json()
    assert body["cursor"] > 0 and updates["messages"] == []

    tapped = hello["replies"][-1]["options"][0]
    await client.post("/api/chat", json={"session_id": SESSION, "text": tapped})
    after = (await client.get("/api/chat/history", params={"session_id": SESSION})).json()
    assert after["messages"][2] == {"role": "customer", "text": tapped}
    assert after["cursor"] > body["cursor"]


async def test_history_is_bounded_and_long_texts_are_cut(client: httpx.AsyncClient) -> None:
    for number in range(HISTORY_MESSAGES // 2 + 1):  # every message gets at least one reply
        await client.post("/api/chat", json={"session_id": SESSION, "text": f"hola {number}"})
    await client.post("/api/chat", json={"session_id": SESSION, "text": "á" * 9_000})
    body = (await client.get("/api/chat/history", params={"session_id": SESSION})).json()
    assert len(body["messages"]) == HISTORY_MESSAGES
    assert "hola 0" not in [m["text"] for m in body["messages"]]
    long = next(m["text"] for m in body["messages"] if m["text"].startswith("áá"))
    assert len(long) == 4_000 and long.endswith("…")


async def test_history_needs_a_valid_session_id_and_tells_nothing_about_others(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat", json={"session_id": SESSION, "text": "hola"})
    refused = [
        {"session_id": "s" * (MIN_SESSION_ID_CHARS - 1)},  # too short to be a credential
        {"session_id": "s" * 129},
        {"session_id": "x" * 31 + "/"},
        {},
    ]
    for query in refused:
        response = await client.get("/api/chat/history", params=query)
        assert response.status_code == 422 and "session_id" in response.text, query
    unknown = await client.get("/api/chat/history", params={"session_id": "u" * MIN_SESSION_ID_CHARS})
    assert unknown.status_code == 200  # not 404: the answer says nothing about which ids exist
    assert unknown.json() == {"messages": [], "options": [], "cursor": 0}
