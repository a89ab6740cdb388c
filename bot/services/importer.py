"""`perseo-bot import customers FILE`: CSV or JSON, validated whole before anything is written.

A file with any bad row imports nothing and every problem is reported (line, field, reason);
a good file is upserted by RUC in one transaction, writing only new or changed customers, so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.ec import ruc as ruc_number
from stdnum.exceptions import ValidationError

from bot.persistence.database import dialect_of
from bot.persistence.tables import CustomerRow, DistributorRow, PlanRow, SubscriptionRow

FIELDS = (
    "ruc",
    "razon_social",
    "contacto",
    "email",
    "telefono",
    "plan",
    "fecha_alta",
    "distribuidor",
    "email_distribuidor",
)
BATCH = 1000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class CustomerRecord:
    ruc: str
    razon_social: str
    contact_name: str
    email: str
    phone: str | None
    plan: str
    signup_date: dt.date
    distributor: str
    distributor_email: str


@dataclass(frozen=True)
class RowError:
    line: int  # CSV line number (the header is line 1) or JSON item number (from 1)
    field: str
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    rows: int
    created: int
    updated: int
    unchanged: int


class ImportRejected(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, row) pairs; a structural problem raises ImportRejected at once."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ImportRejected([RowError(1, "-", f"not valid JSON: {exc}")]) from None
        if not isinstance(data, list):
            raise ImportRejected([RowError(1, "-", "the JSON file must be a list of objects")])
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                raise ImportRejected([RowError(number, "-", "each item must be an object")])
            yield number, item
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise ImportRejected([RowError(1, f, "missing column in the header") for f in missing])
        for row in reader:
            yield reader.line_num, row


class Validator:
    def __init__(self, plans: dict[str, str]) -> None:
        self.plans = plans  # lowercase name -> name as stored
        self._seen_rucs: dict[str, int] = {}
        self._distributor_emails: dict[str, str] = {}

    def check(self, line: int, raw: dict[str, Any]) -> tuple[CustomerRecord | None, list[RowError]]:
        errors: list[RowError] = []

        def text(field: str, limit: int, required: bool = True) -> str:
            value = str(raw.get(field) or "").strip()
            if required and not value:
                errors.append(RowError(line, field, "is empty"))
            elif len(value) > limit:
                errors.append(RowError(line, field, f"longer than {limit} characters"))
            return value

        ruc = text("ruc", 13)
        if ruc:
            try:
                ruc = ruc_number.validate(ruc)
            except ValidationError as exc:
                errors.append(RowError(line, "ruc", f"invalid RUC: {exc}"))
            else:
                if ruc in self._seen_rucs:
                    errors.append(RowError(line, "ruc", f"repeats the RUC of line {self._seen_rucs[ruc]}"))
                self._seen_rucs.setdefault(ruc, line)
        razon_social = text("razon_social", 300)
        contact = text("contacto", 200)
        email = self._email(line, "email", text("email", 254), errors)
        phone = self._phone(line, text("telefono", 30, required=False), errors)
        plan_name = text("plan", 100)
        plan = self.plans.get(plan_name.lower())
        if plan_name and plan is None:
            errors.append(
                RowError(line, "plan", f"unknown plan {plan_name!r} (known: {', '.join(self.plans.values())})")
            )
        signup = self._date(line, text("fecha_alta", 10), errors)
        distributor = text("distribuidor", 200)
        distributor_email = self._email(line, "email_distribuidor", text("email_distribuidor", 254), errors)
        if distributor and distributor_email:
            known = self._distributor_emails.setdefault(distributor, distributor_email)
            if known != distributor_email:
                errors.append(RowError(line, "email_distribuidor", f"{distributor} already has {known} in this file"))
        if errors or plan is None or signup is None:
            return None, errors
        record = CustomerRecord(ruc, razon_social, contact, email, phone, plan, signup, distributor, distributor_email)
        return record, []

    @staticmethod
    def _email(line: int, field: str, value: str, errors: list[RowError]) -> str:
        if not value:
            return value
        normalized = normalize_email(value)
        if normalized is None:
            errors.append(RowError(line, field, f"{value!r} is not an e-mail address (name@empresa.com)"))
            return value
        return normalized

    @staticmethod
    def _phone(line: int, value: str, errors: list[RowError]) -> str | None:
        if not value:
            return None
        try:
            number = parse_phone(value)
        except phonenumbers.NumberParseException as exc:
            errors.append(RowError(line, "telefono", f"not a phone number: {exc}"))
            return None
        if not phonenumbers.is_valid_number(number):
            errors.append(RowError(line, "telefono", "not a valid phone number (e.g. 0991234567 or +593991234567)"))
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @staticmethod
    def _date(line: int, value: str, errors: list[RowError]) -> dt.date | None:
        if not value:
            return None
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        errors.append(RowError(line, "fecha_alta", f"{value!r} is not a date (YYYY-MM-DD or dd/mm/yyyy)"))
        return None


_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


def normalize_email(value: str) -> str | None:
    """The address with its domain lowercased, or None when the syntax is wrong."""
    if len(value) > 254 or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_phone(value: str) -> phonenumbers.PhoneNumber:
    """Ecuadorian numbers with or without +593; anything else through phonenumbers.parse.

    The common national forms are built directly: parse() costs ~35 µs a number, which
    is most of a 100,000-row import.
    """
    digits = _PHONE_PUNCTUATION.sub("", value)
    if digits.isdigit() and digits.startswith("0") and len(digits) in (9, 10):
        return phonenumbers.PhoneNumber(country_code=593, national_number=int(digits[1:]))
    if digits.startswith("+593") and digits[1:].isdigit():
        return phonenumbers.PhoneNumber(country_code=593, national_number=int(digits[4:]))
    return phonenumbers.parse(value, "EC")


async def import_customers(
    session: AsyncSession,
    path: Path,
    now: dt.datetime,
    today: dt.date,
    on_validated: Progress | None = None,
    on_written: Progress | None = None,
) -> ImportSummary:
    """Validate the whole file, then upsert in the caller's transaction."""
    plans = {name.lower(): name for name in (await session.execute(select(PlanRow.name))).scalars()}
    validator = Validator(plans)
    records: list[CustomerRecord] = []
    errors: list[RowError] = []
    for line, raw in read_rows(path):
        record, problems = validator.check(line, raw)
        errors += problems
        if record is not None:
            records.append(record)
        if on_validated:
            on_validated(1)
    if errors:
        raise ImportRejected(errors)

    distributor_ids = await _upsert_distributors(session, records)
    plan_ids = {name: pid for pid, name in (await session.execute(select(PlanRow.id, PlanRow.name))).all()}
    created = updated = 0
    upsert_into = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    statement = upsert_into(CustomerRow)
    updatable = ("razon_social", "contact_name", "email", "phone", "plan_id", "signup_date", "distributor_id")
    upsert = statement.on_conflict_do_update(
        index_elements=["ruc"],
        set_={**{c: statement.excluded[c] for c in updatable}, "updated_at": statement.excluded.updated_at},
    )
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        existing = await _existing(session, [r.ruc for r in batch])
        rows = []
        for record in batch:
            values = {
                "ruc": record.ruc,
                "razon_social": record.razon_social,
                "contact_name": record.contact_name,
                "email": record.email,
                "phone": record.phone,
                "plan_id": plan_ids[record.plan],
                "signup_date": record.signup_date,
                "distributor_id": distributor_ids[record.distributor],
            }
            current = existing.get(record.ruc)
            if current == tuple(values.values()):
                continue
            created += current is None
            updated += current is not None
            rows.append({**values, "created_at": now, "updated_at": now})
        if rows:
            await session.execute(upsert, rows)  # one compiled statement, executemany
        if on_written:
            on_written(len(batch))
    await _open_missing_subscriptions(session, now, today)
    return ImportSummary(len(records), created, updated, len(records) - created - updated)


async def _upsert_distributors(session: AsyncSession, records: list[CustomerRecord]) -> dict[str, int]:
    wanted = {r.distributor: r.distributor_email for r in records}
    rows = {d.name: d for d in (await session.execute(select(DistributorRow))).scalars()}
    for name, email in wanted.items():
        if name not in rows:
            rows[name] = DistributorRow(name=name, email=email)
            session.add(rows[name])
        elif rows[name].email != email:
            rows[name].email = email
    await session.flush()
    return {name: row.id for name, row in rows.items()}


async def _existing(session: AsyncSession, rucs: list[str]) -> dict[str, tuple[Any, ...]]:
    columns = (
        CustomerRow.ruc,
        CustomerRow.razon_social,
        CustomerRow.contact_name,
        CustomerRow.email,
        CustomerRow.phone,
        CustomerRow.plan_id,
        CustomerRow.signup_date,
        CustomerRow.distributor_id,
    )
    result = await session.execute(select(*columns).where(CustomerRow.ruc.in_(rucs)))
    return {row[0]: tuple(row) for row in result.all()}


async def _open_missing_subscriptions(session: AsyncSession, now: dt.datetime, today: dt.date) -> None:
    """Every imported customer without a contract gets one at its plan's price. Billing starts
    today (or at a future signup): invoices before the import were the previous system's."""
    query = (
        select(CustomerRow.id, CustomerRow.plan_id, CustomerRow.signup_date, PlanRow.monthly_price)
        .join(PlanRow, PlanRow.id == CustomerRow.plan_id)
        .outerjoin(SubscriptionRow, SubscriptionRow.customer_id == CustomerRow.id)
        .where(SubscriptionRow.id.is_(None))
    )
    rows = [
        {
            "customer_id": cid,
            "plan_id": pid,
            "monthly_price": price,
            "signup_date": signup,
            "billed_from": max(signup, today),
            "state": "active",
            "created_at": now,
        }
        for cid, pid, signup, price in (await session.execute(query)).all()
    ]
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(SubscriptionRow), rows[start : start + BATCH])
