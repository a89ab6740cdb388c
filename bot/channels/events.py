"""What every messaging platform adapter needs from the database: each update is stored
before it is processed, and recognised when the platform sends it again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence.database import dialect_of
from bot.persistence.tables import ChannelEventRow, ConversationRow, MessageRow
from bot.safetext import clean, printable

# An update stored but not processed this long ago was lost with a crashed process: a retry
# of it may be processed again (never one that finished).
STALE = dt.timedelta(minutes=2)
# Processing started this many times without finishing (an exception each time, or a crash):
# the update is poison. It is marked dead with the reason and an alert, and never tried again.
MAX_ATTEMPTS = 3
MAX_EVENT_ID = 200  # the column's length; a longer platform id is unusable, never cut (two would collide)
log = logging.getLogger(__name__)


class Claim(StrEnum):
    NEW = "new"  # stored now: process it
    RETAKEN = "retaken"  # stored long ago and never finished (a crash): process it now
    DONE = "done"  # a replay of an update already answered (or given up, or unusable)
    BUSY = "busy"  # being processed right now (ask the platform to retry later)
    DEAD = "dead"  # tried MAX_ATTEMPTS times without finishing: given up now

    @property
    def mine(self) -> bool:
        return self in (Claim.NEW, Claim.RETAKEN)


def _event(channel: str, event_id: str) -> Any:
    if len(event_id) > MAX_EVENT_ID:
        raise ValueError(f"event id over {MAX_EVENT_ID} characters")
    return (ChannelEventRow.channel == channel) & (ChannelEventRow.event_id == event_id)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert


async def claim_event(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    event_id: str,
    payload: dict[str, Any] | None,
    now: dt.datetime,
) -> Claim:
    """Store the update, or say why not to process it (a replay is never answered twice).
    Each claim that returns a `mine` value counts as one attempt."""
    key = _event(channel, event_id)
    async with sessions.begin() as session:
        new = (
            await session.execute(
                _insert(session)(ChannelEventRow)
                .values(
                    channel=channel,
                    event_id=event_id,
                    payload=clean(payload),
                    received_at=now,
                    status="new",
                    attempts=1,
                )
                .on_conflict_do_nothing(index_elements=["channel", "event_id"])
                .returning(ChannelEventRow.id)
            )
        ).scalar_one_or_none()
        if new is not None:
            return Claim.NEW
        stale = key & ChannelEventRow.processed_at.is_(None) & (ChannelEventRow.received_at < now - STALE)
        retaken = await session.execute(
            update(ChannelEventRow)
            .where(stale, ChannelEventRow.attempts < MAX_ATTEMPTS)
            .values(received_at=now, attempts=ChannelEventRow.attempts + 1)
        )
        if retaken.rowcount:  # type: ignore[attr-defined]
            return Claim.RETAKEN
        died = await session.execute(
            update(ChannelEventRow)
            .where(stale)
            .values(
                status="dead",
                processed_at=now,
                reason=func.coalesce(ChannelEventRow.reason, "the process stopped while handling it"),
            )
            .returning(ChannelEventRow.attempts, ChannelEventRow.reason)
        )
        dead = died.one_or_none()
        if dead is not None:
            _alert(channel, event_id, dead[0], dead[1])
            return Claim.DEAD
        finished = (await session.execute(select(ChannelEventRow.processed_at).where(key))).scalar_one_or_none()
        return Claim.DONE if finished is not None else Claim.BUSY


def _alert(channel: str, event_id: str, attempts: int, reason: str | None) -> None:
    log.error(
        "ALERT: %s update %s is dead after %d attempts and will not be retried: %s",
        channel,
        printable(event_id, 80),
        attempts,
        reason,
    )


async def mark_processed(
    sessions: async_sessionmaker[AsyncSession], channel: str, event_id: str, now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(ChannelEventRow).where(_event(channel, event_id)).values(processed_at=now, status="done")
        )


async def mark_unusable(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    event_id: str,
    payload: Any,
    reason: str,
    now: dt.datetime,
) -> bool:
    """Record an update the bot cannot use (acknowledged, never processed, never retried).
    False when it was already recorded (a replay) or had finished."""
    reason = printable(reason, 500)
    kept = clean(payload) if isinstance(payload, dict) else None
    async with sessions.begin() as session:
        known = await session.execute(
            update(ChannelEventRow)
            .where(_event(channel, event_id), ChannelEventRow.processed_at.is_(None))
            .values(status="unusable", reason=reason, processed_at=now)
        )
        if known.rowcount:  # type: ignore[attr-defined]
            return True
        added = await session.execute(
            _insert(session)(ChannelEventRow)
            .values(
                channel=channel,
                event_id=event_id,
                payload=kept,
                received_at=now,
                processed_at=now,
                status="unusable",
                reason=reason,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["channel", "event_id"])
            .returning(ChannelEventRow.id)
        )
        return added.scalar_one_or_none() is not None


async def record_failure(
    sessions: async_sessionmaker[AsyncSession], channel: str, event_id: str, error: str, now: dt.datetime
) -> bool:
    """Processing this update raised: keep the reason; after MAX_ATTEMPTS attempts give it up
    (dead, with an ERROR-level alert). Returns True when it is now dead. Otherwise it stays
    unfinished, and the recovery sweep tries it again once it is stale."""
    reason = printable(error, 500)
    async with sessions.begin() as session:
        row = (
            await session.execute(
                update(ChannelEventRow)
                .where(_event(channel, event_id), ChannelEventRow.processed_at.is_(None))
                .values(reason=reason)
                .returning(ChannelEventRow.attempts)
            )
        ).scalar_one_or_none()
        if row is None or row < MAX_ATTEMPTS:
            return False
        await session.execute(
            update(ChannelEventRow).where(_event(channel, event_id)).values(status="dead", processed_at=now)
        )
    _alert(channel, event_id, row, reason)
    return True


def event_key(value: Any) -> str:
    """A stable id for an update that has no usable one of its own: replays of the same bytes
    are recognised."""
    data = (
        value
        if isinstance(value, bytes)
        else json.dumps(value, sort_keys=True, default=str).encode("utf-8", "surrogatepass")
    )
    return "bad:" + hashlib.sha256(data).hexdigest()


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
