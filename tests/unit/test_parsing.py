import datetime as dt
from decimal import Decimal

import pytest

from bot.domain.parsing import ParseError, parse_amount, parse_day

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$34,50", "34.50"), ("34.50", "34.50"), ("USD 34,5", "34.50"), ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"), ("1.234", "1234.00"), ("$ 63,25", "63.25"), ("40", "40.00"),
        ("34,505", "34505.00"), ("12.345", "12345.00"), ("1,234", "1234.00"),
    ],
)  # fmt: skip
def test_amounts(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text",
    ["", "treinta", "-5", "0", "34.50.1", "1.234.5", "1,234,50", "1000000", "34,50 y algo", "12.345.678,9"],
)
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ParseError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("hoy", TODAY), ("Ayer", dt.date(2026, 12, 5)), ("antier", dt.date(2026, 12, 4)),
        ("5/12", dt.date(2026, 12, 5)), ("28/11/2026", dt.date(2026, 11, 28)),
        ("2026-11-30", dt.date(2026, 11, 30)),
        ("5 de diciembre", dt.date(2026, 12, 5)), ("el 20 de noviembre", dt.date(2026, 11, 20)),
        ("25/12", dt.date(2025, 12, 25)),  # no year and in the future this year: last year's
    ],
)  # fmt: skip
def test_days(text: str, day: dt.date) -> None:
    assert parse_day(text, TODAY) == day


@pytest.mark.parametrize("text", ["mañana", "31/02/2026", "7/12/2026", "5 de brumario", "1/1/2020", "algún día"])
def test_bad_days(text: str) -> None:
    with pytest.raises(ParseError):
        parse_day(text, TODAY)
