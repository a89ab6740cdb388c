"""The back office over HTTP (issue 12): payment reports with the receipt, customers, hour
packs, trainings and the audit log; scoped by distributor, CSRF on every POST, Spanish errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_notifier
from bot.config import Settings
from bot.context import Knowledge
from bot.persistence.database import sessionmaker
from bot.persistence.tables import BackofficeAuditRow, InvoiceRow, OutboxRow, PaymentReportRow, TrainingSessionRow
from bot.services.hours import customer_id_for, ledger
from tests.backoffice_data import PDF, PNG, add_reported_invoice
from tests.conftest import fixed_clock
from tests.factories import ADVISOR_PASSWORD as PASSWORD
from tests.factories import PYME_RUC, add_advisor, add_distributor, add_support_world, full_app, link_chat

pytestmark = pytest.mark.postgres


@pytest.fixture
async def app(database: AsyncEngine, settings: Settings, knowledge: Knowledge, tmp_path: Path):  # type: ignore[no-untyped-def]
    await add_support_world(database, settings)
    await add_distributor(database, "Distribuidora Costa", "ventas@costa.ec")
    await add_advisor(database, "carla@costa.ec", PASSWORD, distributor="Distribuidora Costa")
    await add_advisor(database, "root@perseo.ec", PASSWORD, distributor="Distribuidora Costa", admin=True)
    app = full_app(database, settings, knowledge, fixed_clock)
    app.state.receipts_dir = tmp_path / "receipts"
    app.state.notifier = build_notifier(settings)
    return app


async def login(app, email: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """A logged-in console client, as a browser after the login form."""
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    form = await http.get("/console/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    response = await http.post("/console/login", data={"email": email, "password": PASSWORD, "csrf": csrf[1]})
    assert response.status_code == 303, response.text
    return http


async def csrf_of(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    return token[1]


@pytest.fixture
async def andrea(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    http = await login(app, "andrea@sierra.ec")
    yield http
    await http.aclose()


@pytest.fixture
async def carla(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    http = await login(app, "carla@costa.ec")
    yield http
    await http.aclose()


@pytest.fixture
async def admin(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    http = await login(app, "root@perseo.ec")
    yield http
    await http.aclose()


async def rows(database: AsyncEngine, table):  # type: ignore[no-untyped-def]
    async with sessionmaker(database)() as session:
        return list((await session.execute(select(table).order_by(table.id))).scalars())


async def test_payment_report_page_shows_receipt_and_history_only_to_its_distributor(
    app, andrea, carla, admin, database: AsyncEngine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _, report_id = await add_reported_invoice(database, PYME_RUC, app.state.receipts_dir)
    page = await andrea.get("/console/backoffice/payments")
    assert page.status_code == 200
    assert "Comercial Andina" in page.text and "$34,50" in page.text and "Banco Pichincha" in page.text
    assert f'src="/console/backoffice/payments/{report_id}/receipt"' in page.text
    assert "pago reportado" in page.text  # the invoice's status in Spanish, in the customer's history

    receipt = await andrea.get(f"/console/backoffice/payments/{report_id}/receipt")
    assert receipt.status_code == 200 and receipt.content == PNG
    assert receipt.headers["content-type"] == "image/png"
    assert "inline" in receipt.headers["content-disposition"]
    assert "frame-ancestors 'self'" in receipt.headers["content-security-policy"]

    other = await carla.get("/console/backoffice/payments")
    assert "Comercial Andina" not in other.text
    hidden = await carla.get(f"/console/backoffice/payments/{report_id}/receipt")
    assert hidden.status_code == 404 and "no pertenece a su distribuidora" in hidden.text
    assert (await admin.get(f"/console/backoffice/payments/{report_id}/receipt")).status_code == 200

    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    response = await anonymous.get(f"/console/backoffice/payments/{report_id}/receipt")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    await anonymous.aclose()


async def test_a_receipt_outside_the_receipts_folder_is_not_served(
    app, andrea, database: AsyncEngine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"
    _, report_id = await add_reported_invoice(database, PYME_RUC, elsewhere)
    response = await andrea.get(f"/console/backoffice/payments/{report_id}/receipt")
    assert response.status_code == 404


async def test_confirm_tells_the_customer_as_the_cli_does_and_is_audited(app, andrea, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    invoice_id, report_id = await add_reported_invoice(database, PYME_RUC, app.state.receipts_dir)
    forged = await andrea.post(f"/console/backoffice/payments/{report_id}/confirm", data={"csrf": "nope"})
    assert forged.status_code == 403
    assert [r.status for r in await rows(database, PaymentReportRow)] == ["pending"]

    csrf = await csrf_of(andrea, "/console/backoffice/payments")
    done = await andrea.post(f"/console/backoffice/payments/{report_id}/confirm", data={"csrf": csrf})
    assert done.status_code == 303 and "ok=confirmed" in done.headers["location"]
    assert [(r.status, r.decided_at is not None) for r in await rows(database, PaymentReportRow)] == [
        ("confirmed", True)
    ]
    assert [i.status for i in await rows(database, InvoiceRow) if i.id == invoice_id] == ["paid"]
    told = [o for o in await rows(database, OutboxRow) if o.kind == "payment_confirmed"]
    assert [(o.idempotency_key, o.recipient) for o in told] == [
        (f"report:{report_id}:payment_confirmed", "maria@andina.ec")
    ]
    page = await andrea.get(done.headers["location"])
    assert "Pago confirmado" in page.text and 'class="flash flash--ok"' in page.text

    again = await andrea.post(f"/console/backoffice/payments/{report_id}/confirm", data={"csrf": csrf})
    assert again.status_code == 409 and "ya fue confirmado" in again.text
    audit = await rows(database, BackofficeAuditRow)
    assert [(a.action, a.advisor_email, a.subject) for a in audit] == [
        ("payment_confirmed", "andrea@sierra.ec", f"reporte {report_id}")
    ]


async def test_reject_needs_a_reason_shown_by_the_form_and_tells_it_to_the_customer(
    app, andrea, database: AsyncEngine
) -> None:  # type: ignore[no-untyped-def]
    invoice_id, report_id = await add_reported_invoice(database, PYME_RUC, app.state.receipts_dir)
    csrf = await csrf_of(andrea, "/console/backoffice/payments")
    refused = await andrea.post(f"/console/backoffice/payments/{report_id}/reject", data={"csrf": csrf, "reason": " "})
    assert refused.status_code == 422
    error = refused.text.index("Escriba el motivo del rechazo")
    assert refused.text.index(f'id="report-{report_id}"') < error < refused.text.index(f"/payments/{report_id}/reject")
    assert [r.status for r in await rows(database, PaymentReportRow)] == ["pending"]

    done = await andrea.post(
        f"/console/backoffice/payments/{report_id}/reject", data={"csrf": csrf, "reason": "No consta en el banco"}
    )
    assert done.status_code == 303
    assert [(r.status, r.reason) for r in await rows(database, PaymentReportRow)] == [
        ("rejected", "No consta en el banco")
    ]
    assert [i.status for i in await rows(database, InvoiceRow) if i.id == invoice_id] == ["issued"]
    told = [o for o in await rows(database, OutboxRow) if o.kind == "payment_rejected"]
    assert len(told) == 1 and "No consta en el banco" in told[0].body
    assert [a.action for a in await rows(database, BackofficeAuditRow)] == ["payment_rejected"]


async def test_another_distributor_cannot_decide_a_report(app, carla, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    _, report_id = await add_reported_invoice(database, PYME_RUC, app.state.receipts_dir)
    csrf = await csrf_of(carla, "/console/backoffice/payments")
    response = await carla.post(f"/console/backoffice/payments/{report_id}/confirm", data={"csrf": csrf})
    assert response.status_code == 404
    assert [r.status for r in await rows(database, PaymentReportRow)] == ["pending"]


async def test_customers_list_search_and_page_scoped_by_distributor(
    app, andrea, carla, admin, database: AsyncEngine
) -> None:  # type: ignore[no-untyped-def]
    await link_chat(database, "maria-web", PYME_RUC)
    await add_reported_invoice(database, PYME_RUC, None, receipt=None)
    listed = await andrea.get("/console/backoffice/customers")
    assert "Comercial Andina" in listed.text and "Ferretería El Tornillo" in listed.text
    assert "2 cliente(s)" in listed.text

    found = await andrea.get("/console/backoffice/customers", params={"q": "andina"})
    assert "Comercial Andina" in found.text and "Ferretería" not in found.text
    by_ruc = await andrea.get("/console/backoffice/customers", params={"q": PYME_RUC[:6]})
    assert "Comercial Andina" in by_ruc.text
    by_plan = await andrea.get("/console/backoffice/customers", params={"plan": "Emprendedor"})
    assert "Ferretería" in by_plan.text and "Comercial Andina" not in by_plan.text
    suspended = await andrea.get("/console/backoffice/customers", params={"state": "suspended"})
    assert "0 cliente(s)" in suspended.text

    row = re.search(r'data-customer="(\d+)".*?</tr>', found.text, re.S)
    assert row
    assert "activo" in row[0] and "2 h" in row[0] and ">1<" in row[0]  # state, hours left, one linked chat
    customer_id = row[1]

    page = await andrea.get(f"/console/backoffice/customers/{customer_id}")
    assert page.status_code == 200
    assert "Comercial Andina" in page.text and "$34,50" in page.text and "Chat web" in page.text
    assert "en revisión" in page.text  # the pending payment report

    assert "Comercial Andina" not in (await carla.get("/console/backoffice/customers")).text
    other = await carla.get(f"/console/backoffice/customers/{customer_id}")
    assert other.status_code == 404 and "Volver a la fila" in other.text
    assert (await admin.get(f"/console/backoffice/customers/{customer_id}")).status_code == 200


async def test_add_an_hour_pack(app, andrea, carla, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker(database)() as session:
        customer_id = await customer_id_for(session, PYME_RUC)
    path = f"/console/backoffice/customers/{customer_id}"
    csrf = await csrf_of(andrea, path)
    bad = await andrea.post(f"{path}/hours", data={"csrf": csrf, "hours": "dos"})
    assert bad.status_code == 422 and "Escriba las horas como número" in bad.text
    assert (await andrea.post(f"{path}/hours", data={"csrf": "x", "hours": "1"})).status_code == 403

    done = await andrea.post(f"{path}/hours", data={"csrf": csrf, "hours": "1,5", "note": "Paquete diciembre"})
    assert done.status_code == 303
    async with sessionmaker(database)() as session:
        assert (await ledger(session, customer_id)).remaining_minutes == 120 + 90
    page = await andrea.get(done.headers["location"])
    assert "Horas agregadas" in page.text and "Paquete diciembre" in page.text and "3 h 30 min" in page.text

    carla_csrf = await csrf_of(carla, "/console/backoffice/customers")
    assert (await carla.post(f"{path}/hours", data={"csrf": carla_csrf, "hours": "5"})).status_code == 404
    audit = await rows(database, BackofficeAuditRow)
    assert [(a.action, a.subject) for a in audit] == [("hours_added", f"cliente {PYME_RUC}")]
    assert "1 h 30 min" in audit[0].detail


async def test_trainings_add_refuses_a_holiday_cancel_tells_and_only_admins(
    app, andrea, admin, database: AsyncEngine
) -> None:  # type: ignore[no-untyped-def]
    csrf = await csrf_of(admin, "/console/backoffice/trainings")
    form = {"csrf": csrf, "start": "10:00", "minutes": "60", "topic": "Cierre de año", "seats": "5"}
    holiday = await admin.post("/console/backoffice/trainings", data={**form, "day": "2026-12-25"})
    assert holiday.status_code == 422 and "feriado nacional" in holiday.text
    assert 'value="Cierre de año"' in holiday.text  # the form keeps what was typed
    assert await rows(database, TrainingSessionRow) == []

    done = await admin.post("/console/backoffice/trainings", data={**form, "day": "2026-12-10"})
    assert done.status_code == 303
    page = await admin.get(done.headers["location"])
    assert "Capacitación agregada" in page.text and "extra-20261210-1000" in page.text

    andrea_csrf = await csrf_of(andrea, "/console/backoffice/trainings")
    refused = await andrea.post(
        "/console/backoffice/trainings", data={**form, "csrf": andrea_csrf, "day": "2026-12-11"}
    )
    assert refused.status_code == 403 and "administrador" in refused.text
    cancel_url = "/console/backoffice/trainings/extra-20261210-1000/cancel"
    assert (await andrea.post(cancel_url, data={"csrf": andrea_csrf, "reason": "x"})).status_code == 403

    no_reason = await admin.post(cancel_url, data={"csrf": csrf, "reason": ""})
    assert no_reason.status_code == 422 and "motivo" in no_reason.text
    cancelled = await admin.post(cancel_url, data={"csrf": csrf, "reason": "El instructor está enfermo"})
    assert cancelled.status_code == 303
    assert "extra-20261210-1000" not in (await admin.get("/console/backoffice/trainings")).text

    audit = await admin.get("/console/backoffice/audit")
    assert "Capacitación agregada" in audit.text and "Capacitación cancelada" in audit.text
    assert "root@perseo.ec" in audit.text
    assert (await andrea.get("/console/backoffice/audit")).status_code == 403


async def test_pdf_receipt_is_served_as_pdf_and_framed(app, andrea, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    _, report_id = await add_reported_invoice(database, PYME_RUC, app.state.receipts_dir, receipt=PDF, extension="pdf")
    page = await andrea.get("/console/backoffice/payments")
    assert f'<iframe class="receipt" src="/console/backoffice/payments/{report_id}/receipt"' in page.text
    receipt = await andrea.get(f"/console/backoffice/payments/{report_id}/receipt")
    assert receipt.headers["content-type"] == "application/pdf" and receipt.content == PDF
