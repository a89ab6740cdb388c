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
from pydantic import ValidationError
from sqlalchemy import update

from bot.channels.events import (
    claim_event,
    event_key,
    mark_processed,
    mark_unusable,
    record_failure,
    tapped_option,
)
from bot.channels.outbound import OUTSIDE_WINDOW
from bot.channels.pacing import Pacer
from bot.channels.shapes import WaChoice, WaMedia, WaMessage, WaPayload, WaStatus, WaValue, whatsapp_id, why
from bot.messages import Attachment, Message, Reply
from bot.persistence.tables import ConversationRow, OutboxRow
from bot.web import safejson
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
        except (httpx.HTTPError, KeyError, ValueError, TypeError, AttributeError) as exc:
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

    async def receive(self, payload: Any) -> dict[str, Any]:
        """Store every new message and record statuses; processing happens after the reply.
        Anything of a shape the bot cannot use is recorded as unusable and acknowledged."""
        counts: dict[str, Any] = {"messages": 0, "duplicates": 0, "statuses": 0, "unusable": 0}
        now = self.clock()
        try:
            shaped = WaPayload.model_validate(payload)
        except ValidationError as exc:
            await self._unusable(event_key(payload), payload, why(exc), now)
            return {"status": f"ignored: unusable ({why(exc)})", **counts}
        for entry in shaped.entry or []:
            for change in entry.changes or []:
                value = change.value or WaValue()
                for status in value.statuses or []:
                    counts["statuses"] += await self._status(status)
                for message in value.messages or []:
                    try:
                        WaMessage.model_validate(message)
                    except ValidationError as exc:
                        event_id = whatsapp_id(message) or event_key(message)
                        counts["unusable"] += await self._unusable(event_id, message, why(exc), now)
                        continue
                    if (await claim_event(self.sessions, CHANNEL, str(message["id"]), message, now)).mine:
                        counts["messages"] += 1
                        task = asyncio.create_task(self.process(message))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                    else:
                        counts["duplicates"] += 1
        return {"status": "accepted", **counts}

    async def _unusable(self, event_id: str, payload: Any, reason: str, now: dt.datetime) -> int:
        recorded = await mark_unusable(self.sessions, CHANNEL, event_id, payload, reason, now)
        log.warning("whatsapp update %s is unusable: %s", event_id, reason)
        return int(recorded)

    async def _status(self, raw: Any) -> int:
        try:
            status = WaStatus.model_validate(raw)
        except ValidationError:
            return 0
        if status.status not in ("sent", "delivered", "read", "failed"):
            return 0
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.external_id == status.id)
                .values(channel_status=status.status, channel_status_at=self.clock())
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def process(self, raw: dict[str, Any]) -> None:
        """Answer a stored message, then mark it done. A failure is recorded (and retried by the
        recovery sweep until it is given up), never raised: this runs after the webhook answered."""
        now = self.clock()
        try:
            message = WaMessage.model_validate(raw)
        except ValidationError as exc:  # stored before this check existed
            await self._unusable(whatsapp_id(raw) or event_key(raw), raw, why(exc), now)
            return
        user_id = e164(message.from_)
        try:
            text, attachments, direct = await self._read(user_id, message)
            if direct is not None:
                replies: tuple[Reply, ...] = (Reply(direct),)
            else:
                replies = await self.handle(
                    Message(CHANNEL, user_id, text, now, external_id=message.id, attachments=attachments)
                )
            await self.deliver(user_id, replies)
        except Exception as exc:  # stored: the recovery sweep retries it, a poison one is given up
            log.exception("whatsapp message %s failed", message.id)
            await record_failure(self.sessions, CHANNEL, message.id, f"{type(exc).__name__}: {exc}", now)
            return
        await mark_processed(self.sessions, CHANNEL, message.id, now)

    async def _read(self, user_id: str, message: WaMessage) -> tuple[str, tuple[Attachment, ...], str | None]:
        kind = message.type
        if kind == "text":
            return (message.text.body if message.text else ""), (), None
        if kind == "interactive":
            picked = message.interactive
            choice = (picked.button_reply or picked.list_reply if picked else None) or WaChoice()
            if choice.id.startswith("o:") and choice.id[2:].isdigit():
                text = await tapped_option(self.sessions, CHANNEL, user_id, int(choice.id[2:]))
                if text is not None:
                    return text, (), None
            return choice.title, (), None
        if kind == "button":  # a quick reply on a template
            return (message.button.text if message.button else ""), (), None
        if kind in ("image", "document"):
            media = (message.image if kind == "image" else message.document) or WaMedia()
            downloaded = await self.client.download(media.id) if media.id else None
            if downloaded is None:
                return (
                    "",
                    (),
                    "No pude descargar el archivo (¿supera 10 MB?). Envíelo otra vez o como foto más liviana.",
                )
            data, mime = downloaded
            name = media.filename or ("foto.jpg" if kind == "image" else "documento")
            return media.caption or "", (Attachment(name, mime or media.mime_type or "", data),), None
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
        payload = safejson.clean(safejson.loads(body))
    except safejson.BadJson as exc:  # signed but unreadable: 2xx, or Meta resends it for days
        await mark_unusable(channel.sessions, CHANNEL, event_key(body), None, exc.reason, channel.clock())
        return JSONResponse({"status": f"ignored: unusable ({exc.reason})"})
    return JSONResponse(await channel.receive(payload))
