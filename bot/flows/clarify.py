"""Clarification: when the best matches are plausible but not sure, offer them as options.

Step 1 (`start`): "¿Su consulta es sobre alguno de estos temas?" with up to three titles.
Step 2 (`resume`): a number ("2") or "ninguno" is read against the stored options; a tapped
title is answered by the router's title match; anything else is a new question.
"""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.flows import Step
from bot.handlers import answer
from bot.handlers.common import HANDOFF_OPTION
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "clarify"
_NONE_WORDS = frozenset({"ninguno", "ninguna", "nada", "ninguno de esos", "no", "otro", "otra cosa"})


def start(
    turn: Turn, knowledge: Knowledge, article_ids: list[str], confidence: float, *, ambiguous: bool = False
) -> Step:
    """`ambiguous`: the question is clear but short and fits several topics ("firma")."""
    titles = [knowledge.title_of(a) for a in article_ids]
    listing = "\n".join(f"{i}. {title}" for i, title in enumerate(titles, start=1))
    if ambiguous:
        opening = "Su consulta puede referirse a varios temas y prefiero no adivinar. ¿Cuál de estos le interesa?"
    else:
        opening = (
            "No estoy seguro de haberle entendido y prefiero no adivinar. ¿Su consulta es sobre alguno de estos temas?"
        )
    text = f"{opening}\n{listing}\nResponda con el número o el tema. Si no es ninguno, puede hablar con un asesor."
    outcome = Outcome(
        (Reply(text, (*titles, HANDOFF_OPTION)),),
        fallback=True,
        source=NAME,
        confidence=confidence,
        meta={"candidates": article_ids},
    )
    return Step(outcome, FlowState(NAME, {"options": article_ids}))


def resume(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    stored = data.get("options")
    options = [str(o) for o in stored] if isinstance(stored, list) else []
    choice = fold(turn.text)
    if choice.isdigit() and 1 <= int(choice) <= len(options):
        return Step(answer.article_outcome(turn, knowledge, options[int(choice) - 1], 1.0), None)
    if choice in _NONE_WORDS:  # none of these: offer a person, do not force one
        text = (
            "Entendido. ¿Quiere que le comunique con un asesor? También puede escribir su consulta con otras palabras."
        )
        outcome = Outcome((Reply(text, (HANDOFF_OPTION,)),), fallback=True, source="clarify.none", confidence=1.0)
        return Step(outcome, FlowState("offer", {"reason": "fallback", "misses": 1, "question": turn.text}))
    return None
