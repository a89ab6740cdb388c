"""Answer a question with the article retrieval found."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Knowledge, Turn
from bot.handlers import account
from bot.messages import Outcome, Reply
from knowledge.text import fold

# Articles after which a linked customer also sees their own situation, or can act at once.
PERSONAL = {
    "fecha-pago": "billing",
    "formas-pago": "billing",
    "facturacion-mensual": "billing",
    "suspension": "status",
    "acceso-fin-plan": "status",
    "horas-implementacion": "hours",
}
# Articles that lead to something the bot can do for anyone.
NEXT_STEPS = {"capacitaciones": ("Capacitaciones de esta semana",)}
ACTIONS = {"reportar-pago": "Reportar un pago ahora", "cancelacion": "Cancelar mi plan"}


async def handle(turn: Turn, knowledge: Knowledge, article_id: str, confidence: float) -> Outcome:
    outcome = article_outcome(turn, knowledge, article_id, confidence)
    if article_id not in PERSONAL and article_id not in ACTIONS:
        return outcome
    linked = await turn.accounts.linked(turn.conversation_id, turn.today)
    if linked is None:
        return outcome
    if article_id in ACTIONS:
        first = outcome.replies[0]
        return replace(outcome, replies=(Reply(first.text, (ACTIONS[article_id],)),))
    personal = account.answer(PERSONAL[article_id], linked, knowledge.pack.facts).replies
    return replace(outcome, replies=outcome.replies + personal)


def article_outcome(turn: Turn, knowledge: Knowledge, article_id: str, confidence: float) -> Outcome:
    article = knowledge.pack.article(article_id)
    text = article.body
    if leading_greeting(turn.text, knowledge):
        text = f"¡Hola! {text}"
    return Outcome((Reply(text, NEXT_STEPS.get(article.id, ())),), source=article.id, confidence=confidence)


def leading_greeting(text: str, knowledge: Knowledge) -> bool:
    """'Buenas, es mi primer ingreso...' gets a greeting back before the answer."""
    folded = fold(text)
    greetings = knowledge.pack.intents.get("smalltalk.greeting", ())
    return any(folded.startswith(fold(g) + " ") for g in greetings if len(fold(g)) > 2)
