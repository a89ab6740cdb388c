"""Every console and back-office page on a desktop (1280x800) and a phone (390x844): no
horizontal scrolling, tap targets of at least 24 px, and no axe-core WCAG 2.1 AA violations,
while tapping through the main path (issue 12)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.bootstrap import build_notifier
from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import create_engine, upgrade
from tests.backoffice_data import add_reported_invoice
from tests.browser.conftest import serve
from tests.conftest import fixed_clock
from tests.factories import ADVISOR_PASSWORD as PASSWORD
from tests.factories import PYME_RUC, add_advisor, add_support_world, full_app, link_chat, session_id

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TAPPABLE = "a, button, input:not([type=hidden]), select, textarea"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('phone') / 'phone.db'}"


@pytest.fixture(scope="module")
def receipts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("receipts")


@pytest.fixture(scope="module")
def server(database_url: str, receipts: Path, settings: Settings, knowledge: Knowledge) -> Iterator[str]:
    async def prepare() -> None:
        database = create_engine(database_url)
        await upgrade(database)
        await add_support_world(database, settings)
        await add_advisor(database, "root@perseo.ec", PASSWORD, admin=True)
        for size in SIZES:
            await link_chat(database, session_id(f"phone-{size}"), PYME_RUC)
        await database.dispose()

    database = create_engine(database_url)
    app = full_app(database, settings, knowledge, fixed_clock)
    app.state.receipts_dir, app.state.notifier = receipts, build_notifier(settings)
    yield from serve(app, prepare)


def in_thread(work: Any) -> Any:
    """Run a coroutine on its own loop (Playwright's sync API keeps one running here)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def add_report(database_url: str, receipts: Path) -> int:
    async def run() -> int:
        database = create_engine(database_url)
        try:
            return (await add_reported_invoice(database, PYME_RUC, receipts))[1]
        finally:
            await database.dispose()

    return in_thread(run())  # type: ignore[no-any-return]


def check(page, what: str) -> None:  # type: ignore[no-untyped-def]
    """The page fits the viewport, every visible control is at least 24x24 px, axe finds nothing."""
    from axe_playwright_python.sync_playwright import Axe

    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{what}: {scroll} px wide in a {inner} px window"
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((e) => e.offsetParent !== null)
            .map((e) => { const r = e.getBoundingClientRect();
                          return [e.textContent.trim() || e.name || e.id, Math.round(r.width), Math.round(r.height)]; })
            .filter(([, w, h]) => w < 24 || h < 24)""",
        TAPPABLE,
    )
    assert small == [], f"{what}: tap targets under 24 px: {small}"
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, f"{what}:\n{results.generate_report()}"


@pytest.mark.parametrize("size", list(SIZES))
def test_console_and_back_office_fit_and_pass_axe(
    browser, server, database_url: str, receipts: Path, size: str
) -> None:  # type: ignore[no-untyped-def]
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=size == "phone")
    page = context.new_page()
    tap = (lambda locator: locator.tap()) if size == "phone" else (lambda locator: locator.click())
    try:
        # a customer waits for an advisor
        asked = httpx.post(
            server + "/api/chat",
            json={"session_id": session_id(f"phone-{size}"), "text": "quiero hablar con un asesor"},
        )
        assert asked.status_code == 200
        report_id = add_report(database_url, receipts)

        page.goto(server + "/console")
        assert page.url == server + "/console/login"
        assert page.locator("text=Su sesión expiró").count() == 0
        check(page, "login")
        page.fill("input[name=email]", "root@perseo.ec")
        page.fill("input[name=password]", PASSWORD)
        tap(page.get_by_role("button", name="Ingresar"))
        page.wait_for_url(server + "/console")

        row = page.locator("#queue tr", has_text="Comercial Andina").filter(
            has=page.get_by_role("button", name="Tomar")
        )
        row.first.wait_for(timeout=10_000)
        assert row.first.locator("td[data-label=Estado]").is_visible()
        check(page, "queue")
        tap(row.first.get_by_role("button", name="Tomar"))
        page.wait_for_url("**/console/handoffs/*")
        page.locator("#reply").wait_for()
        page.locator("#customer dl").wait_for()
        assert "activo" in page.locator("#customer").inner_text()
        check(page, "handoff")
        page.fill("#close-minutes", "5")
        page.fill("#close-topic", "Consulta de factura")
        tap(page.locator("#close button[type=submit]"))
        page.locator("#close-status.flash--ok").wait_for()
        check(page, "handoff closed")

        tap(page.get_by_role("link", name="Capacitaciones", exact=True))
        page.wait_for_url("**/console/trainings")
        check(page, "trainings")

        tap(page.get_by_role("link", name="Pagos"))
        page.wait_for_url("**/backoffice/payments")
        card = page.locator(f"#report-{report_id}")
        assert card.locator("img.receipt").evaluate("(img) => img.complete && img.naturalWidth > 0")
        check(page, "payments")
        tap(card.get_by_role("button", name="Rechazar"))  # no reason: the browser asks for it
        assert page.url.endswith("/backoffice/payments")
        tap(card.get_by_role("button", name="Confirmar el pago"))
        page.wait_for_url("**/backoffice/payments?ok=confirmed#flash")
        assert "Pago confirmado" in page.locator("#flash").inner_text()
        check(page, "payments after confirming")

        tap(page.get_by_role("link", name="Clientes"))
        page.wait_for_url("**/backoffice/customers")
        check(page, "customers")
        page.fill("#q", "andina")
        tap(page.get_by_role("button", name="Buscar"))
        page.wait_for_url("**/customers?q=andina*")
        tap(page.get_by_role("link", name="Comercial Andina S.A."))
        page.wait_for_url("**/backoffice/customers/*")
        check(page, "customer")
        page.fill("#hours", "1")
        tap(page.get_by_role("button", name="Agregar horas"))
        page.locator("#flash.flash--ok").wait_for()
        check(page, "customer after adding hours")

        page.goto(server + "/console/backoffice/trainings")
        check(page, "back-office trainings")
        day = dt.date(2026, 12, 10 if size == "desktop" else 11)
        page.fill("#day", day.isoformat())
        page.fill("#start", "10:00")
        page.fill("#topic", "Cierre de año")
        tap(page.get_by_role("button", name="Agregar sesión"))
        page.locator("#flash.flash--ok").wait_for()
        session = page.locator(f"#session-extra-{day:%Y%m%d}-1000")
        session.get_by_label("Motivo de la cancelación").fill("Cambio de fecha")
        tap(session.get_by_role("button", name="Cancelar la sesión"))
        page.locator("#flash.flash--ok", has_text="cancelada").wait_for()

        tap(page.get_by_role("link", name="Registro"))
        page.wait_for_url("**/backoffice/audit")
        assert page.locator("tr[data-action=payment_confirmed]").count() >= 1
        check(page, "audit")

        page.goto(server + "/console/no-existe")
        assert "No encontramos esa página" in page.locator("main").inner_text()
        check(page, "not found")

        tap(page.get_by_role("button", name="Salir"))
        page.wait_for_url(server + "/console/login")
        assert page.locator("text=Su sesión expiró").count() == 0
    finally:
        context.close()
