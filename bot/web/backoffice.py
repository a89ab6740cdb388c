"""The back office pages, `/console/backoffice/...`: payment reports, customers, trainings and
the audit log. They reuse the console's session cookie (its path is /console), its CSRF token
(every POST form carries it) and its distributor scoping (`services.backoffice`).

Plain HTML forms, no script: a successful POST redirects (303) back to the page with `?ok=...`,
and the page shows the message where the advisor was looking (`#flash`, an aria-live region
above the list); a refused POST renders the page again with the error right above the form
that was sent, and a 4xx status.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bot.services import backoffice
from bot.services.advisors import ConsoleSession
from bot.services.backoffice import BackofficeError
from bot.services.notifications import Notifier
from bot.web import panel_text
from bot.web.console import _now, _page, _same, _session, _to_login
from bot.web.errors import error_page

router = APIRouter(prefix="/console/backoffice", include_in_schema=False)
TRAINING_DAYS = 28  # how far ahead the trainings page lists sessions

OK_MESSAGES = {
    "confirmed": "Pago confirmado: la factura quedó pagada y se avisó al cliente.",
    "rejected": "Pago rechazado: la factura volvió a estar pendiente y se avisó al cliente el motivo.",
    "hours": "Horas agregadas al cliente.",
    "training_added": "Capacitación agregada al calendario.",
    "training_cancelled": "Capacitación cancelada: se avisará a los inscritos.",
}


def _settings_value(request: Request, name: str) -> Any:
    """What `perseo-bot run` configured (PERSEO_*), read once; tests set app.state directly."""
    state = request.app.state
    if not hasattr(state, name):
        from bot.bootstrap import build_notifier
        from bot.config import Settings

        settings = Settings()
        state.notifier = getattr(state, "notifier", None) or build_notifier(settings)
        state.receipts_dir = getattr(state, "receipts_dir", None) or settings.receipts_dir
    return getattr(state, name)


def _notifier(request: Request) -> Notifier:
    notifier: Notifier = _settings_value(request, "notifier")
    return notifier


def _receipts_dir(request: Request) -> Path:
    return Path(_settings_value(request, "receipts_dir"))


def _today(request: Request) -> dt.date:
    return _now(request).astimezone(request.app.state.engine.zone).date()


def _csrf_ok(found: ConsoleSession, csrf: str) -> bool:
    return bool(csrf) and _same(csrf, found.csrf_token)  # bytes: a non-ASCII token is just wrong


def _render(
    request: Request, found: ConsoleSession, name: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    ok = OK_MESSAGES.get(request.query_params.get("ok", ""))
    base = {
        "me": found.advisor, "csrf": found.csrf_token, "t": panel_text, "ok": ok, "error": None,
        "zone": request.app.state.engine.zone,
    }  # fmt: skip
    return _page(request, name, {**base, **context}, status)


def _done(path: str, ok: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'ok': ok, **params})}#flash", status_code=303)


def _refused(request: Request, exc: BackofficeError, found: ConsoleSession | None = None) -> HTMLResponse:
    context = {"me": found.advisor, "csrf": found.csrf_token} if found else None
    return error_page(request, exc.status, exc.message, context)


FORGED = BackofficeError(403, "El formulario caducó (falta el token de seguridad). Recargue la página.")


# --- payment reports ----------------------------------------------------------------------------


async def _payments_page(
    request: Request,
    found: ConsoleSession,
    status: str = "pending",
    error: dict[str, Any] | None = None,
    code: int = 200,
) -> HTMLResponse:
    async with request.app.state.sessions() as session:
        reports = await backoffice.payment_reports(session, found.advisor, status)
    if error and error["where"] not in {f"report-{r['report'].id}" for r in reports if r["report"].status == "pending"}:
        error = {**error, "where": "page"}  # its form is gone (decided meanwhile): the message goes on top
    context = {"reports": reports, "status": status, "error": error}
    return _render(request, found, "backoffice_payments.html", context, code)


@router.get("", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    return RedirectResponse("/console/backoffice/payments", status_code=303)


@router.get("/payments", response_class=HTMLResponse)
async def payments_page(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    status = request.query_params.get("status", "pending")
    return await _payments_page(request, found, status if status in backoffice.REPORT_FILTERS else "pending")


@router.get("/payments/{report_id}/receipt")
async def receipt(request: Request, report_id: int) -> Response:
    """The receipt file, inline (an <img> or an <iframe> on the payments page)."""
    found = await _session(request)
    if found is None:
        return _to_login(request)
    try:
        async with request.app.state.sessions() as session:
            file = await backoffice.receipt_file(session, found.advisor, report_id, _receipts_dir(request))
    except BackofficeError as exc:
        return _refused(request, exc, found)
    return FileResponse(
        file.path,
        media_type=file.media_type,
        content_disposition_type="inline",
        filename=file.filename,
        headers={
            "Cache-Control": "no-store",
            # the payments page frames PDFs: allow our own pages, nothing else, to embed it
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
            "frame-ancestors 'self'",
        },
    )


@router.post("/payments/{report_id}/{decision}", response_class=HTMLResponse)
async def decide(
    request: Request,
    report_id: int,
    decision: str,
    csrf: str = Form("", max_length=100),
    reason: str = Form("", max_length=2000),
) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    if decision not in ("confirm", "reject"):
        return _refused(request, BackofficeError(404, "No encontramos esa página."), found)
    if not _csrf_ok(found, csrf):
        return _refused(request, FORGED, found)
    try:
        async with request.app.state.sessions.begin() as session:
            await backoffice.decide_report(
                session, found.advisor, report_id, accept=decision == "confirm", reason=reason,
                notifier=_notifier(request), now=_now(request), today=_today(request),
            )  # fmt: skip
    except BackofficeError as exc:
        if exc.status == 404:
            return _refused(request, exc, found)
        error = {"where": f"report-{report_id}", "text": exc.message}
        return await _payments_page(request, found, error=error, code=exc.status)
    return _done("/console/backoffice/payments", "confirmed" if decision == "confirm" else "rejected")


# --- customers ----------------------------------------------------------------------------------


@router.get("/customers", response_class=HTMLResponse)
async def customers_page(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    params = request.query_params
    search, state, plan = params.get("q", "")[:100], params.get("state", ""), params.get("plan", "")[:100]
    page = int(params["page"]) if params.get("page", "").isdigit() else 1
    page = max(1, min(page, 10_000))
    async with request.app.state.sessions() as session:
        listed = await backoffice.customers(
            session, found.advisor, search=search, state=state, plan=plan, offset=(page - 1) * backoffice.PAGE_SIZE
        )
    pages = max(1, -(-listed.total // backoffice.PAGE_SIZE))
    context = {
        "listed": listed, "q": search, "state": state, "plan": plan, "page": page, "pages": pages,
        "states": backoffice.STATES,
        "page_link": lambda n: "?" + urlencode({"q": search, "state": state, "plan": plan, "page": n}),
    }  # fmt: skip
    return _render(request, found, "backoffice_customers.html", context)


async def _customer_page(
    request: Request, found: ConsoleSession, customer_id: int, error: dict[str, Any] | None = None, code: int = 200
) -> Response:
    try:
        async with request.app.state.sessions() as session:
            detail = await backoffice.customer_detail(session, found.advisor, customer_id)
    except BackofficeError as exc:
        return _refused(request, exc, found)
    return _render(request, found, "backoffice_customer.html", {**detail, "error": error}, code)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(request: Request, customer_id: int) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    return await _customer_page(request, found, customer_id)


@router.post("/customers/{customer_id}/hours", response_class=HTMLResponse)
async def add_hours(
    request: Request,
    customer_id: int,
    csrf: str = Form("", max_length=100),
    hours: str = Form("", max_length=20),
    note: str = Form("", max_length=500),
) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    if not _csrf_ok(found, csrf):
        return _refused(request, FORGED, found)
    try:
        async with request.app.state.sessions.begin() as session:
            await backoffice.add_hours(session, found.advisor, customer_id, hours, note, _now(request))
    except BackofficeError as exc:
        if exc.status == 404:
            return _refused(request, exc, found)
        return await _customer_page(request, found, customer_id, {"where": "hours", "text": exc.message}, exc.status)
    return _done(f"/console/backoffice/customers/{customer_id}", "hours")


# --- trainings ----------------------------------------------------------------------------------


async def _trainings_page(
    request: Request,
    found: ConsoleSession,
    error: dict[str, Any] | None = None,
    code: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    today = _today(request)
    async with request.app.state.sessions() as session:
        sessions = await backoffice.training_sessions(
            session, found.advisor, request.app.state.calendar, today, today + dt.timedelta(days=TRAINING_DAYS - 1)
        )
    context = {"sessions": sessions, "error": error, "form": form or {}, "today": today.isoformat()}
    return _render(request, found, "backoffice_trainings.html", context, code)


@router.get("/trainings", response_class=HTMLResponse)
async def trainings_page(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    return await _trainings_page(request, found)


@router.post("/trainings", response_class=HTMLResponse)
async def add_training(
    request: Request,
    csrf: str = Form("", max_length=100),
    day: str = Form("", max_length=20),
    start: str = Form("", max_length=10),
    minutes: str = Form("60", max_length=5),
    topic: str = Form("", max_length=500),
    seats: str = Form("", max_length=6),
) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    if not _csrf_ok(found, csrf):
        return _refused(request, FORGED, found)
    form = {"day": day, "start": start, "minutes": minutes, "topic": topic, "seats": seats}
    try:
        if not minutes.strip().isdigit():
            raise BackofficeError(422, "Escriba la duración en minutos, por ejemplo 60.")
        async with request.app.state.sessions.begin() as session:
            await backoffice.add_training(
                session, found.advisor, request.app.state.calendar, day_text=day, start_text=start,
                minutes=int(minutes), topic=topic, seats_text=seats, now=_now(request),
            )  # fmt: skip
    except BackofficeError as exc:
        return await _trainings_page(request, found, {"where": "add", "text": exc.message}, exc.status, form)
    return _done("/console/backoffice/trainings", "training_added")


@router.post("/trainings/{session_id}/cancel", response_class=HTMLResponse)
async def cancel_training(
    request: Request,
    session_id: str,
    csrf: str = Form("", max_length=100),
    reason: str = Form("", max_length=2000),
) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    if not _csrf_ok(found, csrf):
        return _refused(request, FORGED, found)
    try:
        async with request.app.state.sessions.begin() as session:
            await backoffice.cancel_training(
                session, found.advisor, request.app.state.calendar, _notifier(request), session_id[:60], reason,
                _now(request),
            )  # fmt: skip
    except BackofficeError as exc:
        return await _trainings_page(request, found, {"where": f"cancel-{session_id}", "text": exc.message}, exc.status)
    return _done("/console/backoffice/trainings", "training_cancelled")


# --- audit log ----------------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    try:
        async with request.app.state.sessions() as session:
            rows = await backoffice.audit_log(session, found.advisor)
    except BackofficeError as exc:
        return _refused(request, exc, found)
    return _render(request, found, "backoffice_audit.html", {"rows": rows})
