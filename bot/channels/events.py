"""What every messaging platform adapter needs from the database: each update is stored
before it is processed, and recognised when the platform sends it again."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence.database import dialect_of
from bot.persistence.tables import ChannelEventRow, ConversationRow, MessageRow

# An update stored but not processed this long ago was lost with a crashed process: a retry
# of it may be processed again (never one that finished).
STALE = dt.timedelta(minutes=2)


class Claim(StrEnum):
    NEW = "new"  # stored now: process it
    RETAKEN = "retaken"  # stored long ago and never finished (a crash): process it now
    DONE = "done"  # a replay of an update already answered
    BUSY = "busy"  # being processed right now (ask the platform to retry later)

    @property
    def mine(self) -> bool:
        return self in (Claim.NEW, Claim.RETAKEN)


async def claim_event(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    event_id: str,
    payload: dict[str, Any] | None,
    now: dt.datetime,
) -> Claim:
    """Store the update, or say why not to process it (a replay is never answered twice)."""
    async with sessions.begin() as session:
        insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
        new = (
            await session.execute(
                insert(ChannelEventRow)
                .values(channel=channel, event_id=event_id[:200], payload=payload, received_at=now)
                .on_conflict_do_nothing(index_elements=["channel", "event_id"])
                .returning(ChannelEventRow.id)
            )
        ).scalar_one_or_none()
        if new is not None:
            return Claim.NEW
        retaken = await session.execute(
            update(ChannelEventRow)
            .where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.event_id == event_id[:200],
                ChannelEventRow.processed_at.is_(None),
                ChannelEventRow.received_at < now - STALE,
            )
            .values(received_at=now)
        )
        if retaken.rowcount:  # type: ignore[attr-defined]
            return Claim.RETAKEN
        finished = (
            await session.execute(
                select(ChannelEventRow.processed_at).where(
                    ChannelEventRow.channel == channel, ChannelEventRow.event_id == event_id[:200]
                )
            )
        ).scalar_one_or_none()
        return Claim.DONE if finished is not None else Claim.BUSY


async def mark_processed(
    sessions: async_sessionmaker[AsyncSession], channel: str, event_id: str, now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(ChannelEventRow)
            .where(ChannelEventRow.channel == channel, ChannelEventRow.event_id == event_id[:200])
            .values(processed_at=now)
        )


async def unprocessed(
    sessions: async_sessionmaker[AsyncSession], channel: str, now: dt.datetime
) -> list[tuple[str, dict[str, Any]]]:
    """Updates a crashed process stored and never finished (to process them now)."""
    async with sessions() as session:
        rows = await session.execute(
            select(ChannelEventRow.event_id, ChannelEventRow.payload).where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.processed_at.is_(None),
                ChannelEventRow.received_at < now - STALE,
            )
        )
        return [(event_id, payload or {}) for event_id, payload in rows.all()]


async def tapped_option(
    sessions: async_sessionmaker[AsyncSession], channel: str, user_id: str, index: int
) -> str | None:
    """The text of option `index` in the bot's latest message with options in this chat
    (buttons carry short ids; the platforms limit their payload)."""
    async with sessions() as session:
        recent = (
            await session.execute(
                select(MessageRow.options)
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(
                    ConversationRow.channel == channel,
                    ConversationRow.external_user_id == user_id,
                    MessageRow.direction == "out",
                )
                .order_by(MessageRow.id.desc())
                .limit(20)
            )
        ).scalars()
        options = next((o for o in recent if o), None)  # (a JSON null is not SQL NULL: filter here)
    if not options or not 0 <= index < len(options):
        return None
    return str(options[index])


async def mark_unreachable(sessions: async_sessionmaker[AsyncSession], conversation_id: int, now: dt.datetime) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(ConversationRow).where(ConversationRow.id == conversation_id).values(unreachable_at=now)
        )
