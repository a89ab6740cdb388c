"""No 500 for any input, and body limits on the stream: regressions of issue 10 (items 4 and 6),
through the real app on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import sessionmaker
from bot.persistence.tables import MessageRow
from bot.web.limits import CHAT_BODY_BYTES, limit_for
from tests.conftest import fixed_clock
from tests.factories import add_support_world, full_app
from tests.integration.test_handoff import advisor, only_handoff, say

pytestmark = pytest.mark.postgres

BIG = 2**63  # one more than a BIGINT holds


@pytest.fixture
async def app(database: AsyncEngine, settings: Settings, knowledge: Knowledge):  # type: ignore[no-untyped-def]
    await add_support_world(database, settings)
    return full_app(database, settings, knowledge, fixed_clock)


@pytest.fixture
async def customer(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def session_id() -> str:
    return str(uuid.uuid4())


async def post_json(http: httpx.AsyncClient, url: str, raw: str | bytes, **headers: str) -> httpx.Response:
    return await http.post(url, content=raw, headers={"content-type": "application/json", **headers})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("NaN", "nan"),
        ("Infinity", "infinity"),
        ("-Infinity", "infinity"),
        ("1e999", "out of range"),
        ("9" * 5000, "digits"),
        ("[" * 3000 + "]" * 3000, "nested"),
        ("[" * 200 + "]" * 200, "nested"),  # parses, but the 422 would recurse through it
        ('"\\ud800"', "surrogate"),
        ('"a\\udfffb"', "surrogate"),
    ],
)
async def test_json_a_database_or_encoder_cannot_hold_is_a_422_with_a_reason(
    customer: httpx.AsyncClient, value: str, reason: str
) -> None:
    for body in (
        f'{{"session_id": "{session_id()}", "text": {value}}}',
        f'{{"session_id": {value}, "text": "hola"}}',
        f'{{"session_id": "{session_id()}", "text": "", "attachment": {{"filename": {value}, '
        '"content_type": "image/png", "data_base64": "aGk="}}',
    ):
        response = await post_json(customer, "/api/chat", body)
        assert response.status_code == 422, (body[:80], response.status_code, response.text[:300])
        assert reason in response.text.lower()


async def test_lone_surrogates_and_nul_in_other_places(customer: httpx.AsyncClient) -> None:
    sid = session_id()
    nul = await customer.post("/api/chat", json={"session_id": sid, "text": "hola\x00 clave del facturador"})
    assert nul.status_code == 200 and "01" in nul.json()["replies"][0]["text"]  # customer text drops NUL
    assert (await customer.post("/api/chat", json={"session_id": sid + "\x00", "text": "hola"})).status_code == 422
    bad_key = await post_json(customer, "/api/chat", f'{{"session_id": "{sid}", "text": "x", "\\ud800": 1}}')
    assert bad_key.status_code == 422 and "surrogate" in bad_key.text
    assert (await customer.get("/api/chat/updates?session_id=%ED%A0%80&after=1")).status_code == 422


async def test_ids_and_cursors_beyond_bigint_are_a_422(app, customer: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    for after in (BIG, 2**64, 10**30):
        response = await customer.get("/api/chat/updates", params={"session_id": session_id(), "after": after})
        assert response.status_code == 422 and "less than or equal" in response.text
    andrea = await advisor(app, "andrea@sierra.ec")
    for handoff_id in (BIG, 2**64, -1, 0):
        for method, path, body in (
            ("GET", f"/console/api/handoffs/{handoff_id}", None),
            ("POST", f"/console/api/handoffs/{handoff_id}/claim", None),
            ("POST", f"/console/api/handoffs/{handoff_id}/reply", {"text": "hola"}),
            ("POST", f"/console/api/handoffs/{handoff_id}/close", {"minutes": 5, "topic": "x"}),
        ):
            response = await andrea.request(method, path, json=body)
            assert response.status_code == 422, (method, path, response.status_code)
        page = await andrea.get(f"/console/handoffs/{handoff_id}")  # a page: no such conversation, in Spanish
        assert page.status_code == 404 and "No encontramos esa página" in page.text, handoff_id
    await andrea.aclose()


async def test_non_ascii_csrf_tokens_are_refused_not_crashed(app, customer: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    await say(customer, "quiero hablar con un asesor", session=session_id())
    andrea = await advisor(app, "andrea@sierra.ec")
    handoff = await only_handoff(app.state.database)
    forged = await andrea.post(f"/console/api/handoffs/{handoff.id}/claim", headers={"X-CSRF-Token": b"\xc3\xb1"})
    assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
    logout = await andrea.post("/console/logout", data={"csrf": "ñandú"})
    assert logout.status_code == 303
    login = await customer.post("/console/login", data={"email": "a@b.ec", "password": "x", "csrf": "ñandú"})
    assert login.status_code == 403
    await andrea.aclose()


async def test_nul_in_an_advisors_reply_and_topic_is_stored(app, customer: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    await say(customer, "quiero hablar con un asesor", session=session_id())
    handoff = await only_handoff(app.state.database)
    andrea = await advisor(app, "andrea@sierra.ec")
    base = f"/console/api/handoffs/{handoff.id}"
    assert (await andrea.post(base + "/claim")).status_code == 200
    reply = await andrea.post(base + "/reply", json={"text": "Hola\x00, le ayudo"})
    assert reply.status_code == 200, reply.text
    closed = await andrea.post(base + "/close", json={"minutes": 5, "topic": "Firma\x00"})
    assert closed.status_code == 200, closed.text
    async with sessionmaker(app.state.database)() as session:
        stored = await session.execute(select(MessageRow.text).where(MessageRow.id == reply.json()["message_id"]))
        assert "\x00" not in stored.scalar_one()
    await andrea.aclose()


# --- body limits ---------------------------------------------------------------------------------


def test_each_route_has_its_own_limit() -> None:
    assert limit_for("/api/chat") == CHAT_BODY_BYTES
    assert limit_for("/api/chat/updates") < 100_000
    assert limit_for("/console/api/handoffs/1/reply") < 1_000_000
    assert limit_for("/console/login") < 1_000_000
    assert limit_for("/webhooks/telegram") <= 1024 * 1024
    assert limit_for("/webhooks/whatsapp") <= 3 * 1024 * 1024
    assert limit_for("/anything/else") < 100_000


async def test_a_chunked_upload_is_stopped_at_the_limit(customer: httpx.AsyncClient) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"session_id": "x", "text": "'
        for _ in range(40):  # 40 MB, announced by no Content-Length
            sent += 1
            yield b"a" * 1_000_000
        yield b'"}'

    response = await customer.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and str(CHAT_BODY_BYTES) in response.json()["detail"]
    assert sent <= 16  # it stopped reading at the limit instead of taking the whole body


async def test_the_console_and_webhooks_have_small_limits(app, customer: httpx.AsyncClient) -> None:  # type: ignore[no-untyped-def]
    andrea = await advisor(app, "andrea@sierra.ec")

    async def chunked(size: int) -> AsyncIterator[bytes]:
        yield b'{"text": "' + b"a" * size + b'"}'

    reply = await andrea.post("/console/api/handoffs/1/reply", content=chunked(300_000))
    assert reply.status_code == 413 and "demasiado grande" in reply.json()["detail"]  # the console speaks Spanish
    declared = await andrea.post("/console/api/handoffs/1/reply", content=b"{" * 300_000)
    assert declared.status_code == 413
    form = await customer.post("/console/login", content=chunked(2_000_000))
    assert form.status_code == 413
    fine = await andrea.post("/console/api/handoffs/999999/reply", json={"text": "ñ" * 4000})
    assert fine.status_code == 404  # a reply of the largest size fits (and is then judged on its merits)
    escaped = json.dumps({"text": "ñ" * 20_000}, ensure_ascii=True)  # 120 KB: the model's limit, all escaped
    judged = await andrea.post(
        "/console/api/handoffs/999999/reply", content=escaped, headers={"content-type": "application/json"}
    )
    assert judged.status_code == 422 and "supera" in judged.text
    await andrea.aclose()
