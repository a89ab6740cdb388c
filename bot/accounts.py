"""What the dialogue may know and do about customer accounts (a port).

`bot.services.accounts.SqlAccounts` implements it inside the turn's database transaction, so a
verification code, a payment report or a cancellation is stored together with the dialogue
state and the reply. `NoAccounts` is for one-shot anonymous use (`perseo-bot ask`): nothing is
linked and no code is ever sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class InvoiceView:
    invoice_id: int
    number: str
    period_first: dt.date
    period_last: dt.date
    issue_date: dt.date
    due_date: dt.date
    total: Decimal
    status: str  # issued, reported, paid, overdue, void


@dataclass(frozen=True)
class AccountView:
    customer_id: int
    company: str
    contact: str
    plan: str
    included_hours: int
    state: str  # active, suspended, cancelling, ended
    cancelled_on: dt.date | None
    paid_until: dt.date | None  # last day of the last invoiced period
    distributor: str
    distributor_email: str
    invoices: tuple[InvoiceView, ...]  # newest first
    purchased_minutes: int = 0
    consumed_minutes: int = 0
    remaining_minutes: int = 0
    recent_sessions: tuple[tuple[dt.date, int, str], ...] = ()  # (day, minutes, topic), newest first

    @property
    def open_invoices(self) -> list[InvoiceView]:
        """Issued or overdue (not paid, not reported), oldest first."""
        open_ones = (i for i in self.invoices if i.status in ("issued", "overdue"))
        return sorted(open_ones, key=lambda i: (i.due_date, i.issue_date, i.number))


class CodeCheck(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"
    EXPIRED = "expired"
    LOCKED = "locked"


class Lock(StrEnum):
    """Why verification of a RUC is refused for now."""

    CHAT = "chat"  # too many wrong codes in this chat
    GUESSES = "guesses"  # too many wrong codes for this RUC, from any chat
    CODES = "codes"  # enough codes were sent for this RUC lately, from any chat


@dataclass(frozen=True)
class CodeResult:
    outcome: CodeCheck
    attempts_left: int = 0
    company: str | None = None
    lock: Lock | None = None  # with LOCKED: which limit
    locked_until: dt.datetime | None = None  # with LOCKED: when a new try is allowed


@dataclass(frozen=True)
class VerificationStarted:
    masked_email: str | None  # None: no code was sent (see `lock`)
    locked_until: dt.datetime | None = None  # when a new code may be asked for
    lock: Lock | None = None  # None with no mask: verification is not available here at all
    code_pending: bool = False  # with CODES: this chat still holds an unexpired code


@dataclass(frozen=True)
class PaymentDetails:
    invoice_id: int
    amount: Decimal
    paid_on: dt.date
    bank: str
    method: str  # "deposito" or "transferencia"
    reference: str
    receipt_path: str | None = None


class Accounts(Protocol):
    async def linked(self, conversation_id: int, today: dt.date) -> AccountView | None: ...

    async def start_verification(self, conversation_id: int, ruc: str, now: dt.datetime) -> VerificationStarted: ...

    async def check_code(self, conversation_id: int, ruc: str, code: str, now: dt.datetime) -> CodeResult: ...

    async def unlink(self, conversation_id: int, now: dt.datetime) -> bool: ...

    async def report_payment(
        self, conversation_id: int, details: PaymentDetails, now: dt.datetime
    ) -> str | None: ...  # None when stored; else why not (in Spanish)

    async def cancel_plan(self, conversation_id: int, today: dt.date, now: dt.datetime) -> dt.date | None: ...

    def store_receipt(self, extension: str, data: bytes) -> str: ...  # where it was kept


class NoAccounts:
    """Anonymous, one-shot conversations: never linked, nothing sent."""

    async def linked(self, conversation_id: int, today: dt.date) -> AccountView | None:
        return None

    async def start_verification(self, conversation_id: int, ruc: str, now: dt.datetime) -> VerificationStarted:
        return VerificationStarted(masked_email=None, locked_until=None)

    async def check_code(self, conversation_id: int, ruc: str, code: str, now: dt.datetime) -> CodeResult:
        return CodeResult(CodeCheck.EXPIRED)

    async def unlink(self, conversation_id: int, now: dt.datetime) -> bool:
        return False

    async def report_payment(self, conversation_id: int, details: PaymentDetails, now: dt.datetime) -> str | None:
        return "Este canal no puede registrar pagos."

    async def cancel_plan(self, conversation_id: int, today: dt.date, now: dt.datetime) -> dt.date | None:
        return None

    def store_receipt(self, extension: str, data: bytes) -> str:
        raise RuntimeError("anonymous one-shot conversations keep no files")
