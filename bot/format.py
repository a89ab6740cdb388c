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
