"""The customer asks for a person.

Until the advisor queue exists this says how to reach one; it never pretends to transfer.
"""

from __future__ import annotations

from bot.handlers.common import HOW_TO_REACH_ADVISOR
from bot.messages import Outcome, Reply


def handle(confidence: float) -> Outcome:
    text = (
        "Entiendo que prefiere hablar con una persona. "
        + HOW_TO_REACH_ADVISOR
        + " Las consultas que atienda se descuentan de las horas de implementación de su plan, "
        "si las incluye. Yo sigo aquí para lo que necesite."
    )
    return Outcome((Reply(text),), source="handoff", confidence=confidence)
