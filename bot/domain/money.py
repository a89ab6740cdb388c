"""Money is Decimal, rounded half-up to cents (the way Ecuadorian invoices round)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_usd(amount: Decimal) -> str:
    """'25.00' style, as the welcome letter writes amounts."""
    return f"{to_cents(amount):.2f}"
