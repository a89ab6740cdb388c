"""Proactive messages to chats: reminders, an advisor's replies, answers that could not go out
at once. The delivery worker hands these senders the outbox rows.

- `ConversationSender` (outbox channel "chat", recipient = conversation id): Telegram and
  WhatsApp chats get the message through their client (WhatsApp outside its 24-hour window
  only as an approved template, else by e-mail); every chat also keeps it as a pushed message,
  which the web chat fetches.
- `RoutingSender` (outbox channel "email"): a customer's billing messages go to the chat they
  used last (PERSEO_REMINDER_CHANNELS=last), or to every linked chat and the e-mail (all); the
  e-mail when no Telegram or WhatsApp chat is linked. Codes and mails to distributors are
  always e-mails.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.events import mark_unreachable
from bot.messages import Reply
from bot.persistence.tables import ChatLinkRow, ConversationRow, CustomerRow, MessageRow, OutboxRow
from scheduler.delivery import Delivered, DeliveryResult, RetryLater, Sender, Undeliverable
from scheduler.outbox import OutboxMessage, enqueue

log = logging.getLogger(__name__)
PUSH_CHANNELS = frozenset({"telegram", "whatsapp"})
# Billing messages a customer may get on their chat instead of (or as well as) by e-mail.
ROUTABLE = frozenset(
    {"invoice_issued", "due_soon", "due_today", "suspended", "reactivated", "payment_confirmed", "payment_rejected"}
)
OUTSIDE_WINDOW = "outside the 24-hour window"


class PushClient(Protocol):
    async def push(self, conversation: ConversationRow, row: OutboxRow) -> DeliveryResult: ...


class ConversationSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clients: Mapping[str, PushClient] | None = None,
        email: Sender | None = None,
    ) -> None:
        self.sessions = sessions
        self.clients = dict(clients or {})
        self.email = email

    async def send(self, row: OutboxRow) -> DeliveryResult:
        if not row.recipient.isdigit():
            return Undeliverable(f"chat recipient must be a conversation id, not {row.recipient!r}")
        async with self.sessions() as session:
            conversation = await session.get(ConversationRow, int(row.recipient))
        if conversation is None:
            return Undeliverable(f"conversation {row.recipient} no longer exists")
        if conversation.unreachable_at is not None:
            return Undeliverable("the chat is unreachable (the user blocked the bot)")
        client = self.clients.get(conversation.channel)
        result: DeliveryResult = Delivered("stored for the chat")
        if client is not None:
            result = await client.push(conversation, row)
            if isinstance(result, Undeliverable) and result.reason.startswith("blocked"):
                await mark_unreachable(self.sessions, conversation.id, dt.datetime.now(dt.UTC))
            if isinstance(result, Undeliverable) and result.reason.startswith(OUTSIDE_WINDOW):
                result = await self._by_email(row, result)
        if isinstance(result, Delivered) and not (row.data or {}).get("stored"):
            await self._keep(conversation.id, row)
        return result

    async def _by_email(self, row: OutboxRow, refused: Undeliverable) -> DeliveryResult:
        """No window and no template: the e-mail rather than nothing."""
        if self.email is None or row.customer_id is None:
            return refused
        async with self.sessions() as session:
            address = (
                await session.execute(select(CustomerRow.email).where(CustomerRow.id == row.customer_id))
            ).scalar_one_or_none()
        if address is None:
            return refused
        copy = OutboxRow(
            id=row.id, kind=row.kind, channel="email", recipient=address, subject=row.subject, body=row.body,
            customer_id=row.customer_id,
        )  # fmt: skip
        result = await self.email.send(copy)
        return Delivered(f"by e-mail ({refused.reason})") if isinstance(result, Delivered) else result

    async def _keep(self, conversation_id: int, row: OutboxRow) -> None:
        async with self.sessions.begin() as session:
            # The conversation lock orders pushed messages (see services.console).
            await session.execute(
                select(ConversationRow.id).where(ConversationRow.id == conversation_id).with_for_update()
            )
            session.add(
                MessageRow(
                    conversation_id=conversation_id, direction="out", text=row.body,
                    options=(row.data or {}).get("options") or None, created_at=dt.datetime.now(dt.UTC),
                    source=f"outbox.{row.kind}", pushed=True,
                )
            )  # fmt: skip


class RoutingSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        email: Sender,
        chats: ConversationSender,
        mode: str = "last",
    ) -> None:
        self.sessions = sessions
        self.email = email
        self.chats = chats
        self.mode = mode

    async def send(self, row: OutboxRow) -> DeliveryResult:
        if row.kind not in ROUTABLE or row.customer_id is None or not self.chats.clients:
            return await self.email.send(row)
        async with self.sessions() as session:
            linked = list(
                (
                    await session.execute(
                        select(ConversationRow)
                        .join(ChatLinkRow, ChatLinkRow.conversation_id == ConversationRow.id)
                        .where(
                            ChatLinkRow.customer_id == row.customer_id,
                            ConversationRow.channel.in_(tuple(self.chats.clients)),
                            ConversationRow.unreachable_at.is_(None),
                        )
                        .order_by(ConversationRow.last_inbound_at.desc())
                    )
                ).scalars()
            )
        if not linked:
            return await self.email.send(row)
        targets = linked[:1] if self.mode == "last" else linked
        results = []
        for conversation in targets:
            chat_row = OutboxRow(
                id=row.id, kind=row.kind, channel="chat", recipient=str(conversation.id), subject=row.subject,
                body=row.body, customer_id=row.customer_id, data=row.data,
            )  # fmt: skip
            results.append(await self.chats.send(chat_row))
        if self.mode == "all" or not any(isinstance(r, Delivered) for r in results):
            return await self.email.send(row)  # "all" adds the e-mail; "last" falls back to it
        return Delivered("; ".join(r.reference for r in results if isinstance(r, Delivered)))


async def send_replies(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    user_id: str,
    replies: tuple[Reply, ...],
    send: Callable[[Reply], Awaitable[DeliveryResult]],
    clock: Callable[[], dt.datetime],
    *,
    pause: float,
    attempts: int = 3,
) -> None:
    """Send a turn's answers in order. A short retry-after is waited out here (only this chat
    waits); a long one, or still failing, leaves the answer to the delivery worker; a blocked
    chat is marked unreachable and gets nothing more."""
    for reply in replies:
        for attempt in range(attempts):
            result = await send(reply)
            if not isinstance(result, RetryLater) or (result.after_seconds or 0) > 30 or attempt == attempts - 1:
                break
            await asyncio.sleep(result.after_seconds or pause)
        if isinstance(result, RetryLater):
            await requeue(sessions, channel, user_id, reply, clock())
        elif isinstance(result, Undeliverable):
            log.warning("%s %s: %s", channel, user_id, result.reason)
            if result.reason.startswith("blocked"):
                await unreachable(sessions, channel, user_id, clock())
                return


async def _conversation_id(session: AsyncSession, channel: str, user_id: str) -> int | None:
    found = await session.execute(
        select(ConversationRow.id).where(
            ConversationRow.channel == channel, ConversationRow.external_user_id == user_id
        )
    )
    return found.scalar_one_or_none()


async def requeue(
    sessions: async_sessionmaker[AsyncSession], channel: str, user_id: str, reply: Reply, now: dt.datetime
) -> None:
    """An answer the platform would not take now: the delivery worker retries it."""
    async with sessions.begin() as session:
        conversation_id = await _conversation_id(session, channel, user_id)
        if conversation_id is None:
            raise LookupError(f"no {channel} conversation with {user_id}")
        data = {"stored": True, "options": list(reply.options)}  # the turn already stored it
        message = OutboxMessage(
            f"reply:{uuid.uuid4().hex}", "reply", "chat", str(conversation_id), "", reply.text, data=data
        )
        await enqueue(session, message, now)


async def unreachable(sessions: async_sessionmaker[AsyncSession], channel: str, user_id: str, now: dt.datetime) -> None:
    async with sessions() as session:
        conversation_id = await _conversation_id(session, channel, user_id)
    if conversation_id is not None:
        await mark_unreachable(sessions, conversation_id, now)
