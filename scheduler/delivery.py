"""The delivery worker: claims outbox rows, sends them, records what happened.

Per row: sent -> `sent`; a transient failure -> back to `pending` with exponential backoff
(or the channel's retry-after); a permanent failure (refused address, blocked bot, unknown
chat) or too many attempts -> `failed`. Reminders about an invoice that was reported or paid
in the meantime are `cancelled` instead of sent, and so is a row whose `expires_at` has
passed (a verification code that would arrive dead, a reminder of a training that started):
late is worse than never. Reminders wait for the send window (08:00-20:00
America/Guayaquil by default); verification codes and mails to distributors do not.

Claims are small (10 rows) and short (a 30-second lease) so that the rows of a worker killed
mid-batch return to the queue within about 30 seconds; while a worker is sending, a heartbeat
renews the lease of the rows it still holds every third of the lease, so a slow channel does
not hand live rows to a second worker. A worker that is stopped (its task cancelled) gives
back the rows it had not sent yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.mail import Mailer, MailError, compose
from bot.persistence.tables import OutboxRow
from scheduler.outbox import INVOICE_REMINDERS, claim, settled_invoices

log = logging.getLogger(__name__)

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
    cancelled: int = 0  # the invoice was settled meanwhile
    expired: int = 0  # its deadline passed before it could go out (also stored as `cancelled`)
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled + self.expired


def expired_reason(deadline: dt.datetime) -> str:
    return f"expired before it could be sent (deadline {deadline.isoformat()})"


@dataclass
class _Claim:
    """The rows one claim gave this worker, and how long it may keep them."""

    token: str
    rows: list[OutboxRow]  # detached copies, status `sending`
    held_until: dt.datetime  # the lease this worker last wrote for them
    open: set[int] = field(default_factory=set)  # ids neither recorded nor given back yet


class DeliveryWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        senders: Mapping[str, Sender],
        window: SendWindow,
        *,
        lease: dt.timedelta = dt.timedelta(seconds=30),
        batch: int = 10,
        heartbeat: float | None = None,  # seconds between lease renewals; default a third of the lease
        max_attempts: int = 8,
        backoff: dt.timedelta = dt.timedelta(minutes=1),
        rates: Mapping[str, float] | None = None,  # messages per second, per channel
        timer: Callable[[], float] = time.monotonic,  # how a run measures the time passing since `now`
    ) -> None:
        self.sessions = sessions
        self.senders = senders
        self.window = window
        self.lease = lease
        self.batch = batch
        self.heartbeat = heartbeat if heartbeat is not None else lease.total_seconds() / 3
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.rates = dict(rates or {})
        self.timer = timer
        self._last_send: dict[str, float] = {}

    async def run_once(self, now: dt.datetime, limit: int | None = None) -> DeliveryReport:
        """Deliver what is due, batch after batch, until nothing is left (or `limit`).

        `now` is the time the run starts; later moments of the run (a claim's lease, a row's
        deadline, the backoff) are `now` plus the time measured since, so a run that lasts
        minutes neither claims with leases already in the past nor sends what expired meanwhile.
        """
        started = self.timer()

        def clock() -> dt.datetime:
            return now + dt.timedelta(seconds=self.timer() - started)

        report = DeliveryReport()
        while limit is None or report.handled < limit:
            claimed = await self._claim(clock(), report)
            if claimed is None:
                break
            await self._deliver(claimed, clock, report)
        return report

    async def _claim(self, now: dt.datetime, report: DeliveryReport) -> _Claim | None:
        """Claim one small batch, in a short transaction; settled reminders are cancelled on the way."""
        kinds = None if self.window.allows(now) else IMMEDIATE_KINDS
        async with self.sessions.begin() as session:
            rows = await claim(session, now, limit=self.batch, lease=self.lease, kinds=kinds)
            if not rows:
                return None
            token = rows[0].claim_token or ""
            settled = await settled_invoices(
                session, {r.invoice_id for r in rows if r.kind in INVOICE_REMINDERS and r.invoice_id}
            )
            for row in rows:
                if row.expires_at is not None and row.expires_at <= now:
                    row.status, row.lease_until, row.claim_token = "cancelled", None, None
                    row.last_error = expired_reason(row.expires_at)
                    report.expired += 1
                elif row.invoice_id in settled and row.kind in INVOICE_REMINDERS:
                    row.status, row.lease_until, row.claim_token = "cancelled", None, None
                    report.cancelled += 1
            pending = [r for r in rows if r.status == "sending"]
            await session.flush()
            session.expunge_all()  # sending happens outside the transaction
        return _Claim(token, pending, now + self.lease, {r.id for r in pending})

    async def _deliver(self, claimed: _Claim, clock: Callable[[], dt.datetime], report: DeliveryReport) -> None:
        """Send the claimed rows one by one while a heartbeat keeps their lease alive."""
        heartbeat = asyncio.create_task(self._keep_alive(claimed, clock))
        try:
            for row in claimed.rows:
                now = clock()
                if now >= claimed.held_until - self.lease / 3:
                    # The heartbeat could not renew the lease (it keeps at least two thirds of it
                    # ahead): another worker may take these rows while this send is on the wire.
                    # Leave them; whoever claims them next sends them.
                    log.warning("outbox: lease lost before sending row %d; leaving the rest of the batch", row.id)
                    return
                if row.expires_at is not None and row.expires_at <= now:
                    values: dict[str, object] = {"status": "cancelled", "last_error": expired_reason(row.expires_at)}
                    report.expired += 1
                else:
                    result = await self._send(row.channel, row)
                    values = self._outcome(row.id, row.attempts, result, clock(), report)
                await self._finish(row.id, claimed.token, values)
                claimed.open.discard(row.id)
        except asyncio.CancelledError:
            # Stopped (the server shuts down): what was not sent goes back to the queue now.
            await asyncio.shield(self._give_back(claimed))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _keep_alive(self, claimed: _Claim, clock: Callable[[], dt.datetime]) -> None:
        """Every `heartbeat` seconds, push the lease of the rows still held `lease` ahead."""
        while claimed.open:
            await asyncio.sleep(self.heartbeat)
            until = clock() + self.lease
            try:
                await self._update_held(claimed.open, claimed.token, lease_until=until)
            except Exception:  # the database is away: the old lease still holds until it passes
                log.warning("outbox: could not renew the lease of %d rows", len(claimed.open), exc_info=True)
                continue
            claimed.held_until = until

    async def _give_back(self, claimed: _Claim) -> None:
        """Return the rows not sent yet to `pending`, claimable at once (the attempt is not counted)."""
        if not claimed.open:
            return
        with contextlib.suppress(Exception):  # if this fails too, the lease runs out in 30 s anyway
            await self._update_held(
                claimed.open,
                claimed.token,
                status="pending",
                lease_until=None,
                claim_token=None,
                attempts=OutboxRow.attempts - 1,
            )
            claimed.open.clear()

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

    def _outcome(
        self, row_id: int, attempts: int, result: DeliveryResult, now: dt.datetime, report: DeliveryReport
    ) -> dict[str, object]:
        if isinstance(result, Delivered):
            report.sent += 1
            return {"status": "sent", "sent_at": now, "last_error": None}
        if isinstance(result, RetryLater) and attempts < self.max_attempts:
            delay = (
                dt.timedelta(seconds=result.after_seconds)
                if result.after_seconds is not None
                else self.backoff * 2 ** (attempts - 1)
            )
            report.retried += 1
            return {"status": "pending", "next_attempt_at": now + delay, "last_error": result.reason}
        reason = result.reason
        if isinstance(result, RetryLater):
            reason = f"gave up after {attempts} attempts: {reason}"
        report.failed += 1
        report.errors.append(f"outbox {row_id}: {reason}")
        return {"status": "failed", "last_error": reason}

    async def _finish(self, row_id: int, token: str, values: dict[str, object]) -> None:
        """Record a row's outcome, if this worker still holds it.

        One small commit per message: after a crash at most the message in flight is resent.
        The claim token keeps a worker whose lease ran out from overwriting the next holder's.
        """
        await self._update_held({row_id}, token, lease_until=None, claim_token=None, **values)

    async def _update_held(self, row_ids: set[int], token: str, **values: object) -> None:
        """Change the rows of `row_ids` that this worker's claim (`token`) still holds, in one
        short transaction of its own; rows another worker took over are left alone."""
        async with self._engine().begin() as connection:
            await connection.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_(sorted(row_ids)),
                    OutboxRow.status == "sending",
                    OutboxRow.claim_token == token,
                )
                .values(**values)
            )

    def _engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.sessions.kw["bind"]
        return engine
