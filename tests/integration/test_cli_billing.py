"""The billing, import, scheduler, outbox, payments and demo commands, as users run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import run


def test_billing_preview_json_contract() -> None:
    result = run("billing", "preview", "--price", "30.00", "--signup", "2026-11-12", "--months", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    keys = {"issue_date", "due_date", "period_start", "period_end", "subtotal", "iva", "total"}
    assert all(keys <= set(row) for row in rows)
    assert [
        (r["issue_date"], r["due_date"], r["period_start"], r["period_end"], r["subtotal"], r["total"]) for r in rows
    ] == [
        ("2026-11-12", "2026-12-05", "2026-11-12", "2026-12-11", "30.00", "34.50"),
        ("2026-11-25", "2026-12-05", "2026-12-12", "2026-12-31", "19.00", "21.85"),
        ("2026-12-25", "2027-01-05", "2027-01-01", "2027-01-31", "30.00", "34.50"),
    ]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--price", "30,5.0", "--signup", "2026-11-12"], "--price"),
        (["--price", "-3", "--signup", "2026-11-12"], "--price"),
        (["--price", "30", "--signup", "12/11/2026"], "--signup"),
        (["--price", "30", "--signup", "2026-11-12", "--months", "0"], "--months"),
    ],
)
def test_billing_preview_bad_input(args: list[str], problem: str) -> None:
    result = run("billing", "preview", *args)
    assert result.returncode == 2 and problem in result.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}",
        "PERSEO_MAIL_DIR": str(tmp_path / "mail"),
    }


def test_import_rejects_a_bad_file_with_every_problem(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "ruc,razon_social,contacto,email,telefono,plan,fecha_alta,distribuidor,email_distribuidor\n"
        "1714325221001,X,Y,mal,12,Oro,ayer,D,d@d.ec\n",
        encoding="utf-8",
    )
    result = run("import", "customers", str(path), env=env)
    assert result.returncode == 1
    for field in ("ruc", "email", "telefono", "plan", "fecha_alta"):
        assert f"line 2: {field}:" in result.stderr
    assert "nothing was imported" in result.stderr


def test_demo_tick_outbox_and_payments(env: dict[str, str], tmp_path: Path) -> None:
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert all(state in first.stdout for state in ("suspended", "cancelling", "ended", "active"))
    assert run("demo", env=env).stdout.count("\n") == first.stdout.count("\n")  # idempotent

    tick = run("scheduler", "tick", "--now", "2030-01-06T09:00", "--json", env=env)
    assert tick.returncode == 0, tick.stderr
    report = json.loads(tick.stdout)
    assert report["sweeps"]["invoices_issued"] > 0 and report["delivery"]["sent"] > 0
    again = json.loads(run("scheduler", "tick", "--now", "2030-01-06T09:00", "--json", env=env).stdout)
    assert again["sweeps"]["invoices_issued"] == 0 and again["delivery"]["sent"] == 0
    back = json.loads(run("scheduler", "tick", "--now", "2029-12-01T09:00", "--json", env=env).stdout)
    assert back["sweeps"] is None and "behind" in back["skipped"]

    outbox = json.loads(run("outbox", "list", "--json", "--limit", "500", env=env).stdout)
    assert outbox and {row["status"] for row in outbox} <= {"sent", "pending", "cancelled"}
    assert list((tmp_path / "mail").glob("*.eml"))

    assert "No payment reports" in run("payments", "list", env=env).stdout
    missing = run("payments", "confirm", "999", env=env)
    assert missing.returncode == 1 and "no payment report 999" in missing.stderr
    assert run("payments", "reject", "1", env=env).returncode == 2  # --reason is required


def test_tick_rejects_a_bad_time(env: dict[str, str]) -> None:
    result = run("scheduler", "tick", "--now", "mañana", env=env)
    assert result.returncode == 2 and "ISO" in result.stderr


def test_payments_decided_from_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    """A report stored by the chat, then confirmed by the distributor: the customer is told."""
    import asyncio
    import datetime as dt

    from bot.accounts import PaymentDetails
    from bot.persistence.database import create_engine, sessionmaker
    from bot.services.accounts import SqlAccounts
    from bot.services.notifications import Notifier, load_templates
    from knowledge.pack import PACKS_DIR

    assert run("demo", env=env).returncode == 0

    async def report() -> None:
        from sqlalchemy import select

        from bot.persistence.tables import ChatLinkRow, ConversationRow, CustomerRow, InvoiceRow, SubscriptionRow

        engine = create_engine(env["PERSEO_DATABASE_URL"])
        now = dt.datetime.now(dt.UTC)
        async with sessionmaker(engine).begin() as session:
            customer = (
                await session.execute(select(CustomerRow).where(CustomerRow.ruc == "2199100044001"))
            ).scalar_one()
            conversation = ConversationRow(channel="webchat", external_user_id="t", created_at=now, updated_at=now)
            session.add(conversation)
            await session.flush()
            session.add(ChatLinkRow(conversation_id=conversation.id, customer_id=customer.id, linked_at=now))
            invoice = (
                (
                    await session.execute(
                        select(InvoiceRow)
                        .join(SubscriptionRow)
                        .where(SubscriptionRow.customer_id == customer.id, InvoiceRow.status == "overdue")
                    )
                )
                .scalars()
                .first()
            )
            accounts = SqlAccounts(session, b"k", Notifier(load_templates(PACKS_DIR / "perseo")))
            details = PaymentDetails(invoice.id, invoice.total, now.date(), "Pichincha", "deposito", "A-1")
            assert await accounts.report_payment(conversation.id, details, now) is None
        await engine.dispose()

    asyncio.run(report())
    listed = json.loads(run("payments", "list", "--json", env=env).stdout)
    assert len(listed) == 1 and listed[0]["company"] == "Textiles Otavalo S.A."
    confirmed = run("payments", "confirm", str(listed[0]["id"]), env=env)
    assert confirmed.returncode == 0 and "confirmed" in confirmed.stdout
    assert "already confirmed" in run("payments", "reject", str(listed[0]["id"]), "--reason", "x", env=env).stderr
    kinds = {row["kind"] for row in json.loads(run("outbox", "list", "--json", env=env).stdout)}
    assert {"payment_reported_to_distributor", "payment_confirmed"} <= kinds
    decided = json.loads(run("payments", "list", "--status", "all", "--json", env=env).stdout)
    assert [r["status"] for r in decided] == ["confirmed"]


def test_hours_commands(env: dict[str, str]) -> None:
    assert run("demo", env=env).returncode == 0
    logged = run("hours", "log", "1899100014001", "10", "--topic", "Facturar", "--advisor", "ana", env=env)
    assert logged.returncode == 0 and "$28,75" in logged.stdout  # Emprendedor: no hours included
    assert run("hours", "add-pack", "1899100014001", "2", env=env).returncode == 0
    shown = json.loads(run("hours", "show", "1899100014001", "--json", env=env).stdout)
    assert (shown["purchased_minutes"], shown["remaining_minutes"]) == (120, 120)
    charges = json.loads(run("hours", "charges", "--json", env=env).stdout)
    assert [(c["hours_billed"], c["total"]) for c in charges] == [(1, "28.75")]
    bad = run("hours", "log", "1899100014001", "601", "--topic", "x", "--advisor", "y", env=env)
    assert bad.returncode == 1 and "1 to 600" in bad.stderr


def test_an_ended_customer_contracts_again(env: dict[str, str]) -> None:
    import datetime as dt

    assert run("demo", env=env).returncode == 0
    refused = run("customers", "recontract", "1899100014001", "--from", "2030-01-10", env=env)
    assert refused.returncode == 1 and "must end first" in refused.stderr
    start = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    again = run("customers", "recontract", "2499100070001", "--from", start, env=env)  # Librería Cuenca: ended
    assert again.returncode == 0, again.stderr
    tick = json.loads(run("scheduler", "tick", "--now", f"{start}T10:00", "--json", "--no-delivery", env=env).stdout)
    assert tick["sweeps"]["invoices_issued"] >= 1  # the new contract's first invoice (30 days at least)
    assert run("customers", "recontract", "2499100070001", "--from", start, env=env).returncode == 1
    demo_again = run("demo", env=env)  # `make run` loads the demo each time: a recontracted demo customer is fine
    assert demo_again.returncode == 0, demo_again.stderr
    assert "2499100070001  active" in demo_again.stdout
    reset = run("demo", "--reset", env=env)  # and --reset builds the demo again as of today
    assert reset.returncode == 0, reset.stderr
    assert "2499100070001  ended" in reset.stdout
