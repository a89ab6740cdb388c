"""Console login throttling on SQLite and PostgreSQL: limits that hold under concurrency, per
(e-mail, address), and a stranger elsewhere cannot lock the real advisor out."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.context import Knowledge
from bot.services import advisors
from tests.conftest import clone_engine, fixed_clock
from tests.factories import ADVISOR_PASSWORD as PASSWORD
from tests.factories import add_advisor, add_customer, full_app

pytestmark = pytest.mark.postgres

EMAIL = "andrea@sierra.ec"
HOME = "190.152.10.20"  # where the real advisor works
STRANGER = "203.0.113.9"
LIMIT = 5  # wrong passwords of one e-mail from one address per 15 minutes


class CountingHasher:
    """The real argon2 hasher, counting the password checks."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checks = 0

    def verify(self, stored: str, password: str) -> bool:
        self.checks += 1
        return bool(self.real.verify(stored, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    """Argon2id with small costs (the production ones take most of a second per check here)."""
    counting = CountingHasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(advisors, "_HASHER", counting)
    monkeypatch.setattr(advisors, "_DUMMY_HASH", counting.hash("not a real password"))
    return counting


@pytest.fixture
async def app(database: AsyncEngine, settings: Settings, knowledge: Knowledge, hasher: CountingHasher) -> FastAPI:
    await add_customer(database, settings)  # creates Distribuidora Sierra
    await add_advisor(database, EMAIL, PASSWORD)
    return _app(database, settings, knowledge)


def _app(database: AsyncEngine, settings: Settings, knowledge: Knowledge) -> FastAPI:
    app = full_app(database, settings, knowledge, fixed_clock)
    app.state.waits = []

    async def record(seconds: float) -> None:  # the backoff is asserted, not slept through
        app.state.waits.append(seconds)

    app.state.login_sleep = record
    return app


async def attempt(app: FastAPI, password: str, address: str = HOME, email: str = EMAIL) -> httpx.Response:
    """One login from `address`, with a fresh login form (as a browser would)."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        form = await http.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text
        return await http.post("/console/login", data={"email": email, "password": password, "csrf": csrf[1]})


async def test_thirty_concurrent_wrong_passwords_reach_the_hash_at_most_five_times(
    app: FastAPI, hasher: CountingHasher, database: AsyncEngine, settings: Settings, knowledge: Knowledge
) -> None:
    """Issue 10, item 7: the attempt is counted before its password is checked, atomically;
    half the attempts go through a second replica (another engine, as another process)."""
    replica = clone_engine(database)
    second = _app(replica, settings, knowledge)
    results = await asyncio.gather(*(attempt(app if n % 2 else second, f"wrong-{n}") for n in range(30)))
    statuses = sorted(r.status_code for r in results)
    assert hasher.checks <= LIMIT, hasher.checks
    assert statuses == [401] * LIMIT + [429] * (30 - LIMIT)
    assert (await attempt(app, PASSWORD)).status_code == 429  # the right password too, from this address
    await replica.dispose()


async def test_a_stranger_elsewhere_cannot_lock_the_advisor_out(app: FastAPI, hasher: CountingHasher) -> None:
    for n in range(8):
        wrong = await attempt(app, f"guess-{n}", address=STRANGER)
        assert wrong.status_code == (401 if n < 5 else 429), n
    mine = await attempt(app, PASSWORD, address=HOME)
    assert mine.status_code == 303 and mine.headers["location"] == "/console"
    assert app.state.waits == [1.0]  # five failures of this e-mail elsewhere: a delay, not a lock
    assert (await attempt(app, PASSWORD, address=STRANGER)).status_code == 429  # the stranger's address stays shut


async def test_failures_from_many_addresses_only_slow_the_email_down(app: FastAPI, hasher: CountingHasher) -> None:
    for n in range(12):  # 3 failures from each of 4 addresses: no pair reaches its limit
        assert (await attempt(app, "nope", address=f"198.51.100.{n % 4}")).status_code == 401
    assert app.state.waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]  # from the 6th on, doubling up to 10 s
    app.state.waits.clear()
    assert (await attempt(app, PASSWORD)).status_code == 303
    assert app.state.waits == [10.0]
    app.state.waits.clear()
    assert (await attempt(app, PASSWORD)).status_code == 303  # a success gives its own attempt back
    assert app.state.waits == [10.0]


async def test_my_own_typos_are_forgiven_by_my_success(app: FastAPI, hasher: CountingHasher) -> None:
    for _ in range(4):
        assert (await attempt(app, "typo")).status_code == 401
    assert (await attempt(app, PASSWORD)).status_code == 303
    for _ in range(4):  # the counter of this e-mail from this address started over
        assert (await attempt(app, "typo")).status_code == 401
    assert (await attempt(app, PASSWORD)).status_code == 303


async def test_one_address_trying_many_emails_is_stopped(app: FastAPI, hasher: CountingHasher) -> None:
    for n in range(advisors.MAX_FAILURES_PER_ADDRESS):
        assert (await attempt(app, "123456", address=STRANGER, email=f"user{n}@sierra.ec")).status_code == 401
    assert (await attempt(app, "123456", address=STRANGER, email="another@sierra.ec")).status_code == 429
    assert hasher.checks == advisors.MAX_FAILURES_PER_ADDRESS
    assert (await attempt(app, PASSWORD, address=HOME)).status_code == 303


def test_the_email_delay_grows_and_is_capped() -> None:
    assert [advisors.email_delay(n) for n in (0, 4, 5, 6, 7, 8, 9, 50, 10_000)] == [
        0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0,
    ]  # fmt: skip
