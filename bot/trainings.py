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


class CalendarSignUps(CalendarOnly):
    """The shipped calendar with sign-ups kept in memory (no seats taken by others, no
    reminders sent): what `kb eval` scores dialogues with, so "inscríbame en la primera" is
    measured as the server would answer it. One instance per evaluation run."""

    can_sign_up = True

    def __init__(self, calendar: Calendar, reminder_minutes: tuple[int, ...] = ()) -> None:
        super().__init__(calendar)
        self.reminder_minutes = reminder_minutes
        self._signed: dict[tuple[int, str], dt.datetime] = {}  # (conversation, session) -> session start

    async def between(self, conversation_id: int, first: dt.date, last: dt.date) -> list[Offer]:
        return [self._offer(conversation_id, s) for s in self.calendar.between(first, last)]

    async def offer(self, conversation_id: int, session_id: str) -> Offer | None:
        found = self.calendar.session(session_id)
        return self._offer(conversation_id, found) if found else None

    def _offer(self, conversation_id: int, found: Session) -> Offer:
        return Offer(found, found.seats, (conversation_id, found.id) in self._signed)

    async def sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> SignUp:
        found = self.calendar.session(session_id)
        if found is None:
            return SignUp.UNKNOWN
        if found.start <= now:
            return SignUp.STARTED
        if (conversation_id, found.id) in self._signed:
            return SignUp.ALREADY
        self._signed[conversation_id, found.id] = found.start
        return SignUp.SIGNED

    async def mine(self, conversation_id: int, now: dt.datetime) -> list[Offer]:
        ids = sorted((start, i) for (chat, i), start in self._signed.items() if chat == conversation_id)
        sessions = [s for s in (self.calendar.session(i) for _, i in ids) if s is not None and s.end > now]
        return [self._offer(conversation_id, s) for s in sessions]

    async def cancel_sign_up(self, conversation_id: int, session_id: str, now: dt.datetime) -> bool:
        return self._signed.pop((conversation_id, session_id), None) is not None


def no_trainings() -> CalendarOnly:
    """An empty calendar: for tests and tools that never talk about trainings."""
    import zoneinfo

    return CalendarOnly(Calendar(zoneinfo.ZoneInfo("America/Guayaquil"), (), ()))
