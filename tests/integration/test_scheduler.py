"""Billing sweeps, the outbox and the delivery worker on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import billing_rules, iva_schedule
from bot.config import Settings
from bot.mail import DirectoryMailer
from bot.persistence.database import sessionmaker
from bot.persistence.tables import (
    InvoiceRow,
    OutboxRow,
    SubscriptionRow,
)
from bot.services.billing import BillingSweeps
from bot.services.notifications import Notifier, load_templates
from knowledge.pack import PACKS_DIR
from scheduler.delivery import Delivered, DeliveryWorker, EmailSender, RetryLater, SendWindow, Undeliverable
from scheduler.jobs import Ticker
from scheduler.outbox import OutboxMessage, enqueue
from tests.conftest import clone_engine
from tests.factories import add_customer

pytestmark = pytest.mark.postgres
EC = zoneinfo.ZoneInfo("America/Guayaquil")
WINDOW = SendWindow(dt.time(8), dt.time(20), EC)


def frozen() -> float:
    """A run timer that never moves: the run's time stays at its `now`."""
    return 0.0


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=EC)


class Recorder:
    """A channel that records what it is given and answers what the test scripts."""

    def __init__(self, answers: list[object] | None = None, delay: float = 0.0) -> None:
        self.sent: list[str] = []
        self.answers = list(answers or [])
        self.delay = delay

    async def send(self, row: OutboxRow):  # type: ignore[no-untyped-def]
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self.answers.pop(0) if self.answers else Delivered("ok")
        if isinstance(answer, Delivered):
            self.sent.append(row.idempotency_key)
        return answer


@pytest.fixture
async def customer(database: AsyncEngine, settings: Settings) -> int:
    """A Pyme customer (USD 55.00) who signed up on 2026-11-12; returns the subscription id."""
    return await add_customer(database, settings)


def ticker(database: AsyncEngine, settings: Settings, mail_dir: Path) -> Ticker:
    sessions = sessionmaker(database)
    sweeps = BillingSweeps(
        billing_rules(settings), iva_schedule(settings), Notifier(load_templates(PACKS_DIR / "perseo"))
    )
    senders = {"email": EmailSender(DirectoryMailer(mail_dir), "bot@perseo.test")}
    return Ticker(sessions, sweeps, DeliveryWorker(sessions, senders, WINDOW), EC)


async def outbox(database: AsyncEngine) -> list[OutboxRow]:
    async with sessionmaker(database)() as session:
        return list((await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


async def test_a_month_replayed_day_by_day(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    run = ticker(database, settings, tmp_path / "mail")
    for moment in [
        at("2026-11-12"),
        at("2026-11-25"),
        at("2026-12-03"),
        at("2026-12-05"),
        at("2026-12-06", 7),
    ]:
        await run.tick(moment)
    async with sessionmaker(database)() as session:
        invoices = list((await session.execute(select(InvoiceRow).order_by(InvoiceRow.sequence))).scalars())
        state = (await session.get(SubscriptionRow, customer)).state  # type: ignore[union-attr]
    assert [(i.issue_date, i.total, i.status) for i in invoices] == [
        (dt.date(2026, 11, 12), Decimal("63.25"), "overdue"),
        (dt.date(2026, 11, 25), Decimal("40.05"), "overdue"),  # 55 x 19/30 = 34.83, + 5.22 IVA
    ]
    assert state == "suspended"
    rows = await outbox(database)
    kinds = Counter((r.kind, r.status) for r in rows)
    assert kinds == {
        ("invoice_issued", "sent"): 2,
        ("due_soon", "sent"): 2,
        ("due_today", "sent"): 2,
        ("suspended", "pending"): 1,  # planned at 07:00, outside the 08:00-20:00 window
    }
    report = await run.tick(at("2026-12-06", 9))
    assert report.delivery.sent == 1
    mails = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(mails) == 7
    texts = [m.read_text(encoding="utf-8") for m in mails]
    suspended = [text for text in texts if "Subject: Perseo WEB suspendido" in text]
    assert len(suspended) == 1
    assert "To: maria@andina.ec" in suspended[0] and "$63,25" in suspended[0]


async def test_ticking_the_same_day_twice_plans_nothing_new(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    run = ticker(database, settings, tmp_path / "mail")
    first = await run.tick(at("2026-12-03"))
    second = await run.tick(at("2026-12-03", 10))
    assert first.sweeps is not None and first.sweeps.invoices_issued == 2
    assert second.sweeps is not None and second.sweeps.invoices_issued == 0
    assert second.sweeps.reminders_planned == 0 and second.delivery.sent == 0
    keys = [r.idempotency_key for r in await outbox(database)]
    assert len(keys) == len(set(keys)) == 4


async def test_reminders_stop_once_the_invoice_is_reported(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    run = ticker(database, settings, tmp_path / "mail")
    await run.tick(at("2026-11-25"), deliver=False)
    await run.tick(at("2026-12-03"), deliver=False)  # due_soon planned for both invoices
    async with sessionmaker(database).begin() as session:
        await session.execute(update(InvoiceRow).values(status="reported"))
    report = await run.tick(at("2026-12-03", 10))
    assert report.delivery.cancelled == 4  # 2 "issued" + 2 "due soon", never sent
    later = await run.tick(at("2026-12-06"))
    assert later.sweeps is not None and later.sweeps.suspended == 0 and later.sweeps.reminders_planned == 0


async def test_cancellation_stops_invoices_and_ends_after_the_paid_period(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    run = ticker(database, settings, tmp_path / "mail")
    await run.tick(at("2026-11-25"))
    async with sessionmaker(database).begin() as session:
        await session.execute(update(InvoiceRow).values(status="paid"))
        await session.execute(update(SubscriptionRow).values(cancelled_on=dt.date(2026, 12, 10)))
    await run.tick(at("2026-12-26"))
    async with sessionmaker(database)() as session:
        assert len((await session.execute(select(InvoiceRow))).all()) == 2  # no January invoice
        assert (await session.get(SubscriptionRow, customer)).state == "cancelling"  # type: ignore[union-attr]
    await run.tick(at("2027-01-01"))
    async with sessionmaker(database)() as session:
        assert (await session.get(SubscriptionRow, customer)).state == "ended"  # type: ignore[union-attr]


async def test_the_clock_moved_backwards_skips_the_sweeps(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    run = ticker(database, settings, tmp_path / "mail")
    await run.tick(at("2026-12-06"))
    report = await run.tick(at("2026-12-01"))
    assert report.sweeps is None and report.skipped is not None and "behind" in report.skipped


async def _enqueue_many(database: AsyncEngine, count: int, kind: str = "due_soon") -> None:
    now = at("2026-12-01", 8)
    async with sessionmaker(database).begin() as session:
        for number in range(count):
            message = OutboxMessage(f"test:{number}", kind, "email", f"c{number}@x.ec", "s", "b")
            assert await enqueue(session, message, now)
        assert not await enqueue(session, OutboxMessage("test:0", kind, "email", "x", "s", "b"), now)


async def test_two_workers_never_deliver_the_same_row(database: AsyncEngine) -> None:
    await _enqueue_many(database, 200)
    # a second engine: separate connections, as two processes would have
    other = clone_engine(database)
    try:
        recorders = [Recorder(delay=0.001), Recorder(delay=0.001)]
        workers = [
            DeliveryWorker(sessionmaker(engine), {"email": recorder}, WINDOW, batch=10)
            for engine, recorder in zip((database, other), recorders, strict=True)
        ]
        reports = await asyncio.gather(*(w.run_once(at("2026-12-01", 10)) for w in workers))
    finally:
        await other.dispose()
    delivered = recorders[0].sent + recorders[1].sent
    assert sorted(delivered) == sorted(f"test:{n}" for n in range(200))
    assert all(r.sent > 0 for r in reports), "both workers should have taken a share"


async def test_retries_back_off_honour_retry_after_and_give_up(database: AsyncEngine) -> None:
    await _enqueue_many(database, 3)
    recorder = Recorder([RetryLater("busy", after_seconds=30), Undeliverable("address refused"), RetryLater("timeout")])
    worker = DeliveryWorker(sessionmaker(database), {"email": recorder}, WINDOW, max_attempts=2, timer=frozen)
    start = at("2026-12-01", 10)
    first = await worker.run_once(start)
    assert (first.sent, first.retried, first.failed) == (0, 2, 1)
    rows = {r.idempotency_key: r for r in await outbox(database)}
    assert rows["test:0"].next_attempt_at == start + dt.timedelta(seconds=30)
    assert rows["test:1"].status == "failed" and "refused" in (rows["test:1"].last_error or "")
    assert rows["test:2"].next_attempt_at == start + dt.timedelta(minutes=1)

    assert (await worker.run_once(start + dt.timedelta(seconds=10))).handled == 0  # nothing due yet
    recorder.answers = [Delivered(), RetryLater("timeout again")]
    second = await worker.run_once(start + dt.timedelta(minutes=2))
    assert (second.sent, second.failed) == (1, 1)  # test:2 reached max_attempts=2
    assert {r.idempotency_key: r.status for r in await outbox(database)} == {
        "test:0": "sent", "test:1": "failed", "test:2": "failed"
    }  # fmt: skip


async def test_a_lease_left_by_a_dead_worker_is_taken_over(database: AsyncEngine) -> None:
    from scheduler.outbox import claim

    await _enqueue_many(database, 2)
    start = at("2026-12-01", 10)
    async with sessionmaker(database).begin() as session:  # a worker claims, then dies
        assert len(await claim(session, start, limit=10, lease=dt.timedelta(minutes=5))) == 2
    recorder = Recorder()
    worker = DeliveryWorker(sessionmaker(database), {"email": recorder}, WINDOW)
    assert (await worker.run_once(start + dt.timedelta(minutes=1))).handled == 0  # lease still held
    assert (await worker.run_once(start + dt.timedelta(minutes=6))).sent == 2
    assert [r.attempts for r in await outbox(database)] == [2, 2]


async def test_the_send_window_holds_reminders_but_not_codes(database: AsyncEngine) -> None:
    await _enqueue_many(database, 1, kind="due_soon")
    now = at("2026-12-01", 8)
    async with sessionmaker(database).begin() as session:
        await enqueue(session, OutboxMessage("code:1", "link_code", "email", "a@b.ec", "s", "b"), now)
    recorder = Recorder()
    worker = DeliveryWorker(sessionmaker(database), {"email": recorder}, WINDOW)
    await worker.run_once(at("2026-12-01", 21))
    assert recorder.sent == ["code:1"]
    await worker.run_once(at("2026-12-02", 8))
    assert recorder.sent == ["code:1", "test:0"]


async def test_unknown_channel_is_a_permanent_failure(database: AsyncEngine) -> None:
    async with sessionmaker(database).begin() as session:
        await enqueue(session, OutboxMessage("x:1", "due_soon", "fax", "123", "s", "b"), at("2026-12-01"))
    report = await DeliveryWorker(sessionmaker(database), {}, WINDOW).run_once(at("2026-12-01", 10))
    assert report.failed == 1 and "fax" in report.errors[0]


async def test_two_processes_ticking_at_once_issue_everything_once(
    database: AsyncEngine, settings: Settings, customer: int, tmp_path: Path
) -> None:
    """PostgreSQL: the advisory lock lets one sweep run and the other skip; SQLite: the
    write lock makes the second wait and find nothing new. Either way, nothing twice."""
    other = clone_engine(database)
    try:
        first, second = ticker(database, settings, tmp_path / "a"), ticker(other, settings, tmp_path / "b")
        reports = await asyncio.gather(first.tick(at("2026-11-25")), second.tick(at("2026-11-25")))
    finally:
        await other.dispose()
    issued = sum(r.sweeps.invoices_issued for r in reports if r.sweeps)
    assert issued == 2
    async with sessionmaker(database)() as session:
        numbers = [i.number for i in (await session.execute(select(InvoiceRow))).scalars()]
    assert len(numbers) == len(set(numbers)) == 2
    rows = await outbox(database)
    assert Counter(r.kind for r in rows) == {"invoice_issued": 2}
    assert sum(r.delivery.sent for r in reports) == 2  # each message sent by exactly one of them


# --- stranded claims: a dead worker's rows come back within about 30 seconds -------------------


class Killed(BaseException):
    """The process vanishing mid-send (kill -9): no handler runs, nothing more is written."""


class Clock:
    """A run's monotonic timer that the test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


class Gate(Recorder):
    """A channel whose first send waits until the test opens it (a slow SMTP server)."""

    def __init__(self, effect: BaseException | None = None) -> None:
        super().__init__()
        self.entered, self.opened, self.effect = asyncio.Event(), asyncio.Event(), effect

    async def send(self, row: OutboxRow):  # type: ignore[no-untyped-def]
        if not self.entered.is_set():
            self.entered.set()
            if self.effect is not None:
                raise self.effect
            await self.opened.wait()
        return await super().send(row)


async def test_a_killed_workers_batch_returns_after_30_seconds_and_the_rest_goes_at_once(
    database: AsyncEngine,
) -> None:
    """Issue 10.9: after a kill mid-delivery, 27 of 40 claimed mails waited out a 5-minute lease."""
    await _enqueue_many(database, 40, kind="link_code")
    start = at("2026-12-01", 10)
    dying = DeliveryWorker(sessionmaker(database), {"email": Gate(Killed())}, WINDOW)
    with pytest.raises(Killed):
        await dying.run_once(start)
    held = [r for r in await outbox(database) if r.status == "sending"]
    assert len(held) == 10, "a worker claims a small batch, not everything due"
    assert all(start + dt.timedelta(seconds=30) <= r.lease_until < start + dt.timedelta(seconds=31) for r in held)  # type: ignore[operator]

    survivor = Recorder()
    worker = DeliveryWorker(sessionmaker(database), {"email": survivor}, WINDOW)
    assert (await worker.run_once(start)).sent == 30  # what the dead worker had not claimed: now
    assert (await worker.run_once(start + dt.timedelta(seconds=29))).handled == 0  # its lease holds
    assert (await worker.run_once(start + dt.timedelta(seconds=31))).sent == 10
    assert sorted(survivor.sent) == sorted(f"test:{n}" for n in range(40))
    assert {r.status for r in await outbox(database)} == {"sent"}


async def test_a_live_worker_renews_its_lease_while_a_send_is_slow(database: AsyncEngine) -> None:
    await _enqueue_many(database, 10, kind="link_code")
    start, clock, gate = at("2026-12-01", 10), Clock(), Gate()
    slow = DeliveryWorker(sessionmaker(database), {"email": gate}, WINDOW, timer=clock, heartbeat=0.01)
    run = asyncio.create_task(slow.run_once(start))
    await asyncio.wait_for(gate.entered.wait(), 10)
    clock.seconds = 25.0  # the first mail has been on the wire for 25 s: the heartbeat pushes the lease
    for _ in range(500):
        await asyncio.sleep(0.01)
        leases = {r.lease_until for r in await outbox(database) if r.status == "sending"}
        if leases == {start + dt.timedelta(seconds=55)}:
            break
    assert leases == {start + dt.timedelta(seconds=55)}

    other = Recorder()
    thief = DeliveryWorker(sessionmaker(database), {"email": other}, WINDOW, timer=frozen)
    assert (await thief.run_once(start + dt.timedelta(seconds=45))).handled == 0  # past 30 s, still held
    gate.opened.set()
    report = await asyncio.wait_for(run, 10)
    assert report.sent == 10 and other.sent == []
    assert [(r.status, r.attempts, r.lease_until, r.claim_token) for r in await outbox(database)] == [
        ("sent", 1, None, None)
    ] * 10


async def test_a_worker_that_lost_its_lease_stops_sending_its_batch(database: AsyncEngine) -> None:
    """The heartbeat could not renew (the database was away, the loop stalled): once the lease
    has passed, the rows may belong to another worker, so this one sends no more of them."""
    await _enqueue_many(database, 10, kind="link_code")
    start, clock, gate = at("2026-12-01", 10), Clock(), Gate()
    stalled = DeliveryWorker(sessionmaker(database), {"email": gate}, WINDOW, timer=clock, heartbeat=3600)
    run = asyncio.create_task(stalled.run_once(start))
    await asyncio.wait_for(gate.entered.wait(), 10)
    clock.seconds = 31.0
    other = Recorder()
    successor = DeliveryWorker(sessionmaker(database), {"email": other}, WINDOW, timer=frozen)
    assert (await successor.run_once(start + dt.timedelta(seconds=31))).sent == 10
    gate.opened.set()
    report = await asyncio.wait_for(run, 10)
    assert gate.sent == ["test:0"]  # only the mail already on the wire; the other 9 are left alone
    assert report.sent == 1
    assert [(r.status, r.attempts) for r in await outbox(database)] == [("sent", 2)] * 10


async def test_a_stopped_worker_gives_its_unsent_rows_back_at_once(database: AsyncEngine) -> None:
    await _enqueue_many(database, 10, kind="link_code")
    start, gate = at("2026-12-01", 10), Gate()
    stopping = DeliveryWorker(sessionmaker(database), {"email": gate}, WINDOW, timer=frozen)
    run = asyncio.create_task(stopping.run_once(start))
    await asyncio.wait_for(gate.entered.wait(), 10)
    run.cancel()  # what the scheduler's shutdown does to a running delivery job
    with pytest.raises(asyncio.CancelledError):
        await run
    assert [(r.status, r.attempts, r.lease_until) for r in await outbox(database)] == [("pending", 0, None)] * 10
    other = Recorder()
    worker = DeliveryWorker(sessionmaker(database), {"email": other}, WINDOW, timer=frozen)
    assert (await worker.run_once(start)).sent == 10  # no 30-second wait


async def test_a_message_whose_deadline_passes_while_its_batch_is_sent_is_dropped(database: AsyncEngine) -> None:
    """The deadline is checked just before each send, not only when the batch is claimed."""
    start, clock = at("2026-12-01", 10), Clock()
    async with sessionmaker(database).begin() as session:
        for number, deadline in enumerate((start + dt.timedelta(minutes=9), start + dt.timedelta(seconds=10))):
            message = OutboxMessage(f"code:{number}", "link_code", "email", "a@b.ec", "s", "b", expires_at=deadline)
            await enqueue(session, message, start)

    class Slow(Recorder):
        async def send(self, row: OutboxRow):  # type: ignore[no-untyped-def]
            clock.seconds += 15  # this mail took 15 s to hand over
            return await super().send(row)

    recorder = Slow()
    report = await DeliveryWorker(sessionmaker(database), {"email": recorder}, WINDOW, timer=clock).run_once(start)
    assert (report.sent, report.expired) == (1, 1) and recorder.sent == ["code:0"]
    late = (await outbox(database))[1]
    assert late.status == "cancelled" and late.sent_at is None
    assert (late.last_error or "").startswith("expired before it could be sent")


async def test_a_long_run_claims_with_leases_from_its_own_time_not_its_start(database: AsyncEngine) -> None:
    """A run that lasts minutes must not claim its later batches with leases already past."""
    await _enqueue_many(database, 8, kind="link_code")
    start, clock = at("2026-12-01", 10), Clock()
    seen: list[dt.datetime | None] = []

    class Throttled(Recorder):
        async def send(self, row: OutboxRow):  # type: ignore[no-untyped-def]
            seen.append(row.lease_until)
            clock.seconds += 6  # 6 s a message: a batch of 4 takes 24 s
            return await super().send(row)

    worker = DeliveryWorker(sessionmaker(database), {"email": Throttled()}, WINDOW, batch=4, timer=clock)
    assert (await worker.run_once(start)).sent == 8
    assert seen == [start + dt.timedelta(seconds=30)] * 4 + [start + dt.timedelta(seconds=24 + 30)] * 4
    assert {r.sent_at for r in await outbox(database)} == {start + dt.timedelta(seconds=6 * n) for n in range(1, 9)}
