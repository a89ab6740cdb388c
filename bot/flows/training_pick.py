"""Signing up for a training (and withdrawing) by tapping an option or typing its number.

The options shown are stored with the conversation, so the choice works on any replica and
after a restart. Anything else the customer writes is a new question: the flow gives way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from bot import format as fmt
from bot.context import Turn
from bot.domain.trainings import Session
from bot.flows import Step
from bot.messages import FlowState, Outcome, Reply
from bot.trainings import Offer, SignUp
from knowledge.text import fold

NAME = "training_pick"
WITHDRAW = "training_withdraw"
MAX_OPTIONS = 6
SIGN_PREFIX = "Inscribirme: "
WITHDRAW_PREFIX = "Cancelar inscripción: "
_DAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")


def short(session: Session) -> str:
    """'jue 4/12 15:00 · Facturación electrónica': fits a button."""
    start = session.start
    return f"{_DAYS[start.weekday()]} {start.day}/{start.month} {start:%H:%M} · {session.topic}"


def _says(session: Session) -> str:
    return f"«{session.topic}», {fmt.session_when(session.start, session.end)}"


def _outcome(text: str, source: str, options: tuple[str, ...] = ()) -> Outcome:
    return Outcome((Reply(text, options),), source=source, confidence=1.0)


def offer(outcome: Outcome, offers: list[Offer]) -> Step:
    chosen = offers[:MAX_OPTIONS]
    options = tuple(SIGN_PREFIX + short(o.session) for o in chosen)
    first = outcome.replies[0]
    with_options = replace(outcome, replies=(Reply(first.text, options), *outcome.replies[1:]))
    if len(chosen) == 1:  # one session shown: "¿de qué tema es?", "¿a qué hora?" are about it
        with_options = replace(with_options, meta={**with_options.meta, "session": chosen[0].session.id})
    return Step(with_options, FlowState(NAME, {"ids": [o.session.id for o in chosen], "options": list(options)}))


def _picked(text: str, data: dict[str, object], prefix: str) -> str | None:
    stored_ids, stored_options = data.get("ids"), data.get("options")
    ids = [str(i) for i in stored_ids] if isinstance(stored_ids, list) else []
    options = [str(o) for o in stored_options] if isinstance(stored_options, list) else []
    choice = fold(text).strip(" .")
    if choice.isdigit() and 1 <= int(choice) <= len(ids):
        return ids[int(choice) - 1]
    for session_id, option in zip(ids, options, strict=False):
        if choice in (fold(option), fold(option.removeprefix(prefix))):
            return session_id
    return None


async def resume(turn: Turn, data: dict[str, object]) -> Step | None:
    session_id = _picked(turn.text, data, SIGN_PREFIX)
    return None if session_id is None else await sign_up(turn, session_id)


async def resume_withdraw(turn: Turn, data: dict[str, object]) -> Step | None:
    session_id = _picked(turn.text, data, WITHDRAW_PREFIX)
    return None if session_id is None else await withdraw(turn, session_id)


async def upcoming(turn: Turn, first: dt.date, last: dt.date) -> list[Offer]:
    offers = await turn.trainings.between(turn.conversation_id, first, last)
    return [o for o in offers if o.session.start > turn.now]


async def sign_up(turn: Turn, session_id: str) -> Step:
    result = await turn.trainings.sign_up(turn.conversation_id, session_id, turn.now)
    found = await turn.trainings.offer(turn.conversation_id, session_id)
    if result == SignUp.UNKNOWN or found is None:
        text = "No encuentro esa capacitación. Escriba «capacitaciones de esta semana» para ver las próximas."
        return Step(_outcome(text, "training.unknown"), None)
    session = found.session
    zoom = f"Ingrese por Zoom: {session.zoom.join_url} (ID de reunión {session.zoom.meeting_id}, código " + (
        f"{session.zoom.passcode})." if session.zoom.passcode else "no hace falta)."
    )
    if result == SignUp.SIGNED:
        minutes = turn.trainings.reminder_minutes
        when = " y ".join(str(m) for m in minutes)
        remind = f" Le recordaré por este chat {when} minutos antes." if minutes else ""
        signed = _outcome(f"¡Listo! Quedó inscrito en {_says(session)}. {zoom}{remind}", "training.signed")
        return Step(replace(signed, meta={"session": session.id}), None)
    if result == SignUp.ALREADY:
        text = f"Ya está inscrito en {_says(session)}; no hace falta inscribirse otra vez. {zoom}"
        return Step(replace(_outcome(text, "training.already"), meta={"session": session.id}), None)
    reason = {
        SignUp.FULL: f"La sesión {_says(session)} ya no tiene cupos.",
        SignUp.STARTED: f"La sesión {_says(session)} ya empezó.",
        SignUp.CANCELLED: f"La sesión {_says(session)} fue cancelada.",
    }[result]
    return await _next_of_topic(turn, session, reason)


async def _next_of_topic(turn: Turn, session: Session, reason: str) -> Step:
    later = await upcoming(turn, turn.today, turn.today + dt.timedelta(days=60))
    same = [o for o in later if o.session.topic == session.topic and o.session.id != session.id]
    free = [o for o in same if o.seats_left != 0 and not o.signed_up]
    if not free:
        text = f"{reason} Escriba «capacitaciones de esta semana» para ver otras fechas."
        return Step(_outcome(text, "training.unavailable"), None)
    following = free[0].session
    when = fmt.session_when(following.start, following.end)
    text = f"{reason} La próxima de «{following.topic}» es el {when}. ¿Le inscribo?"
    return offer(_outcome(text, "training.unavailable"), free[:1])


def choose_withdrawal(offers: list[Offer]) -> Step:
    chosen = offers[:MAX_OPTIONS]
    options = tuple(WITHDRAW_PREFIX + short(o.session) for o in chosen)
    text = "Está inscrito en varias capacitaciones. ¿Cuál quiere cancelar?"
    state = FlowState(WITHDRAW, {"ids": [o.session.id for o in chosen], "options": list(options)})
    return Step(_outcome(text, "training.cancel", options), state)


async def withdraw(turn: Turn, session_id: str) -> Step:
    found = await turn.trainings.offer(turn.conversation_id, session_id)
    if not await turn.trainings.cancel_sign_up(turn.conversation_id, session_id, turn.now) or found is None:
        return Step(
            _outcome("No estaba inscrito en esa capacitación; no hay nada que cancelar.", "training.cancel"), None
        )
    text = f"Listo, cancelé su inscripción a {_says(found.session)}. No le enviaré recordatorios de esa sesión."
    return Step(_outcome(text, "training.cancelled"), None)
