from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.hours import charge_for, duration_text, remaining_minutes, split_session

RATE, IVA = Decimal("25.00"), Decimal("0.15")


def test_remaining_is_exact_minutes() -> None:
    assert remaining_minutes(2, 90, 25) == 185
    assert remaining_minutes(0, 0, 0) == 0
    assert remaining_minutes(1, 0, 100) == 0  # never negative: the excess was paid support


def test_a_ten_minute_session_without_hours_is_one_hour_plus_iva() -> None:
    split = split_session(10, remaining=0)
    charge = charge_for(split.paid_minutes, RATE, IVA)
    assert charge is not None
    assert (charge.hours_billed, charge.subtotal, charge.iva, charge.total) == (
        1,
        Decimal("25.00"),
        Decimal("3.75"),
        Decimal("28.75"),
    )


def test_a_session_beyond_the_remaining_hours_bills_the_excess_per_started_hour() -> None:
    split = split_session(130, remaining=45)
    assert (split.covered_minutes, split.paid_minutes) == (45, 85)
    charge = charge_for(split.paid_minutes, RATE, IVA)
    assert charge is not None and charge.hours_billed == 2 and charge.total == Decimal("57.50")


def test_covered_sessions_cost_nothing() -> None:
    assert charge_for(split_session(60, remaining=120).paid_minutes, RATE, IVA) is None


@pytest.mark.parametrize("minutes", [0, -5, 601, 100_000])
def test_absurd_minutes_are_refused(minutes: int) -> None:
    with pytest.raises(ValueError, match="1 to 600"):
        split_session(minutes, remaining=60)


@given(minutes=st.integers(1, 600), remaining=st.integers(0, 2000))
def test_split_adds_up_and_bills_whole_hours(minutes: int, remaining: int) -> None:
    split = split_session(minutes, remaining)
    assert split.covered_minutes + split.paid_minutes == minutes
    assert split.covered_minutes <= remaining
    charge = charge_for(split.paid_minutes, RATE, IVA)
    if split.paid_minutes:
        assert charge is not None and (charge.hours_billed - 1) * 60 < split.paid_minutes <= charge.hours_billed * 60


def test_duration_text() -> None:
    assert [duration_text(m) for m in (45, 60, 155, 0)] == ["45 min", "1 h", "2 h 35 min", "0 min"]
