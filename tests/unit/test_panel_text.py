"""The console's Spanish texts for codes, money and dates (bot.web.panel_text)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from bot.web import panel_text

ZONE = zoneinfo.ZoneInfo("America/Guayaquil")


def test_states_and_statuses_are_spanish() -> None:
    assert [panel_text.state_text(s) for s in ("active", "suspended", "cancelling", "ended")] == [
        "activo", "suspendido", "en cancelación", "finalizado",
    ]  # fmt: skip
    assert [panel_text.invoice_status_text(s) for s in ("issued", "overdue", "paid", "reported")] == [
        "emitida", "vencida", "pagada", "pago reportado",
    ]  # fmt: skip


def test_money_and_dates_as_the_chat_shows_them() -> None:
    assert panel_text.money_text("1234.5") == "$1.234,50"
    assert panel_text.money_text(Decimal("28.75")) == "$28,75"
    assert panel_text.date_text("2026-12-05") == "5 de diciembre de 2026"
    # 02:00 UTC on the 1st is still the 30th in Guayaquil
    assert panel_text.local_date_text("2026-12-01T02:00:00+00:00", ZONE) == "30 de noviembre de 2026"
    at = dt.datetime(2026, 12, 1, 20, 5, tzinfo=dt.UTC)
    assert panel_text.local_datetime_text(at, ZONE) == "1 de diciembre de 2026, 15:05"


def test_localised_panel_keeps_codes_and_adds_texts() -> None:
    panel = {
        "state": "suspended",
        "invoices": [{"number": "001", "due_date": "2026-12-05", "total": "34.50", "status": "overdue"}],
        "open_payment_reports": [{"amount": "34.50", "paid_on": "2026-11-26", "bank": "X", "invoice_id": 1}],
        "previous": [{"requested_at": "2026-11-20T15:00:00+00:00", "status": "closed", "topic": None}],
    }
    shown = panel_text.localised(panel, ZONE)
    assert shown is not None
    assert (shown["state"], shown["state_text"]) == ("suspended", "suspendido")
    assert shown["invoices"][0] | {} == {
        "number": "001", "due_date": "2026-12-05", "total": "34.50", "status": "overdue",
        "status_text": "vencida", "due_text": "5 de diciembre de 2026", "total_text": "$34,50",
    }  # fmt: skip
    assert shown["previous"][0]["requested_text"] == "20 de noviembre de 2026"
    assert shown["previous"][0]["status_text"] == "cerrada"
    assert panel_text.localised(None, ZONE) is None
    assert panel_text.close_summary({"charged": {"total": "28.75"}})["charged"]["total_text"] == "$28,75"
