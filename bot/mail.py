"""Sending e-mail: SMTP (aiosmtplib) when PERSEO_SMTP_HOST is set, else .eml files in a folder.

The folder mode keeps the embedded setup working with no mail server: a person (or a test)
opens var/mail/*.eml to read what the bot sent.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib

from bot.config import Settings


class MailError(Exception):
    """Sending failed. `permanent` failures (a refused address) are not worth retrying."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> str: ...


def compose(
    sender: str, to: str, subject: str, body: str, cc: str | None = None, attachments: Sequence[Path] = ()
) -> EmailMessage:
    """A plain-text mail; `attachments` are files (a payment receipt) added with their type.
    A file that is no longer there is left out: the mail still goes, it links to the report."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain="perseo-bot")
    message.set_content(body)
    for path in attachments:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=f"comprobante{path.suffix}")
    return message


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs PERSEO_SMTP_HOST")
        self.settings = settings

    async def send(self, message: EmailMessage) -> str:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                start_tls=s.smtp_starttls and not s.smtp_use_tls,
                use_tls=s.smtp_use_tls,
                timeout=30,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"address refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(f"SMTP {exc.code}: {exc.message}", permanent=500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(f"SMTP unreachable: {exc}", permanent=False) from exc
        return str(message["Message-ID"])


class DirectoryMailer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        text = message.get_body(("plain",)) if message.is_multipart() else message
        if text is not None:
            text.set_content(text.get_content(), cte="8bit")  # readable in any text editor
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(bytes(message))
        temporary.rename(path)  # a reader never sees half a mail
        return str(path)


def build_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else DirectoryMailer(settings.mail_dir)
