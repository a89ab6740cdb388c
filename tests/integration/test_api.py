"""The HTTP contract of the web chat, through the real app on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_engine
from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import create_engine, sessionmaker, upgrade
from bot.persistence.sql_store import SqlConversationStore
from bot.web.app import create_app
from tests.conftest import fixed_clock


@pytest.fixture
async def sqlite_db(tmp_path) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    database = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def client(settings: Settings, knowledge: Knowledge, sqlite_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    store = SqlConversationStore(sessionmaker(sqlite_db), fixed_clock)
    app = create_app(build_engine(settings, store, knowledge=knowledge, clock=fixed_clock), sqlite_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["articles"] >= 20


async def test_healthz_reports_an_unreachable_database(settings: Settings, knowledge: Knowledge, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'no.db'}")
    app = create_app(
        build_engine(settings, SqlConversationStore(sessionmaker(broken), fixed_clock), knowledge=knowledge),
        broken,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"


async def test_chat_contract(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat", json={"session_id": "s-1", "text": "clave del facturador??"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"replies", "fallback", "handoff"} and body["fallback"] is False and body["handoff"] is False
    assert isinstance(body["replies"][0]["text"], str) and isinstance(body["replies"][0]["options"], list)
    assert "01" in body["replies"][0]["text"]


async def test_session_continues_across_calls(client: httpx.AsyncClient) -> None:
    first = (await client.post("/api/chat", json={"session_id": "s-2", "text": "firma"})).json()
    assert first["fallback"] is True
    chosen = first["replies"][0]["options"][0]
    second = (await client.post("/api/chat", json={"session_id": "s-2", "text": "1"})).json()
    assert second["fallback"] is False
    tapped = (await client.post("/api/chat", json={"session_id": "s-3", "text": chosen})).json()
    assert tapped["replies"][0]["text"] == second["replies"][0]["text"]


async def test_fallback_flag(client: httpx.AsyncClient) -> None:
    body = (await client.post("/api/chat", json={"session_id": "s-4", "text": "cual es el mejor ceviche"})).json()
    assert body["fallback"] is True and "asesor" in body["replies"][0]["text"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "json"),
        (b'{"text": "hola"}', "session_id"),
        (b'{"session_id": "abc"}', "text"),
        (b'{"session_id": "abc", "text": 5}', "text"),
        (b'{"session_id": "", "text": "hola"}', "session_id"),
        (b'{"session_id": "a b<script>", "text": "hola"}', "session_id"),
        (b'["session_id", "text"]', ""),
    ],
)
async def test_invalid_requests_get_422_with_a_reason(client: httpx.AsyncClient, payload: bytes, reason: str) -> None:
    response = await client.post("/api/chat", content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert reason in response.text.lower()


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "0999999999", "ñ" * 10_001, "\x00\x01\x02", "hola 你好 مرحبا"])
async def test_odd_text_gets_a_polite_reply(client: httpx.AsyncClient, text: str) -> None:
    response = await client.post("/api/chat", json={"session_id": "odd", "text": text})
    assert response.status_code == 200
    assert response.json()["replies"][0]["text"]


async def test_oversized_text_and_body_are_refused(client: httpx.AsyncClient) -> None:
    too_long = await client.post("/api/chat", json={"session_id": "big", "text": "a" * 100_001})
    assert too_long.status_code == 422
    huge = await client.post("/api/chat", content=b"x" * 15_000_001, headers={"content-type": "application/json"})
    assert huge.status_code == 413


async def test_page_is_spanish_and_locked_down(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert 'lang="es-EC"' in response.text and "Primer ingreso a Perseo WEB" in response.text
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'self' only
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert (await client.get("/static/chat.js")).status_code == 200


async def test_attachment_contract(client: httpx.AsyncClient) -> None:
    import base64

    def attached(data: str) -> dict[str, object]:
        return {"filename": "r.pdf", "content_type": "application/pdf", "data_base64": data}

    pdf = base64.b64encode(b"%PDF-1.4 recibo").decode()
    ok = await client.post("/api/chat", json={"session_id": "f1", "text": "", "attachment": attached(pdf)})
    assert ok.status_code == 200, ok.text
    assert "no estoy esperando" in ok.json()["replies"][0]["text"]
    bad = await client.post("/api/chat", json={"session_id": "f1", "text": "", "attachment": attached("%%%")})
    assert bad.status_code == 422 and "base64" in bad.text
