"""Building proactive messages from the pack's `reminders.yaml` texts.

Where a message goes: a linked chat on a channel that can reach a customer at any time
(Telegram, WhatsApp; none yet), otherwise the customer's e-mail. The web chat cannot: its
page may be closed for days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bot import format as fmt
from scheduler.outbox import OutboxMessage


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


@dataclass(frozen=True)
class CustomerContact:
    customer_id: int
    company: str
    contact: str
    email: str
    ruc: str
    distributor: str
    distributor_email: str


@dataclass(frozen=True)
class InvoiceInfo:
    invoice_id: int
    number: str
    total: Decimal
    due_date: dt.date
    period_first: dt.date
    period_last: dt.date


def load_templates(pack_dir: Path) -> dict[str, Template]:
    data = yaml.safe_load((pack_dir / "reminders.yaml").read_text(encoding="utf-8")) or {}
    templates = {}
    for kind, item in data.items():
        if not isinstance(item, Mapping) or "subject" not in item or "body" not in item:
            raise TemplateError(f"reminders.yaml: {kind} needs a subject and a body")
        templates[kind] = Template(str(item["subject"]), " ".join(str(item["body"]).split()))
    return templates


class Notifier:
    def __init__(self, templates: Mapping[str, Template]) -> None:
        self.templates = templates

    def render(self, kind: str, values: Mapping[str, Any]) -> tuple[str, str]:
        template = self.templates[kind]
        try:
            return template.subject.format_map(values), template.body.format_map(values)
        except KeyError as exc:
            raise TemplateError(f"reminders.yaml: {kind} uses unknown placeholder {exc}") from None

    def to_customer(
        self, kind: str, key: str, customer: CustomerContact, invoice: InvoiceInfo | None = None, **extra: Any
    ) -> OutboxMessage:
        values = {
            **self._customer_values(customer),
            **(self._invoice_values(invoice) if invoice else {}),
            **extra,
        }
        subject, body = self.render(kind, values)
        return OutboxMessage(
            key=key,
            kind=kind,
            channel="email",
            recipient=customer.email,
            subject=subject,
            body=body,
            customer_id=customer.customer_id,
            invoice_id=invoice.invoice_id if invoice else None,
            data={k: str(v) for k, v in values.items()},  # WhatsApp template parameters
        )

    def to_distributor(
        self, kind: str, key: str, customer: CustomerContact, *, copy_customer: bool = False, **extra: Any
    ) -> OutboxMessage:
        subject, body = self.render(kind, {**self._customer_values(customer), **extra})
        recipient = customer.distributor_email + (f"|{customer.email}" if copy_customer else "")
        return OutboxMessage(key, kind, "email", recipient, subject, body, customer.customer_id)

    @staticmethod
    def _customer_values(customer: CustomerContact) -> dict[str, Any]:
        return {
            "empresa": customer.company,
            "contacto": customer.contact,
            "ruc": customer.ruc,
            "distribuidor": customer.distributor,
            "distribuidor_email": customer.distributor_email,
        }

    @staticmethod
    def _invoice_values(invoice: InvoiceInfo) -> dict[str, Any]:
        return {
            "numero": invoice.number,
            "total": fmt.money(invoice.total),
            "vence": fmt.long_date(invoice.due_date),
            "periodo": fmt.period(invoice.period_first, invoice.period_last),
        }
