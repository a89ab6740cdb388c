"""Dispatching what a message means to the handler or flow that answers it.

The meaning comes from `bot.understanding.understand` (content apart from greetings and filler,
follow-ups and references resolved against the conversation's short memory, actions in natural
words); the router only decides *who* answers, in this order: a conversation handed to a person
(the bot stays quiet while an advisor owns it) -> a request for a person -> a dialogue in
progress (a clear new question is answered and the customer is told whether the dialogue
goes on) -> unreadable input -> a tapped option -> the reading's interpretations (up to two).
The second "I don't know" in a row offers a person (never forces one). After every message
the memory (topic, options shown) is stored with the dialogue state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.context import GUAYAQUIL, Knowledge, Turn
from bot.domain.calendar import OfficeHours
from bot.flows import Step, cancel_plan, clarify, link_account, paid_consent, report_payment, training_pick
from bot.flows import handoff as handoff_flow
from bot.handlers import (
    account,
    answer,
    bad_input,
    cancellation,
    fallback,
    followup,
    handoff,
    office_hours,
    payment,
    smalltalk,
    trainings,
)
from bot.handlers.common import HANDOFF_OPTION, TOPIC_OPTIONS
from bot.messages import FlowState, Outcome, Reply
from bot.understanding import Interpretation, Memory, Reading, understand
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
    def __init__(self, knowledge: Knowledge, max_chars: int, office: OfficeHours | None = None) -> None:
        self.knowledge = knowledge
        self.max_chars = max_chars
        self.office = office or OfficeHours(dt.time(8, 30), dt.time(17, 30), frozenset(range(5)), GUAYAQUIL)
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

    async def decide(self, turn: Turn, stored: FlowState | None) -> Step:
        memory = Memory.from_json(stored.memory) if stored is not None else Memory()
        state = FlowState(stored.flow, stored.data) if stored is not None and stored.flow else None
        reading = understand(turn.text, memory, self.knowledge, turn.today)
        step = await self._route(turn, state, reading, memory)
        return _remember(self.knowledge, step, memory)

    async def _route(self, turn: Turn, state: FlowState | None, reading: Reading, memory: Memory) -> Step:
        if state is not None and state.flow in (handoff_flow.NAME, paid_consent.NAME):
            step = await self._in_queue(turn, state, reading)
            if step is not None:
                return step
            state = None
        if fold(turn.text) in self._person_phrases or (reading.person and not reading.tap):
            # "Hablar con un asesor" (or any way of asking for a person) leaves any dialogue
            reason = str(state.data.get("reason", "flow")) if state and state.flow in _PERSON_FLOWS else "request"
            question = str(state.data.get("question", turn.text)) if state else turn.text
            return await handoff.handle(turn, self.knowledge, 1.0, reason=reason, question=question)
        misses = int(state.data.get("misses", 0)) if state is not None and state.flow == OFFER else 0
        if state is not None and state.flow == OFFER:
            state = None
        step = await self._decide(turn, state, reading)
        return _offer_person_after_misses(turn, step, misses)

    async def _in_queue(self, turn: Turn, state: FlowState, reading: Reading) -> Step | None:
        """Waiting for an advisor (or for the paid-support yes): leaving works in a sentence, and
        a clear question is answered while the customer keeps their place."""
        if state.flow == handoff_flow.NAME and state.data.get("status") == "active":
            return await _RESUMABLE[state.flow](turn, self.knowledge, state.data)
        text = turn.text
        if reading.leave and not reading.yes:
            text = handoff_flow.LEAVE_OPTION if state.flow == handoff_flow.NAME else paid_consent.DECLINE_OPTION
        elif reading.yes and state.flow == paid_consent.NAME:
            text = paid_consent.ACCEPT_OPTION
        elif reading.tap is not None:
            text = reading.tap
        step = await _RESUMABLE[state.flow](replace(turn, text=text), self.knowledge, state.data)
        if step is None:
            return None
        waiting = step.outcome.source in ("handoff.waiting", "handoff.price")
        if waiting and _is_question(turn.text) and _clear(reading, self.knowledge):
            # The place in the queue first, then the answer ("es sobre la firma" is for the advisor).
            answered = await self._interpretations(turn, reading)
            if not answered.outcome.fallback and answered.state is None:
                return Step(_joined(step.outcome, answered.outcome), step.state)
        if step.state is None and reading.leave and _clear(reading, self.knowledge):
            answered = await self._interpretations(turn, reading)  # "ya no quiero esperar, ¿cómo pago?"
            return Step(_joined(step.outcome, answered.outcome), answered.state)
        return step

    async def _decide(self, turn: Turn, state: FlowState | None, reading: Reading) -> Step:
        unreadable = bad_input.check(turn.text, self.max_chars)
        if state is not None:
            left = await self._leave(turn, state, reading)
            if left is not None:
                return left
            resume = _RESUMABLE.get(state.flow)
            flow_turn = replace(turn, text=_flow_text(reading, turn.text))
            step = await resume(flow_turn, self.knowledge, state.data) if resume else None
            if step is not None:
                if _stalled(state, step) and _worded(turn.text) and _clear(reading, self.knowledge):
                    return await self._answer_inside(turn, state, step, reading)
                return await self._continue_after_link(turn, step)
            if reading.tap is not None:  # an option of the list, chosen by its number or in words
                return await self._understood(turn, reading)
            if unreadable is not None:  # a stray emoji does not abandon the dialogue
                return Step(unreadable, state)
            if state.flow in _CHOOSING and reading.first is not None and reading.first.kind in _ASIDES:
                # «¿de qué tema es?» about the list just shown: answer, the list stays open
                aside = await self._interpretations(turn, reading)
                if aside.state is None:
                    return Step(aside.outcome, state)
            if state.flow in _TOLD_WHEN_LEFT and unreadable is None:
                answered = await self._understood(turn, reading)
                note = Reply(f"(Dejé {_TOLD_WHEN_LEFT[state.flow]}; si la necesita, pídamela otra vez.)")
                if answered.state is None or answered.state.flow != state.flow:
                    outcome = answered.outcome
                    return Step(replace(outcome, replies=(*outcome.replies, note)), answered.state)
                return answered
        if turn.attachments and not turn.text.strip():
            text = (
                "Recibí su archivo, pero no estoy esperando ninguno. Si es el comprobante de un pago, "
                "escriba «reportar un pago» y se lo pediré en el paso correspondiente."
            )
            return Step(Outcome((Reply(text),), fallback=True, source="input.unexpected_file"), state)
        if unreadable is not None:
            return Step(unreadable, None)
        return await self._understood(turn, reading)

    async def _leave(self, turn: Turn, state: FlowState, reading: Reading) -> Step | None:
        """ "mejor no", "olvídalo", "ya no quiero" leave a dialogue; a question after it is answered."""
        if not reading.leave or reading.yes or state.flow in (clarify.NAME, training_pick.NAME, training_pick.WITHDRAW):
            return None
        if state.flow == cancel_plan.NAME:
            text = "Perfecto, su plan sigue igual; no cancelé nada."
        elif state.flow == report_payment.NAME:
            text = "Listo, no registré ningún pago."
        elif state.flow in (link_account.NAME, "linked"):
            text = "Entendido, dejamos la verificación aquí; no vinculé este chat."
        else:
            text = "De acuerdo, lo dejamos aquí."
        left = Outcome((Reply(text + " ¿En qué más le ayudo?"),), source="dialogue.left", confidence=1.0)
        if _clear(reading, self.knowledge):
            answered = await self._interpretations(turn, reading)
            return Step(_joined(Outcome((Reply(text),), source="dialogue.left"), answered.outcome), answered.state)
        return Step(left, None)

    async def _answer_inside(self, turn: Turn, state: FlowState, step: Step, reading: Reading) -> Step:
        """A clear question in the middle of a dialogue: answer it and keep the dialogue."""
        answered = await self._interpretations(turn, reading)
        if answered.state is not None or answered.outcome.fallback:
            return step
        waiting = _WAITING.get(state.flow, "su respuesta")
        note = Reply(
            f"Sigo esperando {waiting} para continuar; si prefiere dejarlo, escriba «cancelar».",
            step.outcome.replies[-1].options if step.outcome.replies else (),
        )
        return Step(replace(answered.outcome, replies=(*answered.outcome.replies, note)), state)

    async def _understood(self, turn: Turn, reading: Reading) -> Step:
        folded = fold(turn.text)
        if folded in self._phrases:  # before titles: an action beats the article about it
            intent = self._phrases[folded]
            return await self._dispatch(turn, Match(f"intent:{intent}", 1.0, 1.0, 1.0))
        if folded in self._titles:
            return Step(await answer.handle(turn, self.knowledge, self._titles[folded], 1.0), None)
        if reading.tap is not None:  # an option chosen in words ("la segunda", "la de nómina")
            tapped = fold(reading.tap)
            if tapped in self._phrases:
                return await self._dispatch(turn, Match(f"intent:{self._phrases[tapped]}", 1.0, 1.0, 1.0))
            if tapped in self._titles:
                return Step(await answer.handle(turn, self.knowledge, self._titles[tapped], 1.0), None)
            if tapped in self._person_phrases:
                return await handoff.handle(turn, self.knowledge, 1.0, reason="request", question=turn.text)
            again = understand(reading.tap, Memory(), self.knowledge, turn.today)
            return await self._interpretations(replace(turn, text=reading.tap), again)
        return await self._interpretations(turn, reading)

    async def _interpretations(self, turn: Turn, reading: Reading) -> Step:
        """Answer what the reading found: up to two questions, or the greeting/thanks alone."""
        found = reading.interpretations
        weak = not found or all(i.kind in ("fallback", "clarify") or i.hedged for i in found)
        if weak and reading.social is not None and (not found or reading.social != "greeting" or not reading.content):
            return Step(smalltalk.handle(reading.social, 1.0), None)
        if not found:
            if "venting" in reading.roles:
                return Step(smalltalk.handle("venting", 1.0), None)
            if reading.leave or reading.no:
                return Step(smalltalk.handle("leave", 1.0), None)
            if reading.yes:
                return Step(smalltalk.handle("thanks", 1.0), None)
            return Step(fallback.handle(0.0), None)
        steps = [await self._one(turn, i) for i in found[:2]]
        if len(steps) == 1 or steps[0].state is not None:
            return steps[0]
        first, second = steps
        outcome = _joined(first.outcome, second.outcome)
        return Step(replace(outcome, fallback=first.outcome.fallback and second.outcome.fallback), second.state)

    async def _one(self, turn: Turn, found: Interpretation) -> Step:
        knowledge = self.knowledge
        if found.kind == "answer":
            if trainings.asks_for_a_day(found.target, turn):  # «capacitaciones del martes»: the list
                return await self._dispatch(turn, Match("intent:training.list", found.confidence, 1.0, 1.0))
            outcome = await answer.handle(turn, knowledge, found.target, found.confidence)
            if found.hedged:
                first = outcome.replies[0]
                hedge = f"Entiendo que pregunta por «{knowledge.title_of(found.target)}». "
                outcome = replace(outcome, replies=(replace(first, text=hedge + first.text), *outcome.replies[1:]))
            return Step(outcome, None)
        if found.kind == "intent":
            if found.target == "training.list" or trainings.asks_for_a_day(f"intent:{found.target}", turn):
                return await self._dispatch(turn, Match("intent:training.list", found.confidence, 1.0, 1.0))
            return await self._dispatch(turn, Match(f"intent:{found.target}", found.confidence, 1.0, 1.0))
        if found.kind == "facet":
            article_id, _, name = found.target.partition(":")
            return Step(followup.facet(knowledge, article_id, name, found.confidence), None)
        if found.kind == "decline":
            article_id, _, name = found.target.partition(":")
            return Step(followup.decline(knowledge, article_id, name), None)
        if found.kind == "session":
            session_id = found.candidates[0] if found.candidates else ""
            about = await followup.session(turn, session_id, found.target) if session_id else None
            if about is not None:
                return Step(about, None)
            return Step(followup.facet(knowledge, "capacitaciones", "time", 1.0), None)
        if found.kind == "office_hours":
            return Step(office_hours.handle(turn, self.office), None)
        if found.kind == "clarify":
            return clarify.start(turn, knowledge, list(found.candidates), found.confidence, ambiguous=True)
        if len(fold(turn.text).split()) <= 4 and answer.leading_greeting(turn.text, knowledge):
            return Step(smalltalk.handle("greeting", 1.0), None)  # "buenas noches señores"
        return Step(fallback.handle(found.confidence), None)

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


# Dialogues the customer is told about when a new question makes them give way.
_TOLD_WHEN_LEFT = {
    link_account.NAME: "pendiente la verificación de su empresa",
    report_payment.NAME: "sin registrar el reporte de pago",
    cancel_plan.NAME: "sin cancelar su plan",
}
_WAITING = {
    link_account.NAME: "el RUC o el código de verificación",
    report_payment.NAME: "el dato del pago que le pedí",
    cancel_plan.NAME: "su confirmación",
}
_UNDERSTOOD_BY_FLOW = frozenset({"link.why"})  # the dialogue answered the message itself
_CHOOSING = frozenset({clarify.NAME, training_pick.NAME, training_pick.WITHDRAW})
_ASIDES = frozenset({"facet", "session", "office_hours"})
_AFFIRMATIVE = (HANDOFF_OPTION, paid_consent.ACCEPT_OPTION, cancel_plan.CONFIRM)


def _flow_text(reading: Reading, text: str) -> str:
    """What a waiting dialogue is given: the option meant in words, "si" for any yes-word."""
    if reading.tap is not None:
        return reading.tap
    if reading.yes:
        return "si"
    return text


def _stalled(state: FlowState, step: Step) -> bool:
    """The dialogue did not move: it asked the same thing again."""
    if step.outcome.source in _UNDERSTOOD_BY_FLOW:
        return False
    return step.state is not None and step.state.flow == state.flow and step.state.data == state.data


_ASKING = (
    "que ",
    "q ",
    "como ",
    "cuando ",
    "donde ",
    "cual ",
    "cuanto ",
    "cuanta ",
    "quien ",
    "hay ",
    "puedo ",
    "se puede ",
)


def _is_question(text: str) -> bool:
    """A question, not a statement for the advisor ("es sobre la firma electrónica")."""
    return "?" in text or f"{fold(text)} ".startswith(_ASKING)


def _worded(text: str) -> bool:
    """A sentence, not the number or code a dialogue is waiting for."""
    return len([w for w in fold(text).split() if w.isalpha()]) >= 2


def _clear(reading: Reading, knowledge: Knowledge) -> bool:
    """The message asks something the bot can answer without guessing."""
    first = reading.first
    if first is None or first.hedged:
        return False
    if first.kind in ("facet", "office_hours", "session"):
        return True
    return first.kind == "answer" and first.confidence >= knowledge.retriever.thresholds.answer


def _joined(first: Outcome, second: Outcome) -> Outcome:
    return replace(second, replies=(*first.replies, *second.replies))


def _remember(knowledge: Knowledge, step: Step, memory: Memory) -> Step:
    """Store what the next message may refer to with the dialogue state."""
    outcome = step.outcome
    topic, session = memory.topic, memory.session
    source = outcome.source or ""
    if source in {a.id for a in knowledge.pack.articles}:
        topic = source
        if source != "capacitaciones":
            session = None
    elif source.startswith("training."):
        topic = "capacitaciones"
    if isinstance(outcome.meta.get("session"), str):
        session = str(outcome.meta["session"])
    shown = next((r for r in reversed(outcome.replies) if r.options), None)
    options = shown.options if shown is not None else ()
    yes = None
    asks = shown is not None and "¿" in shown.text and source != clarify.NAME
    if asks and (
        options[0] in _AFFIRMATIVE or (len(options) == 1 and options[0].startswith(training_pick.SIGN_PREFIX))
    ):
        yes = options[0]
    if not options and (not outcome.replies or (step.state is not None and step.state.flow in _CHOOSING)):
        options = memory.options  # quiet bot, or an aside while a list is open: it still counts
    remembered = Memory(topic, options, yes, session).to_json()
    if step.state is None:
        return Step(outcome, FlowState("", {}, remembered) if remembered else None)
    return Step(outcome, FlowState(step.state.flow, step.state.data, remembered))


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
