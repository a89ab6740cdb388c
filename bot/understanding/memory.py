"""The short memory a conversation keeps between messages, so the next one can be read in
context: "¿y cuánto cuesta?" is about the topic just answered, "la segunda" is one of the
options just shown.

It is stored with the dialogue state (`FlowState.memory`), in the conversation row, so it
survives restarts and works on any replica. It is small on purpose: only what the very next
message may refer to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Memory:
    topic: str | None = None  # the article answered last (follow-ups are about it)
    options: tuple[str, ...] = ()  # the options (buttons) of the last reply, in order
    yes: str | None = None  # the option a plain "sí" / "dale" taps (the bot asked a yes/no question)
    session: str | None = None  # the training session last signed up for or shown alone

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.topic:
            data["topic"] = self.topic
        if self.options:
            data["options"] = list(self.options)
        if self.yes:
            data["yes"] = self.yes
        if self.session:
            data["session"] = self.session
        return data

    @classmethod
    def from_json(cls, value: object) -> Memory:
        if not isinstance(value, dict):
            return cls()
        options = value.get("options")
        return cls(
            topic=_text(value.get("topic")),
            options=tuple(str(o) for o in options) if isinstance(options, list) else (),
            yes=_text(value.get("yes")),
            session=_text(value.get("session")),
        )


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None
