"""Reading amounts and dates the way customers type them in Ecuador ("$34,50", "ayer", "5/12")."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}  # fmt: skip
_CURRENCY = re.compile(r"(?i)\b(usd|us|dolares|dólares)\b|\$")


class ParseError(ValueError):
    """The text is not what was asked for; the message says what to type (Spanish)."""


_PLAIN = re.compile(r"\d+")
_DECIMAL = re.compile(r"(\d+)[.,](\d{1,2})")
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
_GROUPED_DECIMAL = re.compile(r"(\d{1,3}(?:([.,])\d{3})(?:\2\d{3})*)([.,])(\d{1,2})")


def parse_amount(text: str) -> Decimal:
    """'$34,50', '34.50', 'USD 1.234,5', '1,234.50', '1.234' -> Decimal with two decimals.

    One separator followed by one or two digits is the decimal point (either symbol, as both
    are written in Ecuador); groups of three digits are thousands.
    """
    cleaned = _CURRENCY.sub("", text).replace(" ", "").strip()
    if _PLAIN.fullmatch(cleaned):
        number = cleaned
    elif match := _DECIMAL.fullmatch(cleaned):
        number = f"{match[1]}.{match[2]}"
    elif _THOUSANDS.fullmatch(cleaned):
        number = cleaned.replace(".", "").replace(",", "")
    elif (match := _GROUPED_DECIMAL.fullmatch(cleaned)) and match[2] != match[3]:
        number = f"{match[1].replace(match[2], '')}.{match[4]}"
    else:
        raise ParseError("Escriba solo el valor, por ejemplo 34,50")
    amount = Decimal(number)
    if amount <= 0:
        raise ParseError("El valor debe ser mayor que cero.")
    if amount > Decimal("100000"):
        raise ParseError("Ese valor parece demasiado alto; revíselo por favor.")
    return amount.quantize(Decimal("0.01"))


def parse_day(text: str, today: dt.date, *, oldest: int = 366) -> dt.date:
    """'hoy', 'ayer', 'anteayer', '5/12', '05/12/2026', '2026-12-05', '5 de diciembre'.

    A day without a year is the latest such day not after today. The result is never in
    the future nor older than `oldest` days.
    """
    words = _fold(text)
    day: dt.date | None = None
    if words in ("hoy",):
        day = today
    elif words == "ayer":
        day = today - dt.timedelta(days=1)
    elif words in ("anteayer", "antier", "antes de ayer"):
        day = today - dt.timedelta(days=2)
    elif match := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", words):
        day = _date(int(match[1]), int(match[2]), int(match[3]))
    elif match := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?", words):
        day = _with_year(int(match[1]), int(match[2]), match[3], today)
    elif match := re.fullmatch(r"(?:el )?(\d{1,2}) (?:de )?([a-z]+)(?: (?:de )?(\d{4}))?", words):
        month = MONTHS.get(match[2])
        if month is None:
            raise ParseError(f"No reconozco el mes «{match[2]}». Escriba la fecha así: 5/12/2026")
        day = _with_year(int(match[1]), month, match[3], today)
    if day is None:
        raise ParseError("Escriba la fecha del pago, por ejemplo «hoy», «ayer» o 5/12/2026")
    if day > today:
        raise ParseError("La fecha del pago no puede ser futura.")
    if (today - day).days > oldest:
        raise ParseError("Esa fecha es de hace más de un año; revísela por favor.")
    return day


def _with_year(day: int, month: int, year: str | None, today: dt.date) -> dt.date:
    if year:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return _date(full, month, day)
    candidate = _date(today.year, month, day)
    return candidate if candidate <= today else _date(today.year - 1, month, day)


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError("Esa fecha no existe; escríbala así: 5/12/2026") from None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace(",", " ").split())


@dataclass(frozen=True)
class Period:
    """Days a customer asked about ("mañana", "esta semana", "el jueves")."""

    first: dt.date
    last: dt.date
    label: str  # how to name it back ("mañana", "esta semana"); "" for a single dated day


WEEKDAY_NAMES = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6}


def parse_period(text: str, today: dt.date) -> Period | None:
    """Find a day or range in a question; None when it names none. A weekday means the next
    one (today if it is that day); a date without a year is this year's, or next year's when
    this year's is months behind (December asking about «5 de enero»). Past days come back as
    they are: the caller says they have passed."""
    words = f" {re.sub(r'[^a-z0-9/-]+', ' ', _fold(text))} "
    if " pasado manana " in words:
        return Period(today + dt.timedelta(days=2), today + dt.timedelta(days=2), "pasado mañana")
    if " manana " in words:
        return Period(today + dt.timedelta(days=1), today + dt.timedelta(days=1), "mañana")
    if " hoy " in words or " esta tarde " in words:
        return Period(today, today, "hoy")
    if re.search(r" (proxima|siguiente) semana | semana que viene ", words):
        monday = today + dt.timedelta(days=7 - today.weekday())
        return Period(monday, monday + dt.timedelta(days=6), "la próxima semana")
    if re.search(r" (esta|la) semana ", words) or " semana " in words:
        sunday = today + dt.timedelta(days=6 - today.weekday())
        if today.weekday() >= 5:  # on a weekend "this week" means the one about to start
            sunday += dt.timedelta(days=7)
        return Period(today, sunday, "esta semana")
    if re.search(r" (fin de semana|finde) ", words):
        saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7)
        return Period(saturday, saturday + dt.timedelta(days=1), "el fin de semana")
    if match := re.search(r" (\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))? ", words):
        return _on(_ahead(int(match[1]), int(match[2]), match[3], today))
    if match := re.search(r" (\d{1,2}) de ([a-z]+)(?: de (\d{4}))? ", words):
        month = MONTHS.get(match[2])
        if month is not None:
            return _on(_ahead(int(match[1]), month, match[3], today))
    for name, weekday in WEEKDAY_NAMES.items():
        if f" {name} " in words:
            return _on(today + dt.timedelta(days=(weekday - today.weekday()) % 7))
    return None


def _on(day: dt.date) -> Period:
    return Period(day, day, "")


def _ahead(day: int, month: int, year: str | None, today: dt.date) -> dt.date:
    if year:
        return _date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    candidate = _date(today.year, month, day)
    return candidate if (today - candidate).days <= 60 else _date(today.year + 1, month, day)
