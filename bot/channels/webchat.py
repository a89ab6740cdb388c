"""The web chat channel: `POST /api/chat` (a public contract, see README) and the page at `/`.

The session id is the conversation's only credential: whoever sends it reads what the advisor
wrote and, on a linked chat, the customer's account. So it must be unguessable: the API refuses
ids shorter than 32 characters (a UUID or 128 random bits in hex pass), and the page makes one
from 128 bits of crypto.getRandomValues. POST /api/chat is also throttled per client address
(bot.web.throttle; `throttled` runs in the app's middleware, before the body is even read).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.engine import Engine
from bot.handlers.common import TOPIC_OPTIONS
from bot.messages import Attachment, Message
from bot.store import pending_options
from bot.web.client_address import client_address, in_networks
from bot.web.throttle import retry_after_seconds
from bot.web.validation import MAX_ID, StrictJsonRoute

CHANNEL = "webchat"
MAX_TEXT_CHARS = 100_000  # beyond this the API answers 422; the bot politely caps far below
MIN_SESSION_ID_CHARS = 32
SESSION_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
SHORT_SESSION_ID = (
    f"session_id must have at least {MIN_SESSION_ID_CHARS} characters of random data (a UUID, or 128 random "
    "bits in hex): a short id can be guessed, and whoever guesses it reads the conversation"
)
THROTTLED = "Demasiados mensajes seguidos desde su conexión. Espere {seconds} segundo(s) y vuelva a intentarlo."


def _unguessable(value: str) -> str:
    if len(value) < MIN_SESSION_ID_CHARS:
        raise ValueError(SHORT_SESSION_ID)
    return value


SessionId = Annotated[str, AfterValidator(_unguessable)]

HISTORY_MESSAGES = 50  # what a reloaded page shows again: the recent conversation, not all of it
HISTORY_TEXT_CHARS = 4_000  # per message (the page's own box takes at most 4,000 characters)

WELCOME = "¡Hola! Soy el asistente virtual de Perseo WEB. ¿En qué le puedo ayudar?"

router = APIRouter(route_class=StrictJsonRoute)


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    data_base64: str = Field(max_length=14_000_000, description="The file, base64 (at most ~10 MB).")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: SessionId = Field(
        max_length=128,
        pattern=SESSION_ID_PATTERN,
        description="The conversation's secret id, kept by the client: 32-128 characters (letters, digits, "
        "_ . : -) with at least 128 random bits, e.g. a UUID.",
    )
    text: str = Field(max_length=MAX_TEXT_CHARS, description="What the customer wrote.")
    attachment: AttachmentIn | None = Field(None, description="A file, e.g. a payment receipt.")


class ReplyOut(BaseModel):
    text: str
    options: list[str]


class ChatOut(BaseModel):
    replies: list[ReplyOut]
    fallback: bool
    handoff: bool = Field(
        False, description="True while the chat waits for or talks to an advisor: poll /api/chat/updates."
    )


class PushedOut(BaseModel):
    id: int
    text: str


class UpdatesOut(BaseModel):
    messages: list[PushedOut]
    cursor: int
    handoff: str | None = Field(description="'waiting', 'active', or null when the bot answers.")


def throttled(request: Request) -> JSONResponse | None:
    """For POST /api/chat, before anything else (even reading the body): spend one of the
    client address's tokens, or answer 429 with a Spanish reason and when to come back."""
    buckets = getattr(request.app.state, "chat_throttle", None)
    if buckets is None:
        return None
    settings = request.app.state.settings
    address = client_address(request, settings)
    # Processes on the server's own machine (an evaluation run, a benchmark) are not strangers;
    # behind a proxy `address` is still the real client's, so only this machine matches the default.
    if settings is not None and in_networks(address, settings.unthrottled_networks()):
        return None
    wait = buckets.take(address)
    if wait <= 0:
        return None
    seconds = retry_after_seconds(wait)
    detail = THROTTLED.format(seconds=seconds)
    return JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(seconds)})


@router.post("/api/chat", response_model=ChatOut)
async def chat(body: ChatIn, request: Request) -> ChatOut:
    engine: Engine = request.app.state.engine
    attachments: tuple[Attachment, ...] = ()
    if body.attachment is not None:
        try:
            data = base64.b64decode(body.attachment.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, "attachment.data_base64 is not valid base64") from None
        attachments = (Attachment(body.attachment.filename, body.attachment.content_type, data),)
    message = Message(
        channel=CHANNEL,
        user_id=body.session_id,
        text=body.text,
        received_at=dt.datetime.now(dt.UTC),
        attachments=attachments,
    )
    outcome = await engine.handle(message)
    return ChatOut(
        replies=[ReplyOut(text=r.text, options=list(r.options)) for r in outcome.replies],
        fallback=outcome.fallback,
        handoff=outcome.meta.get("flow") == "handoff",
    )


@router.get("/api/chat/updates", response_model=UpdatesOut)
async def updates(
    request: Request,
    session_id: Annotated[SessionId, Query(max_length=128, pattern=SESSION_ID_PATTERN)],
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="The cursor of the previous call; omit it on the first."
    ),
) -> UpdatesOut:
    """What an advisor wrote to this chat since `after` (the web chat polls this during a handoff)."""
    from bot.services.handoffs import pushed_since

    async with request.app.state.sessions() as session:
        rows, cursor, status = await pushed_since(session, CHANNEL, session_id, after)
    return UpdatesOut(messages=[PushedOut(id=r.id, text=r.text) for r in rows], cursor=cursor, handoff=status)


class HistoryLineOut(BaseModel):
    role: Literal["customer", "bot", "advisor"]
    text: str


class HistoryOut(BaseModel):
    messages: list[HistoryLineOut] = Field(description=f"The last {HISTORY_MESSAGES} messages, oldest first.")
    options: list[str] = Field(description="The options of the bot's last reply, while the customer has not answered.")
    cursor: int = Field(description="Pass it as `after` to /api/chat/updates: the history already shows up to here.")


@router.get("/api/chat/history", response_model=HistoryOut)
async def history(
    request: Request,
    session_id: Annotated[SessionId, Query(max_length=128, pattern=SESSION_ID_PATTERN)],
) -> HistoryOut:
    """The conversation so far, for a page that was reloaded: the customer sees it again and can
    tap the options still pending. An unknown session id has an empty history (no 404, so the
    answer says nothing about which ids exist)."""
    engine: Engine = request.app.state.engine
    lines = await engine.store.history(CHANNEL, session_id, HISTORY_MESSAGES)
    return HistoryOut(
        messages=[HistoryLineOut(role=line.role, text=_capped(line.text)) for line in lines],  # type: ignore[arg-type]
        options=list(pending_options(lines)),
        cursor=lines[-1].id if lines else 0,
    )


def _capped(text: str) -> str:
    return text if len(text) <= HISTORY_TEXT_CHARS else text[: HISTORY_TEXT_CHARS - 1] + "…"


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    templates = request.app.state.templates
    context = {"title": "Asistente Perseo WEB", "welcome": WELCOME, "options": TOPIC_OPTIONS}
    return templates.TemplateResponse(request, "chat.html", context)
