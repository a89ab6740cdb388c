"""The distributor's mail about a payment report carries the receipt and a link to the back
office, not a server path and a CLI command (issue 12); sent over real SMTP (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts import PaymentDetails
from bot.bootstrap import build_notifier
from bot.config import Settings
from bot.mail import DirectoryMailer, SmtpMailer
from bot.persistence.database import sessionmaker
from bot.persistence.tables import OutboxRow
from bot.services.accounts import SqlAccounts
from scheduler.delivery import Delivered, EmailSender
from tests.backoffice_data import PNG, add_invoice
from tests.factories import PYME_RUC, add_support_world, link_chat
from tests.integration.test_mail import Inbox, free_port, smtp_settings

pytestmark = pytest.mark.postgres
NOW = dt.datetime(2026, 11, 28, 15, tzinfo=dt.UTC)
CONSOLE = "https://soporte.perseo.test"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server (aiosmtpd) that keeps what it receives."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def parsed(received: object) -> EmailMessage:
    """What aiosmtpd received, parsed with the modern e-mail API (attachments, bodies)."""
    message = message_from_bytes(received.as_bytes(), policy=policy.default)  # type: ignore[attr-defined]
    assert isinstance(message, EmailMessage)
    return message


async def report(database: AsyncEngine, settings: Settings, receipts: Path, with_receipt: bool) -> OutboxRow:
    """A linked customer reports a payment in the chat; returns the mail planned for the distributor."""
    await add_support_world(database, settings)
    conversation_id = await link_chat(database, "maria", PYME_RUC)
    invoice_id = await add_invoice(database, PYME_RUC)
    async with sessionmaker(database).begin() as session:
        accounts = SqlAccounts(session, b"k", build_notifier(settings), receipts, public_url=CONSOLE + "/")
        path = accounts.store_receipt("png", PNG) if with_receipt else None
        details = PaymentDetails(
            invoice_id, Decimal("34.50"), dt.date(2026, 11, 27), "Pichincha", "transferencia", "778812", path
        )
        assert await accounts.report_payment(conversation_id, details, NOW) is None
    async with sessionmaker(database)() as session:
        return (
            await session.execute(select(OutboxRow).where(OutboxRow.kind == "payment_reported_to_distributor"))
        ).scalar_one()


async def test_the_receipt_arrives_attached_with_a_link_to_the_back_office(
    database: AsyncEngine, settings: Settings, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    row = await report(database, settings, tmp_path / "receipts", with_receipt=True)
    assert str(tmp_path) not in row.body and "perseo-bot" not in row.body
    assert f"{CONSOLE}/console/backoffice/payments#report-" in row.body and "va adjunto" in row.body

    sent = await EmailSender(SmtpMailer(smtp_settings(port)), "bot@perseo.test").send(row)
    assert isinstance(sent, Delivered)
    [received] = inbox.messages
    mail = parsed(received)
    assert mail["To"] == "ventas@sierra.ec"  # type: ignore[index]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_filename() == "comprobante.png"
    assert attachment.get_payload(decode=True) == PNG
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Comercial Andina" in text and "$34,50" in text and "/console/backoffice/payments#report-" in text


async def test_without_a_receipt_the_mail_says_so_and_has_no_attachment(
    database: AsyncEngine, settings: Settings, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    row = await report(database, settings, tmp_path / "receipts", with_receipt=False)
    assert "no adjuntó comprobante" in row.body and row.data is None
    assert isinstance(await EmailSender(SmtpMailer(smtp_settings(port)), "bot@perseo.test").send(row), Delivered)
    assert list(parsed(inbox.messages[0]).iter_attachments()) == []


async def test_the_mail_folder_keeps_the_attachment_readable(
    database: AsyncEngine, settings: Settings, tmp_path: Path
) -> None:
    row = await report(database, settings, tmp_path / "receipts", with_receipt=True)
    sent = await EmailSender(DirectoryMailer(tmp_path / "mail"), "bot@perseo.test").send(row)
    assert isinstance(sent, Delivered)
    [eml] = (tmp_path / "mail").glob("*.eml")
    raw = eml.read_bytes()
    assert b'Content-Disposition: attachment; filename="comprobante.png"' in raw
    assert b"Revise el reporte y confirme o rechace" in raw  # the text part stays 8-bit readable
