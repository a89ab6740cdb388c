"""Things a customer asks the bot to *do*, said in their own words, and Ecuadorian usage.

- A person: any way of asking for one ("me puede atender alguien", "necesito que me ayude una
  persona", "¿hay alguien ahí?") joins the advisors' queue.
- Office hours: "¿a qué hora atienden?" is a question about the advisors' schedule; it is
  answered and does NOT join the queue.
- Cancelling the plan ("quiero cancelar mi plan", "deseo dar de baja el sistema") starts the
  cancellation (verification first in an anonymous chat).
- "Cancelar" also means *to pay* in Ecuador: "cancelar la factura", "¿hasta cuándo puedo
  cancelar la mensualidad?". With an invoice, a debt or a way to pay as its object it is read
  as "pagar" before anything is matched.

All functions take folded text (lowercase, no accents) and are pure.
"""

from __future__ import annotations

import re

_PERSON = (
    r"(alguien|una persona|persona|personas|un humano|humano|ser humano|asesor|asesora|asesores|agente|operador|"
    r"operadora|ejecutivo|ejecutiva|carne y hueso|gente de soporte)"
)
_PERSON_VERB = (
    r"(hablar|habla|conversar|comunicar|comunicarme|comuniqueme|comunicame|contactar|contactarme|pasar|pasame|paseme|"
    r"pase|pasen|atender|atienda|atiende|atiendan|atendido|atendida|ayude|ayuden|ayudar|ayudarme|derivar|derivame|transferir|"
    r"transfiera|conectar|conecteme|conectame|llame|llamen|escriba)"
)
_PERSON_REQUEST = (
    re.compile(rf"\b{_PERSON_VERB}\b(\s+\w+){{0,5}}\s+\b(con\s+)?{_PERSON}\b"),
    re.compile(rf"\b{_PERSON}\b(\s+\w+){{0,3}}\s+\b(que\s+)?(me\s+)?{_PERSON_VERB}\b"),
    re.compile(r"\b(hay alguien|alguien ahi|alguien me (ayuda|atiende|responde)|una persona real|de carne y hueso)\b"),
    re.compile(
        r"\b(quiero|necesito|deseo|prefiero|solicito)\s+(un|una|a un|a una|con un|con una)?\s*"
        r"(asesor|asesora|persona|humano|agente)\b"
    ),
)
# "alguien" alone is not a request when it is about who does something the pack answers.
_NOT_PERSON = re.compile(
    r"\b(a que hora|horario|que dias|hasta que hora|desde que hora|telefono|numero|capacitacion|capacitaciones|zoom)\b"
)

_WHEN = (
    r"(a que hora|a q hora|que hora|horario|horarios|hasta que hora|hasta q hora|desde que hora|que dias|q dias|"
    r"en que horario|dias y horas)"
)
_OFFICE = (
    r"(atienden|atiende|atencion|oficina|oficinas|abren|abiertos|trabajan|soporte|asesores|asesor|asesora|"
    r"contestan|responden|estan disponibles|hay atencion)"
)
_OFFICE_HOURS = (
    re.compile(rf"\b{_WHEN}\b(\s+\w+){{0,4}}\s+\b{_OFFICE}\b"),
    re.compile(rf"\b{_OFFICE}\b(\s+\w+){{0,3}}\s+\b{_WHEN}\b"),
    re.compile(r"\bhorario de (atencion|oficina|soporte|trabajo)\b"),
    re.compile(r"\b(cuando|que dias) (atienden|abren|trabajan|estan abiertos)\b"),
    re.compile(r"\batienden (los )?(sabados|domingos|feriados|fines de semana|el sabado|el domingo)\b"),
)
_NOT_OFFICE = re.compile(r"\b(capacitacion|capacitaciones|clase|clases|zoom|curso|cursos|taller|factura|pago|pagar)\b")

_CANCEL_VERB = r"(cancelar|cancelo|cancele|cancela|cancelamos|cancelaria|cancelarla|cancelarlo|cancelando|cancelado)"
_PAY_OBJECT = re.compile(
    r"\b(factura|facturas|mensualidad|mensualidades|planilla|cuota|cuotas|deuda|deudas|valor|saldo|pago|pagos|"
    r"lo de este mes|lo del mes|este mes|el mes|tarjeta|credito|debito|efectivo|deposito|transferencia|cuenta|"
    r"banco|plazo|hasta cuando|hasta que dia|hasta q dia|fecha|vence|vencimiento|atrasado|atrasada|medios de pago|"
    r"licencia mensual|comprobante)\b"
)
_PLAN_OBJECT = re.compile(
    r"\b(plan|sistema|servicio|contrato|suscripcion|perseo|licencia|cuenta de perseo|membresia)\b"
)
_CANCEL_PLAN = (
    re.compile(
        rf"\b{_CANCEL_VERB}\b(\s+\w+){{0,3}}\s+\b(el|mi|la|nuestro|nuestra|este|esta)\s+"
        r"(plan|suscripcion|contrato|servicio|sistema|licencia)\b"
    ),
    re.compile(r"\b(dar|darme|darnos|doy|damos|de)\s+de\s+baja\b"),
    re.compile(
        r"\b(desistir|desisto|retirarme|retirarnos|me retiro|nos retiramos)\b(\s+\w+){0,3}\s+"
        r"\b(plan|servicio|sistema|contrato)\b"
    ),
)
# "no la factura, el plan": a negated object does not count.
_NEGATED = re.compile(r"\bno\s+(la|el|las|los|mi|mis)?\s*\w+")
_PAY_FORMS = {
    "cancelar": "pagar",
    "cancelo": "pago",
    "cancele": "pague",
    "cancela": "paga",
    "cancelamos": "pagamos",
    "cancelaria": "pagaria",
    "cancelarla": "pagarla",
    "cancelarlo": "pagarlo",
    "cancelando": "pagando",
    "cancelado": "pagado",
}


_REPORT_PAYMENT = re.compile(
    r"\b(quiero|quisiera|deseo|necesito|voy a|vengo a|me gustaria|puedo)\s+(\w+\s+){0,2}"
    r"(reportar|registrar|avisar|notificar|informar|reportarles|avisarles)\b(\s+\w+){0,4}\s+"
    r"(pago|pague|pagamos|deposito|deposite|transferencia|transferi|comprobante)\b"
)


def reports_payment(folded: str) -> bool:
    """'quiero reportar que ya pagué', 'necesito registrar mi depósito': do it (verification first)."""
    return bool(_REPORT_PAYMENT.search(folded))


def asks_for_person(folded: str) -> bool:
    if _NOT_PERSON.search(folded):
        return False
    return any(p.search(folded) for p in _PERSON_REQUEST)


def asks_office_hours(folded: str) -> bool:
    if _NOT_OFFICE.search(folded):
        return False
    return any(p.search(folded) for p in _OFFICE_HOURS)


def cancels_plan(folded: str) -> bool:
    """'quiero cancelar mi plan', 'deseo dar de baja el sistema' (not 'cancelar la factura')."""
    positive = _NEGATED.sub(" ", folded)
    if _PAY_OBJECT.search(positive):
        return False
    return any(p.search(positive) for p in _CANCEL_PLAN)


def cancel_means_pay(folded: str) -> bool:
    """'cancelar' with an invoice, a debt, a deadline or a way to pay: it means paying."""
    if not re.search(rf"\b{_CANCEL_VERB}\b", folded):
        return False
    positive = _NEGATED.sub(" ", folded)
    if _PAY_OBJECT.search(positive):
        return True
    return not _PLAN_OBJECT.search(positive) and bool(re.search(r"\bsi no\b", folded))


def as_payment(folded: str) -> str:
    """The text with every form of 'cancelar' read as the same form of 'pagar'."""
    return " ".join(_PAY_FORMS.get(w, w) for w in folded.split())
