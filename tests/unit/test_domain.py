import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.facts import months_text, with_derived
from bot.domain.money import format_usd, to_cents
from bot.domain.tax import IvaRate, iva_rate_on, parse_schedule
from knowledge.pack import PACKS_DIR, read_facts

SCHEDULE = parse_schedule([{"since": "2024-04-01", "rate": "0.15"}, {"since": "2000-01-01", "rate": "0.12"}])


@pytest.mark.parametrize(
    ("day", "rate"),
    [
        (dt.date(2024, 3, 31), Decimal("0.12")),
        (dt.date(2024, 4, 1), Decimal("0.15")),
        (dt.date(2026, 11, 28), Decimal("0.15")),
    ],
)
def test_iva_is_effective_dated(day: dt.date, rate: Decimal) -> None:
    assert iva_rate_on(day, SCHEDULE) == rate


def test_no_rate_before_the_first_entry() -> None:
    with pytest.raises(ValueError, match="no IVA rate"):
        iva_rate_on(dt.date(1999, 12, 31), [IvaRate(dt.date(2000, 1, 1), Decimal("0.12"))])


def test_money_rounds_half_up_to_cents() -> None:
    assert to_cents(Decimal("28.745")) == Decimal("28.75")
    assert to_cents(Decimal("0.005")) == Decimal("0.01")
    assert format_usd(Decimal("25")) == "25.00"


def test_derived_support_price_follows_the_iva_in_force() -> None:
    facts = read_facts(PACKS_DIR / "perseo")
    today = with_derived(facts, dt.date(2026, 11, 28))
    assert today["support"]["hourly_total"] == "28.75"
    assert today["tax"]["iva_percent"] == "15"
    before = with_derived(facts, dt.date(2024, 3, 1))
    assert before["support"]["hourly_total"] == "28.00"
    assert facts["support"]["hourly_rate"] == "25.00"  # the raw facts are not modified


def test_months_text() -> None:
    assert months_text(1) == "un mes"
    assert months_text(3) == "3 meses"
