"""Answer a question with the article retrieval found."""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.messages import Outcome, Reply
from knowledge.text import fold


def handle(turn: Turn, knowledge: Knowledge, article_id: str, confidence: float) -> Outcome:
    article = knowledge.pack.article(article_id)
    text = article.body
    greeting = _leading_greeting(turn.text, knowledge)
    if greeting:
        text = f"¡Hola! {text}"
    return Outcome((Reply(text),), source=article.id, confidence=confidence)


def _leading_greeting(text: str, knowledge: Knowledge) -> bool:
    """'Buenas, es mi primer ingreso...' gets a greeting back before the answer."""
    folded = fold(text)
    greetings = knowledge.pack.intents.get("smalltalk.greeting", ())
    return any(folded.startswith(fold(g) + " ") for g in greetings if len(fold(g)) > 2)
