"""Local stand-ins for the Telegram Bot API and the WhatsApp Cloud (Graph) API: real HTTP
servers on 127.0.0.1 that record every call and answer what a test scripts (429, 403, 5xx).
No test reaches the internet."""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

TOKEN = "123456:TEST-TOKEN"


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


@dataclass
class Call:
    at: float  # time.monotonic() when the server received it
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    script: dict[str, deque[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(deque))
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    files: dict[str, bytes] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # file ids whose getFile fails (expired, too big)
    next_id: int = 1000

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "sendMessage" and (chat_id is None or str(c.params["chat_id"]) == str(chat_id))
        ]

    def fail_next(self, chat_id: int | str, status: int, body: dict[str, Any]) -> None:
        self.script[str(chat_id)].append((status, body))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            if token != TOKEN:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
            form = await request.form() if request.method == "POST" else request.query_params
            params = {k: _value(str(v)) for k, v in form.items()}
            self.calls.append(Call(time.monotonic(), method, params))
            return self._answer(method, params)

        @app.get("/file/bot{token}/{path:path}")
        async def file(token: str, path: str) -> Response:
            return Response(self.files.get(path, b""), media_type="application/octet-stream")

        return app

    def _answer(self, method: str, params: dict[str, Any]) -> JSONResponse:
        if method == "getMe":
            return _ok({"id": 999, "is_bot": True, "first_name": "Perseo", "username": "perseo_bot"})
        if method == "sendMessage":
            scripted = self.script.get(str(params.get("chat_id")))
            if scripted:
                status, body = scripted.popleft()
                return JSONResponse(body, status_code=status)
            self.next_id += 1
            chat = {"id": params["chat_id"], "type": "private" if int(params["chat_id"]) > 0 else "group"}
            return _ok({"message_id": self.next_id, "date": int(time.time()), "chat": chat, "text": params.get("text")})
        if method == "getUpdates":
            batch = list(self.updates)
            self.updates.clear()
            return _ok(batch)
        if method == "getFile":
            file_id = str(params["file_id"])
            if file_id in self.gone:
                return JSONResponse(
                    {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}, status_code=400
                )
            return _ok({"file_id": file_id, "file_unique_id": file_id, "file_path": f"documents/{file_id}"})
        return _ok(True)  # setWebhook, deleteWebhook, answerCallbackQuery...


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def too_many(retry_after: int) -> tuple[int, dict[str, Any]]:
    return 429, {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests",
        "parameters": {"retry_after": retry_after},
    }


def blocked() -> tuple[int, dict[str, Any]]:
    return 403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}


GRAPH_VERSION = "v23.0"
PHONE_ID = "1098765"
WA_TOKEN = "EAAG-test-token"


@dataclass
class FakeGraph:
    calls: list[Call] = field(default_factory=list)
    script: dict[str, deque[tuple[int, dict[str, Any]]]] = field(default_factory=lambda: defaultdict(deque))
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    base: str = ""
    next_id: int = 0

    def sent(self, to: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "messages" and (to is None or c.params["to"] == to)]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post(f"/{GRAPH_VERSION}/{{phone_id}}/messages")
        async def messages(phone_id: str, request: Request) -> JSONResponse:
            if request.headers.get("authorization") != f"Bearer {WA_TOKEN}" or phone_id != PHONE_ID:
                return JSONResponse({"error": {"code": 190, "message": "Invalid OAuth access token"}}, status_code=401)
            body = await request.json()
            self.calls.append(Call(time.monotonic(), "messages", body))
            scripted = self.script.get(body["to"])
            if scripted:
                status, answer = scripted.popleft()
                return JSONResponse(answer, status_code=status)
            self.next_id += 1
            return JSONResponse({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.out{self.next_id}"}]})

        @app.get(f"/{GRAPH_VERSION}/{{media_id}}")
        async def media_url(media_id: str, request: Request) -> JSONResponse:
            self.calls.append(Call(time.monotonic(), "media", {"id": media_id}))
            if media_id not in self.media:
                return JSONResponse({"error": {"code": 100, "message": "unknown media"}}, status_code=404)
            data, mime = self.media[media_id]
            return JSONResponse({"url": f"{self.base}/download/{media_id}", "mime_type": mime, "file_size": len(data)})

        @app.get("/download/{media_id}")
        async def download(media_id: str, request: Request) -> Response:
            if request.headers.get("authorization") != f"Bearer {WA_TOKEN}":
                return Response(status_code=401)
            data, mime = self.media[media_id]
            return Response(data, media_type=mime)

        return app


def graph_error(code: int, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": f"error {code}", "type": "OAuthException"}}
