"""Pure pieces of issue 10's hardening: per-RUC sliding windows, decoy masks, the per-address
token bucket and who the client is behind a proxy."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from bot.config import Settings
from bot.domain.masking import FREE_MAIL, FREE_MAIL_PERCENT, decoy_mask, mask_email
from bot.domain.verification import DAY, HOUR, Limit, VerificationLimits, next_allowed, remaining
from bot.web.client_address import client_address
from bot.web.throttle import TokenBuckets, retry_after_seconds

T0 = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
LIMITS = (Limit(3, HOUR), Limit(10, DAY))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_limit_allows_until_it_is_full_then_says_when() -> None:
    times = [at(0), at(10), at(20)]
    assert next_allowed(times[:2], LIMITS, at(30)) is None
    assert remaining(times[:2], LIMITS, at(30)) == 1
    assert next_allowed(times, LIMITS, at(30)) == at(60)  # the oldest leaves the hour
    assert next_allowed(times, LIMITS, at(60)) is None  # exactly an hour later it has left
    assert remaining(times, LIMITS, at(30)) == 0


def test_the_day_limit_outlasts_the_hour_limit() -> None:
    times = [at(60 * h + m) for h in range(4) for m in (0, 1, 2)][:10]  # 10 codes over 4 hours
    now = at(60 * 8)
    assert next_allowed(times, LIMITS, now) == times[0] + DAY
    assert remaining(times, LIMITS, now) == 0
    assert next_allowed(times, LIMITS, times[0] + DAY) is None


def test_events_in_the_future_or_too_old_do_not_count() -> None:
    assert next_allowed([at(-61), at(-120), at(5)], (Limit(1, HOUR),), at(0)) is None


def test_default_limits() -> None:
    limits = VerificationLimits()
    assert (limits.codes_per_hour, limits.codes_per_day, limits.wrong_per_hour, limits.wrong_per_day) == (3, 10, 10, 20)
    assert limits.horizon == DAY
    assert Settings(_env_file=None).verification_limits() == limits  # type: ignore[call-arg]


def test_a_day_limit_below_the_hour_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="PERSEO_VERIFY_CODES_PER_DAY"):
        Settings(_env_file=None, verify_codes_per_hour=5, verify_codes_per_day=4)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(_env_file=None, trusted_proxies="10.0.0.1, proxy.local")  # type: ignore[call-arg]


def test_mask_email() -> None:
    assert mask_email("Juan.Perez@Empresa.COM.ec") == "j***@empresa.com.ec"


def test_decoys_are_shaped_and_spread_like_real_addresses() -> None:
    masks = [decoy_mask(hashlib.sha256(str(n).encode()).digest()) for n in range(5000)]
    assert all(re.fullmatch(r"[a-z]\*\*\*@[a-z0-9-]+(\.[a-z]{2,})+", m) for m in masks)
    free = {domain for domain, _ in FREE_MAIL}
    share = sum(m.partition("@")[2] in free for m in masks) / len(masks)
    assert abs(share - FREE_MAIL_PERCENT / 100) < 0.03
    assert len({m[0] for m in masks}) >= 20  # initials vary like names
    assert len({m.partition("@")[2] for m in masks}) > 1000  # company domains rarely repeat
    assert decoy_mask(hashlib.sha256(b"7").digest()) == masks[7]  # a pure function of the digest
    with pytest.raises(ValueError):
        decoy_mask(b"short")


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=0.5, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(2.0)  # one token every 2 s
    assert buckets.take("b") == 0  # another key is untouched
    now[0] = 2.0
    assert buckets.take("a") == 0 and buckets.take("a") > 0
    now[0] = 1000.0
    takes = [buckets.take("a") for _ in range(4)]
    assert takes[:3] == [0, 0, 0] and takes[3] > 0  # never more than the burst, however long idle
    assert retry_after_seconds(0.2) == 1 and retry_after_seconds(2.01) == 3


def test_idle_buckets_are_forgotten_when_there_are_too_many() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1, burst=2, clock=lambda: now[0])
    buckets.MAX_KEYS = 3  # type: ignore[misc]
    for key in "abc":
        buckets.take(key)
    now[0] = 10.0
    buckets.take("d")
    assert set(buckets._buckets) == {"d"}


def _request(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded or []]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 1234)})


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "expected"),
    [
        ("", "203.0.113.5", ["1.2.3.4"], "203.0.113.5"),  # no proxies configured: the header is ignored
        ("10.0.0.0/8", "203.0.113.5", ["1.2.3.4"], "203.0.113.5"),  # not from our proxy
        ("10.0.0.0/8", "10.0.0.2", ["192.0.2.9"], "192.0.2.9"),
        ("10.0.0.0/8", "10.0.0.2", ["1.1.1.1, 192.0.2.9"], "192.0.2.9"),  # the client wrote 1.1.1.1
        ("10.0.0.0/8, 172.16.0.1", "10.0.0.2", ["192.0.2.9, 172.16.0.1"], "192.0.2.9"),  # two proxies
        ("10.0.0.0/8", "10.0.0.2", ["1.1.1.1", "192.0.2.9"], "192.0.2.9"),  # repeated headers
        ("10.0.0.0/8", "10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.0/8", "10.0.0.2", ["10.0.0.7, 10.0.0.3"], "10.0.0.7"),  # all ours: the origin
        ("::1", "::1", ["2001:db8::5"], "2001:db8::5"),
    ],
)
def test_client_address(trusted: str, peer: str, forwarded: list[str], expected: str) -> None:
    settings = Settings(_env_file=None, trusted_proxies=trusted)  # type: ignore[call-arg]
    assert client_address(_request(peer, forwarded), settings) == expected
