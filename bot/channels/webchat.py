"""The web chat channel: `POST /api/chat` (a public contract, see README) and the page at `/`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.engine import Engine
from bot.handlers.common import TOPIC_OPTIONS
from bot.messages import Attachment, Message
from bot.web.validation import MAX_ID, StrictJsonRoute

CHANNEL = "webchat"
MAX_TEXT_CHARS = 100_000  # beyond this the API answers 422; the bot politely caps far below

WELCOME = "¡Hola! Soy el asistente virtual de Perseo WEB. ¿En qué le puedo ayudar?"

router = APIRouter(route_class=StrictJsonRoute)


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
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="The cursor of the previous call; omit it on the first."
    ),
) -> UpdatesOut:
    """What an advisor wrote to this chat since `after` (the web chat polls this during a handoff)."""
    from bot.services.handoffs import pushed_since

    async with request.app.state.sessions() as session:
        rows, cursor, status = await pushed_since(session, CHANNEL, session_id, after)
    return UpdatesOut(messages=[PushedOut(id=r.id, text=r.text) for r in rows], cursor=cursor, handoff=status)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    templates = request.app.state.templates
    context = {"title": "Asistente Perseo WEB", "welcome": WELCOME, "options": TOPIC_OPTIONS}
    return templates.TemplateResponse(request, "chat.html", context)
