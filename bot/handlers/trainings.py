"""The free Zoom trainings in the chat: which sessions there are (today, tomorrow, this week,
on Thursday...), mine, and cancelling a sign-up. Signing up is `flows.training_pick`."""

from __future__ import annotations

import datetime as dt

from bot import format as fmt
from bot.context import Knowledge, Turn
from bot.domain.parsing import ParseError, Period, parse_period
from bot.flows import Step, training_pick
from bot.flows.training_pick import upcoming
from bot.messages import Outcome, Reply
from bot.trainings import Offer
from knowledge.text import fold

KINDS = frozenset({"list", "mine", "cancel"})
LIST_OPTION = "Capacitaciones de esta semana"
MAX_LISTED = 10
NEXT_ONES = 5  # after "none that day": the nearest few are enough
LOOKAHEAD_DAYS = 14  # "the next ones" after an empty day


ABOUT_TRAININGS = frozenset({"capacitaciones", "intent:training.list", "intent:training.mine"})


def asks_for_a_day(target: str, turn: Turn) -> bool:
    """«¿qué capacitación hay el 4/12?» may find the general article (or "my trainings"); a
    question about trainings that names a day wants that day's sessions."""
    if target not in ABOUT_TRAININGS:
        return False
    try:
        return parse_period(turn.text, turn.today) is not None
    except ParseError:
        return True  # an impossible date: the list handler explains it


def about_topic(text: str, offers: list[Offer]) -> list[Offer]:
    """The sessions whose topic the customer named («la de nómina»), or all of them."""
    words = set(fold(text).split())
    named = {
        o.session.topic
        for o in offers
        if any(w in words for w in fold(o.session.topic).split() if len(w) > 3 and w not in _GENERIC)
    }
    return [o for o in offers if o.session.topic in named] or offers


_GENERIC = frozenset({"perseo", "pasos"})


def _line(offer: Offer) -> str:
    session = offer.session
    text = f"• {fmt.session_when(session.start, session.end)} · {session.topic}"
    if offer.signed_up:
        return text + " (ya está inscrito)"
    if offer.seats_left == 0:
        return text + " (sin cupos)"
    if offer.seats_left is not None and offer.seats_left <= 10:
        return text + f" (quedan {offer.seats_left} cupos)"
    return text


def _outcome(text: str, source: str, options: tuple[str, ...] = ()) -> Outcome:
    return Outcome((Reply(text, options),), source=source, confidence=1.0)


async def handle(turn: Turn, knowledge: Knowledge, kind: str, confidence: float) -> Step:
    if kind == "mine":
        return await mine(turn)
    if kind == "cancel":
        return await cancel(turn)
    return await listing(turn)


async def listing(turn: Turn) -> Step:
    try:
        period = parse_period(turn.text, turn.today)
    except ParseError as exc:
        return Step(_outcome(f"{exc} Por ejemplo: «capacitaciones del jueves» o «del 4/12».", "training.list"), None)
    if period is None:
        period = Period(turn.today, turn.today + dt.timedelta(days=6), "en los próximos días")
    label = period.label or f"el {fmt.weekday_date(period.first)}"
    if period.last < turn.today:
        nearest = await upcoming(turn, turn.today, turn.today + dt.timedelta(days=LOOKAHEAD_DAYS))
        return _list(turn, nearest, f"{label.capitalize()} ya pasó. Estas son las próximas capacitaciones:", NEXT_ONES)
    offers = about_topic(turn.text, await upcoming(turn, max(period.first, turn.today), period.last))
    if offers:
        return _list(turn, offers, f"Capacitaciones gratuitas por Zoom {label}:")
    later = await upcoming(turn, period.last + dt.timedelta(days=1), period.last + dt.timedelta(days=LOOKAHEAD_DAYS))
    gone = period.first <= turn.today and await turn.trainings.between(turn.conversation_id, turn.today, turn.today)
    opening = f"{label.capitalize()} no hay capacitaciones" + (" pendientes: las de hoy ya empezaron" if gone else "")
    return _list(turn, later, f"{opening}. Las próximas son:", NEXT_ONES)


def _list(turn: Turn, offers: list[Offer], heading: str, limit: int = MAX_LISTED) -> Step:
    if not offers:
        text = heading.rsplit(".", 1)[0] + ". No hay sesiones programadas en las próximas dos semanas."
        return Step(_outcome(text, "training.list"), None)
    shown = offers[:limit]
    lines = [heading, *(_line(o) for o in shown)]
    if len(offers) > len(shown):
        lines.append("Pregunte por un día o por la próxima semana para ver más.")
    if not turn.trainings.can_sign_up:
        lines.append("Para inscribirse, escríbanos por el chat de la página, WhatsApp o Telegram.")
        return Step(_outcome("\n".join(lines), "training.list"), None)
    choosable = [o for o in shown if not o.signed_up and o.seats_left != 0]
    if not choosable:
        return Step(_outcome("\n".join(lines), "training.list"), None)
    lines.append("Elija una para inscribirse (es gratis); le enviaré el enlace y un recordatorio.")
    return training_pick.offer(_outcome("\n".join(lines), "training.list"), choosable)


async def mine(turn: Turn) -> Step:
    offers = await turn.trainings.mine(turn.conversation_id, turn.now)
    if not offers:
        text = "No tiene inscripciones en capacitaciones próximas desde este chat."
        return Step(_outcome(text, "training.mine", (LIST_OPTION,)), None)
    lines = ["Está inscrito en:", *(_line(o).replace(" (ya está inscrito)", "") for o in offers)]
    first = offers[0].session.zoom
    lines.append(
        f"Enlace de Zoom: {first.join_url} (ID {first.meeting_id}, código {first.passcode or 'no hace falta'})."
    )
    return Step(_outcome("\n".join(lines), "training.mine"), None)


async def cancel(turn: Turn) -> Step:
    offers = await turn.trainings.mine(turn.conversation_id, turn.now)
    if not offers:
        return Step(_outcome("No tiene inscripciones próximas que cancelar.", "training.cancel", (LIST_OPTION,)), None)
    if len(offers) == 1:
        return await training_pick.withdraw(turn, offers[0].session.id)
    return training_pick.choose_withdrawal(offers)
