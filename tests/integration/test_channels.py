"""Telegram and WhatsApp end to end: the real app and webhooks, python-telegram-bot and httpx
talking real HTTP to local fake Bot API and Graph API servers (tests/fakes.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_engine, build_notifier
from bot.channels.messaging import build_messaging
from bot.channels.outbound import ConversationSender, RoutingSender
from bot.config import Settings
from bot.context import Knowledge
from bot.mail import DirectoryMailer
from bot.persistence.database import sessionmaker
from bot.persistence.sql_store import SqlConversationStore
from bot.persistence.tables import ChannelEventRow, ConversationRow, OutboxRow
from bot.services.accounts import SqlAccounts
from bot.web.app import create_app
from scheduler.delivery import DeliveryWorker, EmailSender, SendWindow
from scheduler.outbox import OutboxMessage, enqueue
from tests.factories import add_customer, link_chat
from tests.fakes import (
    GRAPH_VERSION,
    PHONE_ID,
    TOKEN,
    WA_TOKEN,
    FakeGraph,
    FakeTelegram,
    blocked,
    graph_error,
    too_many,
)
from tests.servers import running

pytestmark = pytest.mark.postgres

SECRET = "tg-webhook-secret"
APP_SECRET = "meta-app-secret"
VERIFY = "verify-me-please"
EC = dt.timezone(dt.timedelta(hours=-5))


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with running(fake.app()) as url:
        yield fake, url


@pytest.fixture(scope="module")
def graph_server() -> Iterator[tuple[FakeGraph, str]]:
    fake = FakeGraph()
    with running(fake.app()) as url:
        fake.base = url
        yield fake, url


@pytest.fixture
def tg(telegram_server: tuple[FakeTelegram, str]) -> FakeTelegram:
    fake, _ = telegram_server
    fake.calls.clear(), fake.script.clear(), fake.updates.clear()
    return fake


@pytest.fixture
def wa(graph_server: tuple[FakeGraph, str]) -> FakeGraph:
    fake, _ = graph_server
    fake.calls.clear(), fake.script.clear()
    return fake


@pytest.fixture
def channel_settings(telegram_server: tuple[FakeTelegram, str], graph_server: tuple[FakeGraph, str]) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_token=TOKEN,
        telegram_api_url=f"{telegram_server[1]}/bot",
        telegram_webhook_secret=SECRET,
        whatsapp_token=WA_TOKEN,
        whatsapp_phone_number_id=PHONE_ID,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY,
        whatsapp_api_url=f"{graph_server[1]}/{GRAPH_VERSION}",
        telegram_rate=1000,
    )


@pytest.fixture
async def wired(
    database: AsyncEngine, channel_settings: Settings, knowledge: Knowledge, tg: FakeTelegram, wa: FakeGraph
):  # type: ignore[no-untyped-def]
    sessions = sessionmaker(database)
    notifier = build_notifier(channel_settings)
    store = SqlConversationStore(
        sessions, lambda: dt.datetime.now(dt.UTC), accounts=lambda s: SqlAccounts(s, b"k", notifier)
    )
    engine = build_engine(channel_settings, store, knowledge=knowledge)
    messaging = build_messaging(channel_settings, sessions, engine, lambda: dt.datetime.now(dt.UTC))
    await messaging.start()
    app = create_app(engine, database, messaging=messaging)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http, messaging, sessions
    await messaging.stop()


def tg_update(update_id: int, text: str | None = None, chat_id: int = 111, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id * 10,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
        "from": {"id": abs(chat_id), "is_bot": False, "first_name": "Ana"},
        **extra,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


async def tg_post(http: httpx.AsyncClient, payload: Any, secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return await http.post("/webhooks/telegram", json=payload, headers=headers)


# --- Telegram -----------------------------------------------------------------------------------


async def test_telegram_conversation_through_the_webhook(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    start = await tg_post(http, tg_update(1, "/start"))
    assert start.json() == {"status": "handled"}
    greeting = tg.sent(111)[-1].params
    assert "Soy el asistente virtual de Perseo WEB" in greeting["text"]
    keyboard = greeting["reply_markup"]["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "o:0"
    answer = await tg_post(http, tg_update(2, "con que clave entro la primera vez"))
    assert answer.json()["status"] == "handled" and "123" in tg.sent(111)[-1].params["text"]

    tapped = keyboard[2][0]["text"]  # a button of the greeting: the bot answers what it says
    callback = {
        "update_id": 3,
        "callback_query": {
            "id": "cb-1", "chat_instance": "x", "data": "o:2",
            "from": {"id": 111, "is_bot": False, "first_name": "Ana"},
            "message": {"message_id": 10, "date": int(time.time()), "chat": {"id": 111, "type": "private"}},
        },
    }  # fmt: skip
    await tg_post(http, callback)
    assert any(c.method == "answerCallbackQuery" for c in tg.calls)
    assert tapped == "Formas de pago" and "transferencia" in tg.sent(111)[-1].params["text"]


async def test_telegram_refuses_a_wrong_or_missing_secret(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    assert (await tg_post(http, tg_update(1, "hola"), secret="nope")).status_code == 403
    assert (await tg_post(http, tg_update(1, "hola"), secret=None)).status_code == 403
    assert tg.sent() == []


async def test_a_replayed_telegram_update_is_answered_once(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    first, again = await tg_post(http, tg_update(7, "hola")), await tg_post(http, tg_update(7, "hola"))
    assert (first.json()["status"], again.json()["status"]) == ("handled", "duplicate")
    assert len(tg.sent(111)) == 1


async def test_telegram_bad_input_gets_2xx_and_a_clear_answer(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    malformed = await http.post(
        "/webhooks/telegram", content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert malformed.status_code == 200 and "ignored" in malformed.json()["status"]
    assert (await tg_post(http, {"something": "else"})).json()["status"].startswith("ignored")
    edited = {"update_id": 20, "edited_message": tg_update(20, "edit")["message"]}
    assert (await tg_post(http, edited)).json()["status"] == "ignored"
    sticker_file = {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1}
    sticker = tg_update(21, sticker={**sticker_file, "is_animated": False, "is_video": False, "type": "regular"})
    await tg_post(http, sticker)
    assert "texto, fotos y documentos" in tg.sent(111)[-1].params["text"]
    await tg_post(http, tg_update(22, "a" * 50_000))
    assert "muy largo" in tg.sent(111)[-1].params["text"]
    assert len(tg.sent(111)) == 2  # the edit got no answer


async def test_telegram_groups_answer_only_when_addressed(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    await tg_post(http, tg_update(30, "alguien sabe la clave del facturador?", chat_id=-500))
    assert tg.sent(-500) == []
    await tg_post(http, tg_update(31, "@perseo_bot cual es la clave del facturador", chat_id=-500))
    assert "01" in tg.sent(-500)[-1].params["text"]


async def test_telegram_document_is_downloaded(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    tg.files["documents/doc-1"] = b"%PDF-1.4 comprobante"
    document = {"file_id": "doc-1", "file_unique_id": "doc-1", "file_name": "recibo.pdf"}
    document |= {"mime_type": "application/pdf", "file_size": 20}
    await tg_post(http, tg_update(40, document=document))
    assert any(c.method == "getFile" for c in tg.calls)
    assert "Recibí su archivo" in tg.sent(111)[-1].params["text"]


async def test_a_429_holds_only_that_chat_and_a_403_marks_it_unreachable(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, sessions = wired
    tg.fail_next(201, *too_many(2))
    started = time.monotonic()
    await asyncio.gather(
        tg_post(http, tg_update(50, "hola", chat_id=201)), tg_post(http, tg_update(51, "hola", chat_id=202))
    )
    other, held = tg.sent(202)[0].at - started, tg.sent(201)[-1].at - started
    assert other < 1.0 <= 2.0 <= held + 0.05  # 202 went at once; 201 waited its 2 s, then got the answer
    tg.fail_next(203, *blocked())
    await tg_post(http, tg_update(52, "hola", chat_id=203))
    async with sessions() as session:
        chat = (
            await session.execute(select(ConversationRow).where(ConversationRow.external_user_id == "203"))
        ).scalar_one()
    assert chat.unreachable_at is not None


async def test_polling_answers_and_acknowledges_updates(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    _, messaging, _ = wired
    tg.updates.append(tg_update(60, "formas de pago", chat_id=301))
    stop = asyncio.Event()
    poller = asyncio.create_task(messaging.telegram.poll(stop))
    for _ in range(200):  # until answered and confirmed (the next getUpdates carries the offset)
        if tg.sent(301) and any(c.method == "getUpdates" and c.params.get("offset") == 61 for c in tg.calls):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(poller, timeout=30)
    assert "transferencia" in tg.sent(301)[0].params["text"]
    assert [c.params.get("offset") for c in tg.calls if c.method == "getUpdates"][-1] == 61  # confirmed


async def test_a_burst_of_200_proactive_messages_is_paced(wired, tg: FakeTelegram, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    _, messaging, sessions = wired
    messaging.telegram.client.pacer.interval = 1 / 100  # 100 messages/s for the test (30 in production)
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        for n in range(200):
            session.add(
                ConversationRow(channel="telegram", external_user_id=str(1000 + n), created_at=now, updated_at=now)
            )
        await session.flush()
        ids = (await session.execute(select(ConversationRow.id).where(ConversationRow.channel == "telegram"))).scalars()
        for conversation_id in ids:
            await enqueue(
                session,
                OutboxMessage(f"t:{conversation_id}", "advisor_reply", "chat", str(conversation_id), "", "Aviso"),
                now,
            )
    worker = DeliveryWorker(
        sessions,
        {"chat": ConversationSender(sessions, messaging.clients())},
        SendWindow(dt.time(0), dt.time(23, 59), EC),
    )
    report = await worker.run_once(now)
    times = sorted(c.at for c in tg.sent())
    assert report.sent == 200 and len(times) == 200
    assert times[-1] - times[0] >= 199 / 100 * 0.9  # never faster than the rate


# --- WhatsApp -----------------------------------------------------------------------------------


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def wa_payload(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> bytes:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": PHONE_ID}}
    if messages:
        value["contacts"] = [{"profile": {"name": "Rosa"}, "wa_id": messages[0]["from"]}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


def wa_text(message_id: str, text: str, sender: str = "593991234567") -> dict[str, Any]:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


async def wa_post(wired, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:  # type: ignore[no-untyped-def]
    http, messaging, _ = wired
    response = await http.post(
        "/webhooks/whatsapp", content=body, headers=headers if headers is not None else signed(body)
    )
    await messaging.whatsapp.drain()
    return response


async def test_whatsapp_verification_handshake(wired) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    ok = await http.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    bad = await http.get(
        "/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}
    )
    assert bad.status_code == 403


async def test_whatsapp_conversation_replays_and_signatures(wired, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    body = wa_payload(wa_text("wamid.A1", "hola"))
    assert (await wa_post(wired, body, headers={"Content-Type": "application/json"})).status_code == 403
    assert (await wa_post(wired, body, headers=signed(body, "wrong-secret"))).status_code == 403
    assert wa.sent() == []
    accepted = await wa_post(wired, body)
    assert accepted.json() == {"status": "accepted", "messages": 1, "duplicates": 0, "statuses": 0, "unusable": 0}
    greeting = wa.sent("593991234567")[-1].params
    assert greeting["type"] == "interactive" and greeting["interactive"]["type"] == "list"  # 4 topics: a list
    replay = await wa_post(wired, body)
    assert replay.json()["duplicates"] == 1 and len(wa.sent("593991234567")) == 1
    pick = {"from": "593991234567", "id": "wamid.A2", "timestamp": "1", "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "o:2", "title": "Formas de pago"}}}  # fmt: skip
    await wa_post(wired, wa_payload(pick))
    assert "transferencia" in wa.sent("593991234567")[-1].params["text"]["body"]


async def test_whatsapp_bad_shapes_are_acknowledged(wired, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    for body in (
        b"{oops",
        b"[1, 2]",
        json.dumps({"entry": [{"changes": [{"value": {"messages": [{"no": "id"}]}}]}]}).encode(),
    ):
        response = await wa_post(wired, body)
        assert response.status_code == 200, body
    voice = {"from": "14155550123", "id": "wamid.V", "timestamp": "1", "type": "audio", "audio": {"id": "m"}}
    await wa_post(wired, wa_payload(voice))
    sent = wa.sent("14155550123")[-1].params  # a number from another country: answered like any other
    assert "notas de voz" in sent["text"]["body"]


async def test_whatsapp_media_is_downloaded_and_statuses_recorded(wired, wa: FakeGraph, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    _, _, sessions = wired
    wa.media["media-9"] = (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")
    image = {
        "from": "593991234567",
        "id": "wamid.I",
        "timestamp": "1",
        "type": "image",
        "image": {"id": "media-9", "mime_type": "image/png"},
    }
    await wa_post(wired, wa_payload(image))
    assert [c.method for c in wa.calls][:1] == ["media"]
    assert "Recibí su archivo" in wa.sent("593991234567")[-1].params["text"]["body"]
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        await enqueue(session, OutboxMessage("s:1", "reply", "chat", "1", "", "x"), now)
        await session.execute(update(OutboxRow).values(external_id="wamid.out77"))
    await wa_post(
        wired,
        wa_payload(
            statuses=[{"id": "wamid.out77", "status": "read", "timestamp": "1", "recipient_id": "593991234567"}]
        ),
    )
    async with sessions() as session:
        assert (await session.execute(select(OutboxRow.channel_status))).scalar_one() == "read"


async def test_whatsapp_window_templates_and_e_mail_fallback(  # type: ignore[no-untyped-def]
    wired, wa: FakeGraph, database: AsyncEngine, channel_settings: Settings, tmp_path
) -> None:
    _, messaging, sessions = wired
    await add_customer(database, channel_settings)
    conversation_id = await link_chat(database, "+593991234567", "1792205859001", channel="whatsapp")
    mailer = DirectoryMailer(tmp_path)
    sender = ConversationSender(sessions, messaging.clients(), EmailSender(mailer, "bot@perseo.ec"))

    async def push(kind: str, data: dict[str, str]) -> Any:
        row = OutboxRow(id=1, kind=kind, channel="chat", recipient=str(conversation_id), subject="Aviso")
        row.body, row.customer_id, row.data = "Texto libre", 1, {**data, "stored": True}
        return await sender.send(row)

    async def last_inbound(hours_ago: float) -> None:
        async with sessions.begin() as session:
            when = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
            await session.execute(update(ConversationRow).values(last_inbound_at=when))

    await last_inbound(2)
    await push("training_reminder", {"tema": "Nómina", "cuando": "jueves", "enlace": "https://zoom.us/j/1"})
    assert wa.sent()[-1].params["text"]["body"] == "Texto libre"  # inside the window: free text
    await last_inbound(30)
    await push("training_reminder", {"tema": "Nómina", "cuando": "jueves", "enlace": "https://zoom.us/j/1"})
    template = wa.sent()[-1].params["template"]
    assert template["name"] == "perseo_recordatorio_capacitacion" and template["language"]["code"] == "es"
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Nómina", "jueves", "https://zoom.us/j/1"]
    calls = len(wa.sent())
    result = await push("advisor_reply", {})  # no template for it: by e-mail instead of nothing
    assert len(wa.sent()) == calls and "by e-mail" in result.reference
    assert list(tmp_path.glob("*.eml"))


async def test_whatsapp_throughput_errors_are_retried(wired, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    _, messaging, _ = wired
    from bot.messages import Reply

    wa.script["593990000001"].append(graph_error(130429))
    result = await messaging.whatsapp.client.send("+593990000001", Reply("hola"))
    assert type(result).__name__ == "RetryLater" and "130429" in result.reason
    wa.script["593990000001"].append(graph_error(131056))
    assert type(await messaging.whatsapp.client.send("+593990000001", Reply("hola"))).__name__ == "RetryLater"
    assert type(await messaging.whatsapp.client.send("+593990000001", Reply("hola"))).__name__ == "Delivered"


async def test_billing_reminders_go_to_the_chat_used_last(  # type: ignore[no-untyped-def]
    wired, tg: FakeTelegram, wa: FakeGraph, database: AsyncEngine, channel_settings: Settings, tmp_path
) -> None:
    _, messaging, sessions = wired
    await add_customer(database, channel_settings)
    on_telegram = await link_chat(database, "111", "1792205859001", channel="telegram")
    on_whatsapp = await link_chat(database, "+593991234567", "1792205859001", channel="whatsapp")
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        await session.execute(
            update(ConversationRow).where(ConversationRow.id == on_telegram).values(last_inbound_at=now)
        )
        await session.execute(
            update(ConversationRow)
            .where(ConversationRow.id == on_whatsapp)
            .values(last_inbound_at=now - dt.timedelta(hours=1))
        )
    email = EmailSender(DirectoryMailer(tmp_path), "bot@perseo.ec")
    chats = ConversationSender(sessions, messaging.clients(), email)
    row = OutboxRow(id=1, kind="due_soon", channel="email", recipient="maria@andina.ec", subject="Vence")
    row.body, row.customer_id, row.data = "Su factura vence", 1, {}
    await RoutingSender(sessions, email, chats, "last").send(row)
    assert [c.params["text"] for c in tg.sent(111)] == ["Su factura vence"] and wa.sent() == []
    assert not list(tmp_path.glob("*.eml"))
    await RoutingSender(sessions, email, chats, "all").send(row)
    assert len(tg.sent(111)) == 2 and len(wa.sent("593991234567")) == 1 and len(list(tmp_path.glob("*.eml"))) == 1


async def test_updates_a_crashed_process_stored_are_answered_once_later(wired, tg: FakeTelegram, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.events import claim_event

    http, messaging, sessions = wired
    crashed_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    message = wa_text("wamid.lost", "formas de pago", sender="593981112222")
    await claim_event(sessions, "whatsapp", "wamid.lost", message, crashed_at)  # stored, then the process died
    busy = tg_update(90, "hola", chat_id=401)
    await claim_event(sessions, "telegram", "90", busy, dt.datetime.now(dt.UTC))  # another process is on it
    answer = await tg_post(http, busy)
    assert answer.status_code == 503 and tg.sent(401) == []  # Telegram will retry; nothing answered twice

    assert await messaging.recover(dt.datetime.now(dt.UTC)) == 1
    assert "transferencia" in wa.sent("593981112222")[0].params["text"]["body"]
    assert await messaging.recover(dt.datetime.now(dt.UTC)) == 0
    assert await messaging.recover(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)) == 1  # the stuck Telegram one
    assert len(tg.sent(401)) == 1 and len(wa.sent("593981112222")) == 1


# --- issue 10: payloads of the wrong shape, poison updates, body limits ------------------------------


async def channel_events(sessions, channel: str) -> dict[str, ChannelEventRow]:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        rows = (await session.execute(select(ChannelEventRow).where(ChannelEventRow.channel == channel))).scalars()
        return {row.event_id: row for row in rows}


TELEGRAM_WRONG_SHAPES: list[tuple[int, Any]] = [
    (700, {"update_id": 700, "message": {**tg_update(700)["message"], "text": 5}}),
    (701, {"update_id": 701, "message": {**tg_update(701)["message"], "text": ["a", "b"]}}),
    (702, {"update_id": 702, "message": {**tg_update(702)["message"], "chat": None}}),
    (703, {"update_id": 703, "message": {**tg_update(703)["message"], "message_id": "7030"}}),
    (704, {"update_id": 704, "message": {**tg_update(704)["message"], "chat": {"id": "111", "type": "private"}}}),
    (705, {"update_id": 705, "message": {**tg_update(705)["message"], "chat": {"id": 2**64, "type": "private"}}}),
    (706, {"update_id": 706, "callback_query": {"id": 5, "data": "o:1"}}),
    (707, {"update_id": 707, "message": "hola"}),
]


async def test_telegram_updates_of_the_wrong_shape_are_recorded_as_unusable(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, messaging, sessions = wired
    for update_id, payload in TELEGRAM_WRONG_SHAPES:
        answer = await tg_post(http, payload)
        assert answer.status_code == 200 and answer.json()["status"].startswith("ignored: unusable"), update_id
        again = await tg_post(http, payload)  # a replay: acknowledged, nothing done twice
        assert again.status_code == 200
    for body in ("NaN", '{"update_id": 1e999}', "[" * 5000 + "]" * 5000, '{"update_id": "708"}', "[]"):
        answer = await http.post(
            "/webhooks/telegram", content=body.encode(), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert answer.status_code == 200 and "unusable" in answer.json()["status"], body[:20]
    events = await channel_events(sessions, "telegram")
    for update_id, _ in TELEGRAM_WRONG_SHAPES:
        row = events[str(update_id)]
        assert (row.status, row.processed_at is not None, bool(row.reason)) == ("unusable", True, True)
    assert "message.text" in events["700"].reason and "message.chat" in events["702"].reason
    assert sum(1 for key in events if key.startswith("bad:")) == 5  # no id of their own: keyed by content
    assert tg.sent() == [] and await messaging.recover(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == 0


async def test_telegram_nul_and_lone_surrogates_are_answered_and_stored(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, sessions = wired
    for update_id, text in ((710, "clave del\u0000 facturador"), (711, "clave del facturador \ud800")):
        update = tg_update(update_id, chat_id=700 + update_id)
        body = json.dumps({**update, "message": {**update["message"], "text": text, "caption": "\u0000"}})
        answer = await http.post(
            "/webhooks/telegram", content=body.encode(), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert answer.json()["status"] == "handled", answer.text
        assert "01" in tg.sent(700 + update_id)[-1].params["text"]
    events = await channel_events(sessions, "telegram")
    assert "\x00" not in events["710"].payload["message"]["text"] and events["711"].status == "done"


async def test_a_failed_telegram_download_gets_a_polite_answer(wired, tg: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired
    tg.gone.add("doc-gone")
    document = {"file_id": "doc-gone", "file_unique_id": "g", "file_name": "r.pdf", "file_size": 20}
    answer = await tg_post(http, tg_update(720, document=document, chat_id=720))
    assert answer.status_code == 200 and answer.json()["status"] == "handled"
    assert "No pude descargar el archivo" in tg.sent(720)[-1].params["text"]


async def test_whatsapp_payloads_of_the_wrong_shape_are_recorded_as_unusable(wired, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    _, messaging, sessions = wired
    good = wa_text("wamid.OK1", "formas de pago", sender="593980000001")
    bodies = [
        json.dumps({"entry": "x"}),
        json.dumps({"entry": ["x"]}),
        json.dumps({"entry": [{"changes": "x"}]}),
        json.dumps({"entry": [{"changes": [{"value": "x"}]}]}),
        json.dumps({"entry": [{"changes": [{"value": {"messages": "x", "statuses": 5}}]}]}),
        '{"entry": NaN}',
    ]
    for body in bodies:
        answer = await wa_post(wired, body.encode())
        assert answer.status_code == 200 and "unusable" in answer.json()["status"], body
    mixed = wa_payload(
        {**wa_text("wamid.T1", "x"), "text": {"body": 5}},
        {**wa_text("wamid.T2", "x"), "id": 12345},
        {**wa_text("wamid.T3", "x"), "from": None},
        {**wa_text("wamid.T4", "x"), "id": "wamid." + "9" * 300},
        "not a message",
        good,
        statuses=[{"id": "x" * 300, "status": "read"}, {"id": 5, "status": "read"}, "x"],
    )
    answer = await wa_post(wired, mixed)
    assert answer.json() == {"status": "accepted", "messages": 1, "duplicates": 0, "statuses": 0, "unusable": 5}
    assert "transferencia" in wa.sent("593980000001")[-1].params["text"]["body"]  # the good one was answered
    replay = await wa_post(wired, mixed)
    assert replay.json()["unusable"] == 0 and replay.json()["duplicates"] == 1
    events = await channel_events(sessions, "whatsapp")
    assert events["wamid.T1"].status == "unusable" and "text.body" in events["wamid.T1"].reason
    assert events["wamid.OK1"].status == "done"
    assert await messaging.recover(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == 0


async def test_whatsapp_nul_in_a_message_is_stored_and_answered(wired, wa: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    _, _, sessions = wired
    body = json.dumps(json.loads(wa_payload(wa_text("wamid.N1", "formas\u0000 de pago", sender="593980000002"))))
    answer = await wa_post(wired, body.encode())
    assert answer.json()["messages"] == 1
    assert "transferencia" in wa.sent("593980000002")[-1].params["text"]["body"]
    assert (await channel_events(sessions, "whatsapp"))["wamid.N1"].status == "done"


async def test_a_poison_update_is_given_up_after_three_attempts(wired, tg: FakeTelegram, caplog) -> None:  # type: ignore[no-untyped-def]
    http, messaging, sessions = wired

    async def explode(message: Any) -> Any:
        raise RuntimeError("boom")

    messaging.telegram.handle, messaging.whatsapp.handle = explode, explode
    first = await tg_post(http, tg_update(730, "hola", chat_id=730))
    assert first.status_code == 200 and first.json()["status"] == "failed: will be retried"
    assert (await tg_post(http, tg_update(730, "hola", chat_id=730))).status_code == 503  # being handled: later
    await wa_post(wired, wa_payload(wa_text("wamid.P1", "hola", sender="593980000003")))
    now = dt.datetime.now(dt.UTC)
    caplog.clear()
    assert await messaging.recover(now + dt.timedelta(minutes=3)) == 2  # attempt 2 of each
    assert await messaging.recover(now + dt.timedelta(minutes=6)) == 2  # attempt 3: now dead
    assert await messaging.recover(now + dt.timedelta(minutes=9)) == 0
    assert await messaging.recover(now + dt.timedelta(hours=9)) == 0
    alerts = [r for r in caplog.records if r.levelname == "ERROR" and "ALERT" in r.getMessage()]
    assert len(alerts) == 2 and "boom" in alerts[0].getMessage()
    for channel, event_id in (("telegram", "730"), ("whatsapp", "wamid.P1")):
        row = (await channel_events(sessions, channel))[event_id]
        assert (row.status, row.attempts, row.reason) == ("dead", 3, "RuntimeError: boom")
    replay = await tg_post(http, tg_update(730, "hola", chat_id=730))
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert tg.sent(730) == []


async def test_an_update_that_kills_the_process_is_given_up_too(wired) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.events import Claim, claim_event

    _, _, sessions = wired
    start = dt.datetime.now(dt.UTC)
    claims = [
        await claim_event(sessions, "telegram", "740", tg_update(740, "x"), start + dt.timedelta(minutes=5 * n))
        for n in range(5)
    ]  # each time the process died before finishing
    assert claims == [Claim.NEW, Claim.RETAKEN, Claim.RETAKEN, Claim.DEAD, Claim.DONE]
    row = (await channel_events(sessions, "telegram"))["740"]
    assert row.status == "dead" and "stopped while handling it" in (row.reason or "")


async def test_webhook_bodies_have_their_own_limits(wired) -> None:  # type: ignore[no-untyped-def]
    http, _, _ = wired

    async def chunked(size: int) -> Any:
        yield b'{"update_id": 1, "x": "' + b"a" * size + b'"}'

    big = await http.post(
        "/webhooks/telegram", content=chunked(2 * 1024 * 1024), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert big.status_code == 413 and "limit of this route" in big.json()["detail"]
    assert (await http.post("/webhooks/whatsapp", content=chunked(4 * 1024 * 1024))).status_code == 413
