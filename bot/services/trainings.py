"""Trainings with what the database adds to the pack's calendar: sessions admins added,
cancellations, sign-ups, seats and reminders.

A sign-up stores its reminders in the outbox at once (60 and 10 minutes before the start by
default; only those still ahead), one to the chat and, for a linked customer, one by e-mail.
Each expires at the start, so a reminder never arrives after the session began. Cancelling a
sign-up cancels its pending reminders; cancelling a session cancels them all and tells
everyone signed up.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import format as fmt
from bot.domain.trainings import Calendar, Session, Zoom
from bot.persistence.database import dialect_of
from bot.persistence.tables import (
    ChatLinkRow,
    ConversationRow,
    CustomerRow,
    OutboxRow,
    TrainingCancellationRow,
    TrainingSessionRow,
    TrainingSignupRow,
)
from bot.services.notifications import Notifier
from bot.trainings import Offer, SignUp
from scheduler.outbox import OutboxMessage, enqueue


class TrainingError(ValueError):
    """An admin command that cannot be done; the message says why."""


async def full_calendar(session: AsyncSession, calendar: Calendar) -> Calendar:
    rows = (await session.execute(select(TrainingSessionRow))).scalars()
    return calendar.with_extra(
        Session(
            r.id, r.start.astimezone(calendar.zone), r.minutes, r.topic, Zoom(r.join_url, r.meeting_id, r.passcode),
            r.seats,
        )
        for r in rows
    )  # fmt: skip


async def _cancelled(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    query = select(TrainingCancellationRow.session_id).where(TrainingCancellationRow.session_id.in_(ids))
    return set((await session.execute(query)).scalars())


async def _taken(session: AsyncSession, ids: Sequence[str]) -> dict[str, int]:
    if not ids:
        return {}
    query = (
        select(TrainingSignupRow.session_id, func.count())
        .where(TrainingSignupRow.session_id.in_(ids), TrainingSignupRow.cancelled_at.is_(None))
        .group_by(TrainingSignupRow.session_id)
    )
    return {session_id: int(count) for session_id, count in (await session.execute(query)).all()}


def _values(found: Session, **extra: Any) -> dict[str, Any]:
    return {
        "tema": found.topic,
        "cuando": fmt.session_when(found.start, found.end),
        "enlace": found.zoom.join_url,
        "reunion": found.zoom.meeting_id,
        "clave": found.zoom.passcode or "no hace falta",
        **extra,
    }


class SqlTrainings:
    can_sign_up = True

    def __init__(
        self, session: AsyncSession, calendar: Calendar, notifier: Notifier, reminder_minutes: tuple[int, ...]
    ) -> None:
        self.session = session
        self.base = calendar
        self.notifier = notifier
        self.reminder_minutes = reminder_minutes

    async def between(self, conversation_id: int, first: dt.date, last: dt.date) -> list[Offer]:
        calendar = await full_calendar(self.session, self.base)
        return await self._offers(conversation_id, calendar.between(first, last))

    async def offer(self, conversation_id: int, session_id: str) -> Offer | None:
        found = (await full_calendar(self.session, self.base)).session(session_id)
        if found is None:
            return None
        return (await self._offers(conversation_id, [found], keep_cancelled=True))[0]

    async def _offers(
        self, conversation_id: int, sessions: list[Session], *, keep_cancelled: bool = False
    ) -> list[Offer]:
        ids = [s.id for s in sessions]
        cancelled = await _cancelled(self.session, ids)
        taken = await _taken(self.session, ids)
        mine = set(
            (
                await self.session.execute(
                    select(TrainingSignupRow.session_id).where(
                        TrainingSignupRow.conversation_id == conversation_id,
                        TrainingSignupRow.session_id.in_(ids),
                        TrainingSignupRow.cancelled_at.is_(None),
                    )
                )
            ).scalars()
        )
        return [
            Offer(s, None if s.seats is None else max(0, s.seats - taken.get(s.id, 0)), s.id in mine, s.id in cancelled)
            for s in sessions
            if keep_cancelled or s.id not in cancelled
        ]

    async def sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> SignUp:
        found = (await full_calendar(self.session, self.base)).session(session_id)
        if found is None:
            return SignUp.UNKNOWN
        if await _cancelled(self.session, [found.id]):
            return SignUp.CANCELLED
        if found.start <= now:
            return SignUp.STARTED
        if dialect_of(self.session) == "postgresql":  # the last seat goes to one chat only
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"training:{found.id}".encode())}
            )
        row = (
            await self.session.execute(
                select(TrainingSignupRow).where(
                    TrainingSignupRow.session_id == found.id, TrainingSignupRow.conversation_id == conversation_id
                )
            )
        ).scalar_one_or_none()
        if row is not None and row.cancelled_at is None:
            return SignUp.ALREADY
        if found.seats is not None and (await _taken(self.session, [found.id])).get(found.id, 0) >= found.seats:
            return SignUp.FULL
        customer = (
            await self.session.execute(
                select(CustomerRow)
                .join(ChatLinkRow, ChatLinkRow.customer_id == CustomerRow.id)
                .where(ChatLinkRow.conversation_id == conversation_id)
            )
        ).scalar_one_or_none()
        if row is None:
            row = TrainingSignupRow(session_id=found.id, conversation_id=conversation_id)
            self.session.add(row)
        row.session_start, row.created_at, row.cancelled_at = found.start, now, None
        row.customer_id = customer.id if customer else None
        await self.session.flush()
        for minutes in self.reminder_minutes:
            at = found.start - dt.timedelta(minutes=minutes)
            if at <= now:
                continue  # signed up after that reminder's time: only the later ones
            for message in self._messages(
                "training_reminder", f"training:{row.id}:{int(now.timestamp())}:{minutes}", found, row, customer,
                minutos=minutes,
            ):  # fmt: skip
                await enqueue(self.session, _at(message, at, found.start), now)
        return SignUp.SIGNED

    def _messages(
        self,
        kind: str,
        key: str,
        found: Session,
        row: TrainingSignupRow,
        customer: CustomerRow | None,
        **extra: Any,
    ) -> list[OutboxMessage]:
        values = _values(found, **extra)
        subject, body = self.notifier.render(kind, values)
        data: dict[str, object] = {k: str(v) for k, v in values.items()}  # WhatsApp template parameters
        chat = str(row.conversation_id)
        messages = [OutboxMessage(f"{key}:chat", kind, "chat", chat, subject, body, row.customer_id, data=data)]
        if customer is not None:
            messages.append(
                OutboxMessage(f"{key}:email", kind, "email", customer.email, subject, body, customer.id, data=data)
            )
        return messages

    async def mine(self, conversation_id: int, now: dt.datetime) -> list[Offer]:
        ids = (
            await self.session.execute(
                select(TrainingSignupRow.session_id)
                .where(
                    TrainingSignupRow.conversation_id == conversation_id,
                    TrainingSignupRow.cancelled_at.is_(None),
                    TrainingSignupRow.session_start >= now - dt.timedelta(hours=8),
                )
                .order_by(TrainingSignupRow.session_start)
            )
        ).scalars()
        calendar = await full_calendar(self.session, self.base)
        sessions = [s for s in (calendar.session(i) for i in ids) if s is not None and s.end > now]
        return await self._offers(conversation_id, sessions)

    async def cancel_sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> bool:
        row = (
            await self.session.execute(
                select(TrainingSignupRow).where(
                    TrainingSignupRow.session_id == session_id,
                    TrainingSignupRow.conversation_id == conversation_id,
                    TrainingSignupRow.cancelled_at.is_(None),
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return False
        row.cancelled_at = now
        await _cancel_reminders(self.session, [row.id])
        return True


def _at(message: OutboxMessage, not_before: dt.datetime, expires: dt.datetime) -> OutboxMessage:
    return replace(message, not_before=not_before, expires_at=expires)


async def _cancel_reminders(session: AsyncSession, signup_ids: list[int]) -> None:
    for signup_id in signup_ids:
        await session.execute(
            update(OutboxRow)
            .where(OutboxRow.idempotency_key.like(f"training:{signup_id}:%"), OutboxRow.status == "pending")
            .values(status="cancelled", last_error="the sign-up or the session was cancelled")
        )


# --- admin commands ---------------------------------------------------------------------------


def session_json(offer: Offer, signed: int) -> dict[str, Any]:
    found = offer.session
    return {
        "id": found.id,
        "start": found.start.isoformat(),
        "end": found.end.isoformat(),
        "topic": found.topic,
        "join_url": found.zoom.join_url,
        "meeting_id": found.zoom.meeting_id,
        "passcode": found.zoom.passcode,
        "seats": found.seats,
        "seats_left": offer.seats_left,
        "signed_up": signed,
    }


async def list_sessions(
    session: AsyncSession, calendar: Calendar, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """The public contract of `perseo-bot trainings list --json` (cancelled sessions left out)."""
    offers = await SqlTrainings(session, calendar, Notifier({}), ()).between(0, first, last)
    taken = await _taken(session, [o.session.id for o in offers])
    return [session_json(o, taken.get(o.session.id, 0)) for o in offers]


async def add_session(
    session: AsyncSession,
    calendar: Calendar,
    *,
    day: dt.date,
    start: dt.time,
    minutes: int,
    topic: str,
    seats: int | None,
    zoom: Zoom | None,
    now: dt.datetime,
) -> str:
    topic = topic.strip()
    if not topic or len(topic) > 200:
        raise TrainingError("give the topic (up to 200 characters)")
    if not 15 <= minutes <= 480:
        raise TrainingError("a session lasts 15 to 480 minutes")
    if seats is not None and seats < 1:
        raise TrainingError("seats must be a positive number (leave it out for unlimited)")
    begins = dt.datetime.combine(day, start, calendar.zone)
    if begins <= now:
        raise TrainingError(f"{begins:%Y-%m-%d %H:%M} has already passed; choose a future date and time")
    if zoom is None:
        defaults = [s.zoom for s in calendar.series] + [s.zoom for s in calendar.one_offs]
        if not defaults:
            raise TrainingError("no default Zoom meeting in trainings.yaml: give --join-url and --meeting-id")
        zoom = defaults[0]
    session_id = f"extra-{day:%Y%m%d}-{start:%H%M}"
    if (await full_calendar(session, calendar)).session(session_id) is not None:
        raise TrainingError(f"there is already an added session at that time ({session_id})")
    session.add(
        TrainingSessionRow(
            id=session_id, start=begins, minutes=minutes, topic=topic, join_url=zoom.join_url,
            meeting_id=zoom.meeting_id, passcode=zoom.passcode, seats=seats, created_at=now,
        )
    )  # fmt: skip
    return session_id


async def cancel_session(
    session: AsyncSession, calendar: Calendar, notifier: Notifier, session_id: str, reason: str, now: dt.datetime
) -> int:
    """Cancel a session and tell everyone signed up; returns how many sign-ups were told."""
    found = (await full_calendar(session, calendar)).session(session_id)
    if found is None:
        raise TrainingError(f"no session {session_id!r} (see `perseo-bot trainings list`)")
    if found.end <= now:
        raise TrainingError(f"{session_id} is over; there is nothing to cancel")
    if await _cancelled(session, [session_id]):
        raise TrainingError(f"{session_id} was already cancelled")
    reason = reason.strip() or "motivos de organización"
    session.add(TrainingCancellationRow(session_id=session_id, reason=reason[:300], cancelled_at=now))
    signups = list(
        (
            await session.execute(
                select(TrainingSignupRow).where(
                    TrainingSignupRow.session_id == session_id, TrainingSignupRow.cancelled_at.is_(None)
                )
            )
        ).scalars()
    )
    await _cancel_reminders(session, [s.id for s in signups])
    trainings = SqlTrainings(session, calendar, notifier, ())
    for signup in signups:
        customer = await session.get(CustomerRow, signup.customer_id) if signup.customer_id else None
        for message in trainings._messages(
            "training_cancelled", f"training-cancelled:{session_id}:{signup.id}", found, signup, customer, motivo=reason
        ):
            await enqueue(session, message, now)
    return len(signups)


async def attendees(session: AsyncSession, calendar: Calendar, session_id: str) -> list[dict[str, Any]]:
    if (await full_calendar(session, calendar)).session(session_id) is None:
        raise TrainingError(f"no session {session_id!r} (see `perseo-bot trainings list`)")
    rows = await session.execute(
        select(TrainingSignupRow, ConversationRow.channel, CustomerRow.razon_social, CustomerRow.ruc,
               CustomerRow.distributor_id)
        .join(ConversationRow, ConversationRow.id == TrainingSignupRow.conversation_id)
        .outerjoin(CustomerRow, CustomerRow.id == TrainingSignupRow.customer_id)
        .where(TrainingSignupRow.session_id == session_id, TrainingSignupRow.cancelled_at.is_(None))
        .order_by(TrainingSignupRow.created_at, TrainingSignupRow.id)
    )  # fmt: skip
    return [
        {
            "signup_id": signup.id,
            "company": company,
            "ruc": ruc,
            "distributor_id": distributor_id,
            "channel": channel,
            "signed_up_at": signup.created_at.isoformat(),
        }
        for signup, channel, company, ruc, distributor_id in rows.all()
    ]
