"""Console pages in Spanish (issue 12): unknown URLs get a Spanish page (JSON for the script's
API), a first visit is a plain login, and the customer panel speaks es_EC."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.context import Knowledge
from tests.backoffice_data import add_reported_invoice
from tests.conftest import fixed_clock
from tests.factories import ADVISOR_PASSWORD as PASSWORD
from tests.factories import PYME_RUC, add_support_world, full_app, link_chat, session_id

EXPIRED = "Su sesión expiró"


@pytest.fixture
async def app(database: AsyncEngine, settings: Settings, knowledge: Knowledge):  # type: ignore[no-untyped-def]
    await add_support_world(database, settings)
    return full_app(database, settings, knowledge, fixed_clock)


def client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def logged_in(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    http = client(app)
    form = await http.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    done = await http.post("/console/login", data={"email": "andrea@sierra.ec", "password": PASSWORD, "csrf": csrf[1]})
    assert done.status_code == 303
    page = await http.get("/console")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token
    http.headers["X-CSRF-Token"] = token[1]
    return http


async def test_unknown_console_urls_get_a_spanish_page_and_the_api_spanish_json(app) -> None:  # type: ignore[no-untyped-def]
    async with client(app) as http:
        for path in ("/console/nada", "/console/handoffs/abc", "/console/backoffice/nada"):
            page = await http.get(path)
            assert page.status_code == 404, path
            assert page.headers["content-type"].startswith("text/html")
            assert "No encontramos esa página" in page.text and 'href="/console"' in page.text
            assert "Not Found" not in page.text
        api = await http.get("/console/api/nada")
        assert api.status_code == 404 and api.json() == {"detail": "No encontramos esa página."}
        outside = await http.get("/api/nada")  # the rest of the app is left as it was
        assert outside.status_code == 404 and outside.json() == {"detail": "Not Found"}


async def test_console_api_validation_errors_are_spanish(app) -> None:  # type: ignore[no-untyped-def]
    http = await logged_in(app)
    response = await http.post("/console/api/handoffs/1/close", json={"minutes": "muchos"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Revise los datos enviados")
    assert "minutos" in response.json()["detail"] and "tema" in response.json()["detail"]
    await http.aclose()


async def test_a_first_visit_is_a_plain_login_and_only_a_lost_session_says_it_expired(app) -> None:  # type: ignore[no-untyped-def]
    async with client(app) as http:
        for path in ("/console", "/console/handoffs/1", "/console/trainings", "/console/backoffice/payments"):
            first = await http.get(path)
            assert first.status_code == 303 and first.headers["location"] == "/console/login", path
        login = await http.get("/console/login")
        assert EXPIRED not in login.text
        http.cookies.set("perseo_console", "a-session-the-server-no-longer-has", path="/console")
        lost = await http.get("/console/handoffs/1")
        assert lost.headers["location"] == "/console/login?expired=1"
        assert EXPIRED in (await http.get(lost.headers["location"])).text


async def test_customer_panel_states_invoices_money_and_dates_in_spanish(app, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    await link_chat(database, session_id("maria"), PYME_RUC)
    await add_reported_invoice(database, PYME_RUC, None, receipt=None)
    async with client(app) as chat:
        asked = await chat.post(
            "/api/chat", json={"session_id": session_id("maria"), "text": "quiero hablar con un asesor"}
        )
        assert asked.status_code == 200
    http = await logged_in(app)
    handoff = (await http.get("/console/api/queue")).json()["items"][0]["id"]
    body = (await http.get(f"/console/api/handoffs/{handoff}")).json()
    customer = body["customer"]
    assert customer["state"] == "active" and customer["state_text"] == "activo"
    invoice = customer["invoices"][0]
    assert (invoice["status_text"], invoice["total_text"], invoice["due_text"]) == (
        "pago reportado",
        "$34,50",
        "5 de diciembre de 2026",
    )
    report = customer["open_payment_reports"][0]
    assert (report["amount_text"], report["paid_on_text"]) == ("$34,50", "26 de noviembre de 2026")
    await http.aclose()
