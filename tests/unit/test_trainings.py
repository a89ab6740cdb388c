"""The training calendar and "which day did the customer mean" (pure functions)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from bot.bootstrap import build_calendar
from bot.config import Settings
from bot.domain.parsing import ParseError, parse_period
from bot.domain.trainings import CalendarError, parse_calendar

EC = zoneinfo.ZoneInfo("America/Guayaquil")
ZOOM = {"join_url": "https://zoom.us/j/1", "meeting_id": "1", "passcode": "x"}
SERIES = {"id": "tardes", "weekdays": [1, 2, 3, 4, 5], "start": "15:00", "starts_on": "2026-10-26",
          "topics": ["A", "B", "C"]}  # fmt: skip


def calendar(**changes: object):  # type: ignore[no-untyped-def]
    return parse_calendar({"zoom": ZOOM, "series": [{**SERIES, **changes}]}, EC)


def test_holidays_have_no_session_and_topics_are_postponed() -> None:
    sessions = calendar().between(dt.date(2026, 10, 29), dt.date(2026, 11, 5))
    assert [(s.start.date().isoformat(), s.topic) for s in sessions] == [
        ("2026-10-29", "A"),  # the 4th session since Monday 26 October
        ("2026-10-30", "B"),
        ("2026-11-04", "C"),  # 2 and 3 November are national holidays
        ("2026-11-05", "A"),
    ]
    assert sessions[0].start == dt.datetime(2026, 10, 29, 15, tzinfo=EC)
    assert sessions[0].end - sessions[0].start == dt.timedelta(minutes=60)


def test_a_session_is_found_by_its_id_only_on_days_it_runs() -> None:
    cal = calendar()
    found = cal.session("tardes-20261104")
    assert found is not None and found.topic == "C"
    assert cal.session("tardes-20261102") is None  # a holiday
    assert cal.session("tardes-20261101") is None  # a Sunday
    assert cal.session("tardes-20261399") is None and cal.session("otra-20261104") is None


def test_the_shipped_calendar_has_an_afternoon_session_every_working_day() -> None:
    sessions = build_calendar(Settings(_env_file=None)).between(dt.date(2026, 11, 30), dt.date(2026, 12, 6))  # type: ignore[call-arg]
    assert [s.start.strftime("%a %H:%M") for s in sessions] == [
        f"{d} 15:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]
    assert len({s.topic for s in sessions}) == 5 and all(s.zoom.join_url.startswith("https://") for s in sessions)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekdays": [0, 8]}, "weekdays"),
        ({"start": "3 pm"}, "HH:MM"),
        ({"topics": []}, "topic"),
        ({"minutes": 5}, "minutes"),
        ({"seats": 0}, "seats"),
        ({"id": "Tardes!"}, "lowercase"),
        ({"starts_on": "ayer"}, "YYYY-MM-DD"),
    ],
)
def test_a_wrong_calendar_says_where(change: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar(**change)


def test_a_session_without_zoom_details_is_refused() -> None:
    with pytest.raises(CalendarError, match="zoom"):
        parse_calendar({"series": [SERIES]}, EC)


SATURDAY = dt.date(2026, 11, 28)
WEDNESDAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "today", "first", "last"),
    [
        ("¿qué capacitaciones hay hoy?", WEDNESDAY, "2026-12-02", "2026-12-02"),
        ("y mañana?", WEDNESDAY, "2026-12-03", "2026-12-03"),
        ("pasado mañana", WEDNESDAY, "2026-12-04", "2026-12-04"),
        ("esta semana", WEDNESDAY, "2026-12-02", "2026-12-06"),
        ("esta semana", SATURDAY, "2026-11-28", "2026-12-06"),  # on a weekend: the coming week
        ("la próxima semana", WEDNESDAY, "2026-12-07", "2026-12-13"),
        ("el jueves", WEDNESDAY, "2026-12-03", "2026-12-03"),
        ("el jueves", SATURDAY, "2026-12-03", "2026-12-03"),
        ("el miércoles", WEDNESDAY, "2026-12-02", "2026-12-02"),  # today
        ("el domingo", WEDNESDAY, "2026-12-06", "2026-12-06"),
        ("el 4/12", WEDNESDAY, "2026-12-04", "2026-12-04"),
        ("4 de diciembre", WEDNESDAY, "2026-12-04", "2026-12-04"),
        ("5 de enero", WEDNESDAY, "2027-01-05", "2027-01-05"),  # next year
        ("el 2 de noviembre", WEDNESDAY, "2026-11-02", "2026-11-02"),  # past: the caller says so
    ],
)
def test_periods_relative_to_today(text: str, today: dt.date, first: str, last: str) -> None:
    period = parse_period(text, today)
    assert period is not None
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


def test_no_day_named_and_impossible_dates() -> None:
    assert parse_period("capacitaciones", WEDNESDAY) is None
    with pytest.raises(ParseError):
        parse_period("el 31/02", WEDNESDAY)
