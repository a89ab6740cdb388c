"""Back-office test data: an invoice with a payment report (and its receipt file), made
through the real tables, as the chat's report flow leaves them."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.persistence.database import sessionmaker
from bot.persistence.tables import CustomerRow, InvoiceRow, PaymentReportRow, SubscriptionRow


def _png(width: int = 40, height: int = 24) -> bytes:
    """A small valid PNG (a grey rectangle): what `domain.receipts` accepts as a photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xcc\xcc\xcc" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def add_invoice(database: AsyncEngine, ruc: str, total: Decimal = Decimal("34.50")) -> int:
    """An issued, open invoice of the customer (as the sweep of the 25th leaves it)."""
    _, report_id = await add_reported_invoice(database, ruc, None, total=total, receipt=None)
    async with sessionmaker(database).begin() as session:
        report = await session.get(PaymentReportRow, report_id)
        assert report is not None
        invoice = await session.get(InvoiceRow, report.invoice_id)
        assert invoice is not None
        invoice.status = "issued"
        await session.delete(report)
        return invoice.id


async def add_reported_invoice(
    database: AsyncEngine,
    ruc: str,
    receipts_dir: Path | None,
    *,
    total: Decimal = Decimal("34.50"),
    amount: Decimal | None = None,
    receipt: bytes | None = PNG,
    extension: str = "png",
    due: dt.date = dt.date(2026, 12, 5),
) -> tuple[int, int]:
    """An issued invoice of the customer, reported as paid; returns (invoice id, report id)."""
    now = dt.datetime(2026, 11, 27, 15, tzinfo=dt.UTC)
    async with sessionmaker(database).begin() as session:
        customer = (await session.execute(select(CustomerRow).where(CustomerRow.ruc == ruc))).scalar_one()
        subscription = (
            await session.execute(select(SubscriptionRow).where(SubscriptionRow.customer_id == customer.id))
        ).scalar_one()
        count = (await session.execute(select(func.count(InvoiceRow.id)))).scalar_one()
        sequence = count + 1
        subtotal = (total / Decimal("1.15")).quantize(Decimal("0.01"))
        invoice = InvoiceRow(
            subscription_id=subscription.id, sequence=sequence, number=f"001-001-{sequence:09d}", kind="monthly",
            period_start=dt.date(2026, 12, 1), period_end=dt.date(2026, 12, 31), issue_date=dt.date(2026, 11, 25),
            due_date=due, subtotal=subtotal, iva_rate=Decimal("0.15"), iva=total - subtotal, total=total,
            status="reported", created_at=now,
        )  # fmt: skip
        session.add(invoice)
        await session.flush()
        path = None
        if receipt is not None and receipts_dir is not None:
            receipts_dir.mkdir(parents=True, exist_ok=True)
            path = receipts_dir / f"20261127-{invoice.id:016x}.{extension}"
            path.write_bytes(receipt)
        report = PaymentReportRow(
            invoice_id=invoice.id, customer_id=customer.id, amount=amount if amount is not None else total,
            paid_on=dt.date(2026, 11, 26), bank="Banco Pichincha", method="transferencia", reference="778899",
            receipt_path=str(path) if path else None, status="pending", created_at=now,
        )  # fmt: skip
        session.add(report)
        await session.flush()
        return invoice.id, report.id
