"""Sliding-window limits on account verification, per RUC and independent of the chat.

A chat's own lock (5 wrong codes, 15 minutes) stops one conversation; it does not stop a client
that opens new web-chat sessions. These limits count every code sent for a RUC and every wrong
code typed for it, whatever chat they came from, so a customer's inbox gets a few codes an hour
at most and a brute force gets a few dozen guesses a day at most (a 6-digit code: about 2 in
100,000 per day). Pure: the caller reads the event times from the database and passes `now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most `count` events in any `window` (a sliding window ending now)."""

    count: int
    window: dt.timedelta


@dataclass(frozen=True)
class VerificationLimits:
    """How many codes may be sent, and wrong codes typed, for one RUC (defaults in bot.config)."""

    codes_per_hour: int = 3
    codes_per_day: int = 10
    wrong_per_hour: int = 10
    wrong_per_day: int = 20

    @property
    def codes(self) -> tuple[Limit, ...]:
        return (Limit(self.codes_per_hour, HOUR), Limit(self.codes_per_day, DAY))

    @property
    def wrong(self) -> tuple[Limit, ...]:
        return (Limit(self.wrong_per_hour, HOUR), Limit(self.wrong_per_day, DAY))

    @property
    def horizon(self) -> dt.timedelta:
        """The longest window: older events never matter again."""
        return max(limit.window for limit in (*self.codes, *self.wrong))


def _recent(times: Iterable[dt.datetime], window: dt.timedelta, now: dt.datetime) -> list[dt.datetime]:
    return sorted(t for t in times if now - window < t <= now)


def next_allowed(times: Iterable[dt.datetime], limits: Sequence[Limit], now: dt.datetime) -> dt.datetime | None:
    """None when one more event is allowed now; otherwise the first moment it will be.

    In a window with n >= count events, one more fits once the (n - count + 1)-th oldest of them
    has left the window. Nothing happens while blocked, so the latest of those moments over all
    limits is when every limit allows again.
    """
    seen = list(times)
    blocked: list[dt.datetime] = []
    for limit in limits:
        recent = _recent(seen, limit.window, now)
        if len(recent) >= limit.count:
            blocked.append(recent[len(recent) - limit.count] + limit.window)
    return max(blocked, default=None)


def remaining(times: Iterable[dt.datetime], limits: Sequence[Limit], now: dt.datetime) -> int:
    """How many more events the tightest limit allows right now."""
    seen = list(times)
    return min((max(0, limit.count - len(_recent(seen, limit.window, now))) for limit in limits), default=0)
