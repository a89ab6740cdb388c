"""Verified account linking: RUC -> a 6-digit code e-mailed to the address on file -> linked.

1. `start`: the customer asked something about their account; ask for the company's RUC.
2. step "ruc": check the digits (python-stdnum); start a verification. The reply is the same
   whether or not the RUC is a customer (a masked address is always shown).
3. step "code": check the code; once linked, answer what they asked in the first place.
Writing anything without digits leaves the dialogue: it is read as a new question.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.ec import ruc as ruc_number
from stdnum.exceptions import ValidationError

from bot.accounts import CodeCheck, Lock, VerificationStarted
from bot.context import Turn
from bot.flows import Step
from bot.format import weekday_date
from bot.handlers.common import HANDOFF_OPTION
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "link"
_DIGITS = re.compile(r"\d")
_PURPOSE = {
    "account.hours": "consultar sus horas de implementación",
    "account.billing": "consultar lo que debe y sus pagos",
    "account.invoices": "consultar sus facturas",
    "account.status": "consultar el estado de su sistema",
    "payment.report": "reportar un pago por este chat",
    "plan.cancel": "cancelar su plan por este chat",
}
_ASKS_WHY = re.compile(
    r"\b(para que|pa que|por que|porque|xq|para q|pa q|por q)\b.*\b(ruc|codigo|verific\w*|datos|correo)\b"
    r"|\b(ruc|codigo)\b.*\b(para que|por que|es seguro|seguro)\b"
)
WHY = (
    "Le pido el RUC para verificar que usted pertenece a la empresa antes de mostrarle datos de su cuenta: "
    "así protegemos su información. Le enviaremos un código de 6 dígitos al correo registrado de la empresa; "
    "nunca le pediré su clave. Escriba el RUC (13 dígitos) o «cancelar» si prefiere dejarlo."
)
CANCEL_WORDS = frozenset({"cancelar", "salir", "no", "dejalo", "olvidalo"})
RESEND_WORDS = frozenset({"reenviar", "otro codigo", "no me llego", "reenviame", "enviar de nuevo"})


def start(turn: Turn, then: str) -> Step:
    purpose = _PURPOSE.get(then, "consultar los datos de su cuenta")
    text = (
        f"Para {purpose} primero debo verificar que usted es de la empresa. Escriba el RUC de "
        "su empresa (13 dígitos). Le enviaremos un código al correo registrado; nunca le pediré su clave."
    )
    return Step(_outcome(text, "link.ruc"), FlowState(NAME, {"step": "ruc", "then": then}))


async def resume(turn: Turn, data: dict[str, object]) -> Step | None:
    text = turn.text.strip()
    lowered = text.lower()
    if lowered in CANCEL_WORDS:
        return Step(_outcome("Entendido, no vinculo este chat. ¿En qué más le ayudo?", "link.cancelled"), None)
    if data.get("step") == "code" and lowered in RESEND_WORDS:
        return await _send_code(turn, str(data["ruc"]), str(data.get("then", "")))
    if not _DIGITS.search(text):
        if _ASKS_WHY.search(fold(text)):  # «¿para qué quiere el RUC?»: explain, keep waiting
            return Step(_outcome(WHY, "link.why"), FlowState(NAME, dict(data)))
        return None  # a new question: the dialogue gives way
    digits = "".join(ch for ch in text if ch.isdigit())
    if data.get("step") == "code":
        return await _check_code(turn, data, digits)
    return await _check_ruc(turn, data, digits)


async def _check_ruc(turn: Turn, data: dict[str, object], digits: str) -> Step:
    state = FlowState(NAME, dict(data))
    if len(digits) == 10:
        text = "Eso parece un número de cédula (10 dígitos). Necesito el RUC de la empresa: 13 dígitos."
        return Step(_outcome(text, "link.ruc"), state)
    try:
        ruc = ruc_number.validate(digits)
    except ValidationError:
        reason = "debe tener 13 dígitos" if len(digits) != 13 else "el dígito verificador no coincide"
        text = f"El RUC {digits} no es válido ({reason}). Revíselo, por favor, y escríbalo otra vez."
        return Step(_outcome(text, "link.ruc"), state)
    return await _send_code(turn, ruc, str(data.get("then", "")))


async def _send_code(turn: Turn, ruc: str, then: str) -> Step:
    started = await turn.accounts.start_verification(turn.conversation_id, ruc, turn.now)
    if started.masked_email is None:
        return _refused(turn, started, ruc, then)
    text = (
        f"Si el RUC {ruc} está registrado con nosotros, enviamos un código de 6 dígitos a {started.masked_email}. "
        "Escríbalo aquí; vence en 10 minutos. Si no le llega, escriba «reenviar»."
    )
    return Step(_outcome(text, "link.code"), FlowState(NAME, {"step": "code", "ruc": ruc, "then": then}))


def _refused(turn: Turn, started: VerificationStarted, ruc: str, then: str) -> Step:
    """No code was sent: say why and from when the customer may try again."""
    until = _when(turn, started.locked_until)
    if started.lock == Lock.CODES:
        text = (
            "Ya enviamos varios códigos para ese RUC en poco tiempo y, para no llenar su correo, no envío otro "
            f"por ahora. Podrá pedir uno nuevo {until}."
        )
        if started.code_pending:  # the last one still works: let them type it
            text += " Si ya le llegó el último código, escríbalo aquí."
            return Step(_outcome(text, "link.code"), FlowState(NAME, {"step": "code", "ruc": ruc, "then": then}))
        return _needs_person(turn, text + " Si lo necesita antes, un asesor puede ayudarle.")
    if started.lock in (Lock.CHAT, Lock.GUESSES):
        text = (
            "Por seguridad, la verificación de ese RUC está bloqueada por demasiados códigos incorrectos. "
            f"Podrá intentarlo de nuevo {until}, o hablar con un asesor."
        )
        return _needs_person(turn, text)
    text = "La verificación de la cuenta no está disponible por este medio. Un asesor puede ayudarle."
    return _needs_person(turn, text)


async def _check_code(turn: Turn, data: dict[str, object], digits: str) -> Step:
    ruc, then = str(data.get("ruc", "")), str(data.get("then", ""))
    if len(digits) != 6:
        return Step(
            _outcome("El código tiene 6 dígitos. Escríbalo tal como llegó al correo.", "link.code"),
            FlowState(NAME, dict(data)),
        )
    result = await turn.accounts.check_code(turn.conversation_id, ruc, digits, turn.now)
    if result.outcome == CodeCheck.LINKED:
        return Step(
            _outcome(f"¡Listo! Este chat quedó vinculado a {(result.company or '').rstrip('.')}.", "link.done"),
            FlowState("linked", {"then": then}),
        )
    if result.outcome == CodeCheck.WRONG:
        text = f"El código no coincide. Le quedan {result.attempts_left} intento(s)."
        return Step(_outcome(text, "link.code"), FlowState(NAME, dict(data)))
    if result.outcome == CodeCheck.LOCKED:
        text = (
            "Demasiados códigos incorrectos: por seguridad, la verificación de ese RUC queda bloqueada. "
            f"Podrá intentarlo de nuevo {_when(turn, result.locked_until)}. "
            "Si el correo registrado ya no es suyo, un asesor puede ayudarle."
        )
        return _needs_person(turn, text)
    text = "El código venció. Escriba «reenviar» y le envío uno nuevo."
    return Step(_outcome(text, "link.code"), FlowState(NAME, dict(data)))


def _when(turn: Turn, at: dt.datetime | None) -> str:
    """'a partir de las 16:45 (hora de Ecuador)', 'a partir de mañana a las 09:05 (...)': local
    time, rounded up to the minute so the customer never comes back a few seconds too early."""
    if at is None:
        return "en unos minutos"
    local = at.astimezone(turn.zone)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    today = turn.now.astimezone(turn.zone).date()
    if local.date() == today:
        day = "de las"
    elif local.date() == today + dt.timedelta(days=1):
        day = "de mañana a las"
    else:
        day = f"del {weekday_date(local.date())} a las"
    zone = " (hora de Ecuador)" if turn.zone.key == "America/Guayaquil" else ""
    return f"a partir {day} {local:%H:%M}{zone}"


def _needs_person(turn: Turn, text: str) -> Step:
    """Only a person can help now: offer one, and remember why if the customer accepts."""
    outcome = Outcome((Reply(text, (HANDOFF_OPTION,)),), source="link.locked", confidence=1.0)
    return Step(outcome, FlowState("offer", {"reason": "flow", "question": "Verificación de la cuenta bloqueada"}))


def _outcome(text: str, source: str) -> Outcome:
    return Outcome((Reply(text),), source=source, confidence=1.0)
