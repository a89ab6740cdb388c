"""Greetings, thanks, goodbyes and "what can you do": answered warmly and briefly."""

from __future__ import annotations

from bot.handlers.common import CAPABILITIES, HANDOFF_OPTION, TOPIC_OPTIONS
from bot.messages import Outcome, Reply

_REPLIES = {
    "greeting": Reply(
        "¡Hola! Soy el asistente virtual de Perseo WEB. Puedo ayudarle con " + CAPABILITIES + ". ¿En qué le ayudo?",
        TOPIC_OPTIONS,
    ),
    "thanks": Reply("¡Con gusto! Si tiene otra consulta, aquí estoy para ayudarle."),
    "goodbye": Reply("¡Hasta pronto! Que tenga un excelente día."),
    "venting": Reply(
        "Disculpe la demora o si no le entendí bien; aquí estoy. Cuénteme en pocas palabras qué necesita "
        "o, si prefiere, le comunico con un asesor.",
        (HANDOFF_OPTION, *TOPIC_OPTIONS[:2]),
    ),
    "leave": Reply("De acuerdo, lo dejamos así. Si necesita algo más, aquí estoy."),
    "help": Reply(
        "Soy el asistente virtual de Perseo WEB (un programa, no una persona). Puedo ayudarle con "
        + CAPABILITIES
        + ". Escriba su pregunta con sus palabras o elija un tema.",
        (*TOPIC_OPTIONS, HANDOFF_OPTION),
    ),
}


def handle(kind: str, confidence: float) -> Outcome:
    return Outcome((_REPLIES[kind],), source=f"smalltalk.{kind}", confidence=confidence)


KINDS = frozenset(_REPLIES)
