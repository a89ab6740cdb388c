"""Deciding what a message means and which handler or flow answers it.

Order: unreadable input -> a dialogue in progress -> a tapped option (exact title) ->
retrieval over articles and intents, with the calibrated thresholds deciding between an
answer, a clarification and a plain "I don't know".
"""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.flows import Step, clarify
from bot.handlers import account, answer, bad_input, fallback, handoff, smalltalk
from bot.handlers.common import HANDOFF_OPTION
from bot.messages import FlowState, Outcome
from knowledge.retrieval import Match
from knowledge.text import fold

_RESUMABLE = {clarify.NAME: clarify.resume}


class Router:
    def __init__(self, knowledge: Knowledge, max_chars: int) -> None:
        self.knowledge = knowledge
        self.max_chars = max_chars
        self._titles = {fold(a.title): a.id for a in knowledge.pack.articles}
        for intent in knowledge.pack.intents:
            if not _has_handler(intent):
                raise LookupError(f"intent {intent!r} in the pack has no handler in bot/handlers")

    def decide(self, turn: Turn, state: FlowState | None) -> Step:
        unreadable = bad_input.check(turn.text, self.max_chars)
        if state is not None:
            resume = _RESUMABLE.get(state.flow)
            step = resume(turn, self.knowledge, state.data) if resume else None
            if step is not None:
                return step
            if unreadable is not None:  # a stray emoji does not abandon the dialogue
                return Step(unreadable, state)
        if unreadable is not None:
            return Step(unreadable, None)
        return Step(*self._understand(turn))

    def _understand(self, turn: Turn) -> tuple[Outcome, FlowState | None]:
        folded = fold(turn.text)
        if folded in self._titles:
            return answer.handle(turn, self.knowledge, self._titles[folded], 1.0), None
        if folded == fold(HANDOFF_OPTION):
            return handoff.handle(1.0), None

        thresholds = self.knowledge.retriever.thresholds
        results = self.knowledge.retriever.search(turn.text, limit=5)
        best = results.best
        if best is None or best.score < thresholds.suggest:
            return fallback.handle(best.score if best else 0.0), None
        ambiguous = results.is_ambiguous(thresholds.ambiguity_margin)
        if best.score >= thresholds.answer and not ambiguous:
            return self._dispatch(turn, best), None
        candidates = [m.target for m in results.matches if not m.is_intent and m.score >= thresholds.suggest]
        if not candidates:
            return fallback.handle(best.score), None
        confident = ambiguous and best.score >= thresholds.answer
        step = clarify.start(turn, self.knowledge, candidates[:3], best.score, ambiguous=confident)
        return step.outcome, step.state

    def _dispatch(self, turn: Turn, best: Match) -> Outcome:
        if not best.is_intent:
            return answer.handle(turn, self.knowledge, best.target, best.score)
        family, _, kind = best.intent.partition(".")
        if family == "smalltalk":
            return smalltalk.handle(kind, best.score)
        if family == "account":
            return account.handle(kind, best.score)
        return handoff.handle(best.score)


def _has_handler(intent: str) -> bool:
    family, _, kind = intent.partition(".")
    return (
        (family == "smalltalk" and kind in smalltalk.KINDS)
        or (family == "account" and kind in account.KINDS)
        or family == "handoff"
    )
