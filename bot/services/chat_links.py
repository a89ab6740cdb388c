"""Linking a conversation to a customer, and unlinking it, with its history.

The only place that writes `chat_links`: every change is also appended to
`chat_link_history` (which distributor the chat belonged to from which message on), so the
console can bound what an advisor of one distributor reads of a chat that was, before or
after, another distributor's customer (`bot.domain.tenancy`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.tenancy import LinkChange
from bot.persistence.tables import ChatLinkHistoryRow, ChatLinkRow, CustomerRow, MessageRow


async def newest_message_id(session: AsyncSession, conversation_id: int) -> int:
    """The conversation's newest message id (0 before any): a position in the conversation."""
    newest = await session.execute(select(func.max(MessageRow.id)).where(MessageRow.conversation_id == conversation_id))
    return int(newest.scalar_one() or 0)


async def link(session: AsyncSession, conversation_id: int, customer_id: int, now: dt.datetime) -> None:
    """The conversation is now the customer's (replacing any previous link)."""
    distributor_id = (
        await session.execute(select(CustomerRow.distributor_id).where(CustomerRow.id == customer_id))
    ).scalar_one()
    await session.execute(delete(ChatLinkRow).where(ChatLinkRow.conversation_id == conversation_id))
    session.add(ChatLinkRow(conversation_id=conversation_id, customer_id=customer_id, linked_at=now))
    await _record(session, conversation_id, customer_id, distributor_id, now)


async def unlink(session: AsyncSession, conversation_id: int, now: dt.datetime) -> bool:
    """The conversation belongs to nobody again; False when it was not linked."""
    result = await session.execute(delete(ChatLinkRow).where(ChatLinkRow.conversation_id == conversation_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _record(session, conversation_id, None, None, now)
    return True


async def history(session: AsyncSession, conversation_id: int) -> list[LinkChange]:
    """The conversation's link changes, in the order they happened."""
    rows = await session.execute(
        select(ChatLinkHistoryRow.after_message_id, ChatLinkHistoryRow.distributor_id)
        .where(ChatLinkHistoryRow.conversation_id == conversation_id)
        .order_by(ChatLinkHistoryRow.id)
    )
    return [LinkChange(int(after), distributor) for after, distributor in rows.all()]


async def _record(
    session: AsyncSession, conversation_id: int, customer_id: int | None, distributor_id: int | None, now: dt.datetime
) -> None:
    after = await newest_message_id(session, conversation_id)
    session.add(
        ChatLinkHistoryRow(
            conversation_id=conversation_id,
            customer_id=customer_id,
            distributor_id=distributor_id,
            changed_at=now,
            after_message_id=after,
        )
    )
    await session.flush()
