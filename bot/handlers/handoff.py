"""The customer asks for a person (or accepts the bot's offer of one).

Linked customers with no implementation hours left first see the price of paid support
(`flows.paid_consent`); everyone else joins the queue at once (`flows.handoff`). An
unverified chat can be handed off too: the advisor sees that it is unverified.
"""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.domain.hours import duration_text
from bot.flows import Step, handoff, paid_consent
from bot.handlers.common import HOW_TO_REACH_ADVISOR
from bot.messages import Outcome, Reply


def unavailable(confidence: float) -> Outcome:
    text = (
        "Entiendo que prefiere hablar con una persona. "
        + HOW_TO_REACH_ADVISOR
        + " Las consultas que atienda se descuentan de las horas de implementación de su plan, "
        "si las incluye. Yo sigo aquí para lo que necesite."
    )
    return Outcome((Reply(text),), source="handoff", confidence=confidence)


async def handle(turn: Turn, knowledge: Knowledge, confidence: float, *, reason: str, question: str) -> Step:
    if not turn.handoffs.available:
        return Step(unavailable(confidence), None)
    account = await turn.accounts.linked(turn.conversation_id, turn.today)
    if account is not None and account.remaining_minutes <= 0:
        return paid_consent.start(knowledge, reason=reason, question=question)
    note = ""
    support = knowledge.pack.facts["support"]
    if account is not None and account.remaining_minutes < int(support.get("low_hours_minutes", 60)):
        note = (
            f" Le quedan {duration_text(account.remaining_minutes)} de implementación; si la atención dura más, "
            f"el exceso se cobra a {support['currency']} {support['hourly_rate']} por hora o fracción, más IVA."
        )
    return await handoff.join(turn, reason=reason, question=question, note=note)
