"""Telegram and WhatsApp wired together for the server: what `create_app` serves and starts."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.messages import Message, Reply

if TYPE_CHECKING:
    from bot.channels.outbound import PushClient
    from bot.channels.telegram import TelegramChannel
    from bot.channels.whatsapp import WhatsAppChannel
    from bot.engine import Engine

log = logging.getLogger(__name__)


@dataclass
class Messaging:
    telegram: TelegramChannel | None = None
    telegram_secret: str | None = None
    telegram_webhook_url: str | None = None
    whatsapp: WhatsAppChannel | None = None
    whatsapp_secret: str | None = None
    whatsapp_verify_token: str | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _polling: asyncio.Task[None] | None = None
    _recovery: asyncio.Task[None] | None = None

    def clients(self) -> dict[str, PushClient]:
        found: dict[str, Any] = {}
        if self.telegram is not None:
            found["telegram"] = TelegramPush(self.telegram)
        if self.whatsapp is not None:
            found["whatsapp"] = self.whatsapp.client
        return found

    async def recover(self, now: dt.datetime) -> int:
        """Process updates a crashed process stored but never finished (WhatsApp is answered
        after its webhook returned, so nobody would ask again). Returns how many."""
        from bot.channels.events import claim_event, unprocessed

        done = 0
        for name, channel in (("whatsapp", self.whatsapp), ("telegram", self.telegram)):
            if channel is None:
                continue
            for event_id, payload in await unprocessed(channel.sessions, name, now):
                try:
                    if not (await claim_event(channel.sessions, name, event_id, payload, now)).mine:
                        continue  # another replica took it, or it was given up (dead) just now
                    if name == "whatsapp":
                        await self.whatsapp.process(payload)  # type: ignore[union-attr]
                    else:
                        await self.telegram.handle_claimed(payload)  # type: ignore[union-attr]
                except Exception:  # one update's trouble must not stop the others' recovery
                    log.exception("recovering %s update %s failed", name, event_id)
                    continue
                done += 1
        return done

    async def _recover_forever(self, every: float = 60.0) -> None:
        # Waits first: at start-up the server has better things to do, and an update is only
        # "lost" once it has been unfinished for two minutes anyway.
        while not await self._stopped_within(every):
            try:
                recovered = await self.recover(dt.datetime.now(dt.UTC))
                if recovered:
                    log.warning("recovered %d unfinished channel updates", recovered)
            except Exception:  # a database hiccup must not end the loop
                log.exception("channel recovery failed; trying again in a minute")

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        return self._stop.is_set()

    async def start(self) -> None:
        if self.telegram is not None or self.whatsapp is not None:
            self._recovery = asyncio.create_task(self._recover_forever())
        if self.telegram is None:
            return
        await self.telegram.client.start()
        if self.telegram_secret:
            if self.telegram_webhook_url:
                await self.telegram.client.bot.set_webhook(self.telegram_webhook_url, secret_token=self.telegram_secret)
                log.info("telegram: webhook registered at %s", self.telegram_webhook_url)
        else:
            self._polling = asyncio.create_task(self.telegram.poll(self._stop))
            log.info("telegram: polling (run one process only in this mode)")

    async def stop(self) -> None:
        self._stop.set()
        for task in (self._polling, self._recovery):
            if task is None:
                continue
            try:  # let a running poll or sweep finish its database work; cancel only if it hangs
                await asyncio.wait_for(task, timeout=25)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        if self.whatsapp is not None:
            await self.whatsapp.drain()
            await self.whatsapp.client.stop()
        if self.telegram is not None:
            await self.telegram.client.stop()


class TelegramPush:
    """Proactive Telegram messages for the outbox's conversation sender."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel

    async def push(self, conversation: Any, row: Any) -> Any:
        options = tuple((row.data or {}).get("options") or ())
        group = conversation.external_user_id.startswith("-")  # Telegram group and channel ids are negative
        return await self.channel.client.send(conversation.external_user_id, Reply(row.body, options), group=group)


def build_messaging(settings: Any, sessions: Any, engine: Engine, clock: Callable[[], dt.datetime]) -> Messaging:
    """Channels whose settings are present; nothing when none are (the embedded default)."""
    from knowledge.pack import resolve_pack_dir

    async def handle(message: Message) -> tuple[Reply, ...]:
        return (await engine.handle(message)).replies

    messaging = Messaging()
    if settings.telegram_token:
        from bot.channels.telegram import TelegramChannel, TelegramClient

        client = TelegramClient(settings.telegram_token, settings.telegram_api_url, settings.telegram_rate)
        messaging.telegram = TelegramChannel(client, sessions, handle, clock)
        messaging.telegram_secret = settings.telegram_webhook_secret
        messaging.telegram_webhook_url = settings.telegram_webhook_url
    if settings.whatsapp_enabled:
        from bot.channels.whatsapp import WhatsAppChannel, WhatsAppClient, load_templates

        templates = load_templates(resolve_pack_dir(settings.knowledge_pack) / "whatsapp.yaml")
        wa = WhatsAppClient(
            settings.whatsapp_token, settings.whatsapp_phone_number_id, settings.whatsapp_api_url, templates,
            settings.whatsapp_rate, clock,
        )  # fmt: skip
        messaging.whatsapp = WhatsAppChannel(wa, sessions, handle, clock)
        messaging.whatsapp_secret = settings.whatsapp_app_secret
        messaging.whatsapp_verify_token = settings.whatsapp_verify_token
    return messaging
