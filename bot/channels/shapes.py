"""The minimal shape of what Telegram and WhatsApp send that the bot uses, validated strictly.

A signed webhook can still carry a payload of the wrong shape (text as a number, a chat that is
null, an id as a string, `entry` as a string). Reading such a payload field by field crashed
deep inside processing, and a stored update that crashes is retried forever. Validating it
first into these models turns every such payload into one clear "unusable: <reason>",
recorded and acknowledged. Fields the bot does not read are not checked (extra="ignore").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.safetext import printable

MAX_ID = 2**63 - 1
BigId = Annotated[int, Field(ge=-MAX_ID, le=MAX_ID)]  # Telegram group chats have negative ids
PositiveId = Annotated[int, Field(ge=0, le=MAX_ID)]
ShortText = Annotated[str, Field(max_length=200)]
EventId = Annotated[str, Field(min_length=1, max_length=200)]  # the length of channel_events.event_id


class Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, populate_by_name=True)


def why(exc: ValidationError) -> str:
    """The first problem, e.g. "message.chat: Input should be a valid dictionary"."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    return printable(f"{where}: {first['msg']}", 300)


# --- Telegram (Bot API Update) -----------------------------------------------------------------


class TgChat(Shape):
    id: BigId
    type: ShortText


class TgUser(Shape):
    id: BigId


class TgReplied(Shape):
    from_user: TgUser | None = Field(None, alias="from")


class TgPhoto(Shape):
    file_id: ShortText
    file_size: PositiveId | None = None


class TgDocument(Shape):
    file_id: ShortText
    file_name: ShortText | None = None
    mime_type: ShortText | None = None
    file_size: PositiveId | None = None


class TgMessage(Shape):
    message_id: PositiveId
    chat: TgChat
    text: str | None = None
    caption: str | None = None
    photo: list[TgPhoto] | None = None
    document: TgDocument | None = None
    reply_to_message: TgReplied | None = None


class TgCallbackMessage(Shape):
    chat: TgChat


class TgCallback(Shape):
    id: EventId
    data: ShortText | None = None
    message: TgCallbackMessage | None = None


class TgUpdate(Shape):
    update_id: PositiveId
    message: TgMessage | None = None
    callback_query: TgCallback | None = None


def telegram_id(payload: Any) -> str | None:
    """The update id as stored, if the payload has a usable one."""
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if isinstance(update_id, int) and not isinstance(update_id, bool) and 0 <= update_id <= MAX_ID:
        return str(update_id)
    return None


# --- WhatsApp (Cloud API webhook) --------------------------------------------------------------


class WaText(Shape):
    body: str = ""


class WaChoice(Shape):
    id: str = ""
    title: str = ""


class WaInteractive(Shape):
    button_reply: WaChoice | None = None
    list_reply: WaChoice | None = None


class WaButton(Shape):
    text: str = ""


class WaMedia(Shape):
    id: ShortText = ""
    filename: ShortText | None = None
    caption: str | None = None
    mime_type: ShortText | None = None


class WaMessage(Shape):
    id: EventId
    from_: Annotated[str, Field(min_length=1, max_length=64, alias="from")]
    type: ShortText = ""
    text: WaText | None = None
    interactive: WaInteractive | None = None
    button: WaButton | None = None
    image: WaMedia | None = None
    document: WaMedia | None = None


class WaStatus(Shape):
    id: Annotated[str, Field(min_length=1, max_length=255)]  # outbox.external_id
    status: ShortText


class WaValue(Shape):
    messages: list[Any] | None = None  # each validated on its own: one bad message spoils no other
    statuses: list[Any] | None = None


class WaChange(Shape):
    value: WaValue | None = None


class WaEntry(Shape):
    changes: list[WaChange] | None = None


class WaPayload(Shape):
    entry: list[WaEntry] | None = None


def whatsapp_id(message: Any) -> str | None:
    """The message id as stored, if the message has a usable one."""
    message_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(message_id, str) and 0 < len(message_id) <= 200:
        return message_id
    return None
