"""WhatsApp Cloud API through a thin httpx client (pywa hard-codes the Graph URL).

In: `GET /webhooks/whatsapp` answers Meta's verification handshake; `POST /webhooks/whatsapp`
is refused (403) unless `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body with the app
secret. Messages are stored first (a replayed message id is recognised: Meta retries for
days), acknowledged at once, and processed after; status callbacks are recorded against the
outbox row that sent the message.
Out: text, reply buttons (up to 3) or a list (up to 10) for options; outside the 24-hour
customer-service window only the approved template of the message's kind (whatsapp.yaml).
Errors 130429 (throughput) and 131056 (pair rate) are retried; the number's rate is paced.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import update

from bot.channels.events import claim_event, mark_processed, tapped_option
from bot.channels.outbound import OUTSIDE_WINDOW
from bot.channels.pacing import Pacer
from bot.messages import Attachment, Message, Reply
from bot.persistence.tables import ConversationRow, OutboxRow
from scheduler.delivery import Delivered, DeliveryResult, RetryLater, Undeliverable

CHANNEL = "whatsapp"
WINDOW = dt.timedelta(hours=24)
MAX_FILE_BYTES = 10 * 1024 * 1024
RETRIED_CODES = {130429: "throughput", 131056: "pair rate", 131000: "temporary error", 2: "service unavailable"}
log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

UNSUPPORTED = (
    "Por ahora leo mensajes de texto, fotos y documentos (por ejemplo, el comprobante de un pago en PDF). "
    "Las notas de voz y los stickers no los puedo escuchar ni ver: escríbame su consulta, por favor."
)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    params: tuple[str, ...]


def load_templates(path: Path) -> dict[str, Template]:
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    templates = {}
    for kind, item in data.items():
        if not isinstance(item, Mapping) or not item.get("name") or item.get("language") not in ("es", "es_EC"):
            raise ValueError(f"whatsapp.yaml: {kind} needs a name and a language (es or es_EC)")
        templates[str(kind)] = Template(str(item["name"]), str(item["language"]), tuple(item.get("params") or ()))
    return templates


def e164(wa_id: str) -> str:
    """WhatsApp ids are digits with the country code; we keep "+593991234567"."""
    try:
        number = phonenumbers.parse("+" + wa_id.lstrip("+"))
    except phonenumbers.NumberParseException:
        return "+" + "".join(ch for ch in wa_id if ch.isdigit())
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


class WhatsAppClient:
    def __init__(
        self,
        token: str,
        phone_number_id: str,
        api_url: str,
        templates: Mapping[str, Template],
        rate: float = 80.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.base = api_url.rstrip("/")
        self.phone_number_id = phone_number_id
        self.http = httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=15)
        self.templates = dict(templates)
        self.pacer = Pacer(rate, per_chat_seconds=1.0)
        self.clock = clock

    async def stop(self) -> None:
        await self.http.aclose()

    async def send(self, user_id: str, reply: Reply) -> DeliveryResult:
        """A free-form message (inside the 24-hour window): text, then buttons or a list."""
        to = user_id.lstrip("+")
        if not reply.options:
            return await self._post(to, {"type": "text", "text": {"body": reply.text[:4096], "preview_url": True}})
        body = reply.text
        if len(body) > 1024:  # interactive bodies are short: the text first, then the choice
            first = await self._post(to, {"type": "text", "text": {"body": body[:4096], "preview_url": True}})
            if not isinstance(first, Delivered):
                return first
            body = "Elija una opción:"
        return await self._post(to, {"type": "interactive", "interactive": _interactive(body, reply.options)})

    async def push(self, conversation: ConversationRow, row: OutboxRow) -> DeliveryResult:
        """A proactive message: free text inside the window, else the kind's template."""
        opened = conversation.last_inbound_at
        options = tuple((row.data or {}).get("options") or ())
        if opened is not None and self.clock() - opened < WINDOW:
            result = await self.send(conversation.external_user_id, Reply(row.body, options))
        else:
            template = self.templates.get(row.kind)
            if template is None:
                return Undeliverable(f"{OUTSIDE_WINDOW} and no template for {row.kind!r}")
            values = row.data or {}
            payload = {
                "type": "template",
                "template": {
                    "name": template.name,
                    "language": {"code": template.language},
                    "components": [
                        {
                            "type": "body",
                            "parameters": [
                                {"type": "text", "text": str(values.get(p, ""))[:1024]} for p in template.params
                            ],
                        }
                    ],
                },
            }
            result = await self._post(conversation.external_user_id.lstrip("+"), payload)
        return result

    async def _post(self, to: str, message: dict[str, Any]) -> DeliveryResult:
        await self.pacer.wait(to)
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        try:
            response = await self.http.post(f"{self.base}/{self.phone_number_id}/messages", json=payload)
        except httpx.HTTPError as exc:
            return RetryLater(f"whatsapp unreachable: {exc}")
        if response.status_code < 300:
            ids = (response.json().get("messages") or [{}]) if response.content else [{}]
            return Delivered(str(ids[0].get("id", "")))
        try:
            error = response.json().get("error") or {}
        except ValueError:
            error = {}
        code, text = error.get("code"), error.get("message", response.text[:200])
        if code in RETRIED_CODES or response.status_code >= 500 or response.status_code == 429:
            after = float(response.headers.get("retry-after", 0)) or None
            if after:
                self.pacer.hold(to, after)
            return RetryLater(f"whatsapp {code or response.status_code}: {text}", after_seconds=after)
        if code == 131047:  # re-engagement: the window closed since we looked
            return Undeliverable(f"{OUTSIDE_WINDOW} (131047): {text}")
        if code in (131026, 131051) or response.status_code == 403:
            return Undeliverable(f"blocked or not on WhatsApp ({code}): {text}")
        return Undeliverable(f"whatsapp refused ({code or response.status_code}): {text}")

    async def download(self, media_id: str) -> tuple[bytes, str] | None:
        """The file behind a media id (two requests: its URL, then the bytes), or None."""
        try:
            meta = await self.http.get(f"{self.base}/{media_id}")
            meta.raise_for_status()
            info = meta.json()
            if int(info.get("file_size") or 0) > MAX_FILE_BYTES:
                return None
            content = await self.http.get(str(info["url"]))
            content.raise_for_status()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            log.warning("whatsapp media %s: %s", media_id, exc)
            return None
        return content.content[: MAX_FILE_BYTES + 1], str(info.get("mime_type") or "")


def _interactive(body: str, options: tuple[str, ...]) -> dict[str, Any]:
    if len(options) <= 3:
        buttons = [{"type": "reply", "reply": {"id": f"o:{i}", "title": _cut(o, 20)}} for i, o in enumerate(options)]
        return {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    rows = [
        {"id": f"o:{i}", "title": _cut(o, 24), **({"description": _cut(o, 72)} if len(o) > 24 else {})}
        for i, o in enumerate(options[:10])
    ]
    return {
        "type": "list",
        "body": {"text": body},
        "action": {"button": "Ver opciones", "sections": [{"title": "Opciones", "rows": rows}]},
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


Handler = Callable[[Message], Awaitable[tuple[Reply, ...]]]


class WhatsAppChannel:
    def __init__(
        self, client: WhatsAppClient, sessions: Any, handle: Handler, clock: Callable[[], dt.datetime]
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.handle = handle
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()

    async def receive(self, payload: dict[str, Any]) -> dict[str, int]:
        """Store every new message and record statuses; processing happens after the reply."""
        counts = {"messages": 0, "duplicates": 0, "statuses": 0}
        now = self.clock()
        for entry in payload.get("entry") or []:
            for change in (entry or {}).get("changes") or []:
                value = (change or {}).get("value") or {}
                for status in value.get("statuses") or []:
                    counts["statuses"] += await self._status(status)
                for message in value.get("messages") or []:
                    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
                        continue
                    if (await claim_event(self.sessions, CHANNEL, str(message["id"]), message, now)).mine:
                        counts["messages"] += 1
                        task = asyncio.create_task(self.process(message))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                    else:
                        counts["duplicates"] += 1
        return counts

    async def _status(self, status: Any) -> int:
        if not isinstance(status, dict) or not status.get("id") or status.get("status") not in (
            "sent", "delivered", "read", "failed"
        ):  # fmt: skip
            return 0
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.external_id == str(status["id"]))
                .values(channel_status=status["status"], channel_status_at=self.clock())
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def process(self, message: dict[str, Any]) -> None:
        user_id = e164(str(message["from"]))
        now = self.clock()
        try:
            text, attachments, direct = await self._read(user_id, message)
            if direct is not None:
                replies: tuple[Reply, ...] = (Reply(direct),)
            else:
                replies = await self.handle(
                    Message(CHANNEL, user_id, text, now, external_id=str(message["id"]), attachments=attachments)
                )
            await self.deliver(user_id, replies)
        except Exception:  # stored: a later sweep (or Meta's retry) processes it again
            log.exception("whatsapp message %s failed", message.get("id"))
            return
        await mark_processed(self.sessions, CHANNEL, str(message["id"]), now)

    async def _read(self, user_id: str, message: dict[str, Any]) -> tuple[str, tuple[Attachment, ...], str | None]:
        kind = message.get("type")
        if kind == "text":
            return str((message.get("text") or {}).get("body") or ""), (), None
        if kind == "interactive":
            picked = message.get("interactive") or {}
            choice = picked.get("button_reply") or picked.get("list_reply") or {}
            chosen = str(choice.get("id") or "")
            if chosen.startswith("o:") and chosen[2:].isdigit():
                text = await tapped_option(self.sessions, CHANNEL, user_id, int(chosen[2:]))
                if text is not None:
                    return text, (), None
            return str(choice.get("title") or ""), (), None
        if kind == "button":  # a quick reply on a template
            return str((message.get("button") or {}).get("text") or ""), (), None
        if kind in ("image", "document"):
            media = message.get(kind) or {}
            downloaded = await self.client.download(str(media.get("id") or ""))
            if downloaded is None:
                return (
                    "",
                    (),
                    "No pude descargar el archivo (¿supera 10 MB?). Envíelo otra vez o como foto más liviana.",
                )
            data, mime = downloaded
            name = str(media.get("filename") or ("foto.jpg" if kind == "image" else "documento"))
            return (
                str(media.get("caption") or ""),
                (Attachment(name, mime or str(media.get("mime_type") or ""), data),),
                None,
            )
        return "", (), UNSUPPORTED

    async def deliver(self, user_id: str, replies: tuple[Reply, ...]) -> None:
        from bot.channels.outbound import send_replies

        async def send(reply: Reply) -> DeliveryResult:
            return await self.client.send(user_id, reply)

        await send_replies(self.sessions, CHANNEL, user_id, replies, send, self.clock, pause=2.0)

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=10)


@router.get("/webhooks/whatsapp")
async def verify(request: Request) -> PlainTextResponse:
    token: str | None = request.app.state.whatsapp_verify_token
    params = request.query_params
    if not token or params.get("hub.mode") != "subscribe":
        return PlainTextResponse("not a subscription request", status_code=403)
    if not hmac.compare_digest(params.get("hub.verify_token", "").encode(), token.encode()):
        return PlainTextResponse("wrong verify token", status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


@router.post("/webhooks/whatsapp")
async def receive(request: Request) -> JSONResponse:
    channel: WhatsAppChannel | None = request.app.state.whatsapp
    secret: str | None = request.app.state.whatsapp_secret
    if channel is None or not secret:
        return JSONResponse({"detail": "WhatsApp webhook is not configured here"}, status_code=404)
    body = await request.body()
    if not signature_ok(secret, body, request.headers.get("x-hub-signature-256", "")):
        return JSONResponse({"detail": "bad or missing X-Hub-Signature-256"}, status_code=403)
    try:
        payload = json.loads(body)
    except ValueError:  # signed but unreadable: 2xx, or Meta resends it for days
        return JSONResponse({"status": "ignored: not JSON"})
    if not isinstance(payload, dict):
        return JSONResponse({"status": "ignored: not an object"})
    return JSONResponse({"status": "accepted", **await channel.receive(payload)})
