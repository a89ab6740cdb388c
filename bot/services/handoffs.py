"""The advisors' queue, from the chat's side: join it, know one's place, leave it.

A handoff belongs to the customer's distributor. An unverified chat's handoff belongs to
nobody while it waits (every advisor sees it and may take it), then to the distributor of the
advisor who claimed it (`services.console.claim`). Places in the queue count only the
waiting handoffs of the same pool, since only that pool's advisors can take them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import format as fmt
from bot.domain.calendar import OfficeHours
from bot.handoffs import PaidConsent, Ticket
from bot.persistence.tables import ChatLinkRow, ConversationRow, CustomerRow, HandoffRow, MessageRow
from bot.services import chat_links

OPEN = ("waiting", "active")


class SqlHandoffs:
    available = True

    def __init__(self, session: AsyncSession, office: OfficeHours) -> None:
        self.session = session
        self.office = office

    async def request(
        self, conversation_id: int, now: dt.datetime, *, reason: str, question: str, consent: PaidConsent | None
    ) -> Ticket:
        existing = (
            await self.session.execute(
                select(HandoffRow).where(HandoffRow.conversation_id == conversation_id, HandoffRow.status.in_(OPEN))
            )
        ).scalar_one_or_none()
        if existing is None:
            customer = (
                await self.session.execute(
                    select(CustomerRow.id, CustomerRow.distributor_id)
                    .join(ChatLinkRow, ChatLinkRow.customer_id == CustomerRow.id)
                    .where(ChatLinkRow.conversation_id == conversation_id)
                )
            ).one_or_none()
            existing = HandoffRow(
                conversation_id=conversation_id,
                customer_id=customer.id if customer else None,
                distributor_id=customer.distributor_id if customer else None,
                status="waiting",
                reason=reason,
                question=question[:2000] or None,
                requested_at=now,
                request_message_id=await chat_links.newest_message_id(self.session, conversation_id),
                updated_at=now,
            )
            if consent is not None:
                existing.consent_at = now
                existing.consent_hourly = consent.hourly
                existing.consent_iva_rate = consent.iva_rate
                existing.consent_total = consent.hourly_total
                existing.consent_text = consent.text
            self.session.add(existing)
            await self.session.flush()
        return await self._ticket(existing, now)

    async def waiting(self, handoff_id: int, now: dt.datetime) -> Ticket | None:
        row = await self.session.get(HandoffRow, handoff_id)
        if row is None or row.status != "waiting":
            return None
        return await self._ticket(row, now)

    async def leave(self, handoff_id: int, now: dt.datetime) -> bool:
        result = await self.session.execute(
            update(HandoffRow)
            .where(HandoffRow.id == handoff_id, HandoffRow.status == "waiting")
            .values(status="left", closed_at=now, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _ticket(self, row: HandoffRow, now: dt.datetime) -> Ticket:
        same_pool = (
            HandoffRow.distributor_id.is_(None)
            if row.distributor_id is None
            else HandoffRow.distributor_id == row.distributor_id
        )
        ahead = (
            await self.session.execute(
                select(func.count()).where(
                    HandoffRow.status == "waiting",
                    same_pool,
                    or_(
                        HandoffRow.requested_at < row.requested_at,
                        and_(HandoffRow.requested_at == row.requested_at, HandoffRow.id < row.id),
                    ),
                )
            )
        ).scalar_one()
        opens = None if self.office.is_open(now) else self.office.next_opening(now)
        hours = fmt.office_hours(self.office.weekdays, self.office.opens, self.office.closes)
        return Ticket(row.id, int(ahead) + 1, opens, hours)


async def pushed_since(
    session: AsyncSession, channel: str, user_id: str, after: int | None, limit: int = 50
) -> tuple[list[MessageRow], int, str | None]:
    """Messages delivered to this chat outside a turn (an advisor's replies, reminders) after
    `after` (the chat's cursor), the new cursor, and the handoff status ("waiting", "active"
    or None). Without `after`, only the cursor: a chat that opens now must not replay old
    conversations."""
    conversation = (
        await session.execute(
            select(ConversationRow).where(
                ConversationRow.channel == channel, ConversationRow.external_user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if conversation is None:
        return [], 0, None
    state = conversation.state or {}
    status = str((state.get("data") or {}).get("status")) if state.get("flow") == "handoff" else None
    pushed = (MessageRow.conversation_id == conversation.id) & MessageRow.pushed.is_(True)
    if after is None:
        newest = (await session.execute(select(func.max(MessageRow.id)).where(pushed))).scalar_one()
        return [], int(newest or 0), status
    rows = list(
        (
            await session.execute(
                select(MessageRow).where(pushed, MessageRow.id > after).order_by(MessageRow.id).limit(limit)
            )
        ).scalars()
    )
    return rows, (rows[-1].id if rows else after), status
