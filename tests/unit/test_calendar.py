"""Ecuador's days off and the advisors' office hours (pure functions)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot import format as fmt
from bot.domain.calendar import OfficeHours, ecuador_holidays, is_holiday, parse_weekdays

GYE = zoneinfo.ZoneInfo("America/Guayaquil")
OFFICE = OfficeHours(dt.time(8, 30), dt.time(17, 30), parse_weekdays("1-5"), GYE)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=GYE)  # type: ignore[misc]


def test_national_holidays_and_moved_ones() -> None:
    assert is_holiday(dt.date(2026, 11, 2)) and is_holiday(dt.date(2026, 11, 3))
    # 24 May 2026 (a Sunday) is observed on Monday 25: only the observed day is off.
    assert is_holiday(dt.date(2026, 5, 25)) and not is_holiday(dt.date(2026, 5, 24))
    # 1 January 2028 is a Saturday, observed on Friday 31 December 2027.
    assert is_holiday(dt.date(2027, 12, 31)) and not is_holiday(dt.date(2028, 1, 1))
    assert is_holiday(dt.date(2027, 1, 1))  # not confused with the next year's observed day
    assert ecuador_holidays(2026)[dt.date(2026, 12, 25)] == "Navidad"


@pytest.mark.parametrize(
    ("now", "is_open", "opens"),
    [
        (local(2026, 11, 27, 10, 0), True, local(2026, 11, 27, 10, 0)),  # Friday morning
        (local(2026, 11, 27, 17, 30), False, local(2026, 11, 30, 8, 30)),  # Friday at closing time
        (local(2026, 11, 28, 10, 0), False, local(2026, 11, 30, 8, 30)),  # Saturday
        (local(2026, 11, 30, 7, 59), False, local(2026, 11, 30, 8, 30)),  # Monday, before opening
        (local(2026, 10, 30, 18, 0), False, local(2026, 11, 4, 8, 30)),  # Friday evening before 2-3 Nov
        (local(2026, 12, 24, 18, 0), False, local(2026, 12, 28, 8, 30)),  # Christmas Eve, then the weekend
    ],
)
def test_office_hours(now: dt.datetime, is_open: bool, opens: dt.datetime) -> None:
    assert OFFICE.is_open(now) is is_open
    assert OFFICE.next_opening(now) == opens


def test_office_hours_read_utc_in_local_time() -> None:
    assert OFFICE.is_open(dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC))  # 17:00 in Guayaquil
    assert not OFFICE.is_open(dt.datetime(2026, 11, 27, 23, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("bad", ["", "0-5", "1-8", "lunes", "5-1"])
def test_weekdays_setting_rejects_nonsense(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_weekdays(bad)


def test_office_hours_in_spanish() -> None:
    assert fmt.office_hours(parse_weekdays("1-5"), dt.time(8, 30), dt.time(17, 30)) == (
        "de lunes a viernes, de 08:30 a 17:30"
    )
    assert fmt.office_hours(parse_weekdays("1,3"), dt.time(9), dt.time(13)) == "los lunes, miércoles, de 09:00 a 13:00"
    assert fmt.weekday_date(dt.date(2026, 11, 30)) == "lunes 30 de noviembre"
