"""`perseo-bot trainings list|add|cancel|attendees`: the Zoom training calendar."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import in_session, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

trainings_app = typer.Typer(help="Free Zoom trainings: calendar, sign-ups.", no_args_is_help=True)


def _run(work: Any) -> Any:
    from bot.domain.trainings import CalendarError
    from bot.services.trainings import TrainingError

    try:
        return in_session(load_settings(), work)
    except (TrainingError, CalendarError) as problem:
        typer.echo(f"Not done: {problem}", err=True)
        raise typer.Exit(1) from None


def _calendar():  # type: ignore[no-untyped-def]
    from bot.bootstrap import build_calendar
    from bot.domain.trainings import CalendarError

    try:
        return build_calendar(load_settings())
    except CalendarError as problem:
        typer.echo(f"trainings.yaml: {problem}", err=True)
        raise typer.Exit(2) from None


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r}: write the date as YYYY-MM-DD", param_hint=name) from None


@trainings_app.command("list")
def list_(
    first: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: today).")] = None,
    days: Annotated[int, typer.Option(help="How many days.", min=1, max=366)] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: id, start, end, topic, join_url, seats_left…")] = False,
) -> None:
    """Sessions from a day on (cancelled ones left out), with seats left and sign-ups."""
    from bot import format as fmt
    from bot.services.trainings import list_sessions

    settings = load_settings()
    start = _date(first, "--from") if first else dt.datetime.now(settings.zone).date()
    calendar = _calendar()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return await list_sessions(session, calendar, start, start + dt.timedelta(days=days - 1))

    sessions = _run(work)
    if as_json:
        typer.echo(json.dumps(sessions, ensure_ascii=False))
        return
    if not sessions:
        typer.echo(f"No sessions from {start} for {days} day(s).")
    for item in sessions:
        begins, ends = dt.datetime.fromisoformat(item["start"]), dt.datetime.fromisoformat(item["end"])
        seats = "unlimited" if item["seats_left"] is None else f"{item['seats_left']} seats left"
        typer.echo(
            f"{item['id']:<24} {fmt.session_when(begins, ends):<36} {item['topic']:<30} "
            f"{item['signed_up']} signed up, {seats}"
        )


@trainings_app.command("add")
def add(
    date: Annotated[str, typer.Option("--date", help="Day, YYYY-MM-DD.")],
    start: Annotated[str, typer.Option("--start", help="Local start time, HH:MM.")],
    topic: Annotated[str, typer.Option("--topic", help="What the session teaches.")],
    minutes: Annotated[int, typer.Option(help="Duration in minutes.")] = 60,
    seats: Annotated[int | None, typer.Option(help="Maximum sign-ups (default: unlimited).")] = None,
    join_url: Annotated[str | None, typer.Option(help="Zoom link (default: the calendar's meeting).")] = None,
    meeting_id: Annotated[str | None, typer.Option(help="Zoom meeting id, with --join-url.")] = None,
    passcode: Annotated[str, typer.Option(help="Zoom passcode, with --join-url.")] = "",
) -> None:
    """Add a one-off session (stored in the database; trainings.yaml stays as it is)."""
    from bot.domain.trainings import Zoom
    from bot.services.trainings import add_session

    try:
        begins = dt.time.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r}: write the time as HH:MM", param_hint="--start") from None
    if (join_url is None) != (meeting_id is None):
        raise typer.BadParameter("give both --join-url and --meeting-id, or neither", param_hint="--join-url")
    if join_url is not None and not join_url.startswith("https://"):
        raise typer.BadParameter("the Zoom link must start with https://", param_hint="--join-url")
    zoom = Zoom(join_url, meeting_id or "", passcode) if join_url else None
    day, calendar = _date(date, "--date"), _calendar()

    async def work(session: AsyncSession) -> str:
        return await add_session(
            session, calendar, day=day, start=begins, minutes=minutes, topic=topic, seats=seats, zoom=zoom,
            now=dt.datetime.now(dt.UTC),
        )  # fmt: skip

    typer.echo(f"Added {_run(work)}: {date} {start}, {minutes} min, {topic}.")


@trainings_app.command("cancel")
def cancel(
    session_id: Annotated[str, typer.Argument(help="The session id (see `trainings list`).")],
    reason: Annotated[str, typer.Option(help="Told to everyone signed up.")] = "",
) -> None:
    """Cancel a session: its reminders are withdrawn and everyone signed up is told."""
    from bot.bootstrap import build_notifier
    from bot.services.trainings import cancel_session

    settings = load_settings()
    calendar, notifier = _calendar(), build_notifier(settings)

    async def work(session: AsyncSession) -> int:
        return await cancel_session(session, calendar, notifier, session_id, reason, dt.datetime.now(dt.UTC))

    told = _run(work)
    typer.echo(f"Cancelled {session_id}; {told} sign-up(s) will be told (`perseo-bot scheduler tick` sends now).")


@trainings_app.command("attendees")
def attendees(
    session_id: Annotated[str, typer.Argument(help="The session id (see `trainings list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON.")] = False,
) -> None:
    """Who signed up for a session."""
    from bot.services.trainings import attendees as signed_up

    calendar = _calendar()

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return await signed_up(session, calendar, session_id)

    rows = _run(work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    typer.echo(f"{len(rows)} signed up for {session_id}")
    for row in rows:
        who = f"{row['company']} ({row['ruc']})" if row["company"] else "unverified chat"
        typer.echo(f"  {row['signed_up_at'][:16]}  {row['channel']:<9} {who}")
