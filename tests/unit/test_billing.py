"""The billing calendar: the letter's example, edge dates and properties over 2024-2030."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.billing import (
    BillingRules,
    CommercialDay,
    InvoiceFacts,
    InvoiceKind,
    InvoiceStatus,
    SubscriptionState,
    due_date_for,
    first_invoices,
    subscription_state,
)
from bot.domain.tax import parse_schedule

RULES = BillingRules(issue_day=25, due_day=5)
IVA = parse_schedule([{"since": "2024-04-01", "rate": "0.15"}, {"since": "2000-01-01", "rate": "0.12"}])
D = dt.date


def test_the_design_example_signup_on_the_12th() -> None:
    invoices = first_invoices(Decimal("30.00"), D(2026, 11, 12), 3, RULES, IVA)
    rows = [(i.issue_date, i.period.first_date, i.period.last_date, i.subtotal, i.due_date) for i in invoices]
    assert rows == [
        (D(2026, 11, 12), D(2026, 11, 12), D(2026, 12, 11), Decimal("30.00"), D(2026, 12, 5)),
        (D(2026, 11, 25), D(2026, 12, 12), D(2026, 12, 31), Decimal("19.00"), D(2026, 12, 5)),
        (D(2026, 12, 25), D(2027, 1, 1), D(2027, 1, 31), Decimal("30.00"), D(2027, 1, 5)),
    ]
    assert [i.kind for i in invoices] == [InvoiceKind.SIGNUP, InvoiceKind.PRORATED, InvoiceKind.MONTHLY]
    assert invoices[0].iva == Decimal("4.50") and invoices[0].total == Decimal("34.50")
    assert invoices[1].iva == Decimal("2.85") and invoices[1].total == Decimal("21.85")


def test_signup_on_day_one_has_no_prorated_invoice() -> None:
    invoices = first_invoices(Decimal("30.00"), D(2026, 3, 1), 2, RULES, IVA)
    assert [i.kind for i in invoices] == [InvoiceKind.SIGNUP, InvoiceKind.MONTHLY]
    assert (invoices[0].period.first_date, invoices[0].period.last_date) == (D(2026, 3, 1), D(2026, 3, 31))
    assert invoices[1].issue_date == D(2026, 3, 25) and invoices[1].period.first_date == D(2026, 4, 1)


def test_signup_after_the_25th_issues_the_prorated_invoice_at_signup() -> None:
    invoices = first_invoices(Decimal("30.00"), D(2026, 11, 28), 3, RULES, IVA)
    assert invoices[1].issue_date == D(2026, 11, 28)
    assert invoices[1].subtotal == Decimal("3.00")  # 28..30 of December: 3 commercial days
    assert invoices[2].issue_date == D(2026, 12, 25)


@pytest.mark.parametrize(
    ("day", "commercial"),
    [
        (D(2026, 1, 31), 30),
        (D(2026, 1, 30), 30),
        (D(2026, 2, 28), 30),
        (D(2028, 2, 28), 28),
        (D(2028, 2, 29), 30),
    ],
)
def test_commercial_days(day: dt.date, commercial: int) -> None:
    assert CommercialDay.of(day).day == commercial


@pytest.mark.parametrize(
    ("issued", "due"),
    [(D(2026, 11, 25), D(2026, 12, 5)), (D(2026, 12, 3), D(2026, 12, 5)), (D(2026, 12, 5), D(2027, 1, 5))],
)
def test_due_date_is_the_first_day_5_after_issue(issued: dt.date, due: dt.date) -> None:
    assert due_date_for(issued, RULES) == due


def test_iva_follows_the_issue_date() -> None:
    invoices = first_invoices(Decimal("100.00"), D(2024, 3, 10), 3, RULES, IVA)
    assert [i.iva_rate for i in invoices] == [Decimal("0.12"), Decimal("0.12"), Decimal("0.15")]


def _facts(due: dt.date, last: dt.date, status: InvoiceStatus) -> InvoiceFacts:
    return InvoiceFacts(due, last, status)


def test_suspension_starts_after_the_due_day_and_lifts_when_reported() -> None:
    unpaid = [_facts(D(2026, 12, 5), D(2026, 12, 31), InvoiceStatus.ISSUED)]
    assert subscription_state(unpaid, D(2026, 12, 5), None) == SubscriptionState.ACTIVE
    assert subscription_state(unpaid, D(2026, 12, 6), None) == SubscriptionState.SUSPENDED
    reported = [_facts(D(2026, 12, 5), D(2026, 12, 31), InvoiceStatus.REPORTED)]
    assert subscription_state(reported, D(2026, 12, 6), None) == SubscriptionState.ACTIVE


def test_cancelled_subscription_ends_after_the_paid_period() -> None:
    paid = [_facts(D(2026, 12, 5), D(2026, 12, 31), InvoiceStatus.PAID)]
    assert subscription_state(paid, D(2026, 12, 31), D(2026, 12, 10)) == SubscriptionState.CANCELLING
    assert subscription_state(paid, D(2027, 1, 1), D(2026, 12, 10)) == SubscriptionState.ENDED


signups = st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31))
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@settings(max_examples=400, deadline=None)
@given(signup=signups, price=prices)
def test_every_commercial_day_is_billed_exactly_once(signup: dt.date, price: Decimal) -> None:
    invoices = first_invoices(price, signup, 14, RULES, IVA)
    days = [day for invoice in invoices for day in invoice.period.commercial_days()]
    start = CommercialDay.of(signup).ordinal()
    assert days == list(range(start, start + len(days)))


@settings(max_examples=400, deadline=None)
@given(signup=signups, price=prices)
def test_due_dates_issue_dates_and_amounts(signup: dt.date, price: Decimal) -> None:
    invoices = first_invoices(price, signup, 6, RULES, IVA)
    for before, after in itertools.pairwise(invoices):
        assert before.issue_date <= after.issue_date
    for invoice in invoices:
        assert invoice.due_date.day == 5 and invoice.due_date > invoice.issue_date
        assert (invoice.due_date - invoice.issue_date).days <= 31
        assert invoice.issue_date <= invoice.period.last_date
        assert invoice.total == invoice.subtotal + invoice.iva
        if invoice.kind == InvoiceKind.MONTHLY:
            assert invoice.issue_date < invoice.period.first_date  # billed before the month of use
    prorated = [i for i in invoices if i.kind == InvoiceKind.PRORATED]
    day = CommercialDay.of(signup).day
    assert len(prorated) == (0 if day == 1 else 1)
    for invoice in prorated:
        exact = price * (31 - day) / 30
        assert abs(invoice.subtotal - exact) <= Decimal("0.005")


@settings(max_examples=300, deadline=None)
@given(signup=signups, offset=st.integers(min_value=0, max_value=2000), price=prices)
def test_first_sequence_from_finds_the_first_invoice_on_or_after_a_day(
    signup: dt.date, offset: int, price: Decimal
) -> None:
    from bot.domain.billing import first_sequence_from, planned_invoice

    day = signup + dt.timedelta(days=offset)
    sequence = first_sequence_from(price, signup, day, RULES, IVA)
    assert planned_invoice(price, signup, sequence, RULES, IVA).issue_date >= day
    assert sequence == 1 or planned_invoice(price, signup, sequence - 1, RULES, IVA).issue_date < day
