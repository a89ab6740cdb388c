"""The bot did not understand: say so plainly, never guess, and offer a person."""

from __future__ import annotations

from bot.handlers.common import CAPABILITIES, HANDOFF_OPTION, HOW_TO_REACH_ADVISOR, TOPIC_OPTIONS
from bot.messages import Outcome, Reply


def handle(confidence: float) -> Outcome:
    text = (
        "Disculpe, no tengo una respuesta segura para eso y prefiero no adivinar. Puedo ayudarle "
        f"con {CAPABILITIES}. {HOW_TO_REACH_ADVISOR}"
    )
    return Outcome(
        (Reply(text, (HANDOFF_OPTION, *TOPIC_OPTIONS[:2])),),
        fallback=True,
        source=None,
        confidence=confidence,
    )
