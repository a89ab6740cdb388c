"""The HTTP contract of the web chat, through the real app on a migrated SQLite database."""

from __future__ import annotations

import secrets
import uuid
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
from tests.factories import session_id

VALID_ID = session_id("valid")


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
    response = await client.post("/api/chat", json={"session_id": session_id("s-1"), "text": "clave del facturador??"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"replies", "fallback", "handoff"} and body["fallback"] is False and body["handoff"] is False
    assert isinstance(body["replies"][0]["text"], str) and isinstance(body["replies"][0]["options"], list)
    assert "01" in body["replies"][0]["text"]


async def test_session_continues_across_calls(client: httpx.AsyncClient) -> None:
    first = (await client.post("/api/chat", json={"session_id": session_id("s-2"), "text": "firma"})).json()
    assert first["fallback"] is True
    chosen = first["replies"][0]["options"][0]
    second = (await client.post("/api/chat", json={"session_id": session_id("s-2"), "text": "1"})).json()
    assert second["fallback"] is False
    tapped = (await client.post("/api/chat", json={"session_id": session_id("s-3"), "text": chosen})).json()
    assert tapped["replies"][0]["text"] == second["replies"][0]["text"]


async def test_fallback_flag(client: httpx.AsyncClient) -> None:
    body = (
        await client.post("/api/chat", json={"session_id": session_id("s-4"), "text": "cual es el mejor ceviche"})
    ).json()
    assert body["fallback"] is True and "asesor" in body["replies"][0]["text"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "json"),
        (b'{"text": "hola"}', "session_id"),
        (b'{"session_id": "%s"}' % VALID_ID.encode(), "text"),
        (b'{"session_id": "%s", "text": 5}' % VALID_ID.encode(), "text"),
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
    response = await client.post("/api/chat", json={"session_id": session_id("odd"), "text": text})
    assert response.status_code == 200
    assert response.json()["replies"][0]["text"]


async def test_oversized_text_and_body_are_refused(client: httpx.AsyncClient) -> None:
    too_long = await client.post("/api/chat", json={"session_id": session_id("big"), "text": "a" * 100_001})
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
    ok = await client.post("/api/chat", json={"session_id": session_id("f1"), "text": "", "attachment": attached(pdf)})
    assert ok.status_code == 200, ok.text
    assert "no estoy esperando" in ok.json()["replies"][0]["text"]
    bad = await client.post(
        "/api/chat", json={"session_id": session_id("f1"), "text": "", "attachment": attached("%%%")}
    )
    assert bad.status_code == 422 and "base64" in bad.text


# --- session ids are credentials (issue 10, item 8) -------------------------------------------


@pytest.mark.parametrize("short", ["1", "s1", "maria", "0" * 31])
async def test_short_session_ids_are_refused_with_a_reason(client: httpx.AsyncClient, short: str) -> None:
    """Anyone who guessed a short id read the advisor's messages and a linked chat's account."""
    posted = await client.post("/api/chat", json={"session_id": short, "text": "cuanto debo"})
    assert posted.status_code == 422 and "at least 32 characters" in posted.text, posted.text
    polled = await client.get("/api/chat/updates", params={"session_id": short})
    assert polled.status_code == 422 and "at least 32 characters" in polled.text, polled.text


@pytest.mark.parametrize(
    "made", [lambda: str(uuid.uuid4()), lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(32)]
)
async def test_uuids_and_long_random_ids_keep_working(client: httpx.AsyncClient, made) -> None:  # type: ignore[no-untyped-def]
    chat_id = made()
    first = await client.post("/api/chat", json={"session_id": chat_id, "text": "firma"})
    assert first.status_code == 200 and first.json()["fallback"] is True
    second = await client.post("/api/chat", json={"session_id": chat_id, "text": "1"})  # continues the menu
    assert second.status_code == 200 and second.json()["fallback"] is False
    polled = await client.get("/api/chat/updates", params={"session_id": chat_id})
    assert polled.status_code == 200 and polled.json()["handoff"] is None


# --- per-address throttle on POST /api/chat (issue 10, item 2) ---------------------------------


@pytest.fixture
def throttled_app(knowledge: Knowledge, sqlite_db: AsyncEngine):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, chat_burst=3, chat_rate_per_minute=60, trusted_proxies="10.0.0.0/8")  # type: ignore[call-arg]
    store = SqlConversationStore(sessionmaker(sqlite_db), fixed_clock)
    return create_app(
        build_engine(settings, store, knowledge=knowledge, clock=fixed_clock), sqlite_db, settings=settings
    )


def _from(app, address: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4321)), base_url="http://test")


async def _post(http: httpx.AsyncClient, forwarded: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return await http.post("/api/chat", json={"session_id": str(uuid.uuid4()), "text": "hola"}, headers=headers)


async def test_one_address_is_throttled_with_a_spanish_reason_and_retry_after(throttled_app) -> None:  # type: ignore[no-untyped-def]
    """New sessions used to buy unlimited requests; now one address gets a burst, then waits."""
    async with _from(throttled_app, "203.0.113.5") as client, _from(throttled_app, "198.51.100.7") as other:
        assert [(await _post(client)).status_code for _ in range(3)] == [200, 200, 200]
        refused = await _post(client)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert "Demasiados mensajes seguidos" in refused.json()["detail"]
        spoofed = await _post(client, forwarded="192.0.2.77")  # not from our proxy: the header is ignored
        assert spoofed.status_code == 429
        bad = await client.post("/api/chat", content=b"{not json", headers={"content-type": "application/json"})
        assert bad.status_code == 429  # counted before the body is read
        assert (await _post(other)).status_code == 200  # another address has its own bucket


async def test_the_servers_own_machine_is_not_throttled_unless_configured(throttled_app, knowledge, sqlite_db) -> None:  # type: ignore[no-untyped-def]
    """An evaluation run or a benchmark on the server itself sends hundreds of messages."""
    async with _from(throttled_app, "127.0.0.1") as local:
        assert {(await _post(local)).status_code for _ in range(6)} == {200}
    strict = Settings(_env_file=None, chat_burst=3, chat_rate_per_minute=60, chat_unthrottled="")  # type: ignore[call-arg]
    store = SqlConversationStore(sessionmaker(sqlite_db), fixed_clock)
    app = create_app(build_engine(strict, store, knowledge=knowledge, clock=fixed_clock), sqlite_db, settings=strict)
    async with _from(app, "127.0.0.1") as local:
        assert [(await _post(local)).status_code for _ in range(4)] == [200, 200, 200, 429]


async def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(throttled_app) -> None:  # type: ignore[no-untyped-def]
    async with _from(throttled_app, "10.0.0.2") as proxy:
        for _ in range(3):
            assert (await _post(proxy, forwarded="192.0.2.9")).status_code == 200
        # A client-written entry to the left changes nothing: the proxy appended the real peer.
        assert (await _post(proxy, forwarded="1.1.1.1, 192.0.2.9")).status_code == 429
        assert (await _post(proxy, forwarded="192.0.2.10")).status_code == 200  # another client
