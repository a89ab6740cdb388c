"""A conversation handed to a person: waiting in the queue, then owned by an advisor.

The state lives in the conversation row like every dialogue. The console changes it from
"waiting" to "active" when an advisor claims (and clears it on close) under the same row
lock a customer's turn takes, so the bot never answers in a conversation a person owns:
while "active" every message is stored for the advisor and the bot sends nothing.
"""

from __future__ import annotations

from bot import format as fmt
from bot.context import Turn
from bot.flows import Step
from bot.handoffs import PaidConsent, Ticket
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "handoff"
LEAVE_OPTION = "Salir de la fila"
LEAVE_WORDS = frozenset(
    fold(w)
    for w in (
        LEAVE_OPTION,
        "ya no",
        "ya no gracias",
        "ya no necesito",
        "ya no hace falta",
        "cancelar",
        "cancelar asesor",
        "salir",
        "no gracias",
        "olvidalo",
        "dejalo",
    )
)


def state(handoff_id: int, status: str, advisor: str | None = None) -> FlowState:
    data: dict[str, object] = {"id": handoff_id, "status": status}
    if advisor:
        data["advisor"] = advisor
    return FlowState(NAME, data)


def when_text(ticket: Ticket) -> str:
    if ticket.opens_at is None:
        return ""
    return (
        f" Nuestros asesores atienden {ticket.office_hours}, excepto feriados nacionales; le atenderán desde el "
        f"{fmt.weekday_date(ticket.opens_at.date())} a las {ticket.opens_at:%H:%M}."
    )


async def join(turn: Turn, *, reason: str, question: str, consent: PaidConsent | None = None, note: str = "") -> Step:
    ticket = await turn.handoffs.request(
        turn.conversation_id, turn.now, reason=reason, question=question, consent=consent
    )
    text = (
        f"Listo, le comunico con un asesor. Está en el puesto {ticket.position} de la fila.{when_text(ticket)}{note} "
        "Puede seguir escribiendo: el asesor leerá todos sus mensajes. Si ya no lo necesita, escriba «cancelar»."
    )
    outcome = Outcome((Reply(text, (LEAVE_OPTION,)),), source="handoff.queued", confidence=1.0)
    return Step(outcome, state(ticket.handoff_id, "waiting"))


async def resume(turn: Turn, data: dict[str, object]) -> Step | None:
    handoff_id = int(str(data.get("id", 0)))
    if data.get("status") == "active":
        # A person owns the conversation: the message is stored for them; the bot stays quiet.
        return Step(Outcome((), source="handoff.relay", confidence=1.0), FlowState(NAME, dict(data)))
    if fold(turn.text) in LEAVE_WORDS:
        await turn.handoffs.leave(handoff_id, turn.now)
        text = (
            "Listo, salió de la fila; ningún asesor le escribirá por esta consulta. Sigo aquí para ayudarle y, "
            "si luego prefiere a una persona, escriba «hablar con un asesor»."
        )
        return Step(Outcome((Reply(text),), source="handoff.left", confidence=1.0), None)
    ticket = await turn.handoffs.waiting(handoff_id, turn.now)
    if ticket is None:
        return None  # the handoff ended elsewhere: the bot answers again
    text = (
        f"Recibido: su mensaje quedará para el asesor. Sigue en el puesto {ticket.position} de la fila."
        f"{when_text(ticket)}"
    )
    outcome = Outcome((Reply(text, (LEAVE_OPTION,)),), source="handoff.waiting", confidence=1.0)
    return Step(outcome, FlowState(NAME, dict(data)))
