"""Account linking and the linked customer's dialogues, through the engine on a real database."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import billing_rules, iva_schedule
from bot.config import Settings
from bot.context import GUAYAQUIL, Knowledge
from bot.engine import Engine
from bot.messages import Attachment, Message
from bot.persistence.database import sessionmaker
from bot.persistence.sql_store import SqlConversationStore
from bot.persistence.tables import (
    ChatLinkRow,
    ConversationRow,
    InvoiceRow,
    LinkCodeRow,
    OutboxRow,
    PaymentReportRow,
    SubscriptionRow,
    VerificationEventRow,
)
from bot.router import Router
from bot.services.accounts import SqlAccounts
from bot.services.billing import BillingSweeps
from bot.services.notifications import Notifier, load_templates
from knowledge.pack import PACKS_DIR
from scheduler.delivery import Delivered, DeliveryWorker, SendWindow
from tests.factories import add_customer

pytestmark = pytest.mark.postgres
NOTIFIER = Notifier(load_templates(PACKS_DIR / "perseo"))


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


class Chat:
    """One customer's conversation with the bot."""

    def __init__(
        self,
        database: AsyncEngine,
        knowledge: Knowledge,
        clock: Clock,
        user: str = "maria",
        receipts_dir: Path | None = None,
    ) -> None:
        receipts = receipts_dir or Path("var/receipts")
        store = SqlConversationStore(
            sessionmaker(database),
            clock,
            accounts=lambda session: SqlAccounts(session, b"test-key", NOTIFIER, receipts),
        )
        self.engine = Engine(Router(knowledge, 2000), store, clock, GUAYAQUIL)
        self.clock = clock
        self.user = user

    async def say(self, text: str, *attachments: Attachment) -> str:
        message = Message("webchat", self.user, text, self.clock(), attachments=attachments)
        outcome = await self.engine.handle(message)
        self.last = outcome
        return "\n".join(r.text for r in outcome.replies)


@pytest.fixture
async def world(database: AsyncEngine, settings: Settings, knowledge: Knowledge):  # type: ignore[no-untyped-def]
    """A customer with two invoices (signup 12 Nov + prorated 25 Nov), seen on 3 December."""
    await add_customer(database, settings)
    sweeps = BillingSweeps(billing_rules(settings), iva_schedule(settings), NOTIFIER)
    for day in (dt.date(2026, 11, 12), dt.date(2026, 11, 25)):
        async with sessionmaker(database).begin() as session:
            await sweeps.run(session, day, dt.datetime.combine(day, dt.time(14), tzinfo=dt.UTC))
    clock = Clock(dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC))
    return database, knowledge, clock, sweeps


async def _latest_code(database: AsyncEngine) -> str:
    async with sessionmaker(database)() as session:
        row = (
            (
                await session.execute(
                    select(OutboxRow).where(OutboxRow.kind == "link_code").order_by(OutboxRow.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert row is not None and row.recipient == "maria@andina.ec"
    match = re.search(r"\b(\d{6})\b", row.body)
    assert match is not None
    return match.group(1)


async def _link(chat: Chat, database: AsyncEngine, question: str = "cuanto debo") -> str:
    await chat.say(question)
    await chat.say("1792205859001")
    return await chat.say(await _latest_code(database))


async def test_link_then_see_what_is_owed(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    asked = await chat.say("cuanto debo?")
    assert "RUC" in asked and "$" not in asked
    assert "cédula" in await chat.say("1714325221")
    assert "dígito verificador" in await chat.say("1714325221001")
    sent = await chat.say("1792205859001")
    assert "m***@andina.ec" in sent
    assert "4 intento" in await chat.say("000000")
    linked = await chat.say(await _latest_code(database))
    assert "vinculado a Comercial Andina S.A." in linked
    assert "2 factura(s) por pagar" in linked and "$103,30" in linked  # 63.25 + 40.05
    async with sessionmaker(database)() as session:
        assert (await session.execute(select(LinkCodeRow))).first() is None  # used codes are deleted
    assert "001-001-000000002" in await chat.say("mis facturas")


async def test_codes_are_stored_hashed_and_expire(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await chat.say("tengo facturas pendientes?")
    await chat.say("1792205859001")
    code = await _latest_code(database)
    async with sessionmaker(database)() as session:
        stored = (await session.execute(select(LinkCodeRow))).scalar_one()
    assert stored.code_hash and code not in stored.code_hash
    clock.now += dt.timedelta(minutes=11)
    assert "venció" in await chat.say(code)
    assert "código de 6 dígitos" in await chat.say("reenviar")
    assert "vinculado" in await chat.say(await _latest_code(database))


async def _code_mails(database: AsyncEngine) -> list[OutboxRow]:
    async with sessionmaker(database)() as session:
        query = select(OutboxRow).where(OutboxRow.kind == "link_code").order_by(OutboxRow.id)
        return list((await session.execute(query)).scalars())


class Mailbox:
    """Keeps the code mails it is given (the invoice mails of `world` go out too)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, row: OutboxRow) -> Delivered:
        if row.kind == "link_code":
            self.sent.append(row.body)
        return Delivered("ok")


async def test_a_code_mail_that_would_arrive_dead_is_dropped_not_sent(world) -> None:  # type: ignore[no-untyped-def]
    """Issue 10.9: a code mail stranded by a dead worker must not arrive after the code died."""
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await chat.say("cuanto debo")
    await chat.say("1792205859001")
    asked = clock.now
    [mail] = await _code_mails(database)
    assert mail.expires_at == asked + dt.timedelta(minutes=9)  # the code lives 10; a minute to type it
    mailbox = Mailbox()
    window = SendWindow(dt.time(8), dt.time(20), GUAYAQUIL)
    worker = DeliveryWorker(sessionmaker(database), {"email": mailbox}, window)
    report = await worker.run_once(asked + dt.timedelta(minutes=9, seconds=1))
    assert (report.expired, mailbox.sent) == (1, [])
    [mail] = await _code_mails(database)
    assert mail.status == "cancelled" and (mail.last_error or "").startswith("expired")


async def test_a_new_code_withdraws_the_mail_of_the_old_one(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await chat.say("cuanto debo")
    await chat.say("1792205859001")
    old = await _latest_code(database)
    clock.now += dt.timedelta(minutes=11)
    assert "venció" in await chat.say(old)
    await chat.say("reenviar")
    new = await _latest_code(database)
    first, second = await _code_mails(database)
    assert (first.status, first.last_error, second.status) == ("cancelled", "replaced by a newer code", "pending")
    mailbox = Mailbox()
    window = SendWindow(dt.time(8), dt.time(20), GUAYAQUIL)
    await DeliveryWorker(sessionmaker(database), {"email": mailbox}, window).run_once(clock.now)
    assert len(mailbox.sent) == 1 and new in mailbox.sent[0]


async def test_unknown_ruc_gets_the_same_answer_and_locks_after_five_tries(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock, user="curioso")
    await chat.say("cuanto debo")
    unknown = await chat.say("0190000014001")  # valid RUC, not a customer
    assert re.search(r"enviamos un código de 6 dígitos a [a-z]\*\*\*@[a-z.]+", unknown)
    for left in (4, 3, 2, 1):
        assert f"{left} intento" in await chat.say("123456")
    assert "bloqueada" in await chat.say("123456")
    await chat.say("cuanto debo")
    assert "bloqueada" in await chat.say("0190000014001")
    async with sessionmaker(database)() as session:
        assert (await session.execute(select(OutboxRow).where(OutboxRow.kind == "link_code"))).first() is None


async def test_report_a_payment(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock, receipts_dir=tmp_path / "receipts")
    await _link(chat, database)
    assert "¿Qué factura pagó?" in await chat.say("quiero reportar un pago")
    assert "¿Cuánto pagó?" in await chat.say("1")
    assert "34,50" in await chat.say("treinta dolares")  # asked again, with an example
    assert "¿Qué día" in await chat.say("$63,25")
    assert "futura" in await chat.say("25/12/2026")
    assert "banco" in await chat.say("ayer")
    assert "depósito o transferencia" in await chat.say("Pichincha")
    assert "referencia" in await chat.say("transferencia")
    assert "comprobante" in await chat.say("ABC-778812")
    refused = await chat.say("", Attachment("notas.txt", "text/plain", b"hola"))
    assert "JPG, PNG o WebP" in refused
    too_big = await chat.say("", Attachment("foto.jpg", "image/jpeg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)))
    assert "máximo es 10 MB" in too_big
    summary = await chat.say("", Attachment("recibo.pdf", "application/octet-stream", b"%PDF-1.7 recibo"))
    assert "$63,25" in summary and "2 de diciembre de 2026" in summary and "Comprobante: adjunto" in summary
    assert "Registré su reporte" in await chat.say("sí")
    async with sessionmaker(database)() as session:
        report = (await session.execute(select(PaymentReportRow))).scalar_one()
        invoice = await session.get(InvoiceRow, report.invoice_id)
        kinds = [r.kind for r in (await session.execute(select(OutboxRow))).scalars()]
    assert (str(report.amount), report.method, report.bank, report.status) == (
        "63.25",
        "transferencia",
        "Pichincha",
        "pending",
    )
    assert report.receipt_path and Path(report.receipt_path).read_bytes() == b"%PDF-1.7 recibo"
    assert invoice is not None and invoice.status == "reported"
    assert "payment_reported_to_distributor" in kinds
    second = await chat.say("quiero reportar un pago")  # only the other invoice is still open
    assert "001-001-000000002" in second and "¿Cuánto pagó?" in second
    assert "no registré" in await chat.say("no")


async def test_a_suspended_customer_is_reactivated_by_a_report(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, sweeps = world
    async with sessionmaker(database).begin() as session:
        await sweeps.run(session, dt.date(2026, 12, 6), dt.datetime(2026, 12, 6, 14, tzinfo=dt.UTC))
    clock.now = dt.datetime(2026, 12, 6, 15, tzinfo=dt.UTC)
    chat = Chat(database, knowledge, clock)
    await _link(chat, database, "por que esta suspendido mi sistema")
    status = chat.last.replies[-1].text
    assert "suspendido" in status and "001-001-000000001" in status
    for answer in ("quiero reportar un pago", "1", "63.25", "hoy", "Guayaquil", "deposito", "998877", "no", "si"):
        await chat.say(answer)
    for answer in ("reportar un pago", "40,05", "hoy", "Guayaquil", "deposito", "998878", "no", "si"):
        reply = await chat.say(answer)
    assert "Registré su reporte" in reply
    async with sessionmaker(database)() as session:
        subscription = (await session.execute(select(SubscriptionRow))).scalar_one()
        kinds = [r.kind for r in (await session.execute(select(OutboxRow))).scalars()]
    assert subscription.state == "active"
    assert kinds.count("reactivated") == 1  # when the last overdue invoice is reported


async def test_cancel_the_plan(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await _link(chat, database)
    warning = await chat.say("quiero cancelar mi plan ahora")
    assert "No se emitirá la siguiente factura" in warning and "31 de diciembre de 2026" in warning
    assert "registré la cancelación" in await chat.say("Sí, cancelar mi plan")
    async with sessionmaker(database)() as session:
        subscription = (await session.execute(select(SubscriptionRow))).scalar_one()
        mail = (
            await session.execute(select(OutboxRow).where(OutboxRow.kind == "cancellation_to_distributor"))
        ).scalar_one()
    assert subscription.cancelled_on == dt.date(2026, 12, 3)
    assert mail.recipient == "ventas@sierra.ec|maria@andina.ec"


async def test_unlink(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await _link(chat, database)
    assert "desvinculé" in await chat.say("desvincular")
    async with sessionmaker(database)() as session:
        assert (await session.execute(select(ChatLinkRow))).first() is None
    assert "RUC" in await chat.say("mis facturas")


async def test_a_new_question_leaves_the_verification(
    world: tuple[object, ...], message_factory: Callable[..., object]
) -> None:
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)  # type: ignore[arg-type]
    await chat.say("cuanto debo")
    assert "01" in await chat.say("cual es la clave del facturador")


async def test_hours_left_for_a_linked_customer(world) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from bot.services.hours import log_session

    database, knowledge, clock, _ = world
    async with sessionmaker(database).begin() as session:
        await log_session(
            session,
            "1792205859001",
            95,
            topic="Configurar la firma",
            advisor="ana",
            channel="phone",
            started_at=clock.now,
            now=clock.now,
            hourly_rate=Decimal("25.00"),
            iva_rate=Decimal("0.15"),
        )
    chat = Chat(database, knowledge, clock)
    await _link(chat, database, "cuantas horas me quedan")
    answer = chat.last.replies[-1].text
    assert "le quedan 25 min" in answer and "usó 1 h 35 min de 2 h" in answer
    assert "Configurar la firma" in answer and "poco tiempo" in answer and "28.75" in answer


async def test_a_second_report_for_the_same_invoice_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from bot.accounts import PaymentDetails
    from bot.services.payments import decide

    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await _link(chat, database)
    async with sessionmaker(database)() as session:
        invoice = (await session.execute(select(InvoiceRow).order_by(InvoiceRow.id))).scalars().first()
        conversation_id = (await session.execute(select(ChatLinkRow.conversation_id))).scalar_one()
    assert invoice is not None
    details = PaymentDetails(invoice.id, Decimal("63.25"), dt.date(2026, 12, 2), "Pichincha", "deposito", "A1")
    async with sessionmaker(database).begin() as session:
        accounts = SqlAccounts(session, b"test-key", NOTIFIER)
        assert await accounts.report_payment(conversation_id, details, clock.now) is None
        again = await accounts.report_payment(conversation_id, details, clock.now)
    assert again is not None and "Ya tenemos un reporte" in again
    async with sessionmaker(database).begin() as session:  # rejected: the invoice is open again
        report = (await session.execute(select(PaymentReportRow))).scalar_one()
        await decide(
            session,
            report.id,
            accept=False,
            reason="no consta",
            notifier=NOTIFIER,
            now=clock.now,
            today=clock.now.date(),
        )
    async with sessionmaker(database).begin() as session:
        accounts = SqlAccounts(session, b"test-key", NOTIFIER)
        assert await accounts.report_payment(conversation_id, details, clock.now) is None  # may report again


# --- per-RUC limits, whatever the chat (issue 10, item 2) -------------------------------------

CUSTOMER_RUC = "1792205859001"
STRANGER_RUC = "0190000014001"  # valid, not a customer


async def _mails(database: AsyncEngine) -> list[OutboxRow]:
    async with sessionmaker(database)() as session:
        query = select(OutboxRow).where(OutboxRow.kind == "link_code").order_by(OutboxRow.id)
        return list((await session.execute(query)).scalars())


async def _ask_code(chat: Chat, ruc: str = CUSTOMER_RUC) -> str:
    await chat.say("cuanto debo")
    return await chat.say(ruc)


async def test_new_chats_do_not_get_more_codes_for_a_ruc(world) -> None:  # type: ignore[no-untyped-def]
    """A client opening chat after chat got a fresh mail each time; now at most 3 an hour."""
    database, knowledge, clock, _ = world
    for n in range(3):
        assert "m***@andina.ec" in await _ask_code(Chat(database, knowledge, clock, user=f"chat-{n}"))
        clock.now += dt.timedelta(minutes=1)
    refused = await _ask_code(Chat(database, knowledge, clock, user="chat-3"))
    assert "Ya enviamos varios códigos" in refused and "a partir de las 10:00" not in refused
    assert "a partir de las 11:00 (hora de Ecuador)" in refused  # the first code was at 10:00 local
    assert len(await _mails(database)) == 3
    resend = Chat(database, knowledge, clock, user="chat-0")  # the same chat asking again: also refused
    await resend.say("cuanto debo")
    assert "Ya enviamos varios códigos" in await resend.say(CUSTOMER_RUC)
    clock.now = dt.datetime(2026, 12, 3, 16, 0, 1, tzinfo=dt.UTC)  # 11:00:01: the first has aged out
    assert "m***@andina.ec" in await _ask_code(Chat(database, knowledge, clock, user="chat-4"))
    assert len(await _mails(database)) == 4


async def test_a_chat_holding_a_code_may_still_type_it_when_no_more_are_sent(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    chat = Chat(database, knowledge, clock)
    await _ask_code(chat)
    for _ in range(2):
        await chat.say("reenviar")
    refused = await chat.say("reenviar")
    assert "Ya enviamos varios códigos" in refused and "escríbalo aquí" in refused
    assert "vinculado a Comercial Andina" in await chat.say(await _latest_code(database))


async def test_the_daily_code_limit_says_tomorrow(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    for n in range(10):  # 3 an hour, 10 a day
        clock.now = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC) + dt.timedelta(hours=n // 3, minutes=n % 3)
        assert "m***@andina.ec" in await _ask_code(Chat(database, knowledge, clock, user=f"day-{n}"))
    clock.now = dt.datetime(2026, 12, 3, 23, tzinfo=dt.UTC)  # 18:00 local
    late = Chat(database, knowledge, clock, user="day-10")
    assert "a partir de mañana a las 10:00 (hora de Ecuador)" in await _ask_code(late)
    assert "Hablar con un asesor" in late.last.replies[0].options
    assert len(await _mails(database)) == 10
    clock.now = dt.datetime(2026, 12, 4, 15, 0, 1, tzinfo=dt.UTC)  # tomorrow 10:00:01: the first has aged out
    assert "m***@andina.ec" in await _ask_code(Chat(database, knowledge, clock, user="next-day"))
    async with sessionmaker(database)() as session:
        kept = list((await session.execute(select(VerificationEventRow.at))).scalars())
    assert len(kept) == 10 and min(kept) > clock.now - dt.timedelta(days=1)  # the aged-out one is deleted


async def test_wrong_codes_count_per_ruc_across_chats(world) -> None:  # type: ignore[no-untyped-def]
    """5 wrong codes per chat, in as many chats as wanted, was an unbounded brute force; now the
    RUC takes 10 wrong codes an hour from all chats together, and then not even the right one."""
    database, knowledge, clock, _ = world
    holder = Chat(database, knowledge, clock, user="holder")
    await _ask_code(holder)
    code = await _latest_code(database)
    for name in ("guesser-1", "guesser-2"):
        guesser = Chat(database, knowledge, clock, user=name)
        await _ask_code(guesser)
        for _ in range(5):
            reply = await guesser.say("000000" if code != "000000" else "111111")
    assert "bloqueada" in reply and "a partir de las 10:15 (hora de Ecuador)" not in reply
    assert "a partir de las 11:00 (hora de Ecuador)" in reply
    locked = await holder.say(code)  # the right code, but the RUC is locked
    assert "bloqueada" in locked and "a partir de las 11:00" in locked and "vinculado" not in locked
    assert "Hablar con un asesor" in holder.last.replies[0].options
    third = Chat(database, knowledge, clock, user="guesser-3")
    assert "a partir de las 11:00" in await _ask_code(third)  # no new code either
    assert len(await _mails(database)) == 3
    clock.now += dt.timedelta(hours=1, seconds=1)
    assert "vinculado a Comercial Andina" in (await _link(holder, database))


async def test_wrong_codes_left_are_the_fewest_the_chat_or_the_ruc_allow(world) -> None:  # type: ignore[no-untyped-def]
    database, knowledge, clock, _ = world
    for name, tries in (("first", 5), ("second", 3)):  # 8 of the RUC's 10 an hour
        chat = Chat(database, knowledge, clock, user=name)
        await _ask_code(chat, STRANGER_RUC)
        for _ in range(tries):
            await chat.say("123456")
    third = Chat(database, knowledge, clock, user="third")
    await _ask_code(third, STRANGER_RUC)
    assert "Le quedan 1 intento" in await third.say("123456")  # the chat alone would allow 4
    locked = await third.say("123456")
    assert "bloqueada" in locked and "a partir de las 11:00 (hora de Ecuador)" in locked


async def test_concurrent_chats_share_the_ruc_limit(world) -> None:  # type: ignore[no-untyped-def]
    """Six chats ask at the same instant (PostgreSQL: on separate connections): still 3 mails."""
    database, knowledge, clock, _ = world
    chats = [Chat(database, knowledge, clock, user=f"race-{n}") for n in range(6)]
    for chat in chats:
        await chat.say("cuanto debo")
    replies = await asyncio.gather(*(chat.say(CUSTOMER_RUC) for chat in chats))
    assert sum("m***@andina.ec" in reply for reply in replies) == 3
    assert len(await _mails(database)) == 3


# --- an unknown RUC looks like a customer's (issue 10, item 3) ---------------------------------


def _valid_rucs(count: int) -> list[str]:
    """Natural persons' RUCs (a cédula + 001) with a right check digit, none a customer."""
    from stdnum.ec import ruc as ruc_number

    rucs = []
    for n in range(count):
        first9 = f"{1 + n % 24:02d}{n % 6}{(n * 7919) % 1_000_000:06d}"
        rucs.append(next(r for d in range(10) if ruc_number.is_valid(r := f"{first9}{d}001")))
    return rucs


async def test_unknown_rucs_get_masks_shaped_and_spread_like_customers(world) -> None:  # type: ignore[no-untyped-def]
    """Decoys were always a free-mail domain, while customers show their company's: the domain
    alone told them apart. Now they mix company-looking and free-mail domains, stable per RUC."""
    from bot.domain.masking import FREE_MAIL

    database, _, clock, _ = world
    free_mail = {domain for domain, _ in FREE_MAIL}
    rucs = _valid_rucs(80)
    async with sessionmaker(database).begin() as session:
        conversation = ConversationRow(
            channel="webchat", external_user_id="x" * 32, created_at=clock.now, updated_at=clock.now
        )
        session.add(conversation)
        await session.flush()
        accounts = SqlAccounts(session, b"test-key", NOTIFIER)
        masks = [(await accounts.start_verification(conversation.id, ruc, clock.now)).masked_email for ruc in rucs]
        again = (
            await SqlAccounts(session, b"test-key", NOTIFIER).start_verification(conversation.id, rucs[0], clock.now)
        ).masked_email
    assert all(m is not None and re.fullmatch(r"[a-z]\*\*\*@[a-z0-9-]+(\.[a-z]{2,})+", m) for m in masks), masks
    domains = [str(m).partition("@")[2] for m in masks]
    company = [d for d in domains if d not in free_mail]
    assert 0.45 <= len(company) / len(domains) <= 0.75, domains  # about 60 % company domains
    assert len(set(company)) >= 0.8 * len(company)  # many different companies, not a few tells
    assert any(d.endswith(".ec") for d in company) and any(d.endswith(".com") for d in company)
    assert again == masks[0]  # the same RUC always shows the same address, as a customer's does


async def test_an_unknown_ruc_costs_the_same_database_work_as_a_customer(world) -> None:  # type: ignore[no-untyped-def]
    """The answer's timing followed the work: a customer's code was written to the outbox, a
    stranger's was not. Now both run the same statements (the stranger's mail is rolled back)."""
    from sqlalchemy import event

    database, knowledge, clock, _ = world
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    work, replies = {}, {}
    event.listen(database.sync_engine, "before_cursor_execute", record)
    try:
        for ruc in (CUSTOMER_RUC, STRANGER_RUC):
            chat = Chat(database, knowledge, clock, user=f"timing-{ruc}")
            await chat.say("cuanto debo")
            statements.clear()
            replies[ruc] = await chat.say(ruc)
            work[ruc] = _shape(statements)
    finally:
        event.remove(database.sync_engine, "before_cursor_execute", record)
    assert ("INSERT", "outbox") in work[CUSTOMER_RUC]
    assert work[STRANGER_RUC] == work[CUSTOMER_RUC]
    assert _template(replies[STRANGER_RUC], STRANGER_RUC) == _template(replies[CUSTOMER_RUC], CUSTOMER_RUC)
    assert len(await _mails(database)) == 1  # the stranger's mail left no row


def _shape(statements: list[str]) -> list[tuple[str, str]]:
    """(verb, table) of each statement; savepoint bookkeeping is named once, whichever way it ends."""
    shaped = []
    for statement in statements:
        words = statement.split()
        verb = words[0].upper()
        if verb in ("RELEASE", "ROLLBACK"):
            shaped.append(("END", "savepoint"))
            continue
        match = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', statement, re.IGNORECASE)
        shaped.append((verb, match.group(1) if match else ""))
    return shaped


def _template(reply: str, ruc: str) -> str:
    return re.sub(r"[a-z]\*\*\*@[a-z0-9.-]+?(?=\. )", "MASK", reply.replace(ruc, "RUC"))
