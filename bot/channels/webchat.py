"""The web chat channel: `POST /api/chat` (a public contract, see README) and the page at `/`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.engine import Engine
from bot.handlers.common import TOPIC_OPTIONS
from bot.messages import Attachment, Message
from bot.store import pending_options

CHANNEL = "webchat"
MAX_TEXT_CHARS = 100_000  # beyond this the API answers 422; the bot politely caps far below
# The session id is the only credential of a web chat: it must be too long to guess.
SESSION_ID_MIN_CHARS = 32
HISTORY_MESSAGES = 50  # what a reloaded page shows again: the recent conversation, not all of it
HISTORY_TEXT_CHARS = 4_000  # per message (the page's own box takes at most 4,000 characters)

WELCOME = "¡Hola! Soy el asistente virtual de Perseo WEB. ¿En qué le puedo ayudar?"

router = APIRouter()


class AttachmentIn(BaseModel):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    data_base64: str = Field(max_length=14_000_000, description="The file, base64 (at most ~10 MB).")


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Any id the client keeps for the conversation (letters, digits, _ . : -).",
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
    session_id: str = Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$"),
    after: int | None = Query(None, ge=0, description="The cursor of the previous call; omit it on the first."),
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
    session_id: str = Query(min_length=SESSION_ID_MIN_CHARS, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$"),
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
