"""Follow-ups about the current topic ("¿y cuánto cuesta?", "¿y para cambiarla?", "¿a qué hora
era?"), answered from the topic's own facet (articles' `followups:`) or from the training
session the customer just signed up for. A facet the topic lacks is declined plainly, never
answered with another article's price."""

from __future__ import annotations

from bot import format as fmt
from bot.context import Knowledge, Turn
from bot.handlers.common import HANDOFF_OPTION
from bot.messages import Outcome, Reply

_WHAT = {"price": "un precio o costo", "time": "una fecha u hora", "who": "a quién dirigirse"}


def facet(knowledge: Knowledge, article_id: str, name: str, confidence: float) -> Outcome:
    text = knowledge.pack.article(article_id).followups[name]
    return Outcome((Reply(text),), source=article_id, confidence=confidence, meta={"facet": name})


def decline(knowledge: Knowledge, article_id: str, name: str) -> Outcome:
    title = knowledge.title_of(article_id)
    text = (
        f"Sobre «{title}» no tengo {_WHAT.get(name, 'ese dato')} que indicarle, y prefiero no darle uno que no "
        "corresponde. Si me dice a qué se refiere con otras palabras, le ayudo; también puede hablar con un asesor."
    )
    return Outcome((Reply(text, (HANDOFF_OPTION,)),), fallback=True, source="followup.decline", confidence=1.0)


async def session(turn: Turn, session_id: str, name: str) -> Outcome | None:
    """The time, link or place of the training session in memory (None if it is gone)."""
    found = await turn.trainings.offer(turn.conversation_id, session_id)
    if found is None:
        return None
    current = found.session
    when = fmt.session_when(current.start, current.end)
    zoom = current.zoom
    if name == "time":
        text = f"La capacitación «{current.topic}» es el {when} (hora de Ecuador), por Zoom."
    elif name == "topic":
        text = f"La capacitación del {when} es sobre «{current.topic}»."
    else:
        passcode = f", código {zoom.passcode}" if zoom.passcode else ""
        text = f"El enlace de Zoom de «{current.topic}» ({when}): {zoom.join_url} (ID {zoom.meeting_id}{passcode})."
    return Outcome((Reply(text),), source="training.session", confidence=1.0, meta={"session": current.id})
