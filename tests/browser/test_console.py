"""The handoff end to end in headless Chromium: a customer in the web chat, an advisor in the
console, both real pages on a real server (issue: human handoff and advisor console)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import create_engine, sessionmaker, upgrade
from bot.services.hours import charges, customer_id_for, ledger
from tests.browser.conftest import serve
from tests.conftest import fixed_clock
from tests.factories import ADVISOR_PASSWORD as PASSWORD
from tests.factories import NO_HOURS_RUC, PYME_RUC, add_support_world, full_app, link_chat, session_id

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("console") / "console.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def server(database_url: str, settings: Settings, knowledge: Knowledge) -> Iterator[str]:
    async def prepare() -> None:
        database = create_engine(database_url)
        await upgrade(database)
        await add_support_world(database, settings)
        await link_chat(database, session_id("e2e-maria"), PYME_RUC)
        await link_chat(database, session_id("e2e-luis"), NO_HOURS_RUC)
        await database.dispose()

    database = create_engine(database_url)
    yield from serve(full_app(database, settings, knowledge, fixed_clock), prepare)


def query(database_url: str, work):  # type: ignore[no-untyped-def]
    """Read the server's database from the test: its own engine, and its own thread and event
    loop (Playwright's sync API keeps one running in this thread)."""

    async def run():  # type: ignore[no-untyped-def]
        database = create_engine(database_url)
        try:
            async with sessionmaker(database)() as session:
                return await work(session)
        finally:
            await database.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def customer_page(browser, server):  # type: ignore[no-untyped-def]
    contexts = []

    def open_chat(name: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 390, "height": 844})
        context.add_init_script(f"window.localStorage.setItem('perseo-session', '{session_id(name)}');")
        page = context.new_page()
        page.goto(server + "/")
        contexts.append(context)
        return page

    yield open_chat
    for context in contexts:
        context.close()


@pytest.fixture
def console(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(server + "/console")
    page.fill("input[name=email]", "andrea@sierra.ec")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/console")
    yield page
    context.close()


def send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    bots = page.locator(".msg--bot").count()
    page.fill("#text", text)
    page.click("#send")
    page.wait_for_function(
        "([n]) => document.querySelectorAll('.msg--user').length > 0 && !document.getElementById('send').disabled",
        arg=[bots],
    )


def claim_from_queue(console, company: str) -> None:  # type: ignore[no-untyped-def]
    row = console.locator("#queue tr", has_text=company)
    row.wait_for(timeout=10_000)  # arrives by server-sent events, no reload
    row.get_by_role("button", name="Tomar").click()
    console.wait_for_url("**/console/handoffs/*")
    console.locator("#reply").wait_for()  # shown once the page knows the advisor owns it
    assert console.locator("#claim").is_hidden()


def close_session(console, minutes: int, topic: str) -> str:  # type: ignore[no-untyped-def]
    console.fill("#close-minutes", str(minutes))
    console.fill("#close-topic", topic)
    console.click("#close button[type=submit]")
    notice = console.locator("#close-status.flash--ok", has_text="Atención cerrada")
    notice.wait_for()
    return notice.inner_text()  # type: ignore[no-any-return]


def test_handoff_reply_close_and_hours(customer_page, console, database_url: str) -> None:  # type: ignore[no-untyped-def]
    chat = customer_page("e2e-maria")
    send(chat, "quiero hablar con un asesor")
    chat.locator(".msg--bot", has_text="puesto 1").wait_for()

    claim_from_queue(console, "Comercial Andina")
    console.wait_for_function("document.getElementById('close-minutes').value !== ''")  # the page refreshed
    assert console.input_value("#close-topic") == ""  # no topic taken from an unrelated article
    console.fill("#reply-text", "Hola María, reviso su firma electrónica.")
    console.click("#reply button[type=submit]")
    console.locator("#reply-status.flash--ok", has_text="Mensaje enviado").wait_for()  # next to the form
    chat.locator(".msg--advisor", has_text="reviso su firma").wait_for(timeout=10_000)

    bots = chat.locator(".msg--bot").count()
    send(chat, "gracias, espero")
    console.locator("#history li", has_text="gracias, espero").wait_for(timeout=10_000)
    assert chat.locator(".msg--bot").count() == bots  # the bot stays silent while a person owns the chat

    assert "25 min" in close_session(console, 25, "Firma electrónica")
    chat.locator(".msg--advisor", has_text="finalizó la atención").wait_for(timeout=10_000)

    async def remaining(session):  # type: ignore[no-untyped-def]
        return (await ledger(session, await customer_id_for(session, PYME_RUC))).remaining_minutes

    assert query(database_url, remaining) == 120 - 25
    send(chat, "¿cuántas horas me quedan?")
    chat.locator(".msg--bot", has_text="1 h 35 min").wait_for()  # the bot answers again


def test_no_hours_left_accepts_the_price_and_is_charged_one_hour(customer_page, console, database_url: str) -> None:  # type: ignore[no-untyped-def]
    chat = customer_page("e2e-luis")
    send(chat, "Hablar con un asesor")
    chat.locator(".msg--bot", has_text="28.75").wait_for()
    chat.get_by_role("button", name="Sí, acepto el costo").click()
    chat.locator(".msg--bot", has_text="puesto 1").wait_for()

    claim_from_queue(console, "Ferretería El Tornillo")
    assert "Aceptó soporte pagado ($28,75 por hora" in console.locator("#meta").inner_text()
    notice = close_session(console, 10, "Inventario")
    assert "Soporte pagado: 1 h, $28,75" in notice  # money as the chat shows it

    listed = query(database_url, charges)
    assert [(c["ruc"], c["minutes"], c["hours_billed"], c["subtotal"], c["iva"], c["total"]) for c in listed] == [
        (NO_HOURS_RUC, 10, 1, "25.00", "3.75", "28.75")
    ]


def test_customer_html_is_text_in_the_console(customer_page, console) -> None:  # type: ignore[no-untyped-def]
    attack = "<img src=x onerror=alert(1)>"
    chat = customer_page("e2e-anon")
    send(chat, "quiero hablar con un asesor")
    send(chat, attack)
    cell = console.locator("#queue td.preview", has_text=attack)
    cell.wait_for(timeout=10_000)
    assert cell.inner_text() == attack
    console.locator("#queue tr", has_text="Chat sin verificar").get_by_role("link", name="Abrir").click()
    item = console.locator("#history li", has_text=attack)
    item.wait_for()
    assert console.locator("#claim").is_visible() and console.locator("#reply").is_hidden()  # not claimed yet
    assert console.locator("#history img, #queue img, #customer img").count() == 0
    console.wait_for_timeout(300)
    assert console.dialogs == []
