"""Questions about the customer's own account (hours left, invoices, what they owe).

Nothing account-specific is shown before the chat is linked to a verified account, so for an
anonymous chat this explains how the bot will identify them and gives no figures.
"""

from __future__ import annotations

from bot.handlers.common import HANDOFF_OPTION
from bot.messages import Outcome, Reply

_TOPIC = {
    "hours": "sus horas de implementación",
    "billing": "sus facturas y pagos",
}


def handle(kind: str, confidence: float) -> Outcome:
    topic = _TOPIC.get(kind, "los datos de su cuenta")
    text = (
        f"Para consultar {topic} primero debo identificarle: este chat tiene que estar "
        "vinculado a la cuenta de su empresa con su RUC y un código de verificación que "
        "enviamos al correo registrado. Por seguridad no muestro datos de ninguna cuenta "
        "antes de esa verificación, y nunca le pediré su clave. Mientras tanto, su "
        "distribuidor o su asesor pueden darle esa información."
    )
    return Outcome((Reply(text, (HANDOFF_OPTION,)),), source=f"account.{kind}", confidence=confidence)


KINDS = frozenset(_TOPIC)
