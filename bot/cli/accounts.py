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


payments_app = typer.Typer(help="Payment reports from customers.", no_args_is_help=True)


@payments_app.command("list")
def payments_list(
    status: Annotated[str | None, typer.Option(help="pending (default), confirmed, rejected or all.")] = "pending",
    as_json: Annotated[bool, typer.Option("--json", help="JSON list.")] = False,
) -> None:
    """Payments customers reported, waiting for the distributor's check."""
    from bot.services.payments import list_reports

    async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
        return await list_reports(session, None if status == "all" else status)

    reports = in_session(load_settings(), work)
    if as_json:
        rows = [{**r.__dict__, "invoice_total": str(r.invoice_total), "amount": str(r.amount),
                 "paid_on": r.paid_on.isoformat()} for r in reports]  # fmt: skip
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "status", "company", "invoice", "invoice total", "reported", "paid on", "bank / method", "ref")
    for r in reports:
        table.add_row(
            str(r.id),
            r.status,
            f"{r.company}\n{r.ruc}",
            r.invoice,
            str(r.invoice_total),
            str(r.amount),
            str(r.paid_on),
            f"{r.bank} / {r.method}",
            r.reference,
        )
    Console().print(table)
    if not reports:
        typer.echo("No payment reports with that status.")


def _decide(report_id: int, accept: bool, reason: str | None) -> None:
    from bot.bootstrap import build_notifier
    from bot.services.payments import ReportError, decide

    settings = load_settings()
    notifier = build_notifier(settings)
    now = dt.datetime.now(dt.UTC)

    async def work(session: AsyncSession):  # type: ignore[no-untyped-def]
        return await decide(
            session,
            report_id,
            accept=accept,
            reason=reason,
            notifier=notifier,
            now=now,
            today=now.astimezone(settings.zone).date(),
        )

    try:
        view = in_session(settings, work)
    except ReportError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    verb = "confirmed" if accept else "rejected"
    typer.echo(f"Report {view.id} {verb}: {view.company}, invoice {view.invoice}. The customer will be told by e-mail.")


@payments_app.command("confirm")
def payments_confirm(report_id: Annotated[int, typer.Argument(help="Report id (payments list).")]) -> None:
    """The payment arrived: the invoice is paid."""
    _decide(report_id, True, None)


@payments_app.command("reject")
def payments_reject(
    report_id: Annotated[int, typer.Argument(help="Report id (payments list).")],
    reason: Annotated[str, typer.Option(help="Why (the customer reads it), e.g. 'no consta en el banco'.")],
) -> None:
    """The payment could not be verified: the invoice is pending again."""
    _decide(report_id, False, reason)


customers_app = typer.Typer(help="Customer contracts.", no_args_is_help=True)


@customers_app.command("recontract")
def customers_recontract(
    ruc: Annotated[str, typer.Argument(help="The RUC of a customer whose plan ended.")],
    start: Annotated[str, typer.Option("--from", help="Start of the new contract, YYYY-MM-DD.")],
) -> None:
    """Start a new monthly contract after the end (billed from that day, at the plan's price)."""
    from bot.services.billing import ContractError, recontract

    try:
        day = dt.date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"{start!r} is not a date (YYYY-MM-DD)", param_hint="--from") from None

    async def work(session: AsyncSession) -> int:
        return await recontract(session, ruc, day, dt.datetime.now(dt.UTC))

    try:
        subscription = in_session(load_settings(), work)
    except ContractError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"New contract {subscription} for {ruc} from {day}; the next scheduler tick issues its first invoice.")
