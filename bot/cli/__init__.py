"""The `perseo-bot` command. Imports stay inside the commands: `ask` must start fast and small
(see README, "Benchmarks"), so it never loads the web framework or the database driver."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Annotated

import typer

from bot.cli import accounts, ops
from bot.cli.advisors import advisors_app
from bot.cli.common import load_settings, memory_engine, migrate, redacted, sql_engine
from bot.cli.hours import hours_app
from bot.cli.kb import kb_app
from bot.cli.trainings import trainings_app

app = typer.Typer(
    help="Perseo WEB onboarding and support assistant.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(accounts.import_app, name="import")
app.add_typer(accounts.plans_app, name="plans")
app.add_typer(accounts.billing_app, name="billing")
app.add_typer(accounts.payments_app, name="payments")
app.add_typer(accounts.customers_app, name="customers")
app.add_typer(hours_app, name="hours")
app.add_typer(advisors_app, name="advisors")
app.add_typer(trainings_app, name="trainings")
app.add_typer(ops.scheduler_app, name="scheduler")
app.add_typer(ops.outbox_app, name="outbox")
app.command("demo")(ops.demo)


@app.command()
def ask(
    text: Annotated[
        str | None, typer.Argument(help="The question; without it, one question per line from stdin.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: reply, fallback, source, confidence.")] = False,
) -> None:
    """Answer questions, each in a fresh anonymous conversation (nothing is stored)."""
    from bot.messages import Message

    engine = memory_engine(load_settings())
    questions = [text] if text is not None else [line.rstrip("\n") for line in sys.stdin]
    as_json = as_json or text is None

    async def answer_all() -> None:
        for number, question in enumerate(questions):
            outcome = await engine.handle(Message("cli", f"ask-{number}", question, dt.datetime.now(dt.UTC)))
            reply = "\n".join(r.text for r in outcome.replies)
            if as_json:
                record = {
                    "reply": reply,
                    "fallback": outcome.fallback,
                    "source": outcome.source,
                    "confidence": round(outcome.confidence, 4),
                    "options": [o for r in outcome.replies for o in r.options],
                }
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(reply + "\n")
            sys.stdout.flush()

    asyncio.run(answer_all())


@app.command()
def chat() -> None:
    """Talk to the bot in the terminal (stored in the database like any channel)."""
    from rich.console import Console

    from bot.channels.terminal import converse

    settings = load_settings()
    migrate(settings)
    engine, database = sql_engine(settings)

    from bot.persistence.database import sessionmaker
    from bot.services.handoffs import pushed_since

    sessions = sessionmaker(database)

    async def updates(user_id: str, after: int | None) -> tuple[list[str], int]:
        async with sessions() as session:
            rows, cursor, _ = await pushed_since(session, "terminal", user_id, after)
        return [row.text for row in rows], cursor

    async def talk() -> None:
        try:
            await converse(engine, Console(), updates=updates)
        finally:
            await database.dispose()

    asyncio.run(talk())


@app.command()
def run(
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Serve only; no sweeps or delivery.")] = False,
) -> None:
    """Migrate the database and serve the web chat and APIs, with the billing scheduler."""
    import logging

    import uvicorn

    from bot.bootstrap import build_calendar, build_ticker, system_clock
    from bot.channels.messaging import build_messaging
    from bot.persistence.database import sessionmaker
    from bot.web.app import create_app
    from scheduler.ticker import start_ticker

    settings = load_settings()
    migrate(settings)
    engine, database = sql_engine(settings)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if settings.log_level.lower() != "debug":  # one line per job run every few seconds drowns the log
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

    sessions = sessionmaker(database)
    messaging = build_messaging(settings, sessions, engine, system_clock)

    def background():  # type: ignore[no-untyped-def]
        scheduler = start_ticker(build_ticker(settings, sessions, messaging.clients()), settings)
        return lambda: scheduler.shutdown(wait=False)

    channels = ", ".join(
        name for name, on in (("Telegram", messaging.telegram), ("WhatsApp", messaging.whatsapp)) if on
    )
    typer.echo(f"Serving on http://{settings.http_host}:{settings.http_port}  (Ctrl+C to stop)")
    typer.echo(f"Channels: web chat{', ' + channels if channels else ''}")
    app = create_app(
        engine,
        database,
        None if no_scheduler else background,
        calendar=build_calendar(settings),
        messaging=messaging,
        settings=settings,
    )
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,  # open console event streams must not hold Ctrl+C
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (idempotent)."""
    settings = load_settings()
    migrate(settings)
    typer.echo(f"Database is up to date: {redacted(settings.database_url)}")


def main() -> None:
    app()
