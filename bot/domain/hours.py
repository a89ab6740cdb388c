"""Implementation hours (DESIGN.md, "Implementation hours"), as pure functions.

Remaining = included + purchased - consumed, in minutes, with no hidden rounding. A session
consumes what is left; the rest is paid support, billed per started hour ("por hora o
fracción": a 10-minute session with no hours left is one hour), plus IVA.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.money import to_cents

MAX_SESSION_MINUTES = 600  # a single support session over 10 hours is a typing mistake


@dataclass(frozen=True)
class SessionSplit:
    covered_minutes: int  # taken from the customer's hours
    paid_minutes: int  # beyond them: paid support


@dataclass(frozen=True)
class SupportCharge:
    hours_billed: int
    subtotal: Decimal
    iva_rate: Decimal
    iva: Decimal
    total: Decimal


def remaining_minutes(included_hours: int, purchased_minutes: int, consumed_minutes: int) -> int:
    return max(0, included_hours * 60 + purchased_minutes - consumed_minutes)


def split_session(minutes: int, remaining: int) -> SessionSplit:
    if not 1 <= minutes <= MAX_SESSION_MINUTES:
        raise ValueError(f"a session lasts 1 to {MAX_SESSION_MINUTES} minutes, not {minutes}")
    covered = min(minutes, max(remaining, 0))
    return SessionSplit(covered, minutes - covered)


def charge_for(paid_minutes: int, hourly_rate: Decimal, iva_rate: Decimal) -> SupportCharge | None:
    """Every started hour is billed whole, plus IVA; None when nothing is billable."""
    if paid_minutes <= 0:
        return None
    hours = math.ceil(paid_minutes / 60)
    subtotal = to_cents(hourly_rate * hours)
    iva = to_cents(subtotal * iva_rate)
    return SupportCharge(hours, subtotal, iva_rate, iva, subtotal + iva)


def duration_text(minutes: int) -> str:
    """'2 h 35 min', '45 min', '3 h' (Spanish-friendly, exact)."""
    hours, rest = divmod(max(minutes, 0), 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"
