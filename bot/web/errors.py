"""Errors under /console in Spanish: a page for people, JSON for the console's script.

Without this, an unknown console URL (or /console/handoffs/abc) answered FastAPI's raw English
JSON ("Not Found", a list of validation errors). Pages get an HTML page with a link back to the
queue; the JSON API the script calls (/console/api/..., /console/events) keeps JSON, with a
Spanish `detail`. Everything outside /console is left as FastAPI answers it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

MESSAGES = {
    404: "No encontramos esa página.",
    405: "Esa acción no está disponible en esta dirección.",
    413: "El envío es demasiado grande.",
}
GENERIC = "No se pudo completar la solicitud."
FIELD_NAMES = {"text": "mensaje", "minutes": "minutos", "topic": "tema", "body": "datos"}


def _console(request: Request) -> bool:
    path = request.url.path
    return path == "/console" or path.startswith("/console/")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/console/api/", "/console/events")) or "application/json" in request.headers.get(
        "accept", ""
    )


def error_page(request: Request, status: int, message: str, context: dict[str, Any] | None = None) -> HTMLResponse:
    """`context` may carry `me` and `csrf` so a logged-in advisor keeps the navigation bar."""
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, "console_error.html", {**(context or {}), "status": status, "message": message}, status_code=status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def _signed_in(request: Request) -> dict[str, Any] | None:
    """The advisor's navigation bar on the error page, when they are logged in."""
    from bot.web.console import _session

    found = await _session(request)
    return {"me": found.advisor, "csrf": found.csrf_token} if found else None


def _validation_text(exc: RequestValidationError) -> str:
    fields = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")]
        name = location[-1] if location else "datos"
        fields.append(FIELD_NAMES.get(name, name))
    named = ", ".join(dict.fromkeys(fields)) or "datos"
    return f"Revise los datos enviados ({named})."


def install(app: FastAPI) -> None:
    """Register the handlers on `app`; non-console paths get FastAPI's default answers (422s
    through `bot.web.validation`, which can render any input)."""
    from fastapi.exception_handlers import http_exception_handler

    from bot.web.validation import validation_error

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _console(request):
            return await http_exception_handler(request, exc)
        message = MESSAGES.get(exc.status_code, GENERIC)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, message, await _signed_in(request))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _console(request):
            return await validation_error(request, exc)  # renders whatever the input held (NaN, surrogates)
        if _wants_json(request):
            return JSONResponse({"detail": _validation_text(exc)}, status_code=422)
        if request.method == "GET":  # /console/handoffs/abc: no such page
            return error_page(request, 404, MESSAGES[404], await _signed_in(request))
        return error_page(request, 422, _validation_text(exc), await _signed_in(request))

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
