"""The console's customer panel in Spanish and es_EC formats, as the chat shows them.

The console service returns codes and ISO values (`active`, `overdue`, `2026-12-05`, `28.75`);
these pure functions add the `*_text` fields the page shows ("suspendido", "vencida",
"5 de diciembre de 2026", "$28,75"), reusing `bot.format`, so the advisor reads what the
customer reads. The codes stay in the JSON for anything that needs them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from bot import format as fmt

STATES = {
    "active": "activo",
    "suspended": "suspendido",
    "cancelling": "en cancelación",
    "ended": "finalizado",
}
INVOICE_STATUSES = {
    "issued": "emitida",
    "reported": "pago reportado",
    "paid": "pagada",
    "overdue": "vencida",
    "void": "anulada",
}
REPORT_STATUSES = {"pending": "en revisión", "confirmed": "confirmado", "rejected": "rechazado"}
HANDOFF_STATUSES = {"waiting": "esperando", "active": "en atención", "closed": "cerrada", "left": "el cliente salió"}
METHODS = {"deposito": "depósito", "transferencia": "transferencia"}


def state_text(code: str) -> str:
    return STATES.get(code, code)


def invoice_status_text(code: str) -> str:
    return INVOICE_STATUSES.get(code, code)


def report_status_text(code: str) -> str:
    return REPORT_STATUSES.get(code, code)


def money_text(amount: str | Decimal) -> str:
    return fmt.money(Decimal(str(amount)))


def date_text(value: str | dt.date) -> str:
    return fmt.long_date(dt.date.fromisoformat(value) if isinstance(value, str) else value)


def local_date_text(moment: str | dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    at = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return fmt.long_date(at.astimezone(zone).date())


def local_datetime_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> str:
    """'5 de diciembre de 2026, 15:00' in the local time zone."""
    local = moment.astimezone(zone)
    return f"{fmt.long_date(local.date())}, {local:%H:%M}"


def session_when(start: dt.datetime, end: dt.datetime) -> str:
    return fmt.session_when(start, end)


def method_text(code: str) -> str:
    return METHODS.get(code, code)


def localised(customer: dict[str, Any] | None, zone: zoneinfo.ZoneInfo) -> dict[str, Any] | None:
    """The panel with Spanish texts added next to every code, date and amount."""
    if customer is None:
        return None
    return {
        **customer,
        "state_text": state_text(customer["state"]),
        "invoices": [
            {
                **i,
                "status_text": invoice_status_text(i["status"]),
                "due_text": date_text(i["due_date"]),
                "total_text": money_text(i["total"]),
            }
            for i in customer["invoices"]
        ],
        "open_payment_reports": [
            {**r, "amount_text": money_text(r["amount"]), "paid_on_text": date_text(r["paid_on"])}
            for r in customer["open_payment_reports"]
        ],
        "previous": [
            {
                **p,
                "requested_text": local_date_text(p["requested_at"], zone),
                "status_text": HANDOFF_STATUSES.get(p["status"], p["status"]),
            }
            for p in customer["previous"]
        ],
    }


def consent(paid: dict[str, Any] | None) -> dict[str, Any] | None:
    if paid is None:
        return None
    return {**paid, "hourly_total_text": money_text(paid["hourly_total"])}


def close_summary(summary: dict[str, Any]) -> dict[str, Any]:
    charged = summary.get("charged")
    if not charged:
        return summary
    return {**summary, "charged": {**charged, "total_text": money_text(charged["total"])}}


CHANNELS = {"webchat": "Chat web", "telegram": "Telegram", "whatsapp": "WhatsApp", "terminal": "Terminal"}


def channel_text(code: str) -> str:
    return CHANNELS.get(code, code)


def handoff_status_text(code: str) -> str:
    return HANDOFF_STATUSES.get(code, code)


def duration(minutes: int) -> str:
    """'1 h 30 min', as the chat says remaining hours."""
    from bot.domain.hours import duration_text

    return duration_text(minutes)
