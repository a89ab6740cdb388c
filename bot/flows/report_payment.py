"""Reporting a payment (linked customers): invoice -> amount -> date -> bank -> method ->
reference -> confirmation. Every answer is checked; a wrong one is asked again with an example.

On confirmation the report is stored, the invoice becomes "reported" (which lifts a
suspension at once, pending the distributor's check) and the distributor is e-mailed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot import format as fmt
from bot.accounts import AccountView, PaymentDetails
from bot.context import Turn
from bot.domain.parsing import ParseError, parse_amount, parse_day
from bot.domain.receipts import ReceiptError, receipt_extension
from bot.flows import Step
from bot.messages import FlowState, Outcome, Reply
from knowledge.text import fold

NAME = "report_payment"
METHODS = {"deposito": "deposito", "transferencia": "transferencia", "deposito bancario": "deposito"}
YES = frozenset({"si", "si confirmo", "confirmo", "correcto", "ok", "dale", "si enviar", "enviar"})
NO = frozenset({"no", "cancelar", "salir"})
QUESTIONS = {
    "amount": "¿Cuánto pagó? Escriba el valor, por ejemplo 34,50.",
    "paid_on": "¿Qué día hizo el pago? Por ejemplo «hoy», «ayer» o 5/12/2026.",
    "bank": "¿En qué banco? (por ejemplo Pichincha, Guayaquil, Produbanco)",
    "method": "¿Fue depósito o transferencia?",
    "reference": "¿Cuál es el número de comprobante o referencia?",
    "receipt": "Si tiene la foto o el PDF del comprobante, envíelo ahora (máximo 10 MB); si no, escriba «no».",
}
SKIP_RECEIPT = frozenset({"no", "no tengo", "sin comprobante", "omitir", "continuar", "despues"})
ORDER = ("amount", "paid_on", "bank", "method", "reference")


def start(account: AccountView) -> Step:
    open_invoices = account.open_invoices
    if not open_invoices:
        text = f"{account.company} no tiene facturas pendientes de pago, así que no hay nada que reportar."
        return Step(_outcome(text), None)
    if len(open_invoices) == 1:
        invoice = open_invoices[0]
        intro = f"Vamos a reportar el pago de la factura {invoice.number} ({fmt.money(invoice.total)}). "
        return Step(
            _outcome(intro + QUESTIONS["amount"]),
            FlowState(NAME, {"step": "amount", "invoice_id": invoice.invoice_id, "number": invoice.number}),
        )
    options = tuple(f"{i.number} ({fmt.money(i.total)})" for i in open_invoices)
    text = "¿Qué factura pagó?\n" + "\n".join(f"{n}. {o}" for n, o in enumerate(options, start=1))
    choices = {str(n): [i.invoice_id, i.number] for n, i in enumerate(open_invoices, start=1)}
    return Step(_outcome(text, options), FlowState(NAME, {"step": "invoice", "choices": choices}))


async def resume(turn: Turn, data: dict[str, object]) -> Step | None:
    answer = turn.text.strip()
    folded = fold(answer)
    if data.get("step") == "receipt":
        return _receipt(turn, folded, dict(data))
    if turn.attachments:
        text = "Recibí un archivo, pero ahora necesito otro dato. " + QUESTIONS.get(str(data.get("step")), "")
        return Step(_outcome(text.strip()), FlowState(NAME, dict(data)))
    if folded in NO and data.get("step") != "confirm":
        return Step(_outcome("Listo, no registré ningún pago. ¿En qué más le ayudo?"), None)
    step = str(data.get("step"))
    state = dict(data)
    if step == "invoice":
        choice = _choose_invoice(folded, state)
        if choice is None:
            return Step(_list_again(state), FlowState(NAME, state))
        state |= {"step": "amount", "invoice_id": choice[0], "number": choice[1]}
        return Step(_outcome(QUESTIONS["amount"]), FlowState(NAME, state))
    if step == "confirm":
        return await _confirm(turn, folded, state)
    try:
        state[step] = _read(step, answer, folded, turn.today)
    except ParseError as problem:
        return Step(_outcome(f"{problem} {QUESTIONS[step]}"), FlowState(NAME, state))
    following = ORDER.index(step) + 1
    if following < len(ORDER):
        next_step = ORDER[following]
        state["step"] = next_step
        options = ("Depósito", "Transferencia") if next_step == "method" else ()
        return Step(_outcome(QUESTIONS[next_step], options), FlowState(NAME, state))
    state["step"] = "receipt"
    return Step(_outcome(QUESTIONS["receipt"], ("Continuar sin comprobante",)), FlowState(NAME, state))


def _receipt(turn: Turn, folded: str, state: dict[str, object]) -> Step:
    if turn.attachments:
        attachment = turn.attachments[0]
        try:
            extension = receipt_extension(attachment.data)
        except ReceiptError as problem:
            return Step(_outcome(f"{problem} {QUESTIONS['receipt']}"), FlowState(NAME, state))
        state["receipt_path"] = turn.accounts.store_receipt(extension, attachment.data)
    elif folded not in SKIP_RECEIPT and folded != "continuar sin comprobante":
        return Step(_outcome(QUESTIONS["receipt"], ("Continuar sin comprobante",)), FlowState(NAME, state))
    return _summary(state)


def _summary(state: dict[str, object]) -> Step:
    state["step"] = "confirm"
    receipt = "adjunto" if state.get("receipt_path") else "sin comprobante"
    summary = (
        f"Voy a registrar este pago de la factura {state['number']}:\n"
        f"• Valor: {fmt.money(Decimal(str(state['amount'])))}\n"
        f"• Fecha: {fmt.long_date(dt.date.fromisoformat(str(state['paid_on'])))}\n"
        f"• Banco: {state['bank']}\n• Forma: {state['method']}\n• Referencia: {state['reference']}\n"
        f"• Comprobante: {receipt}\n¿Está correcto?"
    )
    return Step(_outcome(summary, ("Sí, enviar", "No, cancelar")), FlowState(NAME, state))


def _list_again(state: dict[str, object]) -> Outcome:
    """Never "answer with the number of the list" without the list."""
    choices = state.get("choices")
    listed = sorted(choices.items()) if isinstance(choices, dict) else []
    lines = [f"{n}. Factura {choice[1]}" for n, choice in listed]
    text = "¿Cuál de estas facturas pagó? Responda con su número:\n" + "\n".join(lines)
    text += "\nSi prefiere no reportar ahora, escriba «cancelar»."
    return _outcome(text, tuple(f"Factura {choice[1]}" for _, choice in listed))


def _choose_invoice(folded: str, state: dict[str, object]) -> list[object] | None:
    choices = state.get("choices")
    if not isinstance(choices, dict):
        return None
    if folded in choices:
        return list(choices[folded])
    for choice in choices.values():  # a tapped option starts with (or names) the invoice number
        if folded.startswith(fold(str(choice[1]))) or folded.removeprefix("factura ").startswith(fold(str(choice[1]))):
            return list(choice)
    return None


def _read(step: str, answer: str, folded: str, today: dt.date) -> str:
    if step == "amount":
        return str(parse_amount(answer))
    if step == "paid_on":
        return parse_day(answer, today).isoformat()
    if step == "method":
        method = METHODS.get(folded)
        if method is None:
            raise ParseError("Solo aceptamos depósito o transferencia.")
        return method
    text = " ".join(answer.split())
    if not 2 <= len(text) <= (60 if step == "reference" else 100):
        raise ParseError("Esa respuesta no parece correcta.")
    return text


async def _confirm(turn: Turn, folded: str, state: dict[str, object]) -> Step:
    if folded in NO or folded.startswith("no"):
        return Step(_outcome("Listo, no registré el pago. Puede reportarlo cuando quiera."), None)
    if folded not in YES and not folded.startswith("si"):
        return Step(
            _outcome("¿Lo registro? Responda «sí» o «no».", ("Sí, enviar", "No, cancelar")), FlowState(NAME, state)
        )
    details = PaymentDetails(
        invoice_id=int(str(state["invoice_id"])),
        amount=Decimal(str(state["amount"])),
        paid_on=dt.date.fromisoformat(str(state["paid_on"])),
        bank=str(state["bank"]),
        method=str(state["method"]),
        reference=str(state["reference"]),
        receipt_path=str(state["receipt_path"]) if state.get("receipt_path") else None,
    )
    problem = await turn.accounts.report_payment(turn.conversation_id, details, turn.now)
    if problem:
        return Step(_outcome(problem), None)
    text = (
        f"¡Gracias! Registré su reporte de pago de la factura {state['number']}. Su sistema queda habilitado "
        "mientras su distribuidor verifica el pago; le avisaremos cuando lo confirme."
    )
    return Step(Outcome((Reply(text),), source="payment.reported", confidence=1.0), None)


def _outcome(text: str, options: tuple[str, ...] = ()) -> Outcome:
    return Outcome((Reply(text, options),), source=NAME, confidence=1.0)
