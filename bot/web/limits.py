"""Request body limits, per route, enforced on the stream.

Checking Content-Length alone let a chunked upload (no length) be read whole into memory; the
middleware counts the bytes as the app receives them and stops at the route's limit with a
413 that says which limit. Only the web chat takes files, so only it gets the large limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
MB = 1024 * KB
CHAT_BODY_BYTES = 15_000_000  # a 10 MB receipt, base64-encoded (~13.4 MB), fits
DEFAULT_BODY_BYTES = 64 * KB
# (path prefix, limit): the longest matching prefix wins.
ROUTE_LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/chat", CHAT_BODY_BYTES),
    ("/api/chat/", DEFAULT_BODY_BYTES),  # the polling endpoint reads no body
    # An advisor's reply is at most 20,000 characters: even all escaped as \\uXXXX it is < 128 KB.
    ("/console/", 256 * KB),
    # Telegram updates are a few KB (a 4,096-character text, a caption, entities).
    ("/webhooks/telegram", 1 * MB),
    # Meta batches several messages and statuses in one call; each is about 1 KB.
    ("/webhooks/whatsapp", 3 * MB),
)


def limit_for(path: str) -> int:
    """The body limit of the route at `path` (the default for any route not listed)."""
    matching = [(len(p), limit) for p, limit in ROUTE_LIMITS if path == p or path.startswith(p.rstrip("/") + "/")]
    return max(matching)[1] if matching else DEFAULT_BODY_BYTES


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException, so FastAPI's body parsing lets it through and
    the app's handler answers it (413 with the reason)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes (the limit of this route)")


class BodyLimit:
    """Pure ASGI middleware: refuses a declared Content-Length over the limit before reading,
    and a body (chunked or lying about its length) as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, limit_of: Callable[[str], int] = limit_for) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge as exc:  # read outside a route's handler (e.g. by a middleware)
            if started:
                raise
            await _refuse(send, exc)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _refuse(send: Send, exc: BodyTooLarge) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
