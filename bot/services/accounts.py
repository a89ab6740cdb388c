"""`Accounts` on the database, inside the caller's transaction (the dialogue turn).

Verification codes: 6 digits, e-mailed through the outbox to the address on file, kept only
as an HMAC with the server's key, valid 10 minutes; 5 wrong tries lock that RUC for that chat
for 15 minutes. Above the chat, per-RUC limits shared by every chat and replica (the
`verification_events` table, bot.domain.verification) cap the codes sent and the wrong codes
typed per hour and per day, so new chats buy neither more guesses nor more mails.

An unknown RUC gets the same answer as a known one: a stable decoy address drawn like real
ones (bot.domain.masking), the same limits, and the same database work (the code mail is
written to the outbox inside a savepoint that is rolled back), so neither the text, the mask
nor the time taken tells which RUCs are customers.

The code mail is not sent once less than a minute of the code's life is left (it would
arrive dead), nor once a newer code for the same chat and RUC replaced it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import (
    AccountView,
    CodeCheck,
    CodeResult,
    InvoiceView,
    Lock,
    PaymentDetails,
    VerificationStarted,
)
from bot.domain.billing import InvoiceFacts, InvoiceStatus, subscription_state
from bot.domain.masking import decoy_mask, mask_email
from bot.domain.verification import VerificationLimits, next_allowed, remaining
from bot.format import money
from bot.persistence.database import dialect_of
from bot.persistence.tables import (
    ChatLinkRow,
    CustomerRow,
    DistributorRow,
    InvoiceRow,
    LinkCodeRow,
    OutboxRow,
    PaymentReportRow,
    PlanRow,
    SubscriptionRow,
    VerificationEventRow,
)
from bot.services import chat_links
from bot.services.billing import contact_of, info_of, latest_subscription
from bot.services.hours import ledger
from bot.services.notifications import CustomerContact, Notifier
from scheduler.outbox import enqueue

__all__ = ["SqlAccounts", "mask_email"]

CODE_LIFETIME = dt.timedelta(minutes=10)
# The mail must leave with at least this much of the code's life left: time to reach the
# inbox, be read and be typed into the chat. Later, the outbox drops it instead of sending it.
CODE_TIME_TO_USE = dt.timedelta(minutes=1)
LOCK_TIME = dt.timedelta(minutes=15)
MAX_WRONG_CODES = 5
DECOY_RECIPIENT = "nobody@invalid"  # the decoy mail is rolled back; this never reaches the outbox


def _latest(locks: list[tuple[dt.datetime | None, Lock]]) -> tuple[dt.datetime | None, Lock | None]:
    """The lock that lasts longest (a customer told to come back must not meet another one)."""
    active = [(until, lock) for until, lock in locks if until is not None]
    if not active:
        return None, None
    until, lock = max(active, key=lambda pair: pair[0])
    return until, lock


class _Decoy(Exception):
    """Raised inside the savepoint that writes an unknown RUC's code mail, to roll it back."""


class SqlAccounts:
    def __init__(
        self,
        session: AsyncSession,
        key: bytes,
        notifier: Notifier,
        receipts_dir: Path = Path("var/receipts"),
        limits: VerificationLimits | None = None,
        *,
        public_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.session = session
        self.key = key
        self.notifier = notifier
        self.receipts_dir = receipts_dir
        self.limits = limits or VerificationLimits()
        self.public_url = public_url.rstrip("/")  # links in e-mails to the back office

    def store_receipt(self, extension: str, data: bytes) -> str:
        """Keep a receipt file under a random name; the path goes into the payment report."""
        self.receipts_dir.mkdir(parents=True, exist_ok=True)
        path = self.receipts_dir / f"{dt.date.today():%Y%m%d}-{secrets.token_hex(8)}.{extension}"
        path.write_bytes(data)
        return str(path)

    # --- linking ---------------------------------------------------------------------------

    async def start_verification(self, conversation_id: int, ruc: str, now: dt.datetime) -> VerificationStarted:
        await self._serialise(ruc)
        row = await self._code_row(conversation_id, ruc)
        if row.locked_until is not None and row.locked_until <= now:  # the lock has passed: a fresh start
            row.locked_until, row.failed_attempts = None, 0
        events = await self._events(ruc)
        locks = [
            (row.locked_until, Lock.CHAT),
            (next_allowed(events["wrong"], self.limits.wrong, now), Lock.GUESSES),
            (next_allowed(events["code"], self.limits.codes, now), Lock.CODES),
        ]
        until, lock = _latest(locks)
        if until is not None:
            pending = lock == Lock.CODES and row.expires_at is not None and row.expires_at > now
            return VerificationStarted(None, until, lock, code_pending=pending)
        event = await self._record(ruc, "code", now, events)
        customer = await self._customer_by_ruc(ruc)
        code = f"{secrets.randbelow(1_000_000):06d}"
        code_hash = self._hash(conversation_id, ruc, code)
        row.code_hash = code_hash if customer is not None else None  # nothing can match a stranger's
        row.expires_at = now + CODE_LIFETIME
        await self.session.flush()
        key = f"link:{row.id}:{event.id}"  # one mail per code, even two in the same millisecond
        await self._withdraw_codes(row.id)  # for an unknown RUC too: the same database work
        await self._write_code_mail(customer, ruc, code, key, now)
        if customer is None:
            return VerificationStarted(decoy_mask(self._decoy_digest(ruc)))
        return VerificationStarted(mask_email(customer.email))

    async def _withdraw_codes(self, code_row_id: int) -> None:
        """A new code replaces the old one: mails of the old one still waiting are not sent.

        (A row in `sending` is taken too: its worker may have died; if it is alive, the mail
        may still go out, which is harmless - the code simply no longer works.)
        """
        await self.session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.idempotency_key.like(f"link:{code_row_id}:%"),
                OutboxRow.status.in_(("pending", "sending")),
            )
            .values(status="cancelled", lease_until=None, last_error="replaced by a newer code")
        )

    async def check_code(self, conversation_id: int, ruc: str, code: str, now: dt.datetime) -> CodeResult:
        await self._serialise(ruc)
        row = await self._code_row(conversation_id, ruc, create=False)
        if row is None:
            return CodeResult(CodeCheck.EXPIRED)
        events = await self._events(ruc)
        wrong = events["wrong"]
        chat_until = row.locked_until if row.locked_until is not None and row.locked_until > now else None
        until, lock = _latest([(chat_until, Lock.CHAT), (next_allowed(wrong, self.limits.wrong, now), Lock.GUESSES)])
        if until is not None:  # not even checked: a right guess must not get through either
            return CodeResult(CodeCheck.LOCKED, lock=lock, locked_until=until)
        if row.expires_at is None or now > row.expires_at:
            return CodeResult(CodeCheck.EXPIRED)
        expected, given = row.code_hash, self._hash(conversation_id, ruc, code)
        if expected is not None and hmac.compare_digest(expected, given):
            customer = await self._customer_by_ruc(ruc)
            assert customer is not None
            await chat_links.link(self.session, conversation_id, customer.id, now)
            await self.session.delete(row)
            return CodeResult(CodeCheck.LINKED, company=customer.razon_social)
        await self._record(ruc, "wrong", now, events)
        wrong.append(now)
        row.failed_attempts += 1
        if row.failed_attempts >= MAX_WRONG_CODES:
            row.locked_until = now + LOCK_TIME
        until, lock = _latest(
            [(row.locked_until, Lock.CHAT), (next_allowed(wrong, self.limits.wrong, now), Lock.GUESSES)]
        )
        if until is not None:
            row.code_hash, row.expires_at = None, None  # a new code is needed after any lock
            return CodeResult(CodeCheck.LOCKED, lock=lock, locked_until=until)
        left = min(MAX_WRONG_CODES - row.failed_attempts, remaining(wrong, self.limits.wrong, now))
        return CodeResult(CodeCheck.WRONG, attempts_left=left)

    async def unlink(self, conversation_id: int, now: dt.datetime) -> bool:
        return await chat_links.unlink(self.session, conversation_id, now)

    # --- the linked customer ---------------------------------------------------------------

    async def linked(self, conversation_id: int, today: dt.date) -> AccountView | None:
        found = await self._linked_rows(conversation_id)
        if found is None:
            return None
        customer, plan, distributor, subscription = found
        invoices: list[InvoiceRow] = []
        if subscription is not None:
            query = (
                select(InvoiceRow)
                .where(InvoiceRow.subscription_id == subscription.id)
                .order_by(InvoiceRow.issue_date.desc(), InvoiceRow.sequence.desc())
            )
            invoices = list((await self.session.execute(query)).scalars())
        facts = [InvoiceFacts(i.due_date, i.period_end, InvoiceStatus(i.status)) for i in invoices]
        cancelled_on = subscription.cancelled_on if subscription else None
        state = subscription_state(facts, today, cancelled_on).value if subscription else "ended"
        hours = await ledger(self.session, customer.id)
        return AccountView(
            purchased_minutes=hours.purchased_minutes,
            consumed_minutes=hours.consumed_minutes,
            remaining_minutes=hours.remaining_minutes,
            recent_sessions=tuple((s.started_at.date(), s.minutes, s.topic) for s in hours.recent),
            customer_id=customer.id,
            company=customer.razon_social,
            contact=customer.contact_name,
            plan=plan.name,
            included_hours=plan.included_hours,
            state=state,
            cancelled_on=cancelled_on,
            paid_until=max((i.period_end for i in invoices if i.status != "void"), default=None),
            distributor=distributor.name,
            distributor_email=distributor.email,
            invoices=tuple(
                InvoiceView(i.id, i.number, i.period_start, i.period_end, i.issue_date, i.due_date, i.total, i.status)
                for i in invoices
            ),
        )

    async def report_payment(self, conversation_id: int, details: PaymentDetails, now: dt.datetime) -> str | None:
        found = await self._linked_rows(conversation_id)
        if found is None or found[3] is None:
            return "Este chat ya no está vinculado a una cuenta."
        customer, _, distributor, subscription = found
        assert subscription is not None
        invoice = await self.session.get(InvoiceRow, details.invoice_id)
        if invoice is None or invoice.subscription_id != subscription.id:
            return "Esa factura no pertenece a su cuenta."
        open_report = (
            await self.session.execute(
                select(PaymentReportRow).where(
                    PaymentReportRow.invoice_id == invoice.id,
                    PaymentReportRow.status.in_(("pending", "confirmed")),
                )
            )
        ).scalar_one_or_none()
        if open_report is not None or invoice.status in ("reported", "paid"):
            return f"Ya tenemos un reporte de pago para la factura {invoice.number}; no hace falta enviarlo otra vez."
        report = PaymentReportRow(
            invoice_id=invoice.id,
            customer_id=customer.id,
            conversation_id=conversation_id,
            amount=details.amount,
            paid_on=details.paid_on,
            bank=details.bank,
            method=details.method,
            reference=details.reference,
            receipt_path=details.receipt_path,
            status="pending",
            created_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(report)
                await self.session.flush()
        except IntegrityError:  # another report for this invoice won the race
            return f"Ya tenemos un reporte de pago para la factura {invoice.number}."
        invoice.status = InvoiceStatus.REPORTED.value
        lifted = False
        if subscription.state == "suspended":
            await self.session.flush()
            still_overdue = (
                await self.session.execute(
                    select(InvoiceRow.id).where(
                        InvoiceRow.subscription_id == subscription.id, InvoiceRow.status == "overdue"
                    )
                )
            ).first()
            if still_overdue is None:  # the last overdue invoice is reported: access is back
                subscription.state = "cancelling" if subscription.cancelled_on else "active"
                lifted = True
        contact = contact_of(customer, distributor)
        amount = money(details.amount)
        detail = f"{details.method} del {details.paid_on.isoformat()} en {details.bank}"
        detail += f", referencia {details.reference}"
        # The distributor opens the back office from the mail (no server path, no CLI command);
        # the receipt travels as an attachment (the e-mail sender reads `data["attachments"]`).
        to_distributor = self.notifier.to_distributor(
            "payment_reported_to_distributor",
            f"report:{report.id}:distributor",
            contact,
            numero=invoice.number,
            monto=amount,
            detalle=detail,
            comprobante="El comprobante va adjunto." if details.receipt_path else "El cliente no adjuntó comprobante.",
            enlace=f"{self.public_url}/console/backoffice/payments#report-{report.id}",
        )
        if details.receipt_path:
            to_distributor = replace(to_distributor, data={"attachments": [details.receipt_path]})
        await enqueue(self.session, to_distributor, now)
        if lifted:
            await enqueue(
                self.session,
                self.notifier.to_customer(
                    "reactivated", f"report:{report.id}:reactivated", contact, info_of(invoice), monto=amount
                ),
                now,
            )
        return None

    async def cancel_plan(self, conversation_id: int, today: dt.date, now: dt.datetime) -> dt.date | None:
        found = await self._linked_rows(conversation_id)
        if found is None or found[3] is None:
            return None
        customer, _, distributor, subscription = found
        assert subscription is not None
        if subscription.cancelled_on is None:
            subscription.cancelled_on = today
            if subscription.state == "active":
                subscription.state = "cancelling"
        last = (
            await self.session.execute(
                select(InvoiceRow.period_end)
                .where(InvoiceRow.subscription_id == subscription.id, InvoiceRow.status != "void")
                .order_by(InvoiceRow.period_end.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        paid_until = last or today
        message = self.notifier.to_distributor(
            "cancellation_to_distributor",
            f"subscription:{subscription.id}:cancelled",
            contact_of(customer, distributor),
            copy_customer=True,
            hasta=paid_until.isoformat(),
        )
        await enqueue(self.session, message, now)
        return paid_until

    # --- helpers ---------------------------------------------------------------------------

    async def _linked_rows(
        self, conversation_id: int
    ) -> tuple[CustomerRow, PlanRow, DistributorRow, SubscriptionRow | None] | None:
        query = (
            select(CustomerRow, PlanRow, DistributorRow)
            .join(ChatLinkRow, ChatLinkRow.customer_id == CustomerRow.id)
            .join(PlanRow, PlanRow.id == CustomerRow.plan_id)
            .join(DistributorRow, DistributorRow.id == CustomerRow.distributor_id)
            .where(ChatLinkRow.conversation_id == conversation_id)
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        customer, plan, distributor = row
        return customer, plan, distributor, await latest_subscription(self.session, customer.id)

    async def _customer_by_ruc(self, ruc: str) -> CustomerRow | None:
        return (await self.session.execute(select(CustomerRow).where(CustomerRow.ruc == ruc))).scalar_one_or_none()

    async def _code_row(self, conversation_id: int, ruc: str, *, create: bool = True) -> LinkCodeRow:
        query = select(LinkCodeRow).where(LinkCodeRow.conversation_id == conversation_id, LinkCodeRow.ruc == ruc)
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None and create:
            row = LinkCodeRow(conversation_id=conversation_id, ruc=ruc, failed_attempts=0)
            self.session.add(row)
        return row  # type: ignore[return-value]

    async def _serialise(self, ruc: str) -> None:
        """One verification step per RUC at a time, so two chats cannot both take the last
        code or guess a limit allows. PostgreSQL: a transaction-scoped advisory lock on the RUC;
        SQLite: the turn's BEGIN IMMEDIATE already serialises every writer."""
        if dialect_of(self.session) != "postgresql":
            return
        digest = hashlib.sha256(f"perseo-verification:{ruc}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    async def _events(self, ruc: str) -> dict[str, list[dt.datetime]]:
        """Every kept event of the RUC by kind, in one query (old ones are dropped by `_record`)."""
        query = select(VerificationEventRow.kind, VerificationEventRow.at).where(VerificationEventRow.ruc == ruc)
        events: dict[str, list[dt.datetime]] = {"code": [], "wrong": []}
        for kind, at in (await self.session.execute(query)).all():
            events.setdefault(kind, []).append(at)
        return events

    async def _record(
        self, ruc: str, kind: str, now: dt.datetime, events: dict[str, list[dt.datetime]]
    ) -> VerificationEventRow:
        """Count one event for the RUC; forget this RUC's events no limit looks at any more
        (only when there are some: one statement less on the usual path)."""
        horizon = now - self.limits.horizon
        if any(at <= horizon for times in events.values() for at in times):
            await self.session.execute(
                delete(VerificationEventRow).where(VerificationEventRow.ruc == ruc, VerificationEventRow.at <= horizon)
            )
        event = VerificationEventRow(ruc=ruc, kind=kind, at=now)
        self.session.add(event)
        return event

    async def _write_code_mail(
        self, customer: CustomerRow | None, ruc: str, code: str, key: str, now: dt.datetime
    ) -> None:
        """Queue the code mail to the customer; for an unknown RUC, do the same work and roll it
        back, so both take the same time and leave the same trace (nothing) beyond the events."""
        if customer is not None:
            by_id = select(DistributorRow).where(DistributorRow.id == customer.distributor_id)
        else:
            by_id = select(DistributorRow).order_by(DistributorRow.id).limit(1)
        try:
            async with self.session.begin_nested():
                distributor = (await self.session.execute(by_id)).scalar_one_or_none()
                if customer is not None:
                    assert distributor is not None
                    contact = contact_of(customer, distributor)
                else:
                    name, email = (distributor.name, distributor.email) if distributor else ("", DECOY_RECIPIENT)
                    contact = CustomerContact(0, "", "", DECOY_RECIPIENT, ruc, name, email)
                message = self.notifier.to_customer("link_code", key, contact, codigo=code)
                message = replace(message, expires_at=now + CODE_LIFETIME - CODE_TIME_TO_USE)
                if customer is None:
                    message = replace(message, customer_id=None)
                await enqueue(self.session, message, now)
                if customer is None:
                    raise _Decoy
        except _Decoy:
            pass

    def _hash(self, conversation_id: int, ruc: str, code: str) -> str:
        return hmac.new(self.key, f"{conversation_id}:{ruc}:{code}".encode(), hashlib.sha256).hexdigest()

    def _decoy_digest(self, ruc: str) -> bytes:
        return hmac.new(self.key, f"decoy:{ruc}".encode(), hashlib.sha256).digest()
