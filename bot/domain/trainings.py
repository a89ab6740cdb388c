"""The free daily Zoom trainings as data: recurring series and one-off sessions.

A series runs on some weekdays at a local start time, skips Ecuador's national holidays
(`domain.calendar`), and rotates its topics: the n-th session since `starts_on` takes topic
n mod len(topics), so a holiday postpones a topic instead of dropping it. Session ids are
stable and readable: "<series>-YYYYMMDD" for a series, the given id for a one-off.
Pure functions: the caller passes dates; nothing reads the clock.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.calendar import is_holiday

_SERIES_ID = re.compile(r"^([a-z0-9_]+)-(\d{8})$")
MAX_DAYS = 366  # a listing longer than a year is a typing mistake


class CalendarError(ValueError):
    """trainings.yaml (or an admin's session) is wrong; the message says where and how."""


@dataclass(frozen=True)
class Zoom:
    join_url: str
    meeting_id: str
    passcode: str


@dataclass(frozen=True)
class Session:
    id: str
    start: dt.datetime  # timezone-aware, local zone of the calendar
    minutes: int
    topic: str
    zoom: Zoom
    seats: int | None  # None: unlimited

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class Series:
    id: str
    weekdays: frozenset[int]  # Monday = 0
    start: dt.time
    minutes: int
    topics: tuple[str, ...]
    starts_on: dt.date
    zoom: Zoom
    seats: int | None

    def runs_on(self, day: dt.date) -> bool:
        return day >= self.starts_on and day.weekday() in self.weekdays and not is_holiday(day)

    def occurrences_before(self, day: dt.date) -> int:
        """How many sessions ran from `starts_on` up to the day before `day`."""
        count, current = 0, self.starts_on
        while current < day:
            count += self.runs_on(current)
            current += dt.timedelta(days=1)
        return count


@dataclass(frozen=True)
class Calendar:
    zone: zoneinfo.ZoneInfo
    series: tuple[Series, ...]
    one_offs: tuple[Session, ...]

    def with_extra(self, sessions: Iterable[Session]) -> Calendar:
        """This calendar plus sessions admins added (stored in the database)."""
        return replace(self, one_offs=self.one_offs + tuple(sessions))

    def between(self, first: dt.date, last: dt.date) -> list[Session]:
        """Every session starting on a local day from `first` to `last`, in time order."""
        if (last - first).days > MAX_DAYS:
            raise CalendarError(f"ask for at most {MAX_DAYS} days at a time")
        found = [s for s in self.one_offs if first <= s.start.date() <= last]
        for series in self.series:
            number = series.occurrences_before(first)
            day = first
            while day <= last:
                if series.runs_on(day):
                    found.append(self._occurrence(series, day, number))
                    number += 1
                day += dt.timedelta(days=1)
        return sorted(found, key=lambda s: (s.start, s.id))

    def session(self, session_id: str) -> Session | None:
        for one_off in self.one_offs:
            if one_off.id == session_id:
                return one_off
        match = _SERIES_ID.match(session_id)
        if match is None:
            return None
        try:
            day = dt.datetime.strptime(match[2], "%Y%m%d").date()
        except ValueError:
            return None
        for series in self.series:
            if series.id == match[1] and series.runs_on(day):
                return self._occurrence(series, day, series.occurrences_before(day))
        return None

    def _occurrence(self, series: Series, day: dt.date, number: int) -> Session:
        start = dt.datetime.combine(day, series.start, self.zone)
        topic = series.topics[number % len(series.topics)]
        return Session(f"{series.id}-{day:%Y%m%d}", start, series.minutes, topic, series.zoom, series.seats)


def schedule_text(calendar: Calendar) -> str | None:
    """'de lunes a viernes, de 15:00 a 16:00' from the repeating series (None without any): what
    the articles say about when trainings are, so they never drift from the calendar."""
    from bot.format import office_hours

    parts = []
    for series in calendar.series:
        end = (dt.datetime.combine(dt.date(2000, 1, 1), series.start) + dt.timedelta(minutes=series.minutes)).time()
        parts.append(office_hours(series.weekdays, series.start, end))
    return "; ".join(dict.fromkeys(parts)) or None


def parse_calendar(data: Mapping[str, Any], zone: zoneinfo.ZoneInfo) -> Calendar:
    """Read trainings.yaml (already parsed); every problem names its place."""
    default_zoom = _zoom(data.get("zoom"), "zoom") if data.get("zoom") else None
    series = []
    for index, item in enumerate(data.get("series") or []):
        where = f"series[{index}]"
        identifier = str(_required(item, "id", where))
        if not re.fullmatch(r"[a-z0-9_]+", identifier):
            raise CalendarError(f"{where}.id: use lowercase letters, digits and _ ({identifier!r})")
        weekdays = item.get("weekdays") or []
        if not weekdays or not all(isinstance(d, int) and 1 <= d <= 7 for d in weekdays):
            raise CalendarError(f"{where}.weekdays: a list of ISO weekdays, Monday = 1 … Sunday = 7")
        topics = tuple(str(t) for t in item.get("topics") or [])
        if not topics:
            raise CalendarError(f"{where}.topics: at least one topic")
        series.append(
            Series(
                identifier,
                frozenset(d - 1 for d in weekdays),
                _time(_required(item, "start", where), f"{where}.start"),
                _minutes(item.get("minutes", 60), f"{where}.minutes"),
                topics,
                _date(_required(item, "starts_on", where), f"{where}.starts_on"),
                _zoom(item.get("zoom"), f"{where}.zoom") if item.get("zoom") else _need(default_zoom, where),
                _seats(item.get("seats"), f"{where}.seats"),
            )
        )
    one_offs = []
    for index, item in enumerate(data.get("sessions") or []):
        where = f"sessions[{index}]"
        day = _date(_required(item, "date", where), f"{where}.date")
        start = dt.datetime.combine(day, _time(_required(item, "start", where), f"{where}.start"), zone)
        zoom = _zoom(item.get("zoom"), f"{where}.zoom") if item.get("zoom") else _need(default_zoom, where)
        one_offs.append(
            Session(
                str(_required(item, "id", where)),
                start,
                _minutes(item.get("minutes", 60), f"{where}.minutes"),
                str(_required(item, "topic", where)),
                zoom,
                _seats(item.get("seats"), f"{where}.seats"),
            )
        )
    ids = [s.id for s in one_offs] + [s.id for s in series]
    if len(ids) != len(set(ids)):
        raise CalendarError("trainings.yaml: every series and session needs its own id")
    return Calendar(zone, tuple(series), tuple(one_offs))


def _required(item: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(item, Mapping) or item.get(key) in (None, ""):
        raise CalendarError(f"{where}.{key} is missing")
    return item[key]


def _need(zoom: Zoom | None, where: str) -> Zoom:
    if zoom is None:
        raise CalendarError(f"{where}: no zoom details here and no default `zoom` at the top")
    return zoom


def _zoom(value: Any, where: str) -> Zoom:
    if not isinstance(value, Mapping):
        raise CalendarError(f"{where}: join_url, meeting_id and passcode")
    url = str(_required(value, "join_url", where))
    if not url.startswith("https://"):
        raise CalendarError(f"{where}.join_url must start with https://")
    return Zoom(url, str(_required(value, "meeting_id", where)), str(value.get("passcode") or ""))


def _time(value: Any, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: write the time as HH:MM, e.g. 15:00 (got {value!r})") from None


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{where}: write the date as YYYY-MM-DD (got {value!r})") from None


def _minutes(value: Any, where: str) -> int:
    if not isinstance(value, int) or not 15 <= value <= 480:
        raise CalendarError(f"{where}: minutes between 15 and 480 (got {value!r})")
    return value


def _seats(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or value < 1:
        raise CalendarError(f"{where}: a positive number of seats, or leave it out for unlimited")
    return value
