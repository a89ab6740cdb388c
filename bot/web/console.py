"""The advisor console: `/console` pages and the JSON API their script calls.

Security, in one place: the session cookie is HttpOnly and SameSite=Strict (Secure behind
HTTPS) and holds a random token the database keeps only as a hash; every state-changing
request carries the session's CSRF token (a form field or the X-CSRF-Token header), the login
form a double-submit token; logins are throttled per e-mail and client address
(`services.advisors`, the address from `web.client_address`); every API
call re-reads the advisor and filters by their distributor (`services.console`). Customer
text reaches the page only through Jinja autoescaping or `textContent`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from bot import format as fmt
from bot.accounts import NoAccounts
from bot.domain.tax import iva_rate_on, parse_schedule
from bot.services import advisors, console
from bot.services.advisors import ConsoleSession, LoginRefused
from bot.services.console import ConsoleError, Pricing
from bot.web import panel_text
from bot.web.client_address import client_address
from bot.web.validation import MAX_ID, StrictJsonRoute

SESSION_COOKIE = "perseo_console"
LOGIN_COOKIE = "perseo_login"
EXPIRED = "Su sesión expiró o no es válida. Ingrese de nuevo."
EVENTS_SECONDS = 1.0  # how often the event stream looks for changes
EVENTS_LIFETIME = 300.0  # then the browser reconnects (and the session is checked again)

router = APIRouter(prefix="/console", include_in_schema=False, route_class=StrictJsonRoute)
HandoffId = Annotated[int, Path(ge=1, le=MAX_ID)]  # beyond a BIGINT the database would fail, not answer


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of tokens; bytes, because compare_digest refuses non-ASCII str."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


class ReplyIn(BaseModel):
    text: str = Field(max_length=20_000)


class CloseIn(BaseModel):
    minutes: int = Field(ge=-100_000, le=100_000)  # the range the business allows is checked with a message
    topic: str = Field(max_length=2_000)


def _now(request: Request) -> dt.datetime:
    return request.app.state.engine.clock()  # type: ignore[no-any-return]


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


async def _session(request: Request) -> ConsoleSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with request.app.state.sessions() as session:
        return await advisors.session_for(session, token, _now(request))


async def _api_session(request: Request, *, changes: bool) -> ConsoleSession:
    found = await _session(request)
    if found is None:
        raise ConsoleError(401, EXPIRED)
    if changes and not _same(request.headers.get("x-csrf-token", ""), found.csrf_token):
        raise ConsoleError(403, "Falta el token de seguridad (CSRF). Recargue la página e intente otra vez.")
    return found


def _error(exc: ConsoleError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


def _pricing(request: Request, today: dt.date) -> Pricing:
    facts = request.app.state.engine.router.knowledge.pack.facts
    rate = iva_rate_on(today, parse_schedule(facts["tax"]["iva"]))
    return Pricing(Decimal(str(facts["support"]["hourly_rate"])), rate)


def _to_login(request: Request) -> RedirectResponse:
    """The login page; it says "your session expired" only when the browser had a session
    (a first visit, or one after logging out, is just the login)."""
    had_session = bool(request.cookies.get(SESSION_COOKIE))
    return RedirectResponse("/console/login?expired=1" if had_session else "/console/login", status_code=303)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- login and logout ---------------------------------------------------------------------


def _login_page(request: Request, message: str | None = None, status: int = 200, email: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = _page(request, "console_login.html", {"csrf": token, "message": message, "email": email}, status)
    _cookie(response, request, LOGIN_COOKIE, token, 3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    if await _session(request) is not None:
        return RedirectResponse("/console", status_code=303)  # type: ignore[return-value]
    expired = request.query_params.get("expired") == "1"
    return _login_page(request, EXPIRED if expired else None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    email: str = Form("", max_length=254),
    password: str = Form("", max_length=1024),
    csrf: str = Form("", max_length=100),
) -> Response:
    if not csrf or not _same(csrf, request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(request, "El formulario caducó. Intente de nuevo.", 403, email)
    address = client_address(request, request.app.state.settings)
    try:
        token, opened = await advisors.log_in(
            request.app.state.sessions, email, password, address, _now(request), sleep=request.app.state.login_sleep
        )
    except LoginRefused as refused:
        return _login_page(request, refused.message, refused.status, email)
    response = RedirectResponse("/console", status_code=303)
    max_age = int((opened.expires_at - _now(request)).total_seconds())
    _cookie(response, request, SESSION_COOKIE, token, max_age)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, csrf: str = Form("", max_length=100)) -> Response:
    found = await _session(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if found is not None and _same(csrf, found.csrf_token):
        async with request.app.state.sessions.begin() as session:
            await advisors.log_out(session, token)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


# --- pages --------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def queue_page(request: Request) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    return _page(request, "console_queue.html", {"me": found.advisor, "csrf": found.csrf_token})


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
async def handoff_page(request: Request, handoff_id: HandoffId) -> Response:
    found = await _session(request)
    if found is None:
        return _to_login(request)
    context = {"me": found.advisor, "csrf": found.csrf_token, "handoff_id": handoff_id}
    return _page(request, "console_handoff.html", context)


@router.get("/trainings", response_class=HTMLResponse)
async def trainings_page(request: Request) -> Response:
    """Upcoming trainings and who signed up. Names only of the advisor's own distributor's
    customers (admins: all); other sign-ups are counted, not named."""
    from bot.services.trainings import attendees, list_sessions

    found = await _session(request)
    if found is None:
        return _to_login(request)
    me = found.advisor
    today = _now(request).astimezone(request.app.state.engine.zone).date()
    calendar = request.app.state.calendar
    sessions = []
    async with request.app.state.sessions() as session:
        for item in await list_sessions(session, calendar, today, today + dt.timedelta(days=13)):
            people = []
            for row in await attendees(session, calendar, item["id"]):
                if row["company"] is None:
                    people.append(f"Chat sin verificar ({row['channel']})")
                elif me.is_admin or row["distributor_id"] == me.distributor_id:
                    people.append(f"{row['company']} ({row['channel']})")
                else:
                    people.append("Cliente de otra distribuidora")
            begins, ends = dt.datetime.fromisoformat(item["start"]), dt.datetime.fromisoformat(item["end"])
            sessions.append({**item, "when": fmt.session_when(begins, ends), "people": people})
    return _page(request, "console_trainings.html", {"me": me, "csrf": found.csrf_token, "sessions": sessions})


# --- JSON API -----------------------------------------------------------------------------


@router.get("/api/queue")
async def api_queue(request: Request) -> JSONResponse:
    try:
        found = await _api_session(request, changes=False)
        async with request.app.state.sessions() as session:
            items = await console.queue(session, found.advisor, _now(request))
    except ConsoleError as exc:
        return _error(exc)
    return JSONResponse({"items": items})


@router.get("/api/handoffs/{handoff_id}")
async def api_handoff(request: Request, handoff_id: HandoffId) -> JSONResponse:
    try:
        found = await _api_session(request, changes=False)
        now = _now(request)
        today = now.astimezone(request.app.state.engine.zone).date()
        async with request.app.state.sessions() as session:
            accounts = request.app.state.accounts(session) if request.app.state.accounts else NoAccounts()
            body = await console.detail(session, found.advisor, handoff_id, now, today, accounts)
    except ConsoleError as exc:
        return _error(exc)
    body["customer"] = panel_text.localised(body["customer"], request.app.state.engine.zone)
    body["paid_consent"] = panel_text.consent(body["paid_consent"])
    body["suggestions"] = next(filter(None, (_suggestions(request, q) for q in body.pop("recent_questions"))), [])
    return JSONResponse(body)


def _suggestions(request: Request, question: str) -> list[dict[str, Any]]:
    """Knowledge-base articles for the customer's last question, ready to insert into a reply."""
    knowledge = request.app.state.engine.router.knowledge
    if not question.strip():
        return []
    results = knowledge.retriever.search(question, limit=5)
    floor = knowledge.retriever.thresholds.suggest
    return [
        {"id": m.target, "title": knowledge.title_of(m.target), "text": knowledge.pack.article(m.target).body,
         "score": round(m.score, 3)}
        for m in results.matches
        if not m.is_intent and m.score >= floor
    ][:3]  # fmt: skip


@router.post("/api/handoffs/{handoff_id}/claim")
async def api_claim(request: Request, handoff_id: HandoffId) -> JSONResponse:
    try:
        found = await _api_session(request, changes=True)
        async with request.app.state.sessions.begin() as session:
            await console.claim(session, found.advisor, handoff_id, _now(request))
    except ConsoleError as exc:
        return _error(exc)
    return JSONResponse({"status": "active"})


@router.post("/api/handoffs/{handoff_id}/reply")
async def api_reply(request: Request, handoff_id: HandoffId, body: ReplyIn) -> JSONResponse:
    try:
        found = await _api_session(request, changes=True)
        async with request.app.state.sessions.begin() as session:
            message_id = await console.reply(session, found.advisor, handoff_id, body.text, _now(request))
    except ConsoleError as exc:
        return _error(exc)
    return JSONResponse({"message_id": message_id})


@router.post("/api/handoffs/{handoff_id}/close")
async def api_close(request: Request, handoff_id: HandoffId, body: CloseIn) -> JSONResponse:
    try:
        found = await _api_session(request, changes=True)
        now = _now(request)
        pricing = _pricing(request, now.astimezone(request.app.state.engine.zone).date())
        async with request.app.state.sessions.begin() as session:
            summary = await console.close(
                session, found.advisor, handoff_id, minutes=body.minutes, topic=body.topic, now=now, pricing=pricing
            )
    except ConsoleError as exc:
        return _error(exc)
    return JSONResponse(panel_text.close_summary(summary))


@router.get("/events")
async def events(request: Request) -> Response:
    """Server-sent events: "change" whenever the queue or an open conversation changes.
    Each replica polls the database, so it works behind a load balancer with no shared memory."""
    try:
        found = await _api_session(request, changes=False)
    except ConsoleError as exc:
        return _error(exc)

    token = request.cookies.get(SESSION_COOKIE, "")

    async def stream() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        last, started, quiet = None, time.monotonic(), 0.0
        while time.monotonic() - started < EVENTS_LIFETIME and not await request.is_disconnected():
            async with request.app.state.sessions() as session:
                if await advisors.session_for(session, token, _now(request)) is None:
                    yield "event: expired\ndata: {}\n\n"  # logged out or expired: the page goes to the login
                    return
                current = await console.version(session, found.advisor)
            if current != last:
                yield f"event: change\ndata: {json.dumps(current)}\n\n"
                last, quiet = current, 0.0
            elif quiet >= 15:
                yield ": still here\n\n"
                quiet = 0.0
            await asyncio.sleep(EVENTS_SECONDS)
            quiet += EVENTS_SECONDS

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
