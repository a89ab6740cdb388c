"""Cancelling the plan (linked customers): explain what it means, ask for confirmation, then
record it and e-mail the distributor with a copy to the customer (the letter: a plain e-mail
to the distributor is enough, and the next invoice is not issued)."""

from __future__ import annotations

from bot import format as fmt
from bot.accounts import AccountView
from bot.context import Turn
from bot.flows import Step
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "cancel_plan"
CONFIRM = "Sí, cancelar mi plan"
KEEP = "No, mantener mi plan"


def start(account: AccountView) -> Step:
    if account.cancelled_on is not None or account.state == "ended":
        until = fmt.long_date(account.paid_until) if account.paid_until else "el fin del período pagado"
        return Step(
            _outcome(f"El plan de {account.company} ya está cancelado; el sistema estará disponible hasta el {until}."),
            None,
        )
    until = fmt.long_date(account.paid_until) if account.paid_until else "el fin del período ya facturado"
    text = (
        f"Antes de cancelar el plan de {account.company}, tenga en cuenta:\n"
        "• No se emitirá la siguiente factura.\n"
        f"• Podrá usar el sistema hasta el {until}; después ya no estará disponible en la web.\n"
        "• Para volver a consultar o modificar su información deberá contratar al menos un mes.\n"
        "¿Confirma que desea cancelar?"
    )
    return Step(_outcome(text, (CONFIRM, KEEP)), FlowState(NAME, {}))


async def resume(turn: Turn, data: dict[str, object]) -> Step | None:
    answer = fold(turn.text)
    if answer in (fold(CONFIRM), "si", "si cancelar", "confirmo", "si confirmo"):
        until = await turn.accounts.cancel_plan(turn.conversation_id, turn.today, turn.now)
        if until is None:
            return Step(_outcome("No encontré un plan activo para cancelar en esta cuenta."), None)
        text = (
            f"Listo: registré la cancelación. No se emitirán más facturas y el sistema estará disponible hasta "
            f"el {fmt.long_date(until)}. Enviamos la confirmación por correo a su distribuidor, con copia para usted."
        )
        return Step(Outcome((Reply(text),), source="plan.cancelled", confidence=1.0), None)
    if answer in (fold(KEEP), "no", "mantener", "no cancelar"):
        return Step(_outcome("Perfecto, su plan sigue igual. ¿En qué más le ayudo?"), None)
    return None  # something else: a new question


def _outcome(text: str, options: tuple[str, ...] = ()) -> Outcome:
    return Outcome((Reply(text, options),), source=NAME, confidence=1.0)
