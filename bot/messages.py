"""The channel-free shapes that cross the engine boundary.

Every channel adapter turns what it receives into a `Message` and sends each `Reply` back in
its own way (inline keyboard, WhatsApp buttons, web chat buttons). Nothing else in the bot
knows which channel a conversation uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attachment:
    """A file the customer sent (a receipt photo or PDF)."""

    filename: str
    content_type: str  # as the channel declared it; the bytes decide what it really is
    data: bytes


@dataclass(frozen=True)
class Message:
    channel: str  # "webchat", "terminal", "cli"; later "telegram", "whatsapp"
    user_id: str  # the channel's id of the chat (session id, chat id, phone number)
    text: str
    received_at: dt.datetime  # timezone-aware
    external_id: str | None = None  # the channel's message id, when it has one
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[str, ...] = ()  # quick answers the customer can tap instead of typing


@dataclass(frozen=True)
class Outcome:
    """What the bot decided for one message: the replies and why."""

    replies: tuple[Reply, ...]
    fallback: bool = False  # True when the bot did not find an answer
    source: str | None = None  # article id or handler name
    confidence: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowState:
    """A multi-step dialogue in progress, stored with the conversation between messages."""

    flow: str  # "" when no dialogue is in progress and only the memory is kept
    data: dict[str, Any]
    # The conversation's short memory (bot.understanding.Memory as JSON): the current topic and
    # the options just shown, so the next message can be read in context. Not part of the
    # dialogue's identity, hence compare=False.
    memory: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {"flow": self.flow, "data": self.data} if self.flow else {}
        if self.memory:
            value["memory"] = self.memory
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> FlowState | None:
        if not value or ("flow" not in value and not value.get("memory")):
            return None
        memory = value.get("memory")
        return cls(
            str(value.get("flow") or ""),
            dict(value.get("data") or {}),
            dict(memory) if isinstance(memory, dict) else {},
        )
