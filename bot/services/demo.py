"""`perseo-bot demo`: a demo distributor and one customer in each state, as of today.

Invoices are planned with the real billing calendar from each signup date up to today and
given the statuses that produce each state; no historical reminder is queued. Running it
again changes nothing (customers are matched by RUC).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.billing import BillingRules, InvoiceFacts, InvoiceStatus, planned_invoice, subscription_state
from bot.domain.tax import IvaRate
from bot.persistence.tables import AdvisorRow, CustomerRow, DistributorRow, PlanRow, SubscriptionRow
from bot.services.advisors import add_advisor
from bot.services.billing import invoice_row, last_invoice_number, latest_subscription

DISTRIBUTOR = ("Distribuidora Demo", "ventas@demo.perseo.ec")


@dataclass(frozen=True)
class DemoCustomer:
    ruc: str
    company: str
    contact: str
    email: str
    plan: str
    scenario: str  # new, up_to_date, due, suspended, cancelling, ended
    description: str


CUSTOMERS = (
    DemoCustomer("1792205859001", "Comercial Andina S.A.", "María Pérez", "maria@andina.demo", "Pyme", "new",
                 "contrató hace 3 días, a mitad de mes"),
    DemoCustomer("1899100014001", "Ferretería El Tornillo Cía. Ltda.", "Luis Ortega", "luis@tornillo.demo",
                 "Emprendedor", "up_to_date", "al día: todo pagado"),
    DemoCustomer("2099100039001", "Panadería La Espiga", "Rosa Cedeño", "rosa@espiga.demo", "Emprendedor", "due",
                 "factura emitida y pendiente, aún no vence"),
    DemoCustomer("2199100044001", "Textiles Otavalo S.A.", "Carlos Yamberla", "carlos@otavalo.demo", "Empresarial",
                 "suspended", "suspendido: factura vencida sin pago"),
    DemoCustomer("2399100065001", "Consultora Pacífico", "Ana Vera", "ana@pacifico.demo", "Pyme", "cancelling",
                 "canceló; usa el sistema hasta el fin del período pagado"),
    DemoCustomer("2499100070001", "Librería Cuenca", "Jorge Crespo", "jorge@libreria.demo", "Pyme", "ended",
                 "plan terminado"),
)  # fmt: skip


def _months_before(day: dt.date, months: int, on_day: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, on_day)


def _signup(scenario: str, today: dt.date) -> dt.date:
    if scenario == "new":
        return today - dt.timedelta(days=3)
    if scenario == "ended":
        return _months_before(today, 8, 10)
    return _months_before(today, 4, 10)


async def load_demo(
    session: AsyncSession, today: dt.date, now: dt.datetime, rules: BillingRules, iva: Sequence[IvaRate]
) -> list[tuple[DemoCustomer, str]]:
    """Create what is missing; return every demo customer with its current state."""
    distributor = (
        await session.execute(select(DistributorRow).where(DistributorRow.name == DISTRIBUTOR[0]))
    ).scalar_one_or_none()
    if distributor is None:
        distributor = DistributorRow(name=DISTRIBUTOR[0], email=DISTRIBUTOR[1])
        session.add(distributor)
        await session.flush()
    plans = {p.name: p for p in (await session.execute(select(PlanRow))).scalars()}
    number = await last_invoice_number(session)
    result = []
    for demo in CUSTOMERS:
        existing = (await session.execute(select(CustomerRow).where(CustomerRow.ruc == demo.ruc))).scalar_one_or_none()
        if existing is not None:
            # The newest contract: a demo customer may have been recontracted since (`customers recontract`).
            subscription = await latest_subscription(session, existing.id)
            assert subscription is not None
            result.append((demo, subscription.state))
            continue
        plan = plans[demo.plan]
        signup = _signup(demo.scenario, today)
        customer = CustomerRow(
            ruc=demo.ruc, razon_social=demo.company, contact_name=demo.contact, email=demo.email,
            phone=None, plan_id=plan.id, signup_date=signup, distributor_id=distributor.id,
            created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        cancelled_on = {"cancelling": today - dt.timedelta(days=1), "ended": _months_before(today, 3, 20)}.get(
            demo.scenario
        )
        subscription = SubscriptionRow(
            customer_id=customer.id, plan_id=plan.id, monthly_price=plan.monthly_price, signup_date=signup,
            billed_from=signup, cancelled_on=cancelled_on, state="active", created_at=now,
        )  # fmt: skip
        session.add(subscription)
        await session.flush()
        facts = []
        sequence = 1
        last_issue = min(today, cancelled_on) if cancelled_on else today
        while (planned := planned_invoice(plan.monthly_price, signup, sequence, rules, iva)).issue_date <= last_issue:
            status = _status(demo.scenario, planned.due_date, today)
            number += 1
            session.add(invoice_row(subscription.id, planned, number, now, status.value))
            facts.append(InvoiceFacts(planned.due_date, planned.period.last_date, status))
            sequence += 1
        subscription.state = subscription_state(facts, today, cancelled_on).value
        result.append((demo, subscription.state))
    return result


async def reset_demo(session: AsyncSession) -> int:
    """Delete the demo customers (with their contracts, invoices, payments, hours and chat links,
    by the foreign keys' cascades) so that `load_demo` builds them again as of today.

    Conversations stay (they are the chats' history, not the demo's); their links to the
    deleted customers go with the customers. Returns how many customers were deleted.
    """
    rucs = [demo.ruc for demo in CUSTOMERS]
    rows = (await session.execute(select(CustomerRow).where(CustomerRow.ruc.in_(rucs)))).scalars().all()
    for row in rows:
        await session.delete(row)
    await session.flush()
    return len(rows)


def _status(scenario: str, due: dt.date, today: dt.date) -> InvoiceStatus:
    if scenario in ("new", "due") and due >= today:
        return InvoiceStatus.ISSUED
    if scenario == "suspended" and due < today and due >= today - dt.timedelta(days=31):
        return InvoiceStatus.OVERDUE  # last month's invoice was never paid
    if scenario == "suspended" and due >= today:
        return InvoiceStatus.ISSUED
    return InvoiceStatus.PAID


# The console's demo accounts (README, "Demo data"). Only for trying the bot on a laptop:
# in production, create advisors with `perseo-bot advisors add`.
DEMO_ADVISORS = (
    ("asesora@demo.perseo.ec", "Andrea Salazar", "demo-asesora-2026", False),
    ("admin@demo.perseo.ec", "Administración Perseo", "demo-admin-2026", True),
)


async def load_demo_advisors(session: AsyncSession, now: dt.datetime) -> list[tuple[str, str, bool]]:
    """Create the demo advisors that are missing; return (e-mail, password, admin) for each."""
    for email, name, password, is_admin in DEMO_ADVISORS:
        exists = (await session.execute(select(AdvisorRow.id).where(AdvisorRow.email == email))).scalar_one_or_none()
        if exists is None:
            await add_advisor(
                session, email, name=name, distributor=DISTRIBUTOR[0], password=password, is_admin=is_admin, now=now
            )
    return [(email, password, is_admin) for email, _, password, is_admin in DEMO_ADVISORS]
