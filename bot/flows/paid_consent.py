"""Paid support: a customer with no hours left sees the price and must say yes explicitly
before joining the advisors' queue (DESIGN.md, "Implementation hours"). The consent is stored
with the exact price shown."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.context import Knowledge, Turn
from bot.flows import Step, handoff
from bot.handoffs import PaidConsent
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "paid_consent"
ACCEPT_OPTION = "Sí, acepto el costo"
DECLINE_OPTION = "No, gracias"
YES = frozenset(
    fold(w)
    for w in (ACCEPT_OPTION, "si", "sí", "si acepto", "acepto", "sí, acepto", "si, acepto", "de acuerdo", "aceptar",
              "acepto el costo", "si acepto el costo", "claro", "ok", "si por favor", "sí, por favor")
)  # fmt: skip
NO = frozenset(fold(w) for w in (DECLINE_OPTION, "no", "no acepto", "no gracias", "cancelar", "ya no", "mejor no"))


def price_text(facts: Mapping[str, Any]) -> tuple[PaidConsent, str]:
    support, tax = facts["support"], facts["tax"]
    currency = support["currency"]
    text = (
        "Sus horas de implementación ya se usaron. El soporte con un asesor cuesta "
        f"{currency} {support['hourly_rate']} por hora o fracción, más IVA ({tax['iva_percent']} %): "
        f"{currency} {support['hourly_total']} por hora. Una atención de 10 minutos se factura como una hora. "
        "¿Acepta este costo para que le comunique con un asesor?"
    )
    consent = PaidConsent(
        Decimal(str(support["hourly_rate"])), Decimal(str(tax["iva_rate"])), Decimal(str(support["hourly_total"])), text
    )
    return consent, text


def start(knowledge: Knowledge, *, reason: str, question: str) -> Step:
    _, text = price_text(knowledge.pack.facts)
    outcome = Outcome((Reply(text, (ACCEPT_OPTION, DECLINE_OPTION)),), source="handoff.price", confidence=1.0)
    return Step(outcome, FlowState(NAME, {"reason": reason, "question": question}))


async def resume(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    answer = fold(turn.text)
    if answer in YES:
        consent, _ = price_text(knowledge.pack.facts)
        return await handoff.join(
            turn, reason=str(data.get("reason", "request")), question=str(data.get("question", "")), consent=consent
        )
    if answer in NO:
        text = (
            "Entendido, no le comunico con un asesor. Puede revisar los tutoriales y las capacitaciones "
            "gratuitas, o comprar un paquete de horas a su distribuidor. Sigo aquí para lo que necesite."
        )
        return Step(Outcome((Reply(text),), source="handoff.declined", confidence=1.0), None)
    if len(answer.split()) > 3:
        return None  # a new question: the bot answers it and the offer lapses
    again = "Para comunicarle con un asesor necesito su confirmación: ¿acepta el costo? Responda «sí» o «no»."
    outcome = Outcome((Reply(again, (ACCEPT_OPTION, DECLINE_OPTION)),), source="handoff.price", confidence=1.0)
    return Step(outcome, FlowState(NAME, dict(data)))
