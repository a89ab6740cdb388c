"""`make screenshots`: every console and back-office page at 1280x800 and 390x844, as PNGs.

Builds a throwaway SQLite database with the demo data (`perseo-bot demo`), a chat waiting for
an advisor and a payment report with a receipt, serves the app on a free local port, logs in
as the demo admin in headless Chromium and saves `var/screenshots/<size>-<page>.png`
(full page). Nothing outside a temporary folder and var/screenshots is touched.

    .venv/bin/python tools/screenshots.py [--out var/screenshots]

Chromium: PERSEO_CHROMIUM, default /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import struct
import tempfile
import threading
import time
import zlib
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
ADMIN = ("admin@demo.perseo.ec", "demo-admin-2026")


SHOTS_SESSION = "screenshots-" + "0" * 32  # the API takes session ids of 32+ characters


def _png(width: int = 320, height: int = 200) -> bytes:
    """A stand-in receipt photo: a light rectangle."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xe8\xee\xf4" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def _prepare(settings, receipts: Path) -> None:  # type: ignore[no-untyped-def]
    """Demo customers and advisors, one chat linked to a customer, one payment report."""
    from bot.bootstrap import billing_rules, iva_schedule, pack_facts
    from bot.persistence.database import create_engine, sessionmaker, upgrade
    from bot.persistence.tables import ConversationRow, CustomerRow, InvoiceRow, PaymentReportRow
    from bot.persistence.tables import SubscriptionRow as Sub
    from bot.services import chat_links
    from bot.services.catalog import load_default_plans
    from bot.services.demo import load_demo, load_demo_advisors

    database = create_engine(settings.database_url)
    await upgrade(database)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(settings.zone).date()
    async with sessionmaker(database).begin() as session:
        await load_default_plans(session, pack_facts(settings)["plans"])
        await session.flush()
        await load_demo(session, today, now, billing_rules(settings), iva_schedule(settings))
        await load_demo_advisors(session, now)
    async with sessionmaker(database).begin() as session:
        invoice, customer = (
            await session.execute(
                select(InvoiceRow, CustomerRow)
                .join(Sub, Sub.id == InvoiceRow.subscription_id)
                .join(CustomerRow, CustomerRow.id == Sub.customer_id)
                .where(InvoiceRow.status.in_(("issued", "overdue")))
                .order_by(InvoiceRow.id)
                .limit(1)
            )
        ).one()
        conversation = ConversationRow(
            channel="webchat", external_user_id=SHOTS_SESSION, created_at=now, updated_at=now
        )
        session.add(conversation)
        await session.flush()
        await chat_links.link(session, conversation.id, customer.id, now)
        receipts.mkdir(parents=True, exist_ok=True)
        path = receipts / "demo-receipt.png"
        path.write_bytes(_png())
        invoice.status = "reported"
        session.add(
            PaymentReportRow(
                invoice_id=invoice.id, customer_id=customer.id, amount=invoice.total, paid_on=today,
                bank="Banco Pichincha", method="transferencia", reference="778812", receipt_path=str(path),
                status="pending", created_at=now,
            )
        )  # fmt: skip
    await database.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("PERSEO_CHROMIUM", "/usr/bin/chromium")
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox"])
        for size, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()

            def save(name: str, page=page, size=size) -> None:  # type: ignore[no-untyped-def]
                page.wait_for_load_state("networkidle")
                path = out / f"{size}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)

            page.goto(base + "/console/login")
            save("login")
            page.fill("input[name=email]", ADMIN[0])
            page.fill("input[name=password]", ADMIN[1])
            page.click("button[type=submit]")
            page.wait_for_url(base + "/console")
            page.locator("#queue tr").first.wait_for(timeout=10_000)
            save("queue")
            page.locator("#queue a", has_text="Abrir").first.click()
            page.locator("#customer dl").wait_for(timeout=10_000)
            save("handoff")
            for name, path in (
                ("trainings", "/console/trainings"),
                ("payments", "/console/backoffice/payments"),
                ("customers", "/console/backoffice/customers"),
                ("backoffice-trainings", "/console/backoffice/trainings"),
                ("audit", "/console/backoffice/audit"),
                ("not-found", "/console/no-existe"),
            ):
                page.goto(base + path)
                save(name)
            page.goto(base + "/console/backoffice/customers")
            page.locator("td[data-label=Empresa] a").first.click()
            save("customer")
            context.close()
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/screenshots"))
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    from bot.bootstrap import build_calendar, build_engine, build_notifier, build_sql_store
    from bot.config import Settings
    from bot.persistence.database import create_engine, sessionmaker
    from bot.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="perseo-shots-") as folder:
        work = Path(folder)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite+aiosqlite:///{work / 'shots.db'}",
            receipts_dir=work / "receipts",
            mail_dir=work / "mail",
            secret_key="screenshots-only",
        )
        asyncio.run(_prepare(settings, settings.receipts_dir))
        database = create_engine(settings.database_url)
        engine = build_engine(settings, build_sql_store(settings, sessionmaker(database)))
        app = create_app(engine, database, calendar=build_calendar(settings))
        app.state.notifier, app.state.receipts_dir = build_notifier(settings), settings.receipts_dir
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise SystemExit("the app did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            question = {"session_id": SHOTS_SESSION, "text": "quiero hablar con un asesor"}
            asked = httpx.post(base + "/api/chat", json=question, timeout=120)
            asked.raise_for_status()
            saved = _shoot(base, out)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    for path in saved:
        print(path)


if __name__ == "__main__":
    main()
