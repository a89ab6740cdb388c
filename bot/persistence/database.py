"""Creating the async engine and applying migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-locking transactions."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_async_engine(url, **kwargs)
        _make_sqlite_transactions_serialisable(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def dialect_of(session: AsyncSession) -> str:
    """'sqlite' or 'postgresql': the few statements that differ (upserts, locks) ask this."""
    return session.sync_session.get_bind().dialect.name


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` on the engine's database."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


def _make_sqlite_transactions_serialisable(engine: AsyncEngine) -> None:
    """Every transaction starts with BEGIN IMMEDIATE, taking SQLite's write lock up front.

    The Python driver otherwise starts transactions lazily, so two turns of one
    conversation could both read the old dialogue state before either writes.
    (PostgreSQL gets the same guarantee from SELECT ... FOR UPDATE.)
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL: a crashed process loses nothing committed; only a power cut can drop the
        # last commits. It spares an fsync per commit (one per delivered message).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
