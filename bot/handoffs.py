"""What the dialogue may do about handing a conversation to a person (a port).

`bot.services.handoffs.SqlHandoffs` implements it inside the turn's transaction, so joining
or leaving the queue is stored together with the dialogue state and the reply. `NoHandoffs`
is for one-shot anonymous use (`perseo-bot ask`), where nobody could ever answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Ticket:
    """A place in the advisors' queue."""

    handoff_id: int
    position: int  # 1 = next to be attended
    opens_at: dt.datetime | None  # local time advisors start attending; None while they attend
    office_hours: str  # e.g. "de lunes a viernes, de 08:30 a 17:30 (excepto feriados nacionales)"


@dataclass(frozen=True)
class PaidConsent:
    """The price a customer without hours saw and accepted before joining the queue."""

    hourly: Decimal  # before IVA
    iva_rate: Decimal
    hourly_total: Decimal
    text: str  # the exact words shown


class Handoffs(Protocol):
    available: bool  # False: no advisor can ever take this conversation

    async def request(
        self, conversation_id: int, now: dt.datetime, *, reason: str, question: str, consent: PaidConsent | None
    ) -> Ticket: ...

    async def waiting(self, handoff_id: int, now: dt.datetime) -> Ticket | None: ...  # None: not waiting now

    async def leave(self, handoff_id: int, now: dt.datetime) -> bool: ...


class NoHandoffs:
    available = False

    async def request(
        self, conversation_id: int, now: dt.datetime, *, reason: str, question: str, consent: PaidConsent | None
    ) -> Ticket:
        raise RuntimeError("one-shot conversations cannot be handed to a person")

    async def waiting(self, handoff_id: int, now: dt.datetime) -> Ticket | None:
        return None

    async def leave(self, handoff_id: int, now: dt.datetime) -> bool:
        return False
