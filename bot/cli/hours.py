"""`perseo-bot hours ...`: implementation hours and paid support (advisors and admins)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import in_session, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

hours_app = typer.Typer(help="Implementation hours and paid support.", no_args_is_help=True)


def _run(work: Any) -> Any:
    from bot.services.hours import HoursError

    try:
        return in_session(load_settings(), work)
    except HoursError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


@hours_app.command("add-pack")
def add_pack(
    ruc: Annotated[str, typer.Argument(help="The customer's RUC.")],
    hours: Annotated[str, typer.Argument(help="Hours bought, e.g. 2 or 1.5.")],
    note: Annotated[str | None, typer.Option(help="A note, e.g. the invoice of the pack.")] = None,
) -> None:
    """Add purchased implementation hours to a customer."""
    from bot.services.hours import add_pack as add

    try:
        amount = Decimal(hours.replace(",", "."))
    except InvalidOperation:
        raise typer.BadParameter(f"{hours!r} is not a number of hours", param_hint="HOURS") from None

    async def work(session: AsyncSession) -> int:
        return await add(session, ruc, amount, dt.datetime.now(dt.UTC), note)

    typer.echo(f"{_run(work)} minutes added to {ruc}.")


@hours_app.command("log")
def log(
    ruc: Annotated[str, typer.Argument(help="The customer's RUC.")],
    minutes: Annotated[int, typer.Argument(help="Minutes the session lasted (1-600).")],
    topic: Annotated[str, typer.Option(help="What it was about.")],
    advisor: Annotated[str, typer.Option(help="Who attended (e-mail or name).")],
    channel: Annotated[str, typer.Option(help="phone, zoom, webchat, whatsapp, telegram...")] = "phone",
) -> None:
    """Record a support session; what exceeds the hours left is charged per started hour + IVA."""
    from bot.bootstrap import iva_schedule, pack_facts
    from bot.domain.tax import iva_rate_on
    from bot.format import money
    from bot.services.hours import log_session

    settings = load_settings()
    facts = pack_facts(settings)
    now = dt.datetime.now(dt.UTC)
    rate = Decimal(str(facts["support"]["hourly_rate"]))
    iva = iva_rate_on(now.astimezone(settings.zone).date(), iva_schedule(settings))

    async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
        return await log_session(
            session,
            ruc,
            minutes,
            topic=topic,
            advisor=advisor,
            channel=channel,
            started_at=now,
            now=now,
            hourly_rate=rate,
            iva_rate=iva,
        )

    entry_id, charge = _run(work)
    typer.echo(f"Session {entry_id} recorded: {minutes} min for {ruc}.")
    if charge:
        typer.echo(
            f"Paid support: {charge.hours_billed} h x USD {rate} = {money(charge.subtotal)} + IVA {money(charge.iva)} "
            f"= {money(charge.total)}"
        )


@hours_app.command("show")
def show(
    ruc: Annotated[str, typer.Argument(help="The customer's RUC.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON.")] = False,
) -> None:
    """Included, purchased, used and remaining time, and the latest sessions."""
    from bot.domain.hours import duration_text
    from bot.services.hours import customer_id_for, ledger

    async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
        return await ledger(session, await customer_id_for(session, ruc), recent=10)

    view = _run(work)
    if as_json:
        record = {
            **view.__dict__,
            "recent": [{**s.__dict__, "started_at": s.started_at.isoformat()} for s in view.recent],
        }
        typer.echo(json.dumps(record, ensure_ascii=False))
        return
    typer.echo(f"{view.company} (plan {view.plan})")
    typer.echo(
        f"included {duration_text(view.included_minutes)}, purchased {duration_text(view.purchased_minutes)}, "
        f"used {duration_text(view.consumed_minutes)}, remaining {duration_text(view.remaining_minutes)}"
    )
    for s in view.recent:
        paid = f" ({s.paid_minutes} min paid)" if s.paid_minutes else ""
        typer.echo(f"  {s.started_at:%Y-%m-%d %H:%M}  {s.minutes} min{paid}  {s.topic}  — {s.advisor}")


@hours_app.command("charges")
def list_charges(as_json: Annotated[bool, typer.Option("--json", help="JSON.")] = False) -> None:
    """Paid-support charges, one per session."""
    from bot.services.hours import charges

    async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
        return await charges(session)

    rows = _run(work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['started_at'][:16]}  {r['ruc']}  {r['company']}  {r['hours_billed']} h  total USD {r['total']}")
    if not rows:
        typer.echo("No paid-support charges yet.")
