"""Operations: replay the scheduler, inspect the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import load_settings, migrate

if TYPE_CHECKING:
    from scheduler.jobs import TickReport

scheduler_app = typer.Typer(help="The billing scheduler.", no_args_is_help=True)
outbox_app = typer.Typer(help="Proactive messages.", no_args_is_help=True)


def parse_moment(value: str, zone: dt.tzinfo) -> dt.datetime:
    """ISO date or datetime; without an offset it is local time (PERSEO_TIMEZONE)."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date-time (2026-12-06T09:00)", param_hint="--now") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@scheduler_app.command("tick")
def tick(
    now: Annotated[str | None, typer.Option(help="Run as if at this time (ISO; local if no offset).")] = None,
    no_delivery: Annotated[bool, typer.Option("--no-delivery", help="Plan only; send nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run every due sweep and one delivery run, once (operators replay a day with --now)."""
    from bot.bootstrap import build_ticker
    from bot.persistence.database import create_engine, sessionmaker

    settings = load_settings()
    moment = parse_moment(now, settings.zone) if now else dt.datetime.now(dt.UTC)
    migrate(settings)

    async def run() -> TickReport:
        database = create_engine(settings.database_url)
        try:
            return await build_ticker(settings, sessionmaker(database)).tick(moment, deliver=not no_delivery)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    sweeps = report.sweeps.__dict__ if report.sweeps else None
    delivery = {k: v for k, v in report.delivery.__dict__.items() if k != "errors"}
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "now": moment.isoformat(),
                    "sweeps": sweeps,
                    "skipped": report.skipped,
                    "delivery": delivery,
                    "errors": report.delivery.errors,
                }
            )
        )
        return
    typer.echo(f"tick at {moment.astimezone(settings.zone).isoformat()}")
    if report.skipped:
        typer.echo(f"sweeps skipped: {report.skipped}")
    if sweeps:
        typer.echo("sweeps: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sweeps.items()))
    typer.echo("delivery: " + ", ".join(f"{k} {v}" for k, v in delivery.items()))
    for error in report.delivery.errors:
        typer.echo(f"  {error}", err=True)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending, sending, sent, failed or cancelled.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON list.")] = False,
) -> None:
    """What is pending, sent and failed."""
    from sqlalchemy import func, select

    from bot.cli.common import in_session
    from bot.persistence.tables import OutboxRow

    async def work(session):  # type: ignore[no-untyped-def]
        query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxRow.status == status)
        counts = dict((await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all())
        return list((await session.execute(query)).scalars()), counts

    rows, counts = in_session(load_settings(), work)
    records = [
        {
            "id": r.id,
            "key": r.idempotency_key,
            "kind": r.kind,
            "channel": r.channel,
            "recipient": r.recipient,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "last_error": r.last_error,
            "subject": r.subject,
        }
        for r in rows
    ]
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "kind", "to", "status", "tries", "next / sent", "error", title="outbox (newest first)")
    for r in records:
        table.add_row(
            str(r["id"]),
            str(r["kind"]),
            str(r["recipient"]),
            str(r["status"]),
            str(r["attempts"]),
            str(r["sent_at"] or r["next_attempt_at"])[:16],
            str(r["last_error"] or "")[:40],
        )
    Console().print(table)
    typer.echo(
        "totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else "the outbox is empty"
    )


def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo customers first and build them again as of today.")
    ] = False,
) -> None:
    """Load a demo distributor and one customer in each state (idempotent)."""
    from bot.bootstrap import billing_rules, iva_schedule
    from bot.cli.common import in_session
    from bot.services.demo import load_demo, load_demo_advisors, reset_demo

    settings = load_settings()
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(settings.zone).date()

    async def work(session):  # type: ignore[no-untyped-def]
        if reset:
            await reset_demo(session)
        customers = await load_demo(session, today, now, billing_rules(settings), iva_schedule(settings))
        return customers, await load_demo_advisors(session, now)

    customers, advisors = in_session(settings, work)
    for customer, state in customers:
        typer.echo(f"{customer.ruc}  {state:<10}  {customer.company} ({customer.description}), {customer.email}")
    typer.echo(
        f"Link the web chat to one of them: ask «cuánto debo», give the RUC, read the code in {settings.mail_dir}/"
    )
    base = f"http://{settings.http_host}:{settings.http_port}/console"
    for email, password, is_admin in advisors:
        typer.echo(f"Console {base}: {email} / {password}{'  (admin)' if is_admin else ''}")
