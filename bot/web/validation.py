"""Bad input to an API gets a 4xx with a reason, whatever the input.

- `StrictJsonRoute` (the route class of the JSON APIs) parses bodies with `safejson.loads`
  before FastAPI does: NaN, 1e999, huge integers, deep nesting and lone surrogates become a
  422 that names the problem, instead of values that crash the database or the 422 itself.
- `validation_error` renders any validation error without re-encoding the raw input (FastAPI's
  own handler echoed it, and failed on exactly the inputs that needed an answer most).
"""

from __future__ import annotations

import email.message
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from bot.web import safejson

MAX_ID = 2**63 - 1  # the largest id or cursor a BIGINT (and SQLite's INTEGER) holds


class StrictJsonRequest(Request):
    """A request whose `json()` is `safejson.loads` of the body (parsed once)."""

    _strict: Any

    async def json(self) -> Any:
        if not hasattr(self, "_strict"):
            self._strict = safejson.loads(await self.body())
        return self._strict


def _is_json(request: Request) -> bool:
    value = request.headers.get("content-type")
    if not value:
        return True  # FastAPI reads a body without a content type as JSON
    message = email.message.Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _refusal(reason: str, where: tuple[str | int, ...] = ("body",)) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": where, "msg": reason, "input": None}])


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def strict(request: Request) -> Response:
            request = StrictJsonRequest(request.scope, request.receive)
            if takes_body and _is_json(request) and await request.body():
                try:
                    value = await request.json()
                except safejson.BadJson as exc:
                    raise _refusal(exc.reason) from None
                where = safejson.lone_surrogate_at(value)
                if where is not None:
                    raise _refusal(f"{where}: text with an invalid character (a lone UTF-16 surrogate)")
            return await handler(request)

        return strict


def _safe_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -MAX_ID <= value <= MAX_ID else safejson.printable(str(value), 40)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str):
        return safejson.printable(value, 200)
    return None  # containers and objects: the location says enough


def render_errors(errors: Any) -> list[dict[str, Any]]:
    rendered = []
    for error in errors:
        item: dict[str, Any] = {
            "type": safejson.printable(str(error.get("type", "invalid")), 60),
            "loc": [p if isinstance(p, int) else safejson.printable(str(p), 100) for p in error.get("loc", ())],
            "msg": safejson.printable(str(error.get("msg", "invalid")), 300),
        }
        scalar = _safe_scalar(error.get("input"))
        if scalar is not None:
            item["input"] = scalar
        rendered.append(item)
    return rendered


async def validation_error(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse({"detail": render_errors(errors)}, status_code=422)
