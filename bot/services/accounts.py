"""`Accounts` on the database, inside the caller's transaction (the dialogue turn).

Verification codes: 6 digits, e-mailed through the outbox to the address on file, kept only
as an HMAC with the server's key, valid 10 minutes; 5 wrong tries lock that RUC for that chat
for 15 minutes. An unknown RUC gets the same answer as a known one (a stable decoy address is
masked), and its wrong codes count and lock the same way, so the chat reveals nothing about
which RUCs are customers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import replace
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.accounts import (
    AccountView,
    CodeCheck,
    CodeResult,
    InvoiceView,
    PaymentDetails,
    VerificationStarted,
)
from bot.domain.billing import InvoiceFacts, InvoiceStatus, subscription_state
from bot.format import money
from bot.persistence.tables import (
    ChatLinkRow,
    CustomerRow,
    DistributorRow,
    InvoiceRow,
    LinkCodeRow,
    PaymentReportRow,
    PlanRow,
    SubscriptionRow,
)
from bot.services.billing import contact_of, info_of
from bot.services.hours import ledger
from bot.services.notifications import Notifier
from scheduler.outbox import enqueue

CODE_LIFETIME = dt.timedelta(minutes=10)
LOCK_TIME = dt.timedelta(minutes=15)
MAX_WRONG_CODES = 5
DECOY_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com")


def mask_email(address: str) -> str:
    """'juan.perez@empresa.com' -> 'j***@empresa.com'."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class SqlAccounts:
    def __init__(
        self,
        session: AsyncSession,
        key: bytes,
        notifier: Notifier,
        receipts_dir: Path = Path("var/receipts"),
        *,
        public_url: str = "http://127.0.0.1:8080",
    ) -> None:
        self.session = session
        self.key = key
        self.notifier = notifier
        self.receipts_dir = receipts_dir
        self.public_url = public_url.rstrip("/")  # links in e-mails to the back office

    def store_receipt(self, extension: str, data: bytes) -> str:
        """Keep a receipt file under a random name; the path goes into the payment report."""
        self.receipts_dir.mkdir(parents=True, exist_ok=True)
        path = self.receipts_dir / f"{dt.date.today():%Y%m%d}-{secrets.token_hex(8)}.{extension}"
        path.write_bytes(data)
        return str(path)

    # --- linking ---------------------------------------------------------------------------

    async def start_verification(self, conversation_id: int, ruc: str, now: dt.datetime) -> VerificationStarted:
        row = await self._code_row(conversation_id, ruc)
        if row.locked_until is not None and row.locked_until > now:
            return VerificationStarted(None, row.locked_until)
        if row.locked_until is not None:  # the lock has passed: a fresh start
            row.locked_until, row.failed_attempts = None, 0
        customer = await self._customer_by_ruc(ruc)
        row.expires_at = now + CODE_LIFETIME
        if customer is None:
            row.code_hash = None  # nothing can match; wrong tries still count
            return VerificationStarted(self._decoy(ruc))
        code = f"{secrets.randbelow(1_000_000):06d}"
        row.code_hash = self._hash(conversation_id, ruc, code)
        await self.session.flush()
        distributor = await self.session.get(DistributorRow, customer.distributor_id)
        assert distributor is not None
        message = self.notifier.to_customer(
            "link_code",
            f"link:{row.id}:{int(now.timestamp() * 1000)}",
            contact_of(customer, distributor),
            codigo=code,
        )
        await enqueue(self.session, message, now)
        return VerificationStarted(mask_email(customer.email))

    async def check_code(self, conversation_id: int, ruc: str, code: str, now: dt.datetime) -> CodeResult:
        row = await self._code_row(conversation_id, ruc, create=False)
        if row is None:
            return CodeResult(CodeCheck.EXPIRED)
        if row.locked_until is not None and row.locked_until > now:
            return CodeResult(CodeCheck.LOCKED)
        if row.expires_at is None or now > row.expires_at:
            return CodeResult(CodeCheck.EXPIRED)
        expected = row.code_hash
        if expected is not None and hmac.compare_digest(expected, self._hash(conversation_id, ruc, code)):
            customer = await self._customer_by_ruc(ruc)
            assert customer is not None
            await self.session.execute(delete(ChatLinkRow).where(ChatLinkRow.conversation_id == conversation_id))
            self.session.add(ChatLinkRow(conversation_id=conversation_id, customer_id=customer.id, linked_at=now))
            await self.session.delete(row)
            return CodeResult(CodeCheck.LINKED, company=customer.razon_social)
        row.failed_attempts += 1
        if row.failed_attempts >= MAX_WRONG_CODES:
            row.locked_until, row.code_hash, row.expires_at = now + LOCK_TIME, None, None
            return CodeResult(CodeCheck.LOCKED)
        return CodeResult(CodeCheck.WRONG, attempts_left=MAX_WRONG_CODES - row.failed_attempts)

    async def unlink(self, conversation_id: int) -> bool:
        result = await self.session.execute(delete(ChatLinkRow).where(ChatLinkRow.conversation_id == conversation_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

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
        subscription = (
            await self.session.execute(
                select(SubscriptionRow)
                .where(SubscriptionRow.customer_id == customer.id)
                .order_by(SubscriptionRow.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return customer, plan, distributor, subscription

    async def _customer_by_ruc(self, ruc: str) -> CustomerRow | None:
        return (await self.session.execute(select(CustomerRow).where(CustomerRow.ruc == ruc))).scalar_one_or_none()

    async def _code_row(self, conversation_id: int, ruc: str, *, create: bool = True) -> LinkCodeRow:
        query = select(LinkCodeRow).where(LinkCodeRow.conversation_id == conversation_id, LinkCodeRow.ruc == ruc)
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None and create:
            row = LinkCodeRow(conversation_id=conversation_id, ruc=ruc, failed_attempts=0)
            self.session.add(row)
        return row  # type: ignore[return-value]

    def _hash(self, conversation_id: int, ruc: str, code: str) -> str:
        return hmac.new(self.key, f"{conversation_id}:{ruc}:{code}".encode(), hashlib.sha256).hexdigest()

    def _decoy(self, ruc: str) -> str:
        digest = hmac.new(self.key, f"decoy:{ruc}".encode(), hashlib.sha256).digest()
        letter = "abcdefghijklmnopqrstuvwxyz"[digest[0] % 26]
        return f"{letter}***@{DECOY_DOMAINS[digest[1] % len(DECOY_DOMAINS)]}"
