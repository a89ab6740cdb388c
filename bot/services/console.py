"""What advisors do in the console: see the queue, claim, reply, close with the time spent.

Every operation takes the conversation row lock before it changes a handoff, the same lock a
customer's turn holds (see `persistence.sql_store`), so a claim, a reply, a close and the
customer's own messages are applied one at a time and in order. Claims are decided by a
conditional UPDATE as well: of two advisors claiming at once exactly one wins.

Visibility (tenant isolation): an advisor sees the handoffs of their own distributor, and the
unverified chats nobody has taken (waiting in the queue, or left before anyone took them):
nobody knows their distributor yet, so any advisor may take them. Claiming an unverified chat
makes it the claiming advisor's distributor's for good: after the close it stays visible to
that distributor only. An admin sees all. Anything else is "not found", so an advisor cannot
even learn that another distributor's conversation exists. What an advisor reads of a visible
conversation is bounded too (`bot.domain.tenancy`): never the stretch written while the chat
was linked to another distributor's customer, nor anything after it; and the customer panel
shows an account only when it is the advisor's distributor's and the chat is still in the
advisor's stretch.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import Accounts
from bot.domain.hours import MAX_SESSION_MINUTES, duration_text
from bot.domain.tenancy import EVERYTHING, Window, history_window
from bot.flows import handoff as handoff_flow
from bot.persistence.tables import (
    AdvisorRow,
    ConversationRow,
    CustomerRow,
    HandoffRow,
    MessageRow,
    PaymentReportRow,
)
from bot.safetext import storable
from bot.services import chat_links
from bot.services.advisors import Advisor
from bot.services.hours import log_session
from scheduler.outbox import OutboxMessage, enqueue

PUSH_CHANNELS = frozenset({"telegram", "whatsapp"})  # the web chat and terminal fetch pushed messages

MAX_REPLY_CHARS = 4000
HISTORY_LIMIT = 200
NOT_FOUND = "No existe esa conversación o no pertenece a su distribuidor."


class ConsoleError(Exception):
    """A refused console action: the HTTP status and a message for the advisor."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Pricing:
    """Paid support as of today, unless the customer accepted another price."""

    hourly: Decimal
    iva_rate: Decimal


def visible_to(advisor: Advisor) -> ColumnElement[bool]:
    if advisor.is_admin:
        return true()
    return or_(
        HandoffRow.distributor_id == advisor.distributor_id,
        # Nobody took it yet (it waits, or the customer left the queue before: the advisor who
        # clicks it is told so). Claiming sets the claiming advisor's distributor.
        and_(HandoffRow.distributor_id.is_(None), HandoffRow.status.in_(("waiting", "left"))),
    )


async def _window(session: AsyncSession, advisor: Advisor, row: HandoffRow) -> Window | None:
    """The messages of the handoff's conversation this advisor may read (None: none)."""
    if advisor.is_admin:
        return EVERYTHING
    changes = await chat_links.history(session, row.conversation_id)
    return history_window(changes, row.request_message_id or 0, advisor.distributor_id)


async def _visible_handoff(session: AsyncSession, advisor: Advisor, handoff_id: int) -> HandoffRow:
    row = (
        await session.execute(select(HandoffRow).where(HandoffRow.id == handoff_id, visible_to(advisor)))
    ).scalar_one_or_none()
    if row is None:
        raise ConsoleError(404, NOT_FOUND)
    return row


async def _locked(session: AsyncSession, advisor: Advisor, handoff_id: int) -> tuple[HandoffRow, ConversationRow]:
    """The handoff and its conversation, the conversation row locked for this transaction."""
    row = await _visible_handoff(session, advisor, handoff_id)
    conversation = (
        await session.execute(
            select(ConversationRow).where(ConversationRow.id == row.conversation_id).with_for_update()
        )
    ).scalar_one()
    await session.refresh(row)  # what another advisor committed before we got the lock
    return row, conversation


async def _advisor_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(AdvisorRow.id, AdvisorRow.name).where(AdvisorRow.id.in_(ids)))
    return {advisor_id: name for advisor_id, name in rows.all()}


def _ended_message(row: HandoffRow) -> str:
    if row.status == "left":
        return "El cliente salió de la fila; esta conversación ya no espera a un asesor."
    return "Esta conversación ya fue cerrada."


async def queue(session: AsyncSession, advisor: Advisor, now: dt.datetime) -> list[dict[str, Any]]:
    """Waiting and active handoffs, oldest request first."""
    rows = (
        await session.execute(
            select(HandoffRow, ConversationRow.channel, CustomerRow.razon_social)
            .join(ConversationRow, ConversationRow.id == HandoffRow.conversation_id)
            .outerjoin(CustomerRow, CustomerRow.id == HandoffRow.customer_id)
            .where(HandoffRow.status.in_(("waiting", "active")), visible_to(advisor))
            .order_by(HandoffRow.requested_at, HandoffRow.id)
        )
    ).all()
    names = await _advisor_names(session, {r.advisor_id for r, _, _ in rows if r.advisor_id})
    last_texts = await _last_inbound(session, [r.conversation_id for r, _, _ in rows])
    return [
        {
            "id": row.id,
            "status": row.status,
            "reason": row.reason,
            "channel": channel,
            "company": company,
            "verified": row.customer_id is not None,
            "paid_support": row.consent_at is not None,
            "requested_at": row.requested_at.isoformat(),
            "waiting_seconds": max(0, int(((row.claimed_at or now) - row.requested_at).total_seconds())),
            "advisor": names.get(row.advisor_id) if row.advisor_id else None,
            "mine": row.advisor_id == advisor.id,
            "last_message": (last_texts.get(row.conversation_id) or row.question or "")[:160],
        }
        for row, channel, company in rows
    ]


async def _last_inbound(session: AsyncSession, conversation_ids: list[int]) -> dict[int, str]:
    if not conversation_ids:
        return {}
    latest = (
        select(MessageRow.conversation_id, func.max(MessageRow.id).label("id"))
        .where(MessageRow.conversation_id.in_(conversation_ids), MessageRow.direction == "in")
        .group_by(MessageRow.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(MessageRow.conversation_id, MessageRow.text).join(latest, latest.c.id == MessageRow.id)
    )
    return {conversation_id: text for conversation_id, text in rows.all()}


async def version(session: AsyncSession, advisor: Advisor) -> str:
    """Changes whenever anything the advisor's queue or open conversations show changes."""
    changed = (
        await session.execute(select(func.count(), func.max(HandoffRow.updated_at)).where(visible_to(advisor)))
    ).one()
    newest = (
        await session.execute(
            select(func.max(MessageRow.id))
            .join(HandoffRow, HandoffRow.conversation_id == MessageRow.conversation_id)
            .where(HandoffRow.status.in_(("waiting", "active")), visible_to(advisor))
        )
    ).scalar_one()
    return f"{changed[0]}:{changed[1]}:{newest}"


async def detail(
    session: AsyncSession,
    advisor: Advisor,
    handoff_id: int,
    now: dt.datetime,
    today: dt.date,
    accounts: Accounts,
) -> dict[str, Any]:
    row = await _visible_handoff(session, advisor, handoff_id)
    conversation = await session.get(ConversationRow, row.conversation_id)
    assert conversation is not None
    window = await _window(session, advisor, row)
    messages: list[MessageRow] = []
    if window is not None:
        query = select(MessageRow).where(
            MessageRow.conversation_id == row.conversation_id, MessageRow.id > window.after
        )
        if window.upto is not None:
            query = query.where(MessageRow.id <= window.upto)
        messages = list((await session.execute(query.order_by(MessageRow.id.desc()).limit(HISTORY_LIMIT))).scalars())
        messages.reverse()
    names = await _advisor_names(
        session, {m.advisor_id for m in messages if m.advisor_id} | ({row.advisor_id} if row.advisor_id else set())
    )
    recent = [m.text for m in reversed(messages) if m.direction == "in"][:5] or [row.question or ""]
    elapsed = (now - row.claimed_at).total_seconds() / 60 if row.claimed_at else 0
    return {
        "id": row.id,
        "status": row.status,
        "reason": row.reason,
        "channel": conversation.channel,
        "requested_at": row.requested_at.isoformat(),
        "claimed_at": row.claimed_at.isoformat() if row.claimed_at else None,
        "advisor": names.get(row.advisor_id) if row.advisor_id else None,
        "mine": row.advisor_id == advisor.id,
        "suggested_minutes": min(MAX_SESSION_MINUTES, max(1, math.ceil(elapsed))),
        "paid_consent": (
            {"at": row.consent_at.isoformat(), "hourly_total": str(row.consent_total), "text": row.consent_text}
            if row.consent_at
            else None
        ),
        "recent_questions": recent,  # newest first: suggestions come from the latest one that has any
        "messages": [
            {
                "id": m.id,
                "from": "customer" if m.direction == "in" else ("advisor" if m.advisor_id else "bot"),
                "author": names.get(m.advisor_id) if m.advisor_id else None,
                "text": m.text,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ],
        "customer": await _customer_panel(session, advisor, row, window, today, accounts),
    }


async def _customer_panel(
    session: AsyncSession, advisor: Advisor, row: HandoffRow, window: Window | None, today: dt.date, accounts: Accounts
) -> dict[str, Any] | None:
    """The account the chat is linked to now: for an advisor only while the chat is still in
    their stretch (not since linked to another distributor) and the account is their
    distributor's."""
    if not advisor.is_admin and (window is None or window.upto is not None):
        return None
    account = await accounts.linked(row.conversation_id, today)
    if account is None:
        return None
    if not advisor.is_admin:
        owner = await session.execute(select(CustomerRow.distributor_id).where(CustomerRow.id == account.customer_id))
        if owner.scalar_one_or_none() != advisor.distributor_id:
            return None
    reports = (
        await session.execute(
            select(PaymentReportRow)
            .where(PaymentReportRow.customer_id == account.customer_id, PaymentReportRow.status == "pending")
            .order_by(PaymentReportRow.id)
        )
    ).scalars()
    previous = (
        await session.execute(
            select(HandoffRow, AdvisorRow.name)
            .outerjoin(AdvisorRow, AdvisorRow.id == HandoffRow.advisor_id)
            .where(HandoffRow.customer_id == account.customer_id, HandoffRow.id != row.id)
            .order_by(HandoffRow.requested_at.desc())
            .limit(10)
        )
    ).all()
    return {
        "company": account.company,
        "contact": account.contact,
        "plan": account.plan,
        "state": account.state,
        "distributor": account.distributor,
        "included_minutes": account.included_hours * 60,
        "purchased_minutes": account.purchased_minutes,
        "consumed_minutes": account.consumed_minutes,
        "remaining_minutes": account.remaining_minutes,
        "remaining_text": duration_text(account.remaining_minutes),
        "invoices": [
            {"number": i.number, "due_date": i.due_date.isoformat(), "total": str(i.total), "status": i.status}
            for i in account.invoices[:6]
        ],
        "open_payment_reports": [
            {"invoice_id": r.invoice_id, "amount": str(r.amount), "paid_on": r.paid_on.isoformat(), "bank": r.bank}
            for r in reports
        ],
        "previous": [
            {
                "requested_at": h.requested_at.isoformat(),
                "status": h.status,
                "topic": h.topic,
                "minutes": h.minutes,
                "advisor": name,
            }
            for h, name in previous
        ],
    }


def _push(conversation: ConversationRow, advisor: Advisor, text: str, source: str, now: dt.datetime) -> MessageRow:
    """A message to the customer written by a person (or on a person's behalf): channels that
    cannot be answered synchronously pick these up (the web chat polls for them)."""
    conversation.updated_at = now
    return MessageRow(
        conversation_id=conversation.id,
        direction="out",
        text=text,
        created_at=now,
        source=source,
        advisor_id=advisor.id,
        pushed=True,
    )


async def _relay(
    session: AsyncSession, conversation: ConversationRow, message: MessageRow, now: dt.datetime
) -> MessageRow:
    """Store the advisor's message; Telegram and WhatsApp chats get it through the outbox (the
    web chat fetches it), so a platform that is slow or down never blocks the console."""
    session.add(message)
    await session.flush()
    if conversation.channel in PUSH_CHANNELS:
        relay = OutboxMessage(
            f"relay:{message.id}", "advisor_reply", "chat", str(conversation.id), "", message.text,
            data={"stored": True},
        )  # fmt: skip
        await enqueue(session, relay, now)
    return message


async def claim(session: AsyncSession, advisor: Advisor, handoff_id: int, now: dt.datetime) -> None:
    row, conversation = await _locked(session, advisor, handoff_id)
    if row.status == "active":
        if row.advisor_id == advisor.id:
            return  # a double click: already yours
        owner = (await _advisor_names(session, {row.advisor_id} if row.advisor_id else set())).get(
            row.advisor_id or 0, "otro asesor"
        )
        raise ConsoleError(409, f"{owner} ya tomó esta conversación.")
    if row.status != "waiting":
        raise ConsoleError(409, _ended_message(row))
    won = await session.execute(  # an unverified chat becomes the claiming advisor's distributor's
        update(HandoffRow)
        .where(HandoffRow.id == row.id, HandoffRow.status == "waiting")
        .values(
            status="active",
            advisor_id=advisor.id,
            claimed_at=now,
            updated_at=now,
            distributor_id=func.coalesce(HandoffRow.distributor_id, advisor.distributor_id),
        )
    )
    if not won.rowcount:  # type: ignore[attr-defined]
        raise ConsoleError(409, "Otro asesor tomó esta conversación un instante antes.")
    conversation.state = handoff_flow.state(row.id, "active", advisor.name).to_json()
    text = f"Hola, le saluda {advisor.name}, asesor de {advisor.distributor}. Desde ahora le atiende una persona."
    await _relay(session, conversation, _push(conversation, advisor, text, "handoff.claimed", now), now)


async def reply(session: AsyncSession, advisor: Advisor, handoff_id: int, text: str, now: dt.datetime) -> int:
    text = storable(text.strip())
    if not text:
        raise ConsoleError(422, "Escriba un mensaje antes de enviar.")
    if len(text) > MAX_REPLY_CHARS:
        raise ConsoleError(422, f"El mensaje supera {MAX_REPLY_CHARS} caracteres; divídalo en partes.")
    row, conversation = await _locked(session, advisor, handoff_id)
    _must_own(row, advisor)
    message = await _relay(session, conversation, _push(conversation, advisor, text, "advisor", now), now)
    row.updated_at = now
    return message.id


def _must_own(row: HandoffRow, advisor: Advisor, *, admin_may: bool = False) -> None:
    if row.status == "waiting":
        raise ConsoleError(409, "Tome la conversación antes de responder o cerrarla.")
    if row.status != "active":
        raise ConsoleError(409, _ended_message(row))
    if row.advisor_id != advisor.id and not (admin_may and advisor.is_admin):
        raise ConsoleError(403, "Esta conversación la atiende otro asesor.")


async def close(
    session: AsyncSession,
    advisor: Advisor,
    handoff_id: int,
    *,
    minutes: int,
    topic: str,
    now: dt.datetime,
    pricing: Pricing,
) -> dict[str, Any]:
    """End the session: the minutes come out of the customer's hours, any excess is charged
    per started hour plus IVA (at the price the customer accepted, if they were asked)."""
    topic = storable(topic.strip())
    if not 1 <= minutes <= MAX_SESSION_MINUTES:
        raise ConsoleError(422, f"Los minutos deben estar entre 1 y {MAX_SESSION_MINUTES}.")
    if not topic or len(topic) > 300:
        raise ConsoleError(422, "Escriba el tema atendido (hasta 300 caracteres).")
    row, conversation = await _locked(session, advisor, handoff_id)
    _must_own(row, advisor, admin_may=True)
    summary: dict[str, Any] = {"minutes": minutes, "charged": None, "logged": False}
    if row.customer_id is not None:
        ruc = (await session.execute(select(CustomerRow.ruc).where(CustomerRow.id == row.customer_id))).scalar_one()
        entry_id, charge = await log_session(
            session,
            ruc,
            minutes,
            topic=topic,
            advisor=advisor.email,
            channel=conversation.channel,
            started_at=row.claimed_at or now,
            now=now,
            hourly_rate=row.consent_hourly or pricing.hourly,
            iva_rate=row.consent_iva_rate if row.consent_iva_rate is not None else pricing.iva_rate,
        )
        row.support_session_id = entry_id
        summary["logged"] = True
        if charge is not None:
            summary["charged"] = {
                "hours_billed": charge.hours_billed,
                "subtotal": str(charge.subtotal),
                "iva": str(charge.iva),
                "total": str(charge.total),
            }
    row.status, row.closed_at, row.minutes, row.topic, row.updated_at = "closed", now, minutes, topic, now
    conversation.state = None
    text = f"{advisor.name} finalizó la atención ({duration_text(minutes)}"
    if summary["charged"]:
        text += f"; soporte pagado: {summary['charged']['hours_billed']} h, USD {summary['charged']['total']} con IVA"
    elif summary["logged"]:
        text += ", descontados de sus horas de implementación"
    text += "). Vuelvo a atenderle yo, el asistente virtual: escriba su consulta cuando quiera."
    await _relay(session, conversation, _push(conversation, advisor, text, "handoff.closed", now), now)
    return summary
