"""The license billing calendar (DESIGN.md, "License billing"), as pure functions.

Billing counts commercial days: every month has days 1..30; day 31 counts as day 30, and the
last day of February counts as day 30. Periods are kept in commercial days, so "no day billed
twice, none left unbilled" is exact; calendar dates are derived only to show them.

- Invoice for month M: issued on day 25 of M-1, due on the first day 5 after its issue date.
- Signup on commercial day d > 1: invoice 1 (at signup) covers 30 days at the full price,
  d of M to d-1 of M+1; invoice 2 covers the rest of M+1 (31 - d days) at
  price x (31 - d) / 30, issued on day 25 of M (at signup if that day has passed); then the
  normal cycle. Signup on day 1: invoice 1 covers M, then the normal cycle.
- IVA is the rate in force on the issue date; amounts round half-up to cents.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.money import to_cents
from bot.domain.tax import IvaRate, iva_rate_on

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class BillingRules:
    issue_day: int = 25
    due_day: int = 5

    @classmethod
    def from_facts(cls, billing: dict[str, object]) -> BillingRules:
        return cls(issue_day=int(str(billing["issue_day"])), due_day=int(str(billing["due_day"])))


@dataclass(frozen=True, order=True)
class CommercialDay:
    year: int
    month: int
    day: int  # 1..30

    @classmethod
    def of(cls, date: dt.date) -> CommercialDay:
        last = calendar.monthrange(date.year, date.month)[1]
        day = DAYS_PER_MONTH if date.day == last else min(date.day, DAYS_PER_MONTH)
        return cls(date.year, date.month, day)

    def ordinal(self) -> int:
        """Days since year 0 in commercial days: consecutive days differ by exactly 1."""
        return (self.year * 12 + self.month - 1) * DAYS_PER_MONTH + self.day - 1

    def first_date(self) -> dt.date:
        """The calendar date this commercial day starts on."""
        last = calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, min(self.day, last))

    def last_date(self) -> dt.date:
        """The last calendar date that counts as this commercial day (30 -> month end)."""
        last = calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, last if self.day == DAYS_PER_MONTH else min(self.day, last))


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    start: CommercialDay
    end: CommercialDay  # inclusive

    @property
    def days(self) -> int:
        return self.end.ordinal() - self.start.ordinal() + 1

    @property
    def first_date(self) -> dt.date:
        return self.start.first_date()

    @property
    def last_date(self) -> dt.date:
        return self.end.last_date()

    def commercial_days(self) -> Iterator[int]:
        return iter(range(self.start.ordinal(), self.end.ordinal() + 1))


class InvoiceKind(StrEnum):
    SIGNUP = "signup"  # at signup: 30 days at the full price (or the whole month on day 1)
    PRORATED = "prorated"  # the rest of the month after signup
    MONTHLY = "monthly"


@dataclass(frozen=True)
class PlannedInvoice:
    sequence: int  # 1-based position in the subscription
    kind: InvoiceKind
    issue_date: dt.date
    due_date: dt.date
    period: Period
    subtotal: Decimal
    iva_rate: Decimal
    iva: Decimal
    total: Decimal


def due_date_for(issue_date: dt.date, rules: BillingRules) -> dt.date:
    """The first day `due_day` strictly after the issue date."""
    candidate = issue_date.replace(day=rules.due_day) if issue_date.day < rules.due_day else None
    if candidate is None:
        year, month = add_months(issue_date.year, issue_date.month, 1)
        candidate = dt.date(year, month, rules.due_day)
    return candidate


def prorated_subtotal(price: Decimal, days: int) -> Decimal:
    return to_cents(price * days / DAYS_PER_MONTH)


def planned_invoice(
    price: Decimal, signup: dt.date, sequence: int, rules: BillingRules, iva: Sequence[IvaRate]
) -> PlannedInvoice:
    """Invoice number `sequence` (from 1) of a subscription, computed directly.

    The daily sweep asks for "the invoice after the last one issued" for every subscription;
    computing it in O(1) keeps that sweep linear in the number of customers.
    """
    if price < 0:
        raise ValueError("a plan price cannot be negative")
    if sequence < 1:
        raise ValueError("invoice sequences start at 1")
    start = CommercialDay.of(signup)
    year, month = start.year, start.month
    if sequence == 1 and start.day == 1:
        return _invoice(sequence, InvoiceKind.SIGNUP, signup, _month(year, month), to_cents(price), rules, iva)
    if sequence == 1:
        next_year, next_month = add_months(year, month, 1)
        period = Period(start, CommercialDay(next_year, next_month, start.day - 1))
        return _invoice(sequence, InvoiceKind.SIGNUP, signup, period, to_cents(price), rules, iva)
    if sequence == 2 and start.day > 1:
        next_year, next_month = add_months(year, month, 1)
        rest = Period(CommercialDay(next_year, next_month, start.day), CommercialDay(next_year, next_month, 30))
        issue = max(signup, dt.date(year, month, rules.issue_day))
        return _invoice(sequence, InvoiceKind.PRORATED, issue, rest, prorated_subtotal(price, rest.days), rules, iva)
    # Monthly invoice for month M + (sequence - 1), issued on day 25 of the month before.
    billed = add_months(year, month, sequence - 1)
    issued = add_months(year, month, sequence - 2)
    issue = dt.date(issued[0], issued[1], rules.issue_day)
    return _invoice(sequence, InvoiceKind.MONTHLY, issue, _month(*billed), to_cents(price), rules, iva)


def first_sequence_from(
    price: Decimal, signup: dt.date, day: dt.date, rules: BillingRules, iva: Sequence[IvaRate]
) -> int:
    """The first invoice sequence issued on or after `day` (O(1): no walk from the signup)."""
    months = (day.year * 12 + day.month) - (signup.year * 12 + signup.month)
    sequence = max(1, months)
    while sequence > 1 and planned_invoice(price, signup, sequence - 1, rules, iva).issue_date >= day:
        sequence -= 1
    while planned_invoice(price, signup, sequence, rules, iva).issue_date < day:
        sequence += 1
    return sequence


def _invoice(
    sequence: int,
    kind: InvoiceKind,
    issue: dt.date,
    period: Period,
    subtotal: Decimal,
    rules: BillingRules,
    iva: Sequence[IvaRate],
) -> PlannedInvoice:
    rate = iva_rate_on(issue, iva)
    tax = to_cents(subtotal * rate)
    return PlannedInvoice(
        sequence, kind, issue, due_date_for(issue, rules), period, subtotal, rate, tax, subtotal + tax
    )


def schedule(price: Decimal, signup: dt.date, rules: BillingRules, iva: Sequence[IvaRate]) -> Iterator[PlannedInvoice]:
    """Every invoice of a monthly subscription, in issue order (an endless iterator)."""
    sequence = 1
    while True:
        yield planned_invoice(price, signup, sequence, rules, iva)
        sequence += 1


def first_invoices(
    price: Decimal, signup: dt.date, count: int, rules: BillingRules, iva: Sequence[IvaRate]
) -> list[PlannedInvoice]:
    invoices = schedule(price, signup, rules, iva)
    return [next(invoices) for _ in range(count)]


def _month(year: int, month: int) -> Period:
    return Period(CommercialDay(year, month, 1), CommercialDay(year, month, DAYS_PER_MONTH))


# --- subscription state -------------------------------------------------------------------


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    REPORTED = "reported"  # the customer reported a payment; pending the distributor's check
    PAID = "paid"
    OVERDUE = "overdue"  # past its due day, neither paid nor reported
    VOID = "void"


class SubscriptionState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLING = "cancelling"  # cancelled; usable until the paid period ends
    ENDED = "ended"


@dataclass(frozen=True)
class InvoiceFacts:
    due_date: dt.date
    period_last_date: dt.date
    status: InvoiceStatus


def is_overdue(invoice: InvoiceFacts, today: dt.date) -> bool:
    """Past the end of its due day and neither paid nor reported."""
    return invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.OVERDUE) and today > invoice.due_date


def subscription_state(
    invoices: Iterable[InvoiceFacts], today: dt.date, cancelled_on: dt.date | None
) -> SubscriptionState:
    """Ended after a cancellation once the last billed day has passed; suspended while any
    invoice is overdue (lifted as soon as it is reported); else cancelling or active."""
    live = [i for i in invoices if i.status != InvoiceStatus.VOID]
    return state_from_summary(
        any(is_overdue(i, today) for i in live),
        max((i.period_last_date for i in live), default=None),
        cancelled_on,
        today,
    )


def state_from_summary(
    has_overdue: bool, billed_until: dt.date | None, cancelled_on: dt.date | None, today: dt.date
) -> SubscriptionState:
    """The same rule on aggregated facts (what the sweep reads from the database)."""
    if cancelled_on is not None and today > (billed_until or cancelled_on):
        return SubscriptionState.ENDED
    if has_overdue:
        return SubscriptionState.SUSPENDED
    return SubscriptionState.CANCELLING if cancelled_on is not None else SubscriptionState.ACTIVE
