"""The delivery worker: claims outbox rows, sends them, records what happened.

Per row: sent -> `sent`; a transient failure -> back to `pending` with exponential backoff
(or the channel's retry-after); a permanent failure (refused address, blocked bot, unknown
chat) or too many attempts -> `failed`. Reminders about an invoice that was reported or paid
in the meantime are `cancelled` instead of sent. Reminders wait for the send window
(08:00-20:00 America/Guayaquil by default); verification codes and mails to distributors
do not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.mail import Mailer, MailError, compose
from bot.persistence.tables import OutboxRow
from scheduler.outbox import INVOICE_REMINDERS, claim, settled_invoices

# Kinds that may go out at any hour: the customer is waiting for them right now.
# Training reminders too: they are tied to the session's start, whatever the hour.
IMMEDIATE_KINDS = frozenset(
    {
        "link_code",
        "payment_reported_to_distributor",
        "cancellation_to_distributor",
        "training_reminder",
        "training_cancelled",
        "reply",  # an answer that could not go out at once
        "advisor_reply",
    }
)


@dataclass(frozen=True)
class Delivered:
    reference: str = ""


@dataclass(frozen=True)
class RetryLater:
    reason: str
    after_seconds: float | None = None  # the channel's retry-after, when it gives one


@dataclass(frozen=True)
class Undeliverable:
    reason: str


DeliveryResult = Delivered | RetryLater | Undeliverable


class Sender(Protocol):
    async def send(self, row: OutboxRow) -> DeliveryResult: ...


class EmailSender:
    def __init__(self, mailer: Mailer, sender_address: str) -> None:
        self.mailer = mailer
        self.sender_address = sender_address

    async def send(self, row: OutboxRow) -> DeliveryResult:
        to, _, cc = row.recipient.partition("|")  # "customer@x|distributor@y" adds a copy
        files = (row.data or {}).get("attachments") or []  # e.g. the receipt of a payment report
        attachments = [Path(str(f)) for f in files] if isinstance(files, list) else []
        try:
            message = compose(self.sender_address, to, row.subject, row.body, cc or None, attachments)
            reference = await self.mailer.send(message)
        except MailError as exc:
            return Undeliverable(str(exc)) if exc.permanent else RetryLater(str(exc))
        return Delivered(reference)


@dataclass(frozen=True)
class SendWindow:
    start: dt.time
    end: dt.time
    zone: zoneinfo.ZoneInfo

    def allows(self, now: dt.datetime) -> bool:
        local = now.astimezone(self.zone).time()
        return self.start <= local < self.end


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        window: SendWindow,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        batch: int = 50,
        max_attempts: int = 8,
        backoff: dt.timedelta = dt.timedelta(minutes=1),
        rates: Mapping[str, float] | None = None,  # messages per second, per channel
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.window = window
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.rates = dict(rates or {})
        self._last_send: dict[str, float] = {}

    async def run_once(self, now: dt.datetime, limit: int | None = None) -> DeliveryReport:
        """Deliver what is due at `now`, batch after batch, until nothing is left (or `limit`)."""
        report = DeliveryReport()
        kinds = None if self.window.allows(now) else IMMEDIATE_KINDS
        while limit is None or report.handled < limit:
            async with self.sessions.begin() as session:
                rows = await claim(session, now, limit=self.batch, lease=self.lease, kinds=kinds)
                settled = await settled_invoices(
                    session, {r.invoice_id for r in rows if r.kind in INVOICE_REMINDERS and r.invoice_id}
                )
                for row in rows:
                    stale = row.expires_at is not None and row.expires_at <= now
                    if stale or (row.invoice_id in settled and row.kind in INVOICE_REMINDERS):
                        row.status, row.lease_until = "cancelled", None
                        row.last_error = "expired before it could be sent" if stale else row.last_error
                        report.cancelled += 1
                pending = [(r.id, r.channel, r.attempts, r) for r in rows if r.status == "sending"]
                await session.flush()
                session.expunge_all()  # sending happens outside the transaction
            if not rows:
                break
            for row_id, channel, attempts, row in pending:
                result = await self._send(channel, row)
                await self._record(row_id, attempts, result, now, report)
        return report

    async def _send(self, channel: str, row: OutboxRow) -> DeliveryResult:
        sender = self.senders.get(channel)
        if sender is None:
            return Undeliverable(f"no sender configured for channel {channel!r}")
        await self._pace(channel)
        try:
            return await sender.send(row)
        except Exception as exc:  # a bug or an unexpected error in one adapter must not stop the run
            return RetryLater(f"{type(exc).__name__}: {exc}")

    async def _pace(self, channel: str) -> None:
        rate = self.rates.get(channel)
        if not rate:
            return
        now = time.monotonic()
        slot = max(now, self._last_send.get(channel, 0.0) + 1.0 / rate)  # fixed slots: no drift
        self._last_send[channel] = slot
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _record(
        self, row_id: int, attempts: int, result: DeliveryResult, now: dt.datetime, report: DeliveryReport
    ) -> None:
        values: dict[str, object] = {"lease_until": None}
        if isinstance(result, Delivered):
            values |= {"status": "sent", "sent_at": now, "last_error": None}
            report.sent += 1
        elif isinstance(result, RetryLater) and attempts < self.max_attempts:
            delay = (
                dt.timedelta(seconds=result.after_seconds)
                if result.after_seconds is not None
                else self.backoff * 2 ** (attempts - 1)
            )
            values |= {"status": "pending", "next_attempt_at": now + delay, "last_error": result.reason}
            report.retried += 1
        else:
            reason = result.reason if not isinstance(result, Delivered) else ""
            if isinstance(result, RetryLater):
                reason = f"gave up after {attempts} attempts: {reason}"
            values |= {"status": "failed", "last_error": reason}
            report.failed += 1
            report.errors.append(f"outbox {row_id}: {reason}")
        # One small commit per message: after a crash at most the message in flight is resent.
        engine = self.sessions.kw["bind"]
        async with engine.begin() as connection:
            await connection.execute(
                update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.status == "sending").values(**values)
            )
