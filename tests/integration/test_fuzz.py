"""Fuzz: malformed input to every route of the app, on SQLite and PostgreSQL; no 5xx, and no
error with a traceback in the log (issue 10, item 4).

A generated corpus (seeded, so a failure replays): for each route of `app.routes` a
valid-looking request, then the same request with each part of its body, path and query
replaced by values that broke the app before (NaN, 1e999, 2**64, lone surrogates, NUL, deep
nesting, wrong types, 300-character ids), plus raw bodies that are not JSON at all. Webhooks
are sent with the right secret and a valid signature, so the payload itself is exercised.
A route added later is fuzzed too, with the generic corpus; the test fails if it has no
template and takes a body, so that it gets one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Mount

from bot.bootstrap import build_calendar, build_engine, build_notifier
from bot.channels.messaging import build_messaging
from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import sessionmaker
from bot.persistence.sql_store import SqlConversationStore
from bot.services.accounts import SqlAccounts
from bot.services.handoffs import SqlHandoffs
from bot.services.trainings import SqlTrainings
from bot.web import console
from bot.web.app import create_app
from tests.factories import ADVISOR_PASSWORD, add_support_world
from tests.fakes import GRAPH_VERSION, PHONE_ID, TOKEN, WA_TOKEN, FakeGraph, FakeTelegram
from tests.servers import running

pytestmark = pytest.mark.postgres

SEED = 20261202
SECRET, APP_SECRET, VERIFY = "tg-secret", "meta-secret", "verify"
PER_PATH = 6  # nasty values tried at each place of a body (a random sample of NASTY)
PER_WEBHOOK_PATH = 2  # fewer for webhook payloads: they have many places, and each valid one is answered

# Raw JSON fragments, each of which broke some route once.
NASTY: list[str] = [
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9" * 5000, str(2**63), str(2**64), str(-(2**63) - 1),
    "-1", "0", "1.5", "true", "false", "null", '""', '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"x\\udfffy"',
    '"' + "x" * 300 + '"', '"' + "ñ" * 3000 + '"', "[]", "{}", "[1, 2]", '{"a": {"b": 1}}', '"o:99999999999999999999"',
    '"o:-1"', '"o:1"', "[" * 60 + "]" * 60, "[" * 3000 + "]" * 3000, '"1e999"', '"NaN"', '"-5"', '"٣"',
    '"\\u202e\\ufeff"', '"🙂"', '["\\ud800"]', '{"\\ud800": 1}', '{"\\u0000": 1}',
]  # fmt: skip
RAW_BODIES: list[bytes] = [
    b"", b"{", b"}", b"null", b"NaN", b"[]", b"\xff\xfe\x00", b"\x00", b'"x"', b"1e999", b"[" * 10_000,
    b'{"a":' * 3000, b"a=b&c=%ED%A0%80", "{\"text\": \"é\"}".encode("utf-16"), b'{"a": 1}' * 3, b"\xed\xa0\x80",
    b'{"update_id": 1, "message": "\xed\xa0\x80"}', b'{"entry": [{"changes": [{"value": {"messages": [null]}}]}]}',
]  # fmt: skip
PATH_VALUES = ["1", "0", "-1", str(2**63), str(2**64), "abc", "1e5", "%00", "%ED%A0%80", "٣", "9" * 400, "1.0"]
QUERY_VALUES = [*PATH_VALUES, "", "%FF", "x" * 300, "a b<script>", str(uuid.uuid4())]
HEADER_VALUES: list[bytes] = [b"", b"\xc3\xb1", b"\xff", b"x" * 300, b"\xed\xa0\x80", b"sha256=zz", b"\t"]


@dataclass
class Probe:
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = "application/json"
    headers: dict[str, Any] | None = None
    sign: bool = True  # WhatsApp bodies get a valid signature unless a test of the header


class Unique:
    """Chat ids, phone numbers and message ids never repeat, so no reply waits for its chat's
    pacing slot and no message is a replay of another."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def tg_template(n: int, kind: int) -> dict[str, Any]:
    chat = {"id": 10_000 + n, "type": "private"}
    if kind == 1:
        message = {"message_id": n, "date": int(time.time()), "chat": chat, "from": {"id": 10_000 + n}}
        return {"update_id": 1_000_000 + n, "callback_query": {
            "id": f"cb-{n}", "data": "o:1", "chat_instance": "x", "from": {"id": n, "is_bot": False, "first_name": "A"},
            "message": message}}  # fmt: skip
    message: dict[str, Any] = {
        "message_id": n, "date": int(time.time()), "chat": chat,
        "from": {"id": 10_000 + n, "is_bot": False, "first_name": "Ana"},
        "text": "formas de pago", "reply_to_message": {"message_id": 1, "date": 1, "chat": chat, "from": {"id": 999}},
    }  # fmt: skip
    if kind == 2:
        message["document"] = {"file_id": f"doc-{n}", "file_unique_id": "u", "file_name": "r.pdf", "file_size": 10}
        message["caption"] = message.pop("text")
    return {"update_id": 1_000_000 + n, "message": message}


def wa_template(n: int, kind: int) -> dict[str, Any]:
    message: dict[str, Any] = {"from": f"5939{n:08d}", "id": f"wamid.F{n}", "timestamp": "1", "type": "text",
                               "text": {"body": "formas de pago"}}  # fmt: skip
    if kind == 1:
        message |= {"type": "interactive", "interactive": {"type": "button_reply",
                    "button_reply": {"id": "o:1", "title": "Pagos"}}}  # fmt: skip
    if kind == 2:
        message |= {"type": "image", "image": {"id": f"media-{n}", "caption": "recibo", "mime_type": "image/png"}}
    value = {"messaging_product": "whatsapp", "messages": [message],
             "statuses": [{"id": f"wamid.out{n}", "status": "read", "timestamp": "1"}]}  # fmt: skip
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": value}]}]}  # fmt: skip


def places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value, the root included."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from places(child, (*path, index))


def replaced(template: Any, path: tuple[Any, ...], fragment: str) -> bytes:
    """The template as JSON with the value at `path` replaced by a raw JSON fragment."""
    marker = "@@FUZZ@@"
    if not path:
        return fragment.encode("utf-8", "surrogatepass")
    copy = json.loads(json.dumps(template))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = marker
    return json.dumps(copy).replace(json.dumps(marker), fragment).encode("utf-8", "surrogatepass")


def body_probes(rng: random.Random, method: str, path: str, template: Any) -> list[Probe]:
    probes = [Probe(method, path, json.dumps(template).encode())]
    for place in places(template):
        for fragment in rng.sample(NASTY, PER_PATH):
            probes.append(Probe(method, path, replaced(template, place, fragment)))
    for raw in RAW_BODIES:
        probes.append(Probe(method, path, raw))
    probes.append(Probe(method, path, json.dumps(template).encode(), content_type=None))
    probes.append(Probe(method, path, json.dumps(template).encode(), content_type="text/plain"))
    probes.append(Probe(method, path, b"email=a%40b.ec&password=x&csrf=%C3%B1", "application/x-www-form-urlencoded"))
    multipart = b'--x\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n\xed\xa0\x80\r\n--x--'
    probes.append(Probe(method, path, multipart, "multipart/form-data; boundary=x"))
    return probes


def corpus(routes: list[tuple[str, str]], unique: Unique, handoff_id: int, session: str, seed: int) -> list[Probe]:
    """Probes for every (method, path) of the app: the whole corpus on a real id, and each bad
    path value (2**64, "abc", a lone surrogate...) once."""
    rng = random.Random(seed)
    probes: list[Probe] = []
    for method, route in routes:
        if "{path" in route:
            paths = [route.replace("{path:path}", v) for v in ("chat.js", "..%2F..%2Fetc%2Fpasswd", "%00", "%ED%A0%80")]
            probes += [Probe(method, path, None) for path in paths]
            continue
        path = route.replace("{handoff_id}", str(handoff_id))
        probes.extend(route_probes(rng, method, route, path, unique, session))
        if "{handoff_id}" in route:
            for value in PATH_VALUES:
                bad = route.replace("{handoff_id}", value)
                probes.append(Probe(method, bad, b'{"text": "hola", "minutes": 5, "topic": "x"}'))
    return probes


def route_probes(rng: random.Random, method: str, route: str, path: str, unique: Unique, session: str) -> list[Probe]:
    if route == "/api/chat" and method == "POST":
        template = {"session_id": session, "text": "hola", "attachment": {"filename": "r.pdf",
                    "content_type": "application/pdf", "data_base64": "JVBERi0xLjQ="}}  # fmt: skip
        return body_probes(rng, method, path, template)
    if route.endswith("/reply"):
        return body_probes(rng, method, path, {"text": "Hola, le ayudo"})
    if route.endswith("/close"):
        return body_probes(rng, method, path, {"minutes": 5, "topic": "Firma electrónica"})
    if route == "/webhooks/telegram" and method == "POST":
        probes = []
        for kind in range(3):
            template = tg_template(unique(), kind)
            for place in places(template):
                for fragment in rng.sample(NASTY, PER_WEBHOOK_PATH):
                    fresh = tg_template(unique(), kind)  # a new update id each time: none is a replay
                    probes.append(Probe(method, path, replaced(fresh, place, fragment)))
        probes += [Probe(method, path, raw) for raw in RAW_BODIES]
        probes += [Probe(method, path, b"{}", headers={"x-telegram-bot-api-secret-token": h}) for h in HEADER_VALUES]
        return probes
    if route == "/webhooks/whatsapp" and method == "POST":
        probes = []
        for kind in range(3):
            template = wa_template(unique(), kind)
            for place in places(template):
                for fragment in rng.sample(NASTY, PER_WEBHOOK_PATH):
                    probes.append(Probe(method, path, replaced(wa_template(unique(), kind), place, fragment)))
        probes += [Probe(method, path, raw) for raw in RAW_BODIES]
        probes += [Probe(method, path, b"{}", headers={"x-hub-signature-256": h}, sign=False) for h in HEADER_VALUES]
        return probes
    if route in ("/console/login", "/console/logout"):
        forms = [b"email=a%40b.ec&password=x&csrf=%C3%B1", b"csrf=" + b"%ED%A0%80" * 50, b"email=" + b"a" * 5000,
                 b"\x00=\x00", b"csrf=%00&email=%FF", b""]  # fmt: skip
        return [Probe(method, path, f, "application/x-www-form-urlencoded") for f in forms] + body_probes(
            rng, method, path, {"email": "a@b.ec", "password": "x", "csrf": "y"}
        )
    if method == "GET":
        queries = {
            "/api/chat/updates": ["session_id", "after"],
            "/webhooks/whatsapp": ["hub.mode", "hub.verify_token", "hub.challenge"],
            "/console/login": ["expired"],
        }.get(route, ["x"])
        probes = [Probe(method, path, None)]
        for name in queries if route in ("/api/chat/updates", "/webhooks/whatsapp", "/console/login") else ():
            for value in QUERY_VALUES:
                params = {"session_id": session, "after": "1", "hub.mode": "subscribe", "hub.verify_token": VERIFY}
                params[name] = value
                query = "&".join(f"{k}={v}" for k, v in params.items())
                probes.append(Probe(method, f"{path}?{query}", None))
        return probes
    # A route with no template: the generic corpus (claim, and any route added later).
    return body_probes(rng, method, path, {"x": 1})


@pytest.fixture
async def fuzzed_app(
    database: AsyncEngine, settings: Settings, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Any, Any]]:
    telegram, graph = FakeTelegram(), FakeGraph()
    monkeypatch.setattr(console, "EVENTS_LIFETIME", 0.0)  # the event stream ends at once
    with running(telegram.app()) as tg_url, running(graph.app()) as wa_url:
        graph.base = wa_url
        graph.media.update({f"media-{n}": (b"\x89PNG\r\n\x1a\n0000", "image/png") for n in range(5000)})
        channel_settings = Settings(  # type: ignore[call-arg]
            _env_file=None, telegram_token=TOKEN, telegram_api_url=f"{tg_url}/bot", telegram_webhook_secret=SECRET,
            whatsapp_token=WA_TOKEN, whatsapp_phone_number_id=PHONE_ID, whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY, whatsapp_api_url=f"{wa_url}/{GRAPH_VERSION}", telegram_rate=10_000,
            whatsapp_rate=10_000,
        )  # fmt: skip
        await add_support_world(database, settings)
        sessions = sessionmaker(database)
        notifier, calendar, office = build_notifier(settings), build_calendar(settings), settings.office_hours()
        clock = lambda: dt.datetime.now(dt.UTC)  # noqa: E731
        store = SqlConversationStore(
            sessions,
            clock,
            accounts=lambda session: SqlAccounts(session, b"k", notifier, settings.receipts_dir),
            handoffs=lambda session: SqlHandoffs(session, office),
            trainings=lambda session: SqlTrainings(session, calendar, notifier, settings.reminder_minutes()),
        )
        engine = build_engine(channel_settings, store, knowledge=knowledge, clock=clock)
        messaging = build_messaging(channel_settings, sessions, engine, clock)
        for client in (messaging.telegram.client, messaging.whatsapp.client):  # type: ignore[union-attr]
            client.pacer.per_chat = client.pacer.per_group = 0.0
        await messaging.start()
        app = create_app(engine, database, calendar=calendar, messaging=messaging)
        yield app, messaging
        await messaging.stop()


def endpoints(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route of the app, included routers and mounts too."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:  # newer FastAPI keeps an included router as one node
            yield from endpoints(inner.routes, prefix + getattr(getattr(route, "include_context", None), "prefix", ""))
        elif isinstance(route, Mount):
            yield "GET", prefix + route.path + "/{path:path}"
        else:
            for method in sorted(getattr(route, "methods", None) or ["GET"]):
                if method != "HEAD":
                    yield method, prefix + route.path


async def send(http: httpx.AsyncClient, probe: Probe) -> httpx.Response:
    headers: dict[str, Any] = dict(probe.headers or {})
    if probe.content_type:
        headers.setdefault("content-type", probe.content_type)
    if probe.path.startswith("/webhooks/telegram"):
        headers.setdefault("x-telegram-bot-api-secret-token", SECRET)
    if probe.path.startswith("/webhooks/whatsapp") and probe.sign:
        digest = hmac.new(APP_SECRET.encode(), probe.body or b"", hashlib.sha256).hexdigest()
        headers["x-hub-signature-256"] = f"sha256={digest}"
    return await http.request(probe.method, probe.path, content=probe.body, headers=headers)


async def test_no_input_gets_a_5xx_or_a_traceback(fuzzed_app, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    app, messaging = fuzzed_app
    caplog.set_level(logging.WARNING)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as http:
        session = str(uuid.uuid4())
        assert (
            await http.post("/api/chat", json={"session_id": session, "text": "quiero hablar con un asesor"})
        ).is_success
        form = await http.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
        login = {"email": "andrea@sierra.ec", "password": ADVISOR_PASSWORD, "csrf": csrf}
        assert (await http.post("/console/login", data=login)).status_code == 303
        token = re.search(r'name="csrf-token" content="([^"]+)"', (await http.get("/console")).text)[1]  # type: ignore[index]
        http.headers["x-csrf-token"] = token
        queue = (await http.get("/console/api/queue")).json()["items"]
        handoff_id = int(queue[0]["id"])

        routes = sorted(set(endpoints(app.routes)))
        assert ("POST", "/webhooks/whatsapp") in routes and (
            "POST",
            "/console/api/handoffs/{handoff_id}/reply",
        ) in routes
        seed = SEED + len(app.state.database.dialect.name)  # the two databases get different samples
        probes = corpus(routes, Unique(), handoff_id, session, seed)
        started = time.monotonic()
        failures: list[str] = []
        for probe in probes:
            response = await send(http, probe)
            if response.status_code >= 500:
                failures.append(f"{response.status_code} {probe.method} {probe.path[:80]} {probe.body!r:.120}")
        await messaging.whatsapp.drain()
        elapsed = time.monotonic() - started
        report = f"{len(probes)} requests to {len(routes)} routes in {elapsed:.1f} s; {len(failures)} 5xx"
        print(report)  # shown with -s; the figure in the notes comes from here
        assert not failures, report + "\n" + "\n".join(failures[:40])
        # Whatever was stored finished as it came (done, or unusable): nothing is left to recover.
        assert await messaging.recover(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == 0
    tracebacks = [
        f"{r.name}: {r.getMessage()[:200]}" for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR
    ]
    assert not tracebacks, "\n".join(tracebacks[:20])
    assert len(probes) > 700
