"""How people in Ecuador read money and dates: "$34,50", "5 de diciembre de 2026"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency

LOCALE = "es_EC"


@lru_cache(maxsize=4096)  # amounts and dates repeat across thousands of reminders
def money(amount: Decimal) -> str:
    return format_currency(amount, "USD", locale=LOCALE)


@lru_cache(maxsize=4096)  # amounts and dates repeat across thousands of reminders
def long_date(day: dt.date) -> str:
    return format_date(day, format="long", locale=LOCALE)


@lru_cache(maxsize=4096)  # amounts and dates repeat across thousands of reminders
def period(first: dt.date, last: dt.date) -> str:
    """'del 1 al 31 de enero de 2027', or with both months when they differ."""
    if (first.year, first.month) == (last.year, last.month):
        return f"del {first.day} al {long_date(last)}"
    start = format_date(first, "d 'de' MMMM", locale=LOCALE)
    return f"del {start} al {long_date(last)}"


WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def weekday_date(day: dt.date) -> str:
    """'lunes 30 de noviembre'."""
    day_month = format_date(day, "d 'de' MMMM", locale=LOCALE)
    return f"{WEEKDAYS[day.weekday()]} {day_month}"


def office_hours(weekdays: frozenset[int], opens: dt.time, closes: dt.time) -> str:
    """'de lunes a viernes, de 08:30 a 17:30': a run of days is named by its ends."""
    days = sorted(weekdays)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        named = f"de {WEEKDAYS[days[0]]} a {WEEKDAYS[days[-1]]}"
    else:
        named = "los " + ", ".join(WEEKDAYS[d] for d in days)
    return f"{named}, de {opens:%H:%M} a {closes:%H:%M}"


def session_when(start: dt.datetime, end: dt.datetime) -> str:
    """'jueves 4 de diciembre, 15:00-16:00' (local times)."""
    return f"{weekday_date(start.date())}, {start:%H:%M}-{end:%H:%M}"
