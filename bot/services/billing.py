"""The daily billing sweeps: issue invoices, update subscription states, plan reminders.

Every sweep is idempotent: invoices are unique per (subscription, sequence), outbox rows per
idempotency key, and states are recomputed from the invoices. Running a day twice, or two
processes at once, changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
from bot.persistence.tables import CustomerRow, DistributorRow, InvoiceRow, PlanRow, SubscriptionRow
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


CHUNK = 5000  # subscriptions per step: keeps a 100,000-customer sweep under 300 MB
INVOICE_INFO = (
    InvoiceRow.id,
    InvoiceRow.subscription_id,
    InvoiceRow.number,
    InvoiceRow.total,
    InvoiceRow.due_date,
    InvoiceRow.period_start,
    InvoiceRow.period_end,
)


def info_from(row: Any) -> InvoiceInfo:
    """InvoiceInfo from a row of INVOICE_INFO columns."""
    return InvoiceInfo(row.id, row.number, row.total, row.due_date, row.period_start, row.period_end)


class BillingSweeps:
    """Works on plain column tuples, CHUNK subscriptions at a time (not ORM objects): the
    sweep of the 25th touches every customer, and its memory must not grow with them."""

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
            select(
                SubscriptionRow.id,
                SubscriptionRow.monthly_price,
                SubscriptionRow.signup_date,
                SubscriptionRow.billed_from,
                SubscriptionRow.cancelled_on,
                func.coalesce(last_sequence.c.last, 0),
            )
            .outerjoin(last_sequence, last_sequence.c.subscription_id == SubscriptionRow.id)
            .where(SubscriptionRow.state != "ended")
            .order_by(SubscriptionRow.id)
        )
        counter = await last_invoice_number(session)
        subscriptions = (await session.execute(query)).all()
        for start in range(0, len(subscriptions), CHUNK):
            new: list[dict[str, object]] = []
            for sid, price, signup, billed_from, cancelled_on, last in subscriptions[start : start + CHUNK]:
                until = min(today, cancelled_on) if cancelled_on else today
                if until < billed_from:
                    continue
                # invoices before billed_from belong to the distributor's previous system
                sequence = max(last + 1, first_sequence_from(price, signup, billed_from, self.rules, self.iva))
                while (planned := planned_invoice(price, signup, sequence, self.rules, self.iva)).issue_date <= until:
                    counter += 1
                    new.append(invoice_values(sid, planned, counter, now))
                    sequence += 1
            if not new:
                continue
            # Plain executemany, then read the new rows back: the sweep holds the single-writer
            # lock, so every invoice above the previous highest id is one of ours.
            before = (await session.execute(select(func.coalesce(func.max(InvoiceRow.id), 0)))).scalar_one()
            for batch in range(0, len(new), 1000):
                await session.execute(insert(InvoiceRow), new[batch : batch + 1000])
            created = (
                await session.execute(select(*INVOICE_INFO).where(InvoiceRow.id > before).order_by(InvoiceRow.id))
            ).all()
            report.invoices_issued += len(created)
            await self._notify(session, "invoice_issued", "issued", created, now, report)

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
            select(
                SubscriptionRow.id,
                SubscriptionRow.state,
                SubscriptionRow.cancelled_on,
                summary.c.billed_until,
                summary.c.first_overdue,
            )
            .outerjoin(summary, summary.c.subscription_id == SubscriptionRow.id)
            .where(SubscriptionRow.state != "ended")
        )
        changes: list[dict[str, object]] = []
        suspended_invoices: list[int] = []
        for sid, current, cancelled_on, billed_until, first_overdue in (await session.execute(query)).all():
            state = state_from_summary(first_overdue is not None, billed_until, cancelled_on, today).value
            if state == current:
                continue
            changes.append({"id": sid, "state": state})
            if state == "suspended":
                report.suspended += 1
                suspended_invoices.append(first_overdue)
            elif current == "suspended":
                report.lifted += 1
            if state == "ended":
                report.ended += 1
        if changes:  # ORM bulk UPDATE by primary key: one executemany
            await session.execute(update(SubscriptionRow), changes)
        for start in range(0, len(suspended_invoices), CHUNK):
            ids = suspended_invoices[start : start + CHUNK]
            rows = (await session.execute(select(*INVOICE_INFO).where(InvoiceRow.id.in_(ids)))).all()
            await self._notify(session, "suspended", "suspended", rows, now, report)

    async def plan_reminders(
        self, session: AsyncSession, today: dt.date, now: dt.datetime, report: SweepReport
    ) -> None:
        """2 days before the due day (or 1, if the 2-day sweep was missed) and on the due day."""
        query = (
            select(*INVOICE_INFO)
            .where(
                InvoiceRow.status == InvoiceStatus.ISSUED.value,
                InvoiceRow.due_date >= today,
                InvoiceRow.due_date <= today + dt.timedelta(days=2),
            )
            .order_by(InvoiceRow.id)
        )
        invoices = (await session.execute(query)).all()
        for start in range(0, len(invoices), CHUNK):
            chunk = invoices[start : start + CHUNK]
            await self._notify(session, "due_today", "due-0", [i for i in chunk if i.due_date == today], now, report)
            await self._notify(session, "due_soon", "due-2", [i for i in chunk if i.due_date != today], now, report)

    async def _notify(
        self,
        session: AsyncSession,
        kind: str,
        suffix: str,
        invoices: Sequence[Any],
        now: dt.datetime,
        report: SweepReport,
    ) -> None:
        if not invoices:
            return
        contacts = await self._contacts(session, {i.subscription_id for i in invoices})
        messages = [
            self.notifier.to_customer(kind, f"invoice:{i.id}:{suffix}", contacts[i.subscription_id], info_from(i))
            for i in invoices
        ]
        report.reminders_planned += await enqueue_many(session, messages, now)

    async def _contacts(self, session: AsyncSession, subscription_ids: set[int]) -> dict[int, CustomerContact]:
        contacts: dict[int, CustomerContact] = {}
        ids = sorted(subscription_ids)
        for start in range(0, len(ids), 1000):
            query = (
                select(
                    SubscriptionRow.id,
                    CustomerRow.id,
                    CustomerRow.razon_social,
                    CustomerRow.contact_name,
                    CustomerRow.email,
                    CustomerRow.ruc,
                    DistributorRow.name,
                    DistributorRow.email,
                )
                .join(CustomerRow, CustomerRow.id == SubscriptionRow.customer_id)
                .join(DistributorRow, DistributorRow.id == CustomerRow.distributor_id)
                .where(SubscriptionRow.id.in_(ids[start : start + 1000]))
            )
            for sid, customer_id, company, contact, email, ruc, distributor, distributor_email in (
                await session.execute(query)
            ).all():
                contacts[sid] = CustomerContact(
                    customer_id, company, contact, email, ruc, distributor, distributor_email
                )
        return contacts


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


async def latest_subscription(session: AsyncSession, customer_id: int) -> SubscriptionRow | None:
    """The customer's newest contract (a customer who contracted again after the end has several)."""
    newest = (
        select(SubscriptionRow)
        .where(SubscriptionRow.customer_id == customer_id)
        .order_by(SubscriptionRow.id.desc())
        .limit(1)
    )
    return (await session.execute(newest)).scalar_one_or_none()


class ContractError(ValueError):
    """The customer cannot start a new contract (unknown, or the current one has not ended)."""


async def recontract(session: AsyncSession, ruc: str, start: dt.date, now: dt.datetime) -> int:
    """A new monthly contract for a customer whose plan ended (the letter: to see their data
    again they contract at least one month; the first invoice always covers 30 days)."""
    customer = (await session.execute(select(CustomerRow).where(CustomerRow.ruc == ruc))).scalar_one_or_none()
    if customer is None:
        raise ContractError(f"no customer with RUC {ruc}")
    current = await latest_subscription(session, customer.id)
    if current is not None and current.state != "ended":
        raise ContractError(f"{customer.razon_social} still has a {current.state} contract; it must end first")
    plan = await session.get(PlanRow, customer.plan_id)
    assert plan is not None
    subscription = SubscriptionRow(
        customer_id=customer.id,
        plan_id=plan.id,
        monthly_price=plan.monthly_price,
        signup_date=start,
        billed_from=start,
        state="active",
        created_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription.id
