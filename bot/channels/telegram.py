"""Telegram: python-telegram-bot 22 as a typed client only (no ConversationHandler, PTB
persistence or JobQueue: every bit of state is in our database, so any replica can answer).

In: `POST /webhooks/telegram` (the secret header is checked in constant time) or, without a
webhook secret, long polling in one process. Each update id is stored before it is handled,
so a replay gets no second answer. Out: `TelegramClient.send`, paced per chat and overall;
a 429 holds only that chat; a 403 (the user blocked the bot) marks the chat unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.events import (
    Claim,
    claim_event,
    event_key,
    mark_processed,
    mark_unusable,
    record_failure,
    tapped_option,
)
from bot.channels.pacing import Pacer
from bot.channels.shapes import TgUpdate, telegram_id, why
from bot.messages import Attachment, Message, Reply
from bot.safetext import printable
from bot.web import safejson
from scheduler.delivery import Delivered, DeliveryResult, RetryLater, Undeliverable

# PTB 22 warns about its own int-or-timedelta `retry_after` while building the error; we read
# the timedelta (see _seconds), so the warning says nothing actionable.
warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_FILE_BYTES = 10 * 1024 * 1024
log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

UNSUPPORTED = (
    "Por ahora leo mensajes de texto, fotos y documentos (por ejemplo, el comprobante de un pago en PDF). "
    "Escríbame su consulta, por favor."
)
DOWNLOAD_FAILED = "No pude descargar el archivo. Envíelo otra vez, por favor, o como una foto más liviana."


def _seconds(exc: RetryAfter) -> float:
    # PTB 22 stores a timedelta and warns when the int form is read; take the stored value.
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(exc.retry_after) if not isinstance(exc.retry_after, dt.timedelta) else exc.retry_after.total_seconds()


class TelegramClient:
    def __init__(self, token: str, api_url: str, rate: float = 30.0) -> None:
        file_url = api_url[: -len("/bot")] + "/file/bot" if api_url.endswith("/bot") else api_url
        request = HTTPXRequest(connection_pool_size=32, read_timeout=15, write_timeout=15)
        self.bot = Bot(token, base_url=api_url, base_file_url=file_url, request=request)
        # 1 message/s per chat, 20/min per group (Telegram's limits)
        self.pacer = Pacer(rate, per_chat_seconds=1.0, group_seconds=3.0)
        self.username: str | None = None
        self.bot_id: int | None = None

    async def start(self) -> None:
        await self.bot.initialize()
        self.username, self.bot_id = self.bot.username, self.bot.id

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def send(self, chat_id: str, reply: Reply, *, group: bool = False) -> DeliveryResult:
        await self.pacer.wait(chat_id, group)
        markup = None
        if reply.options:
            buttons = [[InlineKeyboardButton(o[:64], callback_data=f"o:{i}")] for i, o in enumerate(reply.options)]
            markup = InlineKeyboardMarkup(buttons)
        try:
            sent = await self.bot.send_message(int(chat_id), reply.text[:MAX_TEXT], reply_markup=markup)
        except RetryAfter as exc:
            seconds = _seconds(exc)
            self.pacer.hold(chat_id, seconds)
            return RetryLater(f"telegram 429: retry after {seconds:g} s", after_seconds=seconds)
        except Forbidden as exc:
            return Undeliverable(f"blocked: {exc.message}")
        except BadRequest as exc:
            return Undeliverable(f"telegram refused the message: {exc.message}")
        except (TimedOut, NetworkError) as exc:
            return RetryLater(f"telegram unreachable: {exc}")
        return Delivered(str(sent.message_id))

    async def download(self, file_id: str) -> bytes:
        file = await self.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())


@dataclass(frozen=True)
class Incoming:
    """An update reduced to what the engine needs, or to a polite answer without it."""

    chat_id: str
    group: bool
    message: Message | None  # None: answer `direct` and do not involve the engine
    direct: str | None = None
    callback_id: str | None = None


async def read_update(client: TelegramClient, update: TgUpdate, sessions: Any, now: dt.datetime) -> Incoming | None:
    """None: nothing to answer (an edit, our own message, a group chat not talking to us)."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message else None
        data = query.data or ""
        if chat is None or not data.startswith("o:") or not data[2:].isdigit():
            return None
        text = await tapped_option(sessions, CHANNEL, str(chat.id), int(data[2:]))
        if text is None:
            return Incoming(
                str(chat.id),
                chat.type != "private",
                None,
                "Esa opción ya no está disponible; escríbame su consulta.",
                query.id,
            )
        message = Message(CHANNEL, str(chat.id), text, now, external_id=f"cb:{query.id}")
        return Incoming(str(chat.id), chat.type != "private", message, callback_id=query.id)
    msg = update.message
    if msg is None:  # edited messages, channel posts, member changes...: stored, not answered
        return None
    chat_id, group = str(msg.chat.id), msg.chat.type != "private"
    text = msg.text or msg.caption or ""
    if group and not _addressed(client, msg, text):
        return None
    text = _without_mention(client, text)
    if text.split(" ")[0].split("@")[0] in ("/start", "/ayuda", "/help"):
        text = "ayuda"  # the greeting that says what the bot can do
    attachments: tuple[Attachment, ...] = ()
    if msg.photo:
        largest = msg.photo[-1]
        if (largest.file_size or 0) > MAX_FILE_BYTES:
            return Incoming(chat_id, group, None, "La foto supera 10 MB. Envíe una más liviana, por favor.")
        data = await _download(client, largest.file_id)
        if data is None:
            return Incoming(chat_id, group, None, DOWNLOAD_FAILED)
        attachments = (Attachment("foto.jpg", "image/jpeg", data),)
    elif msg.document:
        document = msg.document
        if (document.file_size or 0) > MAX_FILE_BYTES:
            return Incoming(chat_id, group, None, "El archivo supera 10 MB. Envíe el PDF o una foto más liviana.")
        data = await _download(client, document.file_id)
        if data is None:
            return Incoming(chat_id, group, None, DOWNLOAD_FAILED)
        attachments = (Attachment(document.file_name or "documento", document.mime_type or "", data),)
    elif not text:  # stickers, voice notes, video, location...
        return Incoming(chat_id, group, None, UNSUPPORTED)
    message = Message(CHANNEL, chat_id, text, now, external_id=str(msg.message_id), attachments=attachments)
    return Incoming(chat_id, group, message)


async def _download(client: TelegramClient, file_id: str) -> bytes | None:
    """The file's bytes, or None when Telegram would not give them (the customer is told)."""
    try:
        return await client.download(file_id)
    except (TelegramError, OSError, RuntimeError, ValueError) as exc:
        log.warning("telegram file %s: %s", printable(file_id, 80), exc)
        return None


def _addressed(client: TelegramClient, msg: Any, text: str) -> bool:
    """In a group the bot speaks only when mentioned, commanded or replied to."""
    if text.startswith("/"):
        return True
    if client.username and f"@{client.username}".lower() in text.lower():
        return True
    replied = msg.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == client.bot_id)


def _without_mention(client: TelegramClient, text: str) -> str:
    if client.username:
        for form in (f"@{client.username}", f"@{client.username.lower()}"):
            text = text.replace(form, " ")
    return " ".join(text.split())


Handler = Callable[[Message], Awaitable[tuple[Reply, ...]]]


class TelegramChannel:
    """Turns updates into engine calls and replies; shared by the webhook and polling."""

    def __init__(
        self, client: TelegramClient, sessions: Any, handle: Handler, clock: Callable[[], dt.datetime]
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.handle = handle
        self.clock = clock

    async def process(self, payload: Any) -> str:
        """Handle one update (once); returns what happened, for logs and tests."""
        now = self.clock()
        try:
            TgUpdate.model_validate(payload)
        except ValidationError as exc:
            return await self._unusable(payload, why(exc))
        update_id = str(payload["update_id"])
        claim = await claim_event(self.sessions, CHANNEL, update_id, payload, now)
        if not claim.mine:
            return {Claim.DONE: "duplicate", Claim.DEAD: "dead"}.get(claim, "busy")
        return await self.handle_claimed(payload)

    async def _unusable(self, payload: Any, reason: str) -> str:
        event_id = telegram_id(payload) or event_key(payload)
        await mark_unusable(self.sessions, CHANNEL, event_id, payload, reason, self.clock())
        log.warning("telegram update %s is unusable: %s", event_id, reason)
        return f"ignored: unusable ({reason})"

    async def handle_claimed(self, payload: dict[str, Any]) -> str:
        """Answer an update this process has claimed, then mark it done. A failure is
        recorded (and retried by the recovery sweep until it is given up), never raised."""
        try:
            update = TgUpdate.model_validate(payload)
        except ValidationError as exc:  # stored before this check existed
            return await self._unusable(payload, why(exc))
        update_id, now = str(update.update_id), self.clock()
        try:
            incoming = await read_update(self.client, update, self.sessions, now)
            if incoming is not None:
                if incoming.callback_id:
                    with contextlib.suppress(TelegramError):  # only the button's spinner; the answer still goes out
                        await self.client.bot.answer_callback_query(incoming.callback_id)
                replies = await self.handle(incoming.message) if incoming.message else (Reply(incoming.direct or ""),)
                await self.deliver(incoming.chat_id, replies, group=incoming.group)
        except Exception as exc:  # stored: the sweep retries it, a poison one is given up
            log.exception("telegram update %s failed", update_id)
            dead = await record_failure(self.sessions, CHANNEL, update_id, f"{type(exc).__name__}: {exc}", now)
            return "dead" if dead else "failed: will be retried"
        await mark_processed(self.sessions, CHANNEL, update_id, now)
        return "handled" if incoming else "ignored"

    async def deliver(self, chat_id: str, replies: tuple[Reply, ...], *, group: bool) -> None:
        from bot.channels.outbound import send_replies

        async def send(reply: Reply) -> DeliveryResult:
            return await self.client.send(chat_id, reply, group=group)

        await send_replies(self.sessions, CHANNEL, chat_id, replies, send, self.clock, pause=1.0)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling (one process only: two pollers would steal each other's updates)."""
        await self.client.bot.delete_webhook()
        offset = 0
        while not stop.is_set():
            try:
                updates = await self.client.bot.get_updates(offset=offset, timeout=10)
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc))
                continue
            except TelegramError as exc:
                log.warning("telegram polling: %s; retrying in 5 s", exc)
                await asyncio.sleep(5)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self.process(update.to_dict())
        if offset:  # confirm what was processed, so a restart does not fetch it again
            with contextlib.suppress(TelegramError):
                await self.client.bot.get_updates(offset=offset, timeout=0)


@router.post("/webhooks/telegram")
async def webhook(request: Request) -> JSONResponse:
    channel: TelegramChannel | None = request.app.state.telegram
    secret: str | None = request.app.state.telegram_secret
    if channel is None or not secret:
        return JSONResponse({"detail": "Telegram webhook is not configured here"}, status_code=404)
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return JSONResponse({"detail": "wrong secret token"}, status_code=403)
    body = await request.body()
    try:
        payload = safejson.clean(safejson.loads(body))
    except safejson.BadJson as exc:  # 2xx: Telegram would resend a refused body forever
        await mark_unusable(channel.sessions, CHANNEL, event_key(body), None, exc.reason, channel.clock())
        return JSONResponse({"status": f"ignored: unusable ({exc.reason})"})
    status = await channel.process(payload)
    if status == "busy":  # another process is handling this update right now: let Telegram retry later
        return JSONResponse({"status": status}, status_code=503)
    return JSONResponse({"status": status})
