"""The web chat page in headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import build_engine
from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import create_engine, sessionmaker, upgrade
from bot.persistence.sql_store import SqlConversationStore
from bot.web.app import create_app
from tests.browser.conftest import serve
from tests.conftest import fixed_clock

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, settings: Settings, knowledge: Knowledge) -> Iterator[str]:
    path: Path = tmp_path_factory.mktemp("browser") / "web.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def migrate() -> None:
        database = create_engine(url)
        await upgrade(database)
        await database.dispose()

    database = create_engine(url)
    store = SqlConversationStore(sessionmaker(database), fixed_clock)
    app = create_app(build_engine(settings, store, knowledge=knowledge, clock=fixed_clock), database)
    yield from serve(app, migrate)


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(server + "/")
    yield page
    context.close()


def _send(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#text", text)
    page.click("#send")


def test_typing_a_question_shows_the_answer(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("h1").inner_text() == "Asistente Perseo WEB"
    _send(page, "con que clave entro la primera vez")
    answer = page.locator(".msg--bot .msg__text").nth(1)
    answer.wait_for()
    assert "123" in answer.inner_text()
    assert page.locator(".msg--user .msg__text").first.inner_text() == "con que clave entro la primera vez"


def test_option_buttons_send_their_text(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Formas de pago").click()
    page.locator(".msg--bot").nth(1).wait_for()
    assert "transferencia" in page.locator(".msg--bot .msg__text").nth(1).inner_text()


def test_links_in_answers_are_clickable(page) -> None:  # type: ignore[no-untyped-def]
    _send(page, "como parametrizo el sistema")
    link = page.locator(".msg--bot a").first
    link.wait_for()
    assert link.get_attribute("href", timeout=5000).startswith("https://tutoriales.perseo.ec/")


@pytest.mark.parametrize(
    "attack",
    ["<img src=x onerror=alert(1)>", "<script>alert('x')</script>", "<b>negrita</b> & co"],
)
def test_customer_html_is_shown_as_text(page, attack: str) -> None:  # type: ignore[no-untyped-def]
    _send(page, attack)
    page.locator(".msg--bot").nth(1).wait_for()
    bubble = page.locator(".msg--user .msg__text").first
    assert bubble.inner_text() == attack
    assert page.locator(".msg--user img, .msg--user script, .msg--user b").count() == 0
    page.wait_for_timeout(200)
    assert page.dialogs == []


def test_a_receipt_can_be_attached(page) -> None:  # type: ignore[no-untyped-def]
    page.set_input_files("#file", files=[{"name": "recibo.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}])
    page.locator(".msg--bot").nth(1).wait_for()
    assert page.locator(".msg--user .msg__text").first.inner_text() == "📎 recibo.pdf"
    assert "reportar un pago" in page.locator(".msg--bot .msg__text").nth(1).inner_text()


def test_the_session_id_is_128_bits_from_the_crypto_generator(browser, server) -> None:  # type: ignore[no-untyped-def]
    """The id is the chat's credential: it must come from crypto.getRandomValues (here made
    predictable to prove it is the source), 16 bytes as 32 hex characters, kept in localStorage."""
    context = browser.new_context()
    context.add_init_script("crypto.getRandomValues = (bytes) => { bytes.fill(0xab); return bytes; };")
    page = context.new_page()
    page.goto(server + "/")
    _send(page, "formas de pago")
    page.locator(".msg--bot").nth(1).wait_for()
    assert page.evaluate("localStorage.getItem('perseo-session')") == "ab" * 16
    context.close()


def test_a_short_id_kept_by_an_older_page_is_replaced(browser, server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    context.add_init_script("localStorage.setItem('perseo-session', '1700000000000a1b2');")  # the old fallback
    page = context.new_page()
    page.goto(server + "/")
    _send(page, "formas de pago")
    page.locator(".msg--bot").nth(1).wait_for()
    assert "transferencia" in page.locator(".msg--bot .msg__text").nth(1).inner_text()  # not a 422
    assert re.fullmatch(r"[0-9a-f]{32}", page.evaluate("localStorage.getItem('perseo-session')"))
    context.close()
