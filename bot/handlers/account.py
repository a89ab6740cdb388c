"""Questions about the customer's own account: what they owe, their invoices, their state,
their hours, unlinking. Nothing account-specific is shown before the chat is verified: an
anonymous chat is asked for its company's RUC first (see flows/link_account.py)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot import format as fmt
from bot.accounts import AccountView, InvoiceView
from bot.context import Knowledge, Turn
from bot.domain.hours import duration_text
from bot.flows import Step, link_account
from bot.messages import Outcome, Reply

KINDS = frozenset({"hours", "billing", "invoices", "status", "unlink"})
STATUS_LABEL = {
    "issued": "pendiente",
    "overdue": "vencida",
    "reported": "pago reportado, en verificación",
    "paid": "pagada",
    "void": "anulada",
}
REPORT_OPTION = "Reportar un pago ahora"
INVOICES_OPTION = "Mis facturas"


async def handle(turn: Turn, knowledge: Knowledge, kind: str, confidence: float) -> Step:
    if kind == "unlink":
        unlinked = await turn.accounts.unlink(turn.conversation_id, turn.now)
        text = (
            "Listo: desvinculé este chat de su cuenta. Para volver a consultar sus datos, le pediré "
            "su RUC y un código otra vez."
            if unlinked
            else "Este chat no está vinculado a ninguna cuenta."
        )
        return Step(Outcome((Reply(text),), source="account.unlink", confidence=confidence), None)
    account = await turn.accounts.linked(turn.conversation_id, turn.today)
    if account is None:
        return link_account.start(turn, then=f"account.{kind}")
    return Step(answer(kind, account, knowledge.pack.facts, confidence), None)


def answer(kind: str, account: AccountView, facts: Mapping[str, Any], confidence: float = 1.0) -> Outcome:
    if kind == "hours":
        reply = hours(account, facts)
    else:
        reply = {"billing": billing, "invoices": invoices, "status": status}[kind](account)
    return Outcome((reply,), source=f"account.{kind}", confidence=confidence)


def invoice_line(invoice: InvoiceView) -> str:
    return (
        f"• {invoice.number}: {fmt.money(invoice.total)}, licencia "
        f"{fmt.period(invoice.period_first, invoice.period_last)}, vence el {fmt.long_date(invoice.due_date)} "
        f"({STATUS_LABEL.get(invoice.status, invoice.status)})"
    )


def billing(account: AccountView) -> Reply:
    open_invoices = account.open_invoices
    reported = [i for i in account.invoices if i.status == "reported"]
    if not open_invoices:
        text = f"{account.company} está al día: no tiene facturas pendientes de pago."
        if reported:
            text += f" El pago de la factura {reported[0].number} está en verificación."
        return Reply(text, (INVOICES_OPTION,))
    total = sum((i.total for i in open_invoices), Decimal(0))
    lines = "\n".join(invoice_line(i) for i in open_invoices)
    first = open_invoices[0]
    deadline = f" hasta el {fmt.long_date(first.due_date)}" if first.status == "issued" else ""
    text = (
        f"{account.company} tiene {len(open_invoices)} factura(s) por pagar, {fmt.money(total)} en total:\n"
        f"{lines}\nPuede pagar por depósito o transferencia{deadline} y reportar el pago aquí mismo."
    )
    return Reply(text, (REPORT_OPTION, INVOICES_OPTION))


def invoices(account: AccountView) -> Reply:
    if not account.invoices:
        return Reply(f"Todavía no hay facturas emitidas por este sistema para {account.company}.")
    shown = account.invoices[:6]
    more = f"\n(y {len(account.invoices) - 6} anteriores)" if len(account.invoices) > 6 else ""
    lines = "\n".join(invoice_line(i) for i in shown)
    return Reply(f"Facturas de {account.company}, de la más reciente a la más antigua:\n{lines}{more}")


def status(account: AccountView) -> Reply:
    if account.state == "suspended":
        overdue = account.open_invoices[0] if account.open_invoices else None
        reason = (
            f"no registramos el pago de la factura {overdue.number} ({fmt.money(overdue.total)}, "
            f"vencida el {fmt.long_date(overdue.due_date)})"
            if overdue
            else "tiene una factura vencida"
        )
        return Reply(
            f"El sistema de {account.company} está suspendido porque {reason}. Para reactivarlo, pague por "
            "depósito o transferencia y reporte el pago aquí: se habilita en cuanto recibimos el reporte.",
            (REPORT_OPTION,),
        )
    if account.state == "cancelling":
        until = fmt.long_date(account.paid_until) if account.paid_until else "el fin del período pagado"
        return Reply(
            f"El plan de {account.company} está cancelado: podrá usar el sistema hasta el {until}. "
            "Después, para consultar o modificar su información, deberá contratar al menos un mes."
        )
    if account.state == "ended":
        return Reply(
            f"El plan de {account.company} terminó. Para volver a ingresar y consultar su información debe "
            f"contratar la licencia por lo menos un mes; escríbale a {account.distributor} "
            f"({account.distributor_email})."
        )
    return Reply(f"El sistema de {account.company} está activo (plan {account.plan}).", (INVOICES_OPTION,))


def hours(account: AccountView, facts: Mapping[str, Any]) -> Reply:
    support = facts["support"]
    price = (
        f"{support['currency']} {support['hourly_rate']} por hora o fracción, más IVA "
        f"({support['currency']} {support['hourly_total']})"
    )
    total = account.included_hours * 60 + account.purchased_minutes
    if total == 0 and account.consumed_minutes == 0:
        return Reply(
            f"Su plan {account.plan} no incluye horas de implementación. Le recomendamos contratar al menos "
            f"{support['recommended_advisory_hours_text']} de asesoría remota; sin horas, el soporte cuesta {price}."
        )
    lines = [
        f"A {account.company} le quedan {duration_text(account.remaining_minutes)} de implementación "
        f"(usó {duration_text(account.consumed_minutes)} de {duration_text(total)})."
    ]
    if account.recent_sessions:
        lines.append("Últimas sesiones:")
        lines += [f"• {day:%d/%m/%Y}: {minutes} min, {topic}" for day, minutes, topic in account.recent_sessions]
    if account.remaining_minutes < int(support.get("low_hours_minutes", 60)):
        lines.append(
            f"Le queda poco tiempo: para comprar más horas pida un paquete a {account.distributor}. "
            f"Sin horas, el soporte cuesta {price}."
        )
    return Reply("\n".join(lines))
