"""The back office: what distributors and admins do besides answering chats.

Payment reports (see the receipt, confirm or reject), customers (search, one customer's
invoices, payments, hours and chats, add an hour pack) and trainings (add, cancel, who signed
up). The actions reuse the services the CLI uses (`payments.decide`, `hours.add_pack`,
`trainings.add_session|cancel_session`), so a customer is told exactly what the CLI would tell
them; what this module adds is scoping, Spanish messages and the audit log.

Scoping is the console's: an advisor sees their own distributor's customers, an admin sees all,
and anything else is "not found" (404), so another distributor's customer cannot even be
detected. Trainings are shared by every distributor, so only admins add or cancel them; every
advisor sees the calendar, with names only of their own customers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import ecuador_holidays
from bot.domain.hours import duration_text, remaining_minutes
from bot.domain.trainings import Calendar
from bot.persistence.tables import (
    AdvisorRow,
    BackofficeAuditRow,
    ChatLinkRow,
    ConversationRow,
    CustomerRow,
    DistributorRow,
    HandoffRow,
    HourPackRow,
    InvoiceRow,
    PaymentReportRow,
    PlanRow,
    SubscriptionRow,
    SupportSessionRow,
)
from bot.services import payments
from bot.services import trainings as training_service
from bot.services.advisors import Advisor
from bot.services.billing import latest_subscription
from bot.services.hours import add_pack
from bot.services.notifications import Notifier

PAGE_SIZE = 50
MAX_REASON_CHARS = 300
RECEIPT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
STATES = ("active", "suspended", "cancelling", "ended")
REPORT_FILTERS = ("pending", "confirmed", "rejected", "all")
ACTIONS = {
    "payment_confirmed": "Pago confirmado",
    "payment_rejected": "Pago rechazado",
    "hours_added": "Horas agregadas",
    "training_added": "Capacitación agregada",
    "training_cancelled": "Capacitación cancelada",
}


class BackofficeError(Exception):
    """A refused back-office action: the HTTP status and a Spanish message for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


NOT_FOUND_CUSTOMER = "No existe ese cliente o no pertenece a su distribuidora."
NOT_FOUND_REPORT = "No existe ese reporte de pago o no pertenece a su distribuidora."
ADMINS_ONLY = "Solo un administrador puede hacer esto."


def _customers_of(advisor: Advisor) -> ColumnElement[bool]:
    return true() if advisor.is_admin else CustomerRow.distributor_id == advisor.distributor_id


def _must_be_admin(advisor: Advisor) -> None:
    if not advisor.is_admin:
        raise BackofficeError(403, ADMINS_ONLY)


async def record(
    session: AsyncSession,
    advisor: Advisor,
    action: str,
    subject: str,
    detail: str,
    now: dt.datetime,
    distributor_id: int | None = None,
) -> None:
    """One line of the audit log, in the same transaction as the action it records."""
    session.add(
        BackofficeAuditRow(
            at=now, advisor_id=advisor.id, advisor_email=advisor.email, distributor_id=distributor_id,
            action=action, subject=subject[:200], detail=detail,
        )
    )  # fmt: skip


# --- payment reports ----------------------------------------------------------------------------


def receipt_kind(path: str | None) -> str | None:
    """'image', 'pdf' or None, from the stored file's extension (set from its first bytes)."""
    if not path:
        return None
    extension = Path(path).suffix.lstrip(".").lower()
    if extension == "pdf":
        return "pdf"
    return "image" if extension in RECEIPT_TYPES else None


async def payment_reports(session: AsyncSession, advisor: Advisor, status: str = "pending") -> list[dict[str, Any]]:
    """Reports with their invoice and the customer's recent invoices and earlier reports."""
    if status not in REPORT_FILTERS:
        status = "pending"
    query = (
        select(PaymentReportRow, CustomerRow, InvoiceRow)
        .join(CustomerRow, CustomerRow.id == PaymentReportRow.customer_id)
        .join(InvoiceRow, InvoiceRow.id == PaymentReportRow.invoice_id)
        .where(_customers_of(advisor))
        .order_by(PaymentReportRow.created_at, PaymentReportRow.id)
        .limit(200)
    )
    if status != "all":
        query = query.where(PaymentReportRow.status == status)
    rows = (await session.execute(query)).all()
    customer_ids = {customer.id for _, customer, _ in rows}
    invoices: dict[int, list[InvoiceRow]] = {i: [] for i in customer_ids}
    earlier: dict[int, list[PaymentReportRow]] = {i: [] for i in customer_ids}
    if customer_ids:
        for invoice, customer_id in (
            await session.execute(
                select(InvoiceRow, SubscriptionRow.customer_id)
                .join(SubscriptionRow, SubscriptionRow.id == InvoiceRow.subscription_id)
                .where(SubscriptionRow.customer_id.in_(customer_ids))
                .order_by(InvoiceRow.issue_date.desc(), InvoiceRow.id.desc())
            )
        ).all():
            invoices[customer_id].append(invoice)
        for report in (
            await session.execute(
                select(PaymentReportRow)
                .where(PaymentReportRow.customer_id.in_(customer_ids))
                .order_by(PaymentReportRow.created_at.desc(), PaymentReportRow.id.desc())
            )
        ).scalars():
            earlier[report.customer_id].append(report)
    return [
        {
            "report": report,
            "customer": customer,
            "invoice": invoice,
            "receipt": receipt_kind(report.receipt_path),
            "history": invoices[customer.id][:6],
            "earlier": [r for r in earlier[customer.id] if r.id != report.id][:5],
        }
        for report, customer, invoice in rows
    ]


async def _report(session: AsyncSession, advisor: Advisor, report_id: int) -> tuple[PaymentReportRow, CustomerRow]:
    found = (
        await session.execute(
            select(PaymentReportRow, CustomerRow)
            .join(CustomerRow, CustomerRow.id == PaymentReportRow.customer_id)
            .where(PaymentReportRow.id == report_id, _customers_of(advisor))
        )
    ).one_or_none()
    if found is None:
        raise BackofficeError(404, NOT_FOUND_REPORT)
    return found[0], found[1]


@dataclass(frozen=True)
class ReceiptFile:
    path: Path
    media_type: str
    filename: str


async def receipt_file(session: AsyncSession, advisor: Advisor, report_id: int, receipts_dir: Path) -> ReceiptFile:
    """The receipt of a report the advisor may see. Only files inside the receipts folder are
    served, whatever path the database holds."""
    report, _ = await _report(session, advisor, report_id)
    missing = BackofficeError(404, "Este reporte no tiene comprobante o el archivo ya no está.")
    if not report.receipt_path:
        raise missing
    path = Path(report.receipt_path).resolve()
    extension = path.suffix.lstrip(".").lower()
    if not path.is_relative_to(receipts_dir.resolve()) or extension not in RECEIPT_TYPES or not path.is_file():
        raise missing
    return ReceiptFile(path, RECEIPT_TYPES[extension], f"comprobante-{report.id}.{extension}")


async def decide_report(
    session: AsyncSession,
    advisor: Advisor,
    report_id: int,
    *,
    accept: bool,
    reason: str,
    notifier: Notifier,
    now: dt.datetime,
    today: dt.date,
) -> payments.ReportView:
    """Confirm or reject as `perseo-bot payments confirm|reject` does (the same service tells
    the customer), after checking scope, state and reason in Spanish; then the audit line."""
    report, customer = await _report(session, advisor, report_id)
    reason = " ".join(reason.split())
    if report.status != "pending":
        done = "confirmado" if report.status == "confirmed" else "rechazado"
        raise BackofficeError(409, f"Este reporte ya fue {done}; no hay nada más que decidir.")
    if not accept and not reason:
        raise BackofficeError(422, "Escriba el motivo del rechazo: el cliente lo leerá.")
    if len(reason) > MAX_REASON_CHARS:
        raise BackofficeError(422, f"El motivo puede tener hasta {MAX_REASON_CHARS} caracteres.")
    try:
        view = await payments.decide(
            session, report.id, accept=accept, reason=reason or None, notifier=notifier, now=now, today=today
        )
    except payments.ReportError as exc:  # decided by someone else in the meantime
        raise BackofficeError(409, "Otra persona ya decidió este reporte; recargue la página.") from exc
    action = "payment_confirmed" if accept else "payment_rejected"
    detail = f"{view.company} ({view.ruc}), factura {view.invoice}, {view.amount} USD"
    if not accept:
        detail += f"; motivo: {reason}"
    await record(session, advisor, action, f"reporte {report.id}", detail, now, customer.distributor_id)
    return view


# --- customers ----------------------------------------------------------------------------------


def _latest_subscription() -> Any:
    return (
        select(SubscriptionRow.customer_id, func.max(SubscriptionRow.id).label("id"))
        .group_by(SubscriptionRow.customer_id)
        .subquery()
    )


def _sum_minutes(column: Any, table: Any) -> Any:
    return (
        select(func.coalesce(func.sum(column), 0))
        .where(table.customer_id == CustomerRow.id)
        .correlate(CustomerRow)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class CustomerList:
    rows: list[dict[str, Any]]
    total: int
    plans: list[str]


async def customers(
    session: AsyncSession,
    advisor: Advisor,
    *,
    search: str = "",
    state: str = "",
    plan: str = "",
    offset: int = 0,
) -> CustomerList:
    """A page of customers: state, plan, balance (issued and overdue invoices), hours left,
    linked chats. `search` matches the company name, the RUC or the contact's e-mail."""
    latest = _latest_subscription()
    balance = (
        select(func.coalesce(func.sum(InvoiceRow.total), 0))
        .join(SubscriptionRow, SubscriptionRow.id == InvoiceRow.subscription_id)
        .where(SubscriptionRow.customer_id == CustomerRow.id, InvoiceRow.status.in_(("issued", "overdue")))
        .correlate(CustomerRow)
        .scalar_subquery()
    )
    chats = (
        select(func.count(ChatLinkRow.id))
        .where(ChatLinkRow.customer_id == CustomerRow.id)
        .correlate(CustomerRow)
        .scalar_subquery()
    )
    query: Select[Any] = (
        select(
            CustomerRow,
            PlanRow.name,
            PlanRow.included_hours,
            SubscriptionRow.state,
            DistributorRow.name,
            balance.label("balance"),
            _sum_minutes(HourPackRow.minutes, HourPackRow).label("purchased"),
            _sum_minutes(SupportSessionRow.covered_minutes, SupportSessionRow).label("consumed"),
            chats.label("chats"),
        )
        .join(PlanRow, PlanRow.id == CustomerRow.plan_id)
        .join(DistributorRow, DistributorRow.id == CustomerRow.distributor_id)
        .outerjoin(latest, latest.c.customer_id == CustomerRow.id)
        .outerjoin(SubscriptionRow, SubscriptionRow.id == latest.c.id)
        .where(_customers_of(advisor))
    )
    words = search.strip()[:100]
    if words:
        like = f"%{words.replace('%', '').replace('_', '').lower()}%"
        digits = re.sub(r"[^0-9]", "", words)
        query = query.where(
            or_(
                func.lower(CustomerRow.razon_social).like(like),
                func.lower(CustomerRow.email).like(like),
                CustomerRow.ruc.like(f"{digits}%") if len(digits) >= 3 else false(),
            )
        )
    if state in STATES:
        query = query.where(SubscriptionRow.state == state)
    if plan:
        query = query.where(PlanRow.name == plan)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await session.execute(
            query.order_by(CustomerRow.razon_social, CustomerRow.id).offset(max(0, offset)).limit(PAGE_SIZE)
        )
    ).all()
    plans = list((await session.execute(select(PlanRow.name).order_by(PlanRow.name))).scalars())
    return CustomerList(
        [
            {
                "customer": customer,
                "plan": plan_name,
                "state": sub_state or "ended",
                "distributor": distributor,
                "balance": Decimal(str(owed)),
                "remaining_minutes": remaining_minutes(included, int(purchased), int(consumed)),
                "remaining_text": duration_text(remaining_minutes(included, int(purchased), int(consumed))),
                "chats": int(linked),
            }
            for customer, plan_name, included, sub_state, distributor, owed, purchased, consumed, linked in rows
        ],
        int(total),
        plans,
    )


async def _customer(session: AsyncSession, advisor: Advisor, customer_id: int) -> CustomerRow:
    found = (
        await session.execute(select(CustomerRow).where(CustomerRow.id == customer_id, _customers_of(advisor)))
    ).scalar_one_or_none()
    if found is None:
        raise BackofficeError(404, NOT_FOUND_CUSTOMER)
    return found


async def customer_detail(session: AsyncSession, advisor: Advisor, customer_id: int) -> dict[str, Any]:
    """Everything about one customer: invoices, payment reports, hour packs, support sessions
    and the chats linked to them (with their handoffs)."""
    customer = await _customer(session, advisor, customer_id)
    plan = await session.get(PlanRow, customer.plan_id)
    distributor = await session.get(DistributorRow, customer.distributor_id)
    assert plan is not None and distributor is not None
    subscription = await latest_subscription(session, customer.id)
    invoices = list(
        (
            await session.execute(
                select(InvoiceRow)
                .join(SubscriptionRow, SubscriptionRow.id == InvoiceRow.subscription_id)
                .where(SubscriptionRow.customer_id == customer.id)
                .order_by(InvoiceRow.issue_date.desc(), InvoiceRow.id.desc())
            )
        ).scalars()
    )
    numbers = {i.id: i.number for i in invoices}
    reports = list(
        (
            await session.execute(
                select(PaymentReportRow)
                .where(PaymentReportRow.customer_id == customer.id)
                .order_by(PaymentReportRow.created_at.desc(), PaymentReportRow.id.desc())
            )
        ).scalars()
    )
    packs = list(
        (
            await session.execute(
                select(HourPackRow)
                .where(HourPackRow.customer_id == customer.id)
                .order_by(HourPackRow.created_at.desc(), HourPackRow.id.desc())
            )
        ).scalars()
    )
    sessions = list(
        (
            await session.execute(
                select(SupportSessionRow)
                .where(SupportSessionRow.customer_id == customer.id)
                .order_by(SupportSessionRow.started_at.desc(), SupportSessionRow.id.desc())
                .limit(100)
            )
        ).scalars()
    )
    chats = (
        await session.execute(
            select(ChatLinkRow, ConversationRow)
            .join(ConversationRow, ConversationRow.id == ChatLinkRow.conversation_id)
            .where(ChatLinkRow.customer_id == customer.id)
            .order_by(ChatLinkRow.linked_at.desc())
        )
    ).all()
    handoffs = (
        await session.execute(
            select(HandoffRow, AdvisorRow.name)
            .outerjoin(AdvisorRow, AdvisorRow.id == HandoffRow.advisor_id)
            .where(HandoffRow.customer_id == customer.id)
            .order_by(HandoffRow.requested_at.desc())
            .limit(50)
        )
    ).all()
    purchased = sum(p.minutes for p in packs)
    consumed = int(
        (
            await session.execute(
                select(func.coalesce(func.sum(SupportSessionRow.covered_minutes), 0)).where(
                    SupportSessionRow.customer_id == customer.id
                )
            )
        ).scalar_one()
    )
    left = remaining_minutes(plan.included_hours, purchased, consumed)
    return {
        "customer": customer,
        "plan": plan,
        "distributor": distributor,
        "state": subscription.state if subscription else "ended",
        "subscription": subscription,
        "balance": sum((i.total for i in invoices if i.status in ("issued", "overdue")), Decimal("0.00")),
        "invoices": invoices,
        "reports": [{"report": r, "invoice": numbers.get(r.invoice_id, "")} for r in reports],
        "packs": packs,
        "sessions": sessions,
        "chats": [{"link": link, "conversation": conversation} for link, conversation in chats],
        "handoffs": [{"handoff": h, "advisor": name} for h, name in handoffs],
        "included_minutes": plan.included_hours * 60,
        "purchased_minutes": purchased,
        "consumed_minutes": consumed,
        "remaining_minutes": left,
        "remaining_text": duration_text(left),
    }


def parse_hours(text: str) -> Decimal:
    """'1,5' or '1.5' hours -> Decimal('1.5'); whole minutes, more than 0, at most 1000 h."""
    cleaned = text.strip().replace(",", ".")
    try:
        hours = Decimal(cleaned)
    except InvalidOperation:
        raise BackofficeError(422, "Escriba las horas como número, por ejemplo 2 o 1,5.") from None
    if not hours.is_finite() or hours <= 0 or hours > 1000 or (hours * 60) != (hours * 60).to_integral_value():
        raise BackofficeError(422, "Las horas deben ser más de 0 y hasta 1000, en minutos enteros (1,5 = 90 min).")
    return hours


async def add_hours(
    session: AsyncSession, advisor: Advisor, customer_id: int, hours_text: str, note: str, now: dt.datetime
) -> int:
    """Add a purchased hour pack (as `perseo-bot hours add`); returns the minutes added."""
    customer = await _customer(session, advisor, customer_id)
    hours = parse_hours(hours_text)
    note = " ".join(note.split())[:200]
    minutes = await add_pack(session, customer.ruc, hours, now, note or None)
    detail = f"{customer.razon_social} ({customer.ruc}): {duration_text(minutes)}"
    if note:
        detail += f"; nota: {note}"
    await record(session, advisor, "hours_added", f"cliente {customer.ruc}", detail, now, customer.distributor_id)
    return minutes


# --- trainings ----------------------------------------------------------------------------------


async def training_sessions(
    session: AsyncSession, advisor: Advisor, calendar: Calendar, first: dt.date, last: dt.date
) -> list[dict[str, Any]]:
    """Upcoming sessions with their sign-ups: names of the advisor's own customers (admins:
    all); other distributors' customers are counted, not named."""
    listed = []
    for item in await training_service.list_sessions(session, calendar, first, last):
        people = []
        for row in await training_service.attendees(session, calendar, item["id"]):
            if row["company"] is None:
                people.append(f"Chat sin verificar ({row['channel']})")
            elif advisor.is_admin or row["distributor_id"] == advisor.distributor_id:
                people.append(f"{row['company']} ({row['channel']})")
            else:
                people.append("Cliente de otra distribuidora")
        listed.append(
            {
                **item,
                "start": dt.datetime.fromisoformat(item["start"]),
                "end": dt.datetime.fromisoformat(item["end"]),
                "people": people,
            }
        )
    return listed


_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


async def add_training(
    session: AsyncSession,
    advisor: Advisor,
    calendar: Calendar,
    *,
    day_text: str,
    start_text: str,
    minutes: int,
    topic: str,
    seats_text: str,
    now: dt.datetime,
) -> str:
    """Add a one-off session; a national holiday is refused with its name (nobody attends)."""
    _must_be_admin(advisor)
    try:
        day = dt.date.fromisoformat(day_text.strip())
    except ValueError:
        raise BackofficeError(422, "Elija la fecha de la sesión.") from None
    matched = _TIME.match(start_text.strip())
    if matched is None:
        raise BackofficeError(422, "Escriba la hora de inicio como HH:MM, por ejemplo 15:00.")
    start = dt.time(int(matched.group(1)), int(matched.group(2)))
    holiday = ecuador_holidays(day.year).get(day)
    if holiday is not None:
        raise BackofficeError(
            422, f"El {day:%d/%m/%Y} es feriado nacional ({holiday}): no se agregó la sesión. Elija otro día."
        )
    topic = " ".join(topic.split())
    if not topic or len(topic) > 200:
        raise BackofficeError(422, "Escriba el tema (hasta 200 caracteres).")
    if not 15 <= minutes <= 480:
        raise BackofficeError(422, "Una sesión dura de 15 a 480 minutos.")
    seats: int | None = None
    if seats_text.strip():
        if not seats_text.strip().isdigit() or int(seats_text) < 1:
            raise BackofficeError(422, "Los cupos deben ser un número positivo (vacío: sin límite).")
        seats = int(seats_text)
    if dt.datetime.combine(day, start, calendar.zone) <= now:
        raise BackofficeError(422, "Esa fecha y hora ya pasaron; elija una futura.")
    if not calendar.series and not calendar.one_offs:
        raise BackofficeError(422, "El calendario no tiene una reunión de Zoom por defecto (trainings.yaml).")
    try:
        session_id = await training_service.add_session(
            session, calendar, day=day, start=start, minutes=minutes, topic=topic, seats=seats, zoom=None, now=now
        )
    except training_service.TrainingError:  # the one check left: a session at that time exists
        raise BackofficeError(409, "Ya hay una sesión agregada a esa hora.") from None
    detail = f"{day.isoformat()} {start:%H:%M}, {minutes} min, {topic}" + (f", {seats} cupos" if seats else "")
    await record(session, advisor, "training_added", session_id, detail, now)
    return session_id


async def cancel_training(
    session: AsyncSession,
    advisor: Advisor,
    calendar: Calendar,
    notifier: Notifier,
    session_id: str,
    reason: str,
    now: dt.datetime,
) -> int:
    """Cancel as `perseo-bot trainings cancel` does: reminders withdrawn, everyone told."""
    _must_be_admin(advisor)
    reason = " ".join(reason.split())
    if not reason:
        raise BackofficeError(422, "Escriba el motivo: se avisa a los inscritos.")
    if len(reason) > MAX_REASON_CHARS:
        raise BackofficeError(422, f"El motivo puede tener hasta {MAX_REASON_CHARS} caracteres.")
    found = (await training_service.full_calendar(session, calendar)).session(session_id)
    if found is None:
        raise BackofficeError(404, "No existe esa sesión.")
    if found.end <= now:
        raise BackofficeError(409, "Esa sesión ya terminó; no hay nada que cancelar.")
    try:
        told = await training_service.cancel_session(session, calendar, notifier, session_id, reason, now)
    except training_service.TrainingError:
        raise BackofficeError(409, "Esa sesión ya estaba cancelada.") from None
    await record(session, advisor, "training_cancelled", session_id, f"{reason}; {told} inscrito(s) avisado(s)", now)
    return told


# --- audit --------------------------------------------------------------------------------------


async def audit_log(session: AsyncSession, advisor: Advisor, limit: int = 200) -> list[dict[str, Any]]:
    _must_be_admin(advisor)
    rows = (
        await session.execute(
            select(BackofficeAuditRow, DistributorRow.name)
            .outerjoin(DistributorRow, DistributorRow.id == BackofficeAuditRow.distributor_id)
            .order_by(BackofficeAuditRow.at.desc(), BackofficeAuditRow.id.desc())
            .limit(limit)
        )
    ).all()
    return [
        {"row": row, "action": ACTIONS.get(row.action, row.action), "distributor": distributor}
        for row, distributor in rows
    ]
