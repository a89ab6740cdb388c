"""IVA (Ecuador's VAT) with effective dates: 12% until 2024-03-31, 15% from 2024-04-01."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class IvaRate:
    since: dt.date
    rate: Decimal


def parse_schedule(entries: Iterable[Mapping[str, Any]]) -> list[IvaRate]:
    """The facts file's `tax.iva` list, newest first."""
    rates = [IvaRate(_as_date(e["since"]), Decimal(str(e["rate"]))) for e in entries]
    return sorted(rates, key=lambda r: r.since, reverse=True)


def iva_rate_on(day: dt.date, schedule: Iterable[IvaRate]) -> Decimal:
    for entry in sorted(schedule, key=lambda r: r.since, reverse=True):
        if entry.since <= day:
            return entry.rate
    raise ValueError(f"no IVA rate is in force on {day.isoformat()}")


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
