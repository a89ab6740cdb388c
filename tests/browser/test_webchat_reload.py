"""A reloaded web chat page shows the conversation so far and the options still pending."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import create_engine, upgrade
from tests.browser.conftest import serve
from tests.conftest import fixed_clock
from tests.factories import full_app

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, settings: Settings, knowledge: Knowledge) -> Iterator[str]:
    """Wired like `perseo-bot run` (with the training calendar and sign-ups) on SQLite."""
    path: Path = tmp_path_factory.mktemp("reload") / "web.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def migrate() -> None:
        database = create_engine(url)
        await upgrade(database)
        await database.dispose()

    yield from serve(full_app(create_engine(url), settings, knowledge, fixed_clock), migrate)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_after_a_reload_the_chat_and_its_pending_list_are_there(browser, server, viewport: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    try:
        page.goto(server + "/")
        page.fill("#text", "que capacitaciones hay la proxima semana")
        page.click("#send")
        listing = page.locator(".msg--bot").nth(1)
        listing.locator(".msg__options button").first.wait_for()
        shown = listing.locator(".msg__text").inner_text()
        options = listing.locator(".msg__options button").all_inner_texts()
        assert "15:00" in shown and options[0].startswith("Inscribirme")

        page.reload()
        restored = page.locator(".msg--bot").nth(1)  # the welcome is first, as always
        restored.locator(".msg__options button").first.wait_for()
        assert page.locator(".msg--user .msg__text").all_inner_texts() == ["que capacitaciones hay la proxima semana"]
        assert restored.locator(".msg__text").inner_text() == shown
        assert restored.locator(".msg__options button").all_inner_texts() == options
        button = restored.locator(".msg__options button").first
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"]

        button.click()
        answer = page.locator(".msg--bot").nth(2)
        answer.wait_for()
        assert "inscrito" in answer.inner_text() and "zoom" in answer.inner_text().lower()
        assert page.locator(".msg--user .msg__text").nth(1).inner_text() == options[0]

        page.reload()  # answered: the history is back, with nothing left to tap in it
        page.locator(".msg--bot").nth(2).wait_for()
        assert page.locator(".msg--bot").count() == 3
        assert page.locator(".msg--bot").nth(1).locator(".msg__options button").count() == 0
        assert "inscrito" in page.locator(".msg--bot").nth(2).inner_text()
    finally:
        context.close()
