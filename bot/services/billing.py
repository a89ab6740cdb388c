"""The daily billing sweeps: issue invoices, update subscription states, plan reminders.

Every sweep is idempotent: invoices are unique per (subscription, sequence), outbox rows per
idempotency key, and states are recomputed from the invoices. Running a day twice, or two
processes at once, changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.billing import (
    BillingRules,
    InvoiceStatus,
    PlannedInvoice,
    first_sequence_from,
    planned_invoice,
    state_from_summary,
)
from bot.domain.tax import IvaRate
from bot.persistence.tables import CustomerRow, DistributorRow, InvoiceRow, SubscriptionRow
from bot.services.notifications import CustomerContact, InvoiceInfo, Notifier
from scheduler.outbox import enqueue_many

NUMBER_PREFIX = "001-001-"


@dataclass
class SweepReport:
    invoices_issued: int = 0
    marked_overdue: int = 0
    suspended: int = 0
    lifted: int = 0
    ended: int = 0
    reminders_planned: int = 0


def contact_of(customer: CustomerRow, distributor: DistributorRow) -> CustomerContact:
    return CustomerContact(
        customer.id,
        customer.razon_social,
        customer.contact_name,
        customer.email,
        customer.ruc,
        distributor.name,
        distributor.email,
    )


def info_of(invoice: InvoiceRow) -> InvoiceInfo:
    return InvoiceInfo(
        invoice.id, invoice.number, invoice.total, invoice.due_date, invoice.period_start, invoice.period_end
    )


class BillingSweeps:
    def __init__(self, rules: BillingRules, iva: Sequence[IvaRate], notifier: Notifier) -> None:
        self.rules = rules
        self.iva = iva
        self.notifier = notifier

    async def run(self, session: AsyncSession, today: dt.date, now: dt.datetime) -> SweepReport:
        report = SweepReport()
        await self.issue_invoices(session, today, now, report)
        await self.update_states(session, today, now, report)
        await self.plan_reminders(session, today, now, report)
        return report

    async def issue_invoices(
        self, session: AsyncSession, today: dt.date, now: dt.datetime, report: SweepReport
    ) -> None:
        last_sequence = (
            select(InvoiceRow.subscription_id, func.max(InvoiceRow.sequence).label("last"))
            .group_by(InvoiceRow.subscription_id)
            .subquery()
        )
        query = (
            select(SubscriptionRow, func.coalesce(last_sequence.c.last, 0))
            .outerjoin(last_sequence, last_sequence.c.subscription_id == SubscriptionRow.id)
            .where(SubscriptionRow.state != "ended")
        )
        counter = await self._last_number(session)
        new: list[dict[str, object]] = []
        for subscription, last in (await session.execute(query)).all():
            until = min(today, subscription.cancelled_on) if subscription.cancelled_on else today
            if until < subscription.billed_from:
                continue
            price, signup = subscription.monthly_price, subscription.signup_date
            # invoices before billed_from belong to the distributor's previous system
            sequence = max(last + 1, first_sequence_from(price, signup, subscription.billed_from, self.rules, self.iva))
            while (planned := planned_invoice(price, signup, sequence, self.rules, self.iva)).issue_date <= until:
                counter += 1
                new.append(invoice_values(subscription.id, planned, counter, now))
                sequence += 1
        # Plain executemany, then read the new rows back: the sweep holds the single-writer lock,
        # so every invoice above the previous highest id is one of ours.
        before = (await session.execute(select(func.coalesce(func.max(InvoiceRow.id), 0)))).scalar_one()
        for start in range(0, len(new), 1000):
            await session.execute(insert(InvoiceRow), new[start : start + 1000])
        created = list(
            (await session.execute(select(InvoiceRow).where(InvoiceRow.id > before).order_by(InvoiceRow.id))).scalars()
        )
        report.invoices_issued += len(created)
        contacts = await self._contacts(session, {i.subscription_id for i in created})
        messages = [
            self.notifier.to_customer(
                "invoice_issued", f"invoice:{invoice.id}:issued", contacts[invoice.subscription_id], info_of(invoice)
            )
            for invoice in created
        ]
        report.reminders_planned += await enqueue_many(session, messages, now)

    async def update_states(self, session: AsyncSession, today: dt.date, now: dt.datetime, report: SweepReport) -> None:
        overdue = await session.execute(
            update(InvoiceRow)
            .where(InvoiceRow.status == InvoiceStatus.ISSUED.value, InvoiceRow.due_date < today)
            .values(status=InvoiceStatus.OVERDUE.value)
        )
        report.marked_overdue += overdue.rowcount  # type: ignore[attr-defined]
        summary = (
            select(
                InvoiceRow.subscription_id,
                func.max(InvoiceRow.period_end).label("billed_until"),
                func.min(case((InvoiceRow.status == InvoiceStatus.OVERDUE.value, InvoiceRow.id))).label(
                    "first_overdue"
                ),
            )
            .where(InvoiceRow.status != InvoiceStatus.VOID.value)
            .group_by(InvoiceRow.subscription_id)
            .subquery()
        )
        query = (
            select(SubscriptionRow, summary.c.billed_until, summary.c.first_overdue)
            .outerjoin(summary, summary.c.subscription_id == SubscriptionRow.id)
            .where(SubscriptionRow.state != "ended")
        )
        newly_suspended: list[tuple[int, int]] = []
        for subscription, billed_until, first_overdue in (await session.execute(query)).all():
            state = state_from_summary(first_overdue is not None, billed_until, subscription.cancelled_on, today)
            if state.value == subscription.state:
                continue
            if state.value == "suspended":
                report.suspended += 1
                newly_suspended.append((subscription.id, first_overdue))
            elif subscription.state == "suspended":
                report.lifted += 1
            if state.value == "ended":
                report.ended += 1
            subscription.state = state.value
        await session.flush()
        contacts = await self._contacts(session, {s for s, _ in newly_suspended})
        invoices = {
            i.id: i
            for i in (
                await session.execute(select(InvoiceRow).where(InvoiceRow.id.in_([i for _, i in newly_suspended])))
            ).scalars()
        }
        messages = [
            self.notifier.to_customer(
                "suspended", f"invoice:{invoice_id}:suspended", contacts[subscription_id], info_of(invoices[invoice_id])
            )
            for subscription_id, invoice_id in newly_suspended
        ]
        report.reminders_planned += await enqueue_many(session, messages, now)

    async def plan_reminders(
        self, session: AsyncSession, today: dt.date, now: dt.datetime, report: SweepReport
    ) -> None:
        """2 days before the due day (or 1, if the 2-day sweep was missed) and on the due day."""
        query = select(InvoiceRow).where(
            InvoiceRow.status == InvoiceStatus.ISSUED.value,
            InvoiceRow.due_date >= today,
            InvoiceRow.due_date <= today + dt.timedelta(days=2),
        )
        invoices = list((await session.execute(query)).scalars())
        contacts = await self._contacts(session, {i.subscription_id for i in invoices})
        messages = []
        for invoice in invoices:
            kind, suffix = ("due_today", "due-0") if invoice.due_date == today else ("due_soon", "due-2")
            key = f"invoice:{invoice.id}:{suffix}"
            messages.append(self.notifier.to_customer(kind, key, contacts[invoice.subscription_id], info_of(invoice)))
        report.reminders_planned += await enqueue_many(session, messages, now)

    async def _contacts(self, session: AsyncSession, subscription_ids: set[int]) -> dict[int, CustomerContact]:
        contacts: dict[int, CustomerContact] = {}
        ids = sorted(subscription_ids)
        for start in range(0, len(ids), 1000):
            query = (
                select(SubscriptionRow.id, CustomerRow, DistributorRow)
                .join(CustomerRow, CustomerRow.id == SubscriptionRow.customer_id)
                .join(DistributorRow, DistributorRow.id == CustomerRow.distributor_id)
                .where(SubscriptionRow.id.in_(ids[start : start + 1000]))
            )
            for subscription_id, customer, distributor in (await session.execute(query)).all():
                contacts[subscription_id] = contact_of(customer, distributor)
        return contacts

    @staticmethod
    async def _last_number(session: AsyncSession) -> int:
        return await last_invoice_number(session)


async def last_invoice_number(session: AsyncSession) -> int:
    """The sequential part of the newest invoice number (numbers are zero-padded)."""
    latest = (await session.execute(select(func.max(InvoiceRow.number)))).scalar_one_or_none()
    return int(latest.removeprefix(NUMBER_PREFIX)) if latest else 0


def invoice_values(subscription_id: int, planned: PlannedInvoice, number: int, now: dt.datetime) -> dict[str, object]:
    return {
        "subscription_id": subscription_id,
        "sequence": planned.sequence,
        "number": f"{NUMBER_PREFIX}{number:09d}",
        "kind": planned.kind.value,
        "period_start": planned.period.first_date,
        "period_end": planned.period.last_date,
        "issue_date": planned.issue_date,
        "due_date": planned.due_date,
        "subtotal": planned.subtotal,
        "iva_rate": planned.iva_rate,
        "iva": planned.iva,
        "total": planned.total,
        "status": InvoiceStatus.ISSUED.value,
        "created_at": now,
    }


def invoice_row(
    subscription_id: int, planned: PlannedInvoice, number: int, now: dt.datetime, status: str = "issued"
) -> InvoiceRow:
    return InvoiceRow(**{**invoice_values(subscription_id, planned, number, now), "status": status})
