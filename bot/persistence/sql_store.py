"""`ConversationStore` on SQLAlchemy (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.accounts import Accounts, NoAccounts
from bot.engine import Clock
from bot.handoffs import Handoffs, NoHandoffs
from bot.messages import FlowState, Message
from bot.persistence.database import dialect_of
from bot.persistence.tables import ConversationRow, MessageRow
from bot.safetext import storable
from bot.store import ChatLine, OpenTurn, PendingTurn, StoredInbound
from bot.trainings import Trainings, no_trainings

AccountsFactory = Callable[[AsyncSession], Accounts]
HandoffsFactory = Callable[[AsyncSession], Handoffs]
TrainingsFactory = Callable[[AsyncSession], Trainings]


class SqlConversationStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        accounts: AccountsFactory | None = None,
        handoffs: HandoffsFactory | None = None,
        trainings: TrainingsFactory | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.accounts = accounts or (lambda session: NoAccounts())
        self.handoffs = handoffs or (lambda session: NoHandoffs())
        self.trainings = trainings or (lambda session: no_trainings())

    async def save_inbound(self, message: Message) -> StoredInbound:
        async with self._sessions.begin() as session:
            conversation_id = await self._conversation_id(session, message)
            await session.execute(  # the 24-hour window and "the channel they last used"; writing again reopens
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(last_inbound_at=message.received_at, unreachable_at=None)
            )
            row = MessageRow(
                conversation_id=conversation_id,
                direction="in",
                text=storable(
                    message.text
                    + "".join(
                        f" [adjunto: {a.filename}, {a.content_type}, {len(a.data)} bytes]" for a in message.attachments
                    )
                ),
                external_id=message.external_id,
                created_at=message.received_at,
            )
            session.add(row)
            await session.flush()
            return StoredInbound(conversation_id, row.id)

    def turn(self, inbound: StoredInbound) -> AbstractAsyncContextManager[OpenTurn]:
        return self._turn(inbound)

    @asynccontextmanager
    async def _turn(self, inbound: StoredInbound) -> AsyncIterator[OpenTurn]:
        async with self._sessions.begin() as session:
            # Serialises turns of one conversation: FOR UPDATE on PostgreSQL, the
            # BEGIN IMMEDIATE write lock on SQLite (see persistence.database).
            conversation = (
                await session.execute(
                    select(ConversationRow).where(ConversationRow.id == inbound.conversation_id).with_for_update()
                )
            ).scalar_one()
            turn = PendingTurn(
                FlowState.from_json(conversation.state),
                self.accounts(session),
                self.handoffs(session),
                self.trainings(session),
            )
            yield turn
            if turn.result is None:
                return
            outcome, state = turn.result
            now = self._clock()
            for reply in outcome.replies:
                session.add(
                    MessageRow(
                        conversation_id=inbound.conversation_id,
                        direction="out",
                        text=reply.text,
                        options=list(reply.options) or None,
                        created_at=now,
                        fallback=outcome.fallback,
                        source=outcome.source,
                        confidence=outcome.confidence,
                    )
                )
            conversation.state = state.to_json() if state else None
            conversation.updated_at = now
            inbound_row = await session.get(MessageRow, inbound.message_id)
            if inbound_row is not None:
                inbound_row.processed_at = now

    async def history(self, channel: str, user_id: str, limit: int) -> list[ChatLine]:
        if limit <= 0:
            return []
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(MessageRow)
                    .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                    .where(ConversationRow.channel == channel, ConversationRow.external_user_id == user_id)
                    .order_by(MessageRow.id.desc())
                    .limit(limit)
                )
            ).scalars()
            return [_line(row) for row in reversed(list(rows))]

    async def _conversation_id(self, session: AsyncSession, message: Message) -> int:
        """Get or create the conversation; safe when two first messages race."""
        values: dict[str, Any] = {
            "channel": message.channel,
            "external_user_id": message.user_id,
            "created_at": message.received_at,
            "updated_at": message.received_at,
        }
        dialect = dialect_of(session)
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(insert(ConversationRow).values(**values).on_conflict_do_nothing())
        return (
            await session.execute(
                select(ConversationRow.id).where(
                    ConversationRow.channel == message.channel,
                    ConversationRow.external_user_id == message.user_id,
                )
            )
        ).scalar_one()


def _line(row: MessageRow) -> ChatLine:
    if row.direction == "in":
        return ChatLine(row.id, "customer", row.text)
    role = "advisor" if row.advisor_id is not None else "bot"  # reminders are pushed by the bot
    return ChatLine(row.id, role, row.text, tuple(row.options or ()))
