"""Values the articles quote that follow from the facts file and today's date.

The facts file holds what the business decides (rate 25.00, IVA schedule); what customers
want to read is often a consequence ("USD 28.75 with today's IVA"). Computing it here keeps
the article text free of arithmetic and the numbers consistent after an edit.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.money import format_usd, to_cents
from bot.domain.tax import iva_rate_on, parse_schedule


def months_text(count: int) -> str:
    return "un mes" if count == 1 else f"{count} meses"


def hours_text(count: int) -> str:
    return "1 hora" if count == 1 else f"{count} horas"


def with_derived(facts: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """A copy of the facts with the derived values added."""
    result = copy.deepcopy(dict(facts))
    rate = iva_rate_on(today, parse_schedule(facts["tax"]["iva"]))
    hourly = Decimal(str(facts["support"]["hourly_rate"]))
    result["tax"]["iva_rate"] = str(rate)
    result["tax"]["iva_percent"] = f"{(rate * 100).normalize():f}"
    result["support"]["hourly_rate"] = format_usd(hourly)
    result["support"]["hourly_total"] = format_usd(to_cents(hourly * (1 + rate)))
    result["support"]["recommended_advisory_hours_text"] = hours_text(
        int(facts["support"]["recommended_advisory_hours"])
    )
    result["billing"]["min_recontract_text"] = months_text(int(facts["billing"]["min_recontract_months"]))
    return result
