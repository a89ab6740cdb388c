"""Ecuador's working calendar: national holidays and the advisors' office hours.

When the government moves a holiday, `holidays` lists both the original date and the observed
one ("... (observado)"); only the observed date is a day off, so the original is dropped
(DESIGN.md, "Ecuador"). Pure functions of their inputs: the caller passes the time.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from dataclasses import dataclass

OBSERVED = " (observado)"


@functools.lru_cache(maxsize=32)
def ecuador_holidays(year: int) -> dict[dt.date, str]:
    """The national days off of one year, with their Spanish names."""
    import holidays  # 90 ms: only when a date is checked, not on every `perseo-bot ask`

    # Neighbouring years too: 1 January 2028 is observed on 31 December 2027.
    listed = holidays.country_holidays("EC", years=(year - 1, year, year + 1), language="es")
    days = {day: str(name) for day, name in listed.items()}
    for observed, name in list(days.items()):
        if not name.endswith(OBSERVED):
            continue
        original = name.removesuffix(OBSERVED)
        twins = [d for d, n in days.items() if n == original and abs((d - observed).days) <= 7]
        if twins:
            del days[min(twins, key=lambda d: abs((d - observed).days))]
    return {day: name for day, name in days.items() if day.year == year}


def is_holiday(day: dt.date) -> bool:
    return day in ecuador_holidays(day.year)


@dataclass(frozen=True)
class OfficeHours:
    """When advisors attend: weekdays (Monday = 0) from `opens` to `closes`, local time,
    except Ecuador's national holidays."""

    opens: dt.time
    closes: dt.time
    weekdays: frozenset[int]
    zone: zoneinfo.ZoneInfo

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError(f"office hours must open before they close ({self.opens} - {self.closes})")
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("office hours need at least one weekday between 0 (Monday) and 6 (Sunday)")

    def _working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and not is_holiday(day)

    def is_open(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone)
        return self._working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, now: dt.datetime) -> dt.datetime:
        """`now` if open, else the next moment advisors start attending (local time)."""
        local = now.astimezone(self.zone)
        if self.is_open(local):
            return local
        day = local.date()
        if self._working_day(day) and local.time() < self.opens:
            return dt.datetime.combine(day, self.opens, self.zone)
        for _ in range(60):  # no calendar has two months without a working day
            day += dt.timedelta(days=1)
            if self._working_day(day):
                return dt.datetime.combine(day, self.opens, self.zone)
        raise ValueError("no working day in the next 60 days: check the office weekdays")


def parse_weekdays(text: str) -> frozenset[int]:
    """'1-5' (Monday to Friday) or '1,2,3,4,5,6': ISO weekday numbers, Monday = 1."""
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"{text!r}: write weekdays as 1-5 or 1,2,3 (Monday = 1, Sunday = 7)")
        low, high = int(first), int(last or first)
        if not 1 <= low <= high <= 7:
            raise ValueError(f"{text!r}: weekdays go from 1 (Monday) to 7 (Sunday)")
        days.update(range(low - 1, high))
    return frozenset(days)
