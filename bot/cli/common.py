"""Helpers every command uses: settings, migrations, the wired engine, sessions."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from bot.config import Settings
    from bot.engine import Engine

T = TypeVar("T")


def load_settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"PERSEO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        typer.echo(f"Invalid configuration: {problems}. Fix the environment or .env.", err=True)
        raise typer.Exit(2) from None


def memory_engine(settings: Settings) -> Engine:
    from bot.bootstrap import build_calendar, build_engine
    from bot.store import InMemoryConversationStore
    from bot.trainings import CalendarOnly

    calendar = functools.cache(lambda: CalendarOnly(build_calendar(settings)))  # read once, when first needed
    return build_engine(settings, InMemoryConversationStore(trainings=calendar))


def migrate(settings: Settings) -> None:
    """Apply migrations, or exit with what to check."""
    from bot.persistence.database import create_engine, upgrade

    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    async def migrate() -> None:
        from bot.bootstrap import pack_facts
        from bot.persistence.database import sessionmaker
        from bot.services.catalog import load_default_plans

        database = create_engine(settings.database_url)
        try:
            await upgrade(database)
            async with sessionmaker(database).begin() as session:
                await load_default_plans(session, pack_facts(settings).get("plans") or [])
        finally:
            await database.dispose()

    try:
        asyncio.run(migrate())
    except Exception as exc:
        typer.echo(
            f"Could not migrate {redacted(settings.database_url)}: {exc}\n"
            "Check PERSEO_DATABASE_URL and that the database server is running.",
            err=True,
        )
        raise typer.Exit(1) from None


def sql_engine(settings: Settings) -> tuple[Engine, AsyncEngine]:
    """The engine on the SQL store. Nothing connects until the first message."""
    from bot.bootstrap import build_engine, build_sql_store
    from bot.persistence.database import create_engine, sessionmaker

    database = create_engine(settings.database_url)
    return build_engine(settings, build_sql_store(settings, sessionmaker(database))), database


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on a migrated database, and return its result."""
    from bot.persistence.database import create_engine, sessionmaker

    migrate(settings)

    async def run() -> T:
        database = create_engine(settings.database_url)
        try:
            async with sessionmaker(database).begin() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())
