"""What the dialogue may know and do about the Zoom trainings (a port).

`bot.services.trainings.SqlTrainings` adds what the database knows (sessions admins added,
cancellations, sign-ups and seats) inside the turn's transaction, so a sign-up and its
reminders are stored with the reply. `CalendarOnly` answers from the pack's calendar alone
(`perseo-bot ask`): it can list sessions but nobody can sign up there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.domain.trainings import Calendar, Session


@dataclass(frozen=True)
class Offer:
    """A session as this chat sees it."""

    session: Session
    seats_left: int | None  # None: unlimited
    signed_up: bool = False
    cancelled: bool = False


class SignUp(StrEnum):
    SIGNED = "signed"
    ALREADY = "already"  # a no-op: this chat was signed up
    FULL = "full"
    STARTED = "started"  # started or over
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class Trainings(Protocol):
    can_sign_up: bool
    reminder_minutes: tuple[int, ...]

    async def between(self, conversation_id: int, first: dt.date, last: dt.date) -> list[Offer]: ...

    async def offer(self, conversation_id: int, session_id: str) -> Offer | None: ...

    async def sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> SignUp: ...

    async def mine(self, conversation_id: int, now: dt.datetime) -> list[Offer]: ...

    async def cancel_sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> bool: ...


class CalendarOnly:
    """The shipped calendar, read-only: cancellations and seats are unknown here."""

    can_sign_up = False
    reminder_minutes: tuple[int, ...] = ()

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar

    async def between(self, conversation_id: int, first: dt.date, last: dt.date) -> list[Offer]:
        return [Offer(s, s.seats) for s in self.calendar.between(first, last)]

    async def offer(self, conversation_id: int, session_id: str) -> Offer | None:
        found = self.calendar.session(session_id)
        return Offer(found, found.seats) if found else None

    async def sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> SignUp:
        return SignUp.UNKNOWN

    async def mine(self, conversation_id: int, now: dt.datetime) -> list[Offer]:
        return []

    async def cancel_sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> bool:
        return False


def no_trainings() -> CalendarOnly:
    """An empty calendar: for tests and tools that never talk about trainings."""
    import zoneinfo

    return CalendarOnly(Calendar(zoneinfo.ZoneInfo("America/Guayaquil"), (), ()))
