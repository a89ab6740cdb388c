"""Distributors confirm or reject the payments customers report; the customer is told either way.

Confirming marks the invoice paid. Rejecting puts the invoice back to pending (or overdue, if
its due day has passed), so the next sweep suspends the system again if needed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.format import money
from bot.persistence.tables import CustomerRow, DistributorRow, InvoiceRow, PaymentReportRow
from bot.services.billing import contact_of, info_of
from bot.services.notifications import Notifier
from scheduler.outbox import enqueue


class ReportError(ValueError):
    """The report does not exist or was already decided."""


@dataclass(frozen=True)
class ReportView:
    id: int
    status: str
    company: str
    ruc: str
    invoice: str
    invoice_total: Decimal
    amount: Decimal
    paid_on: dt.date
    bank: str
    method: str
    reference: str
    reason: str | None


async def list_reports(session: AsyncSession, status: str | None = "pending") -> list[ReportView]:
    query = (
        select(PaymentReportRow, CustomerRow, InvoiceRow)
        .join(CustomerRow, CustomerRow.id == PaymentReportRow.customer_id)
        .join(InvoiceRow, InvoiceRow.id == PaymentReportRow.invoice_id)
        .order_by(PaymentReportRow.id)
    )
    if status:
        query = query.where(PaymentReportRow.status == status)
    return [
        ReportView(
            r.id,
            r.status,
            c.razon_social,
            c.ruc,
            i.number,
            i.total,
            r.amount,
            r.paid_on,
            r.bank,
            r.method,
            r.reference,
            r.reason,
        )
        for r, c, i in (await session.execute(query)).all()
    ]


async def decide(
    session: AsyncSession,
    report_id: int,
    *,
    accept: bool,
    reason: str | None,
    notifier: Notifier,
    now: dt.datetime,
    today: dt.date,
) -> ReportView:
    report = await session.get(PaymentReportRow, report_id, with_for_update=True)
    if report is None:
        raise ReportError(f"there is no payment report {report_id} (see `perseo-bot payments list`)")
    if report.status != "pending":
        raise ReportError(f"report {report_id} was already {report.status}")
    if not accept and not (reason or "").strip():
        raise ReportError("a rejection needs --reason, which the customer will read")
    invoice = await session.get(InvoiceRow, report.invoice_id)
    customer = await session.get(CustomerRow, report.customer_id)
    assert invoice is not None and customer is not None
    distributor = await session.get(DistributorRow, customer.distributor_id)
    assert distributor is not None
    report.status, report.decided_at = ("confirmed" if accept else "rejected"), now
    if accept:
        invoice.status = "paid"
    else:
        report.reason = reason
        invoice.status = "overdue" if today > invoice.due_date else "issued"
    kind = "payment_confirmed" if accept else "payment_rejected"
    message = notifier.to_customer(
        kind,
        f"report:{report.id}:{kind}",
        contact_of(customer, distributor),
        info_of(invoice),
        monto=money(report.amount),
        motivo=reason or "",
    )
    await enqueue(session, message, now)
    views = [v for v in await list_reports(session, None) if v.id == report.id]
    return views[0]
