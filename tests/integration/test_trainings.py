"""Trainings in the chat, the outbox reminders and the admin commands, on SQLite and
PostgreSQL, with a frozen clock (issue: daily Zoom trainings)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_calendar, build_engine, build_notifier
from bot.channels.outbound import ConversationSender
from bot.config import Settings
from bot.context import Knowledge
from bot.mail import DirectoryMailer
from bot.messages import Message, Outcome
from bot.persistence.database import sessionmaker
from bot.persistence.sql_store import SqlConversationStore
from bot.persistence.tables import OutboxRow, TrainingSignupRow
from bot.services.handoffs import pushed_since
from bot.services.trainings import SqlTrainings, TrainingError, add_session, attendees, cancel_session, list_sessions
from scheduler.delivery import DeliveryWorker, EmailSender, SendWindow
from tests.factories import add_customer, link_chat

pytestmark = pytest.mark.postgres

EC = zoneinfo.ZoneInfo("America/Guayaquil")


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def local(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=EC)


@pytest.fixture
def clock() -> Clock:
    return Clock(local("2026-11-30", "09:00"))  # a Monday morning


@pytest.fixture
def chat(database: AsyncEngine, settings: Settings, knowledge: Knowledge, clock: Clock):  # type: ignore[no-untyped-def]
    calendar, notifier = build_calendar(settings), build_notifier(settings)
    store = SqlConversationStore(
        sessionmaker(database),
        clock,
        trainings=lambda session: SqlTrainings(session, calendar, notifier, (60, 10)),
    )
    engine = build_engine(settings, store, knowledge=knowledge, clock=clock)

    async def say(text: str, user: str = "ana") -> Outcome:
        return await engine.handle(Message("webchat", user, text, clock()))

    return say


async def outbox(database: AsyncEngine) -> list[OutboxRow]:
    async with sessionmaker(database)() as session:
        return list((await session.execute(select(OutboxRow).order_by(OutboxRow.id))).scalars())


async def test_list_sign_up_and_reminders_at_14_00_and_14_50(chat, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    listed = await chat("¿qué capacitaciones hay esta semana?")
    text, options = listed.replies[0].text, listed.replies[0].options
    assert "lunes 30 de noviembre, 15:00-16:00 · Facturación electrónica" in text
    assert "viernes 4 de diciembre, 15:00-16:00" in text
    assert options[0] == "Inscribirme: lun 30/11 15:00 · Facturación electrónica"
    signed = await chat(options[0])
    assert signed.source == "training.signed" and "zoom.us" in signed.replies[0].text
    rows = await outbox(database)
    assert [(r.kind, r.channel, r.next_attempt_at.astimezone(EC).strftime("%H:%M")) for r in rows] == [
        ("training_reminder", "chat", "14:00"),
        ("training_reminder", "chat", "14:50"),
    ]
    assert all(r.expires_at == local("2026-11-30", "15:00") for r in rows)
    assert "zoom.us" in rows[0].body and "60 minutos" in rows[0].body

    again = await chat("¿qué capacitaciones hay hoy?")
    assert "(ya está inscrito)" in again.replies[0].text and again.replies[0].options == ()
    twice = await chat("Inscribirme: lun 30/11 15:00 · Facturación electrónica")
    assert twice.source != "training.signed"
    assert len(await outbox(database)) == 2  # signing up twice changes nothing

    mine = await chat("mis capacitaciones")
    assert "Facturación electrónica" in mine.replies[0].text
    cancelled = await chat("cancelar mi inscripción")
    assert cancelled.source == "training.cancelled"
    assert [r.status for r in await outbox(database)] == ["cancelled", "cancelled"]


async def test_signing_up_after_a_reminder_time_gets_only_the_later_one(
    chat, clock: Clock, database: AsyncEngine
) -> None:  # type: ignore[no-untyped-def]
    clock.now = local("2026-11-30", "14:30")
    listed = await chat("capacitaciones de hoy")
    await chat("1")
    assert listed.replies[0].options
    rows = await outbox(database)
    assert [r.next_attempt_at.astimezone(EC).strftime("%H:%M") for r in rows] == ["14:50"]


async def test_a_linked_customer_is_reminded_by_e_mail_too(  # type: ignore[no-untyped-def]
    chat, database: AsyncEngine, settings: Settings
) -> None:
    await add_customer(database, settings)
    await link_chat(database, "maria", "1792205859001")
    await chat("capacitaciones del martes", user="maria")
    await chat("1", user="maria")
    rows = await outbox(database)
    assert sorted((r.channel, r.recipient) for r in rows) == [
        ("chat", rows[0].recipient), ("chat", rows[0].recipient),
        ("email", "maria@andina.ec"), ("email", "maria@andina.ec"),
    ]  # fmt: skip
    async with sessionmaker(database)() as session:
        signup = (await session.execute(select(TrainingSignupRow))).scalar_one()
    assert signup.customer_id is not None


async def test_holidays_sundays_and_past_days(chat, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = local("2026-10-30", "16:30")  # Friday, after the session: Monday 2 and Tuesday 3 are holidays
    sunday = await chat("¿hay capacitación el domingo?")
    assert sunday.replies[0].text.startswith("El domingo 1 de noviembre no hay capacitaciones")
    assert "miércoles 4 de noviembre, 15:00-16:00" in sunday.replies[0].text
    assert "2 de noviembre" not in sunday.replies[0].text and "3 de noviembre" not in sunday.replies[0].text
    today = await chat("capacitaciones de hoy")
    assert "ya empezaron" in today.replies[0].text
    past = await chat("capacitaciones del 20 de octubre")
    assert "ya pasó" in past.replies[0].text
    thursday = await chat("¿qué capacitación hay el jueves?")
    assert "jueves 5 de noviembre" in thursday.replies[0].text  # relative to today


async def test_a_full_session_offers_the_next_one_on_the_same_topic(  # type: ignore[no-untyped-def]
    chat, database: AsyncEngine, settings: Settings, clock: Clock
) -> None:
    calendar = build_calendar(settings)
    async with sessionmaker(database).begin() as session:
        for day in ("2026-12-10", "2026-12-17"):
            await add_session(
                session, calendar, day=dt.date.fromisoformat(day), start=dt.time(10), minutes=90,
                topic="Cierre contable de fin de año", seats=1, zoom=None, now=clock(),
            )  # fmt: skip
    await chat("capacitaciones del 10 de diciembre", user="luis")  # luis sees a free seat...
    await chat("capacitaciones del 10 de diciembre", user="ana")
    assert (await chat("1", user="ana")).source == "training.signed"  # ...ana takes it first
    shown = await chat("capacitaciones del 10 de diciembre", user="pedro")
    assert "Cierre contable de fin de año (sin cupos)" in shown.replies[0].text
    full = await chat("Inscribirme: jue 10/12 10:00 · Cierre contable de fin de año", user="luis")
    assert "ya no tiene cupos" in full.replies[0].text
    assert full.replies[0].options == ("Inscribirme: jue 17/12 10:00 · Cierre contable de fin de año",)
    assert (await chat(full.replies[0].options[0], user="luis")).source == "training.signed"


async def test_a_session_that_started_cannot_be_joined(chat, clock: Clock, database: AsyncEngine) -> None:  # type: ignore[no-untyped-def]
    listed = await chat("capacitaciones de hoy")
    clock.now = local("2026-11-30", "15:05")
    late = await chat(listed.replies[0].options[0])
    assert "ya empezó" in late.replies[0].text
    async with sessionmaker(database)() as session:
        assert (await session.execute(select(TrainingSignupRow))).first() is None


async def test_cancelling_a_session_tells_everyone_and_reminders_replay_once(  # type: ignore[no-untyped-def]
    chat, database: AsyncEngine, settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    calendar, notifier = build_calendar(settings), build_notifier(settings)
    for user in ("ana", "luis"):
        await chat("capacitaciones del martes", user=user)
        await chat("1", user=user)
    sessions = sessionmaker(database)
    worker = DeliveryWorker(
        sessions,
        {"chat": ConversationSender(sessions), "email": EmailSender(DirectoryMailer(tmp_path), "bot@perseo.ec")},
        SendWindow(dt.time(8), dt.time(20), EC),
    )
    # Tuesday 14:00: the 60-minute reminders go out, once, however often the tick runs.
    first = await worker.run_once(local("2026-12-01", "14:00"))
    again = await worker.run_once(local("2026-12-01", "14:01"))
    assert (first.sent, again.sent) == (2, 0)
    async with sessions() as session:
        shown, _, _ = await pushed_since(session, "webchat", "ana", 0)
    assert [m.text for m in shown][-1].startswith("Le recordamos la capacitación gratuita «Inventario»")

    async with sessions.begin() as session:
        told = await cancel_session(session, calendar, notifier, "tardes-20261201", "falla de la plataforma", clock())
    assert told == 2
    later = await worker.run_once(local("2026-12-01", "14:20"))
    assert later.sent == 2  # the cancellation notices; the 14:50 reminders were withdrawn
    statuses = sorted((r.kind, r.status) for r in await outbox(database))
    assert statuses.count(("training_reminder", "cancelled")) == 2
    assert statuses.count(("training_cancelled", "sent")) == 2
    async with sessions() as session:
        shown, _, _ = await pushed_since(session, "webchat", "luis", 0)
        assert "se canceló (falla de la plataforma)" in shown[-1].text
        assert await list_sessions(session, calendar, dt.date(2026, 12, 1), dt.date(2026, 12, 1)) == []
    listed = await chat("capacitaciones del martes", user="pedro")
    assert listed.replies[0].text.startswith("El martes 1 de diciembre no hay capacitaciones")


async def test_reminders_never_arrive_after_the_start(chat, database: AsyncEngine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    await chat("capacitaciones de hoy")
    await chat("1")
    sessions = sessionmaker(database)
    worker = DeliveryWorker(sessions, {"chat": ConversationSender(sessions)}, SendWindow(dt.time(8), dt.time(20), EC))
    report = await worker.run_once(local("2026-11-30", "15:30"))  # the server was down until after the start
    assert (report.sent, report.expired) == (0, 2)
    assert [(r.status, (r.last_error or "")[:7]) for r in await outbox(database)] == [("cancelled", "expired")] * 2


async def test_admin_commands_refuse_bad_input(database: AsyncEngine, settings: Settings, clock: Clock) -> None:
    calendar, notifier = build_calendar(settings), build_notifier(settings)
    async with sessionmaker(database).begin() as session:
        with pytest.raises(TrainingError, match="already passed"):
            await add_session(session, calendar, day=dt.date(2026, 11, 1), start=dt.time(10), minutes=60,
                              topic="x", seats=None, zoom=None, now=clock())  # fmt: skip
        with pytest.raises(TrainingError, match="no session"):
            await cancel_session(session, calendar, notifier, "tardes-20261102", "", clock())  # a holiday
        with pytest.raises(TrainingError, match="no session"):
            await attendees(session, calendar, "nope")
        with pytest.raises(TrainingError, match="is over"):
            await cancel_session(session, calendar, notifier, "tardes-20261127", "", clock())
        assert await attendees(session, calendar, "tardes-20261130") == []
