"""A token bucket per key (a client address): a burst is allowed, then a steady rate.

In-process: each server process keeps its own buckets, so with N replicas a client gets up to
N times the rate. That is acceptable for what this guards against (one client flooding
POST /api/chat, e.g. cycling through new chats and RUCs); the limits that must hold across
replicas (codes and wrong codes per RUC) live in the database. Pure apart from the injected
monotonic clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`take(key)` spends one token of `key`'s bucket: `burst` tokens, refilled at `rate` per second."""

    MAX_KEYS = 100_000  # above this, full (idle) buckets are forgotten: they hold no information

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """0 when the request may go on; otherwise the seconds until one token is back."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.MAX_KEYS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        refill = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.updated >= refill]:
            del self._buckets[key]


def retry_after_seconds(wait: float) -> int:
    """A Retry-After header value: whole seconds, never 0 (that would invite an immediate retry)."""
    return max(1, math.ceil(wait))
