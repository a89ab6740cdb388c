"""Shared fixtures.

Database tests run on SQLite always and on PostgreSQL when PERSEO_TEST_DATABASE_URL is set
(each test in a schema of its own). With PERSEO_TEST_STRICT=1 (CI) a PostgreSQL or browser
test that cannot run fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_engine, build_knowledge
from bot.config import Settings
from bot.context import Knowledge
from bot.engine import Engine
from bot.persistence.database import create_engine, upgrade
from bot.store import InMemoryConversationStore

STRICT = os.environ.get("PERSEO_TEST_STRICT") == "1"
PG_URL = os.environ.get("PERSEO_TEST_DATABASE_URL")
DATA = Path(__file__).resolve().parent / "data"
FIXED_NOW = dt.datetime(2026, 11, 28, 15, 0, tzinfo=dt.UTC)


def skip_or_fail(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason} (PERSEO_TEST_STRICT=1: this must run in CI)")
    pytest.skip(reason)


_CONNECT_ARGS: dict[int, dict[str, object]] = {}


def clone_engine(engine: AsyncEngine) -> AsyncEngine:
    """Another engine on the same test database (and PostgreSQL schema): a second process."""
    url = engine.url.render_as_string(hide_password=False)
    return create_engine(url, connect_args=dict(_CONNECT_ARGS.get(id(engine), {})))


def fixed_clock() -> dt.datetime:
    return FIXED_NOW


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def knowledge(settings: Settings) -> Knowledge:
    return build_knowledge(settings, fixed_clock)


@pytest.fixture
def memory_store() -> InMemoryConversationStore:
    return InMemoryConversationStore()


@pytest.fixture
def engine(settings: Settings, knowledge: Knowledge, memory_store: InMemoryConversationStore) -> Engine:
    return build_engine(settings, memory_store, knowledge=knowledge, clock=fixed_clock)


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await upgrade(engine)
        yield engine
        await engine.dispose()
        return
    if not PG_URL:
        skip_or_fail("PERSEO_TEST_DATABASE_URL is not set")
    assert PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:
        await admin.dispose()
        skip_or_fail(f"PostgreSQL at PERSEO_TEST_DATABASE_URL is unreachable: {exc}")
    connect_args = {"options": f"-csearch_path={schema}"}
    engine = create_engine(PG_URL, connect_args=dict(connect_args))
    _CONNECT_ARGS[id(engine)] = connect_args
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


@pytest.fixture
def message_factory() -> Callable[..., object]:
    from bot.messages import Message

    def make(text: str, user: str = "u1", channel: str = "webchat") -> Message:
        return Message(channel, user, text, FIXED_NOW)

    return make
