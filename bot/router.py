"""Deciding what a message means and which handler or flow answers it.

Order: a conversation handed to a person (the bot stays quiet while an advisor owns it) ->
an explicit request for a person -> a dialogue in progress (it may give way) -> unreadable
input -> a tapped option (an exact article title) -> retrieval over articles and intents,
with the calibrated thresholds deciding between an answer, a clarification and a plain
"I don't know". The second "I don't know" in a row offers a person (never forces one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.context import Knowledge, Turn
from bot.flows import Step, cancel_plan, clarify, link_account, paid_consent, report_payment, training_pick
from bot.flows import handoff as handoff_flow
from bot.handlers import account, answer, bad_input, cancellation, fallback, handoff, payment, smalltalk, trainings
from bot.handlers.common import HANDOFF_OPTION, TOPIC_OPTIONS
from bot.messages import FlowState, Outcome, Reply
from knowledge.retrieval import Match
from knowledge.text import fold

Resume = Callable[[Turn, Knowledge, dict[str, object]], Awaitable[Step | None]]


async def _resume_clarify(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    return clarify.resume(turn, knowledge, data)


async def _resume_link(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    return await link_account.resume(turn, data)


async def _resume_payment(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    return await report_payment.resume(turn, data)


async def _resume_cancel(turn: Turn, knowledge: Knowledge, data: dict[str, object]) -> Step | None:
    return await cancel_plan.resume(turn, data)


_RESUMABLE: dict[str, Resume] = {
    clarify.NAME: _resume_clarify,
    link_account.NAME: _resume_link,
    report_payment.NAME: _resume_payment,
    cancel_plan.NAME: _resume_cancel,
    handoff_flow.NAME: lambda turn, knowledge, data: handoff_flow.resume(turn, data),
    paid_consent.NAME: paid_consent.resume,
    training_pick.NAME: lambda turn, knowledge, data: training_pick.resume(turn, data),
    training_pick.WITHDRAW: lambda turn, knowledge, data: training_pick.resume_withdraw(turn, data),
}
# After the bot could not help (or a flow hit something only a person can fix) the next
# message remembers it: a second miss offers a person, and a handoff says why it happened.
OFFER = "offer"
_PERSON_FLOWS = frozenset({link_account.NAME, report_payment.NAME, cancel_plan.NAME, OFFER})
_INTENT_FAMILIES = {
    "smalltalk": smalltalk.KINDS,
    "account": account.KINDS,
    "handoff": frozenset({"request"}),
    "payment": frozenset({"report"}),
    "plan": frozenset({"cancel"}),
    "training": trainings.KINDS,
}


class Router:
    def __init__(self, knowledge: Knowledge, max_chars: int) -> None:
        self.knowledge = knowledge
        self.max_chars = max_chars
        self._titles = {fold(a.title): a.id for a in knowledge.pack.articles}
        # An exact intent phrase (often a tapped option: "Mis facturas") needs no guessing.
        self._phrases = {fold(p): intent for intent, phrases in knowledge.pack.intents.items() for p in phrases}
        self._person_phrases = {fold(HANDOFF_OPTION)} | {
            fold(p) for p in knowledge.pack.intents.get("handoff.request", ())
        }
        for intent in knowledge.pack.intents:
            family, _, kind = intent.partition(".")
            if kind not in _INTENT_FAMILIES.get(family, frozenset()):
                raise LookupError(f"intent {intent!r} in the pack has no handler in bot/handlers")

    async def decide(self, turn: Turn, state: FlowState | None) -> Step:
        if state is not None and state.flow in (handoff_flow.NAME, paid_consent.NAME):
            step = await _RESUMABLE[state.flow](turn, self.knowledge, state.data)
            if step is not None:
                return step
            state = None
        if fold(turn.text) in self._person_phrases:  # "Hablar con un asesor" leaves any dialogue
            reason = str(state.data.get("reason", "flow")) if state and state.flow in _PERSON_FLOWS else "request"
            question = str(state.data.get("question", turn.text)) if state else turn.text
            return await handoff.handle(turn, self.knowledge, 1.0, reason=reason, question=question)
        misses = int(state.data.get("misses", 0)) if state is not None and state.flow == OFFER else 0
        if state is not None and state.flow == OFFER:
            state = None
        step = await self._decide(turn, state)
        return _offer_person_after_misses(turn, step, misses)

    async def _decide(self, turn: Turn, state: FlowState | None) -> Step:
        unreadable = bad_input.check(turn.text, self.max_chars)
        if state is not None:
            resume = _RESUMABLE.get(state.flow)
            step = await resume(turn, self.knowledge, state.data) if resume else None
            if step is not None:
                return await self._continue_after_link(turn, step)
            if unreadable is not None:  # a stray emoji does not abandon the dialogue
                return Step(unreadable, state)
        if turn.attachments and not turn.text.strip():
            text = (
                "Recibí su archivo, pero no estoy esperando ninguno. Si es el comprobante de un pago, "
                "escriba «reportar un pago» y se lo pediré en el paso correspondiente."
            )
            return Step(Outcome((Reply(text),), fallback=True, source="input.unexpected_file"), state)
        if unreadable is not None:
            return Step(unreadable, None)
        return await self._understand(turn)

    async def _understand(self, turn: Turn) -> Step:
        folded = fold(turn.text)
        if folded in self._phrases:  # before titles: an action beats the article about it
            intent = self._phrases[folded]
            return await self._dispatch(turn, Match(f"intent:{intent}", 1.0, 1.0, 1.0))
        if folded in self._titles:
            return Step(await answer.handle(turn, self.knowledge, self._titles[folded], 1.0), None)

        thresholds = self.knowledge.retriever.thresholds
        results = self.knowledge.retriever.search(turn.text, limit=5)
        best = results.best
        if best is None or best.score < thresholds.suggest:
            if len(folded.split()) <= 4 and answer.leading_greeting(turn.text, self.knowledge):
                return Step(smalltalk.handle("greeting", 1.0), None)  # "buenas noches señores"
            return Step(fallback.handle(best.score if best else 0.0), None)
        if trainings.asks_for_a_day(best.target, turn):  # «capacitaciones del martes»: the list, not the topic
            return await self._dispatch(turn, Match("intent:training.list", best.score, best.keywords, best.characters))
        ambiguous = results.is_ambiguous(thresholds.ambiguity_margin)
        if best.score >= thresholds.answer and not ambiguous:
            return await self._dispatch(turn, best)
        candidates = [m.target for m in results.matches if not m.is_intent and m.score >= thresholds.suggest]
        if not candidates:
            return Step(fallback.handle(best.score), None)
        confident = ambiguous and best.score >= thresholds.answer
        return clarify.start(turn, self.knowledge, candidates[:3], best.score, ambiguous=confident)

    async def _dispatch(self, turn: Turn, best: Match) -> Step:
        if not best.is_intent:
            return Step(await answer.handle(turn, self.knowledge, best.target, best.score), None)
        family, _, kind = best.intent.partition(".")
        if family == "smalltalk":
            return Step(smalltalk.handle(kind, best.score), None)
        if family == "account":
            return await account.handle(turn, self.knowledge, kind, best.score)
        if family == "payment":
            return await payment.handle(turn, self.knowledge, best.score)
        if family == "plan":
            return await cancellation.handle(turn, self.knowledge, best.score)
        if family == "training":
            return await trainings.handle(turn, self.knowledge, kind, best.score)
        return await handoff.handle(turn, self.knowledge, best.score, reason="request", question=turn.text)

    async def _continue_after_link(self, turn: Turn, step: Step) -> Step:
        """Right after linking, answer what the customer asked before being verified."""
        if step.state is None or step.state.flow != "linked":
            return step
        then = str(step.state.data.get("then", ""))
        account_view = await turn.accounts.linked(turn.conversation_id, turn.today)
        if account_view is None:
            return Step(step.outcome, None)
        family, _, kind = then.partition(".")
        if then == "payment.report":
            follow = report_payment.start(account_view)
        elif then == "plan.cancel":
            follow = cancel_plan.start(account_view)
        elif family == "account" and kind in account.KINDS - {"unlink"}:
            follow = Step(account.answer(kind, account_view, self.knowledge.pack.facts), None)
        else:
            return Step(step.outcome, None)
        replies = step.outcome.replies + follow.outcome.replies
        return Step(replace(follow.outcome, replies=replies), follow.state)


def _offer_person_after_misses(turn: Turn, step: Step, misses: int) -> Step:
    """Count the bot's plain "I don't know"s in a row; from the second one on, offer a person."""
    outcome = step.outcome
    if step.state is not None or not outcome.fallback or outcome.source is not None:
        return step
    misses += 1
    data = {"misses": misses, "reason": "fallback", "question": turn.text}
    if misses < 2:
        return Step(outcome, FlowState(OFFER, data))
    text = (
        "Disculpe, tampoco tengo una respuesta segura para esto. ¿Quiere que le comunique con un asesor? "
        "Una persona puede revisar su caso. Si prefiere, escriba su pregunta con otras palabras."
    )
    offer = Reply(text, (HANDOFF_OPTION, *TOPIC_OPTIONS[:2]))
    return Step(replace(outcome, replies=(offer,), source=None), FlowState(OFFER, data))
