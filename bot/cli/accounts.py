"""Customers, plans and billing commands for distributors."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import in_session, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

import_app = typer.Typer(help="Import data.", no_args_is_help=True)
plans_app = typer.Typer(help="License plans.", no_args_is_help=True)
billing_app = typer.Typer(help="Billing calendar.", no_args_is_help=True)


@import_app.command("customers")
def import_customers(
    file: Annotated[Path, typer.Argument(help="CSV or JSON file (see README).", exists=True, dir_okay=False)],
) -> None:
    """Import or update customers (by RUC). A file with any bad row imports nothing."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.services.importer import ImportRejected, import_customers

    console = Console(stderr=True)
    current = load_settings()
    total = _count_rows(file)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        checking = progress.add_task("checking", total=total)
        writing = progress.add_task("writing", total=total)

        async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
            return await import_customers(
                session,
                file,
                dt.datetime.now(dt.UTC),
                dt.datetime.now(current.zone).date(),
                on_validated=lambda n: progress.advance(checking, n),
                on_written=lambda n: progress.advance(writing, n),
            )

        try:
            summary = in_session(current, work)
        except ImportRejected as rejected:
            progress.stop()
            # Plain lines, not a table: a bad export can have 100,000 of them.
            for error in rejected.errors:
                typer.echo(f"line {error.line}: {error.field}: {error.reason}", err=True)
            typer.echo(
                f"{file.name}: {len(rejected.errors)} problem(s); nothing was imported. "
                "Fix the file and run the import again.",
                err=True,
            )
            raise typer.Exit(1) from None
    typer.echo(
        f"{summary.rows} rows: {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged."
    )


def _count_rows(file: Path) -> int | None:
    if file.suffix.lower() == ".json":
        return None
    with file.open(encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


@plans_app.command("list")
def plans_list() -> None:
    """The plans customers can have."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from bot.persistence.tables import PlanRow

    async def work(session: AsyncSession) -> list[PlanRow]:
        return list((await session.execute(select(PlanRow).order_by(PlanRow.monthly_price))).scalars())

    table = Table("plan", "monthly price (before IVA)", "included hours")
    for plan in in_session(load_settings(), work):
        table.add_row(plan.name, f"USD {plan.monthly_price}", str(plan.included_hours))
    Console().print(table)


@plans_app.command("set")
def plans_set(
    name: Annotated[str, typer.Argument(help="Plan name.")],
    price: Annotated[str | None, typer.Option(help="Monthly price before IVA, e.g. 30.00.")] = None,
    hours: Annotated[int | None, typer.Option(min=0, help="Included implementation hours.")] = None,
) -> None:
    """Create a plan or change its price or hours (existing invoices keep their amounts)."""
    from bot.services.catalog import parse_price, set_plan

    try:
        amount = parse_price(price) if price is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price") from None

    async def work(session: AsyncSession) -> str:
        plan = await set_plan(session, name, amount, hours)
        return f"{plan.name}: USD {plan.monthly_price} + IVA, {plan.included_hours} h included"

    try:
        typer.echo(in_session(load_settings(), work))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@billing_app.command("preview")
def billing_preview(
    price: Annotated[str, typer.Option(help="Monthly price before IVA, e.g. 30.00.")],
    signup: Annotated[str, typer.Option(help="Signup date, YYYY-MM-DD.")],
    months: Annotated[int, typer.Option(min=1, max=120, help="How many invoices to show.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of invoices.")] = False,
) -> None:
    """The first invoices of a new monthly subscription: what a customer will pay, and when."""
    from bot.bootstrap import billing_rules, iva_schedule
    from bot.domain.billing import first_invoices
    from bot.services.catalog import parse_price

    try:
        amount = parse_price(price)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--price") from None
    try:
        start = dt.date.fromisoformat(signup)
    except ValueError:
        raise typer.BadParameter(f"{signup!r} is not a date (YYYY-MM-DD)", param_hint="--signup") from None
    current = load_settings()
    invoices = first_invoices(amount, start, months, billing_rules(current), iva_schedule(current))
    rows = [
        {
            "sequence": i.sequence,
            "kind": i.kind.value,
            "issue_date": i.issue_date.isoformat(),
            "due_date": i.due_date.isoformat(),
            "period_start": i.period.first_date.isoformat(),
            "period_end": i.period.last_date.isoformat(),
            "days": i.period.days,
            "subtotal": str(i.subtotal),
            "iva_rate": str(i.iva_rate),
            "iva": str(i.iva),
            "total": str(i.total),
        }
        for i in invoices
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "issued", "due", "period", "subtotal", "IVA", "total", title=f"USD {amount} + IVA from {start}")
    for row in rows:
        table.add_row(
            str(row["sequence"]),
            str(row["issue_date"]),
            str(row["due_date"]),
            f"{row['period_start']} → {row['period_end']}",
            str(row["subtotal"]),
            f"{row['iva']} ({Decimal(str(row['iva_rate'])) * 100:.0f}%)",
            str(row["total"]),
        )
    Console().print(table)
