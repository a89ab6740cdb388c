"""`perseo-bot advisors add|list`: the people who answer customers in the console."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.common import in_session, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

advisors_app = typer.Typer(help="Console advisors.", no_args_is_help=True)


@advisors_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The advisor's e-mail (their console login).")],
    distributor: Annotated[str, typer.Option("--distributor", help="Distributor whose customers they serve.")],
    admin: Annotated[bool, typer.Option("--admin", help="Sees and serves every distributor.")] = False,
    name: Annotated[str, typer.Option(help="Name shown to customers (default: from the e-mail).")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")
    ] = False,
) -> None:
    """Create an advisor, or change an existing one's password, name or role."""
    from bot.services.advisors import AdvisorError, add_advisor

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    now = dt.datetime.now(dt.UTC)

    async def work(session: AsyncSession) -> tuple[int, bool]:
        return await add_advisor(
            session, email, name=name, distributor=distributor, password=password, is_admin=admin, now=now
        )

    try:
        advisor_id, created = in_session(settings, work)
    except AdvisorError as exc:
        typer.echo(f"Not saved: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Advisor {advisor_id} {'created' if created else 'updated'}: {email.strip().lower()}")


@advisors_app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="JSON.")] = False) -> None:
    """Every advisor with their distributor and role (never a password)."""
    from bot.services.advisors import list_advisors

    found = in_session(load_settings(), list_advisors)
    rows = [
        {"id": a.id, "email": a.email, "name": a.name, "distributor": a.distributor, "admin": a.is_admin} for a in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(
            f"{row['email']:<35} {row['distributor']:<30} {'admin' if row['admin'] else 'advisor'}  {row['name']}"
        )
