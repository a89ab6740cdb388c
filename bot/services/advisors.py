"""Advisor accounts and console sessions: argon2id passwords, random session tokens kept
only as SHA-256, and failed logins counted per e-mail and per address (PostgreSQL or SQLite
is the source of truth, so every replica enforces the same limits)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.persistence.tables import AdvisorRow, ConsoleSessionRow, DistributorRow, LoginAttemptRow
from bot.services.importer import normalize_email

SESSION_HOURS = 12
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a real password, only here to spend the same time")


class AdvisorError(ValueError):
    """Bad input for an advisor command; the message says what to fix."""


class LoginRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status  # 401 wrong credentials, 429 too many attempts


@dataclass(frozen=True)
class Advisor:
    id: int
    email: str
    name: str
    distributor_id: int
    distributor: str
    is_admin: bool


@dataclass(frozen=True)
class ConsoleSession:
    advisor: Advisor
    csrf_token: str
    expires_at: dt.datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalized_email(email: str) -> str:
    normalized = normalize_email(email)
    if normalized is None:
        raise AdvisorError(f"{email!r} is not an e-mail address (name@empresa.com)")
    return normalized.lower()


async def add_advisor(
    session: AsyncSession,
    email: str,
    *,
    name: str,
    distributor: str,
    password: str,
    is_admin: bool,
    now: dt.datetime,
) -> tuple[int, bool]:
    """Create the advisor, or update the password, name and role of an existing one.
    Returns (id, created)."""
    address = normalized_email(email)
    if len(password) < MIN_PASSWORD_CHARS:
        raise AdvisorError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    found = (
        await session.execute(select(DistributorRow.id).where(DistributorRow.name == distributor))
    ).scalar_one_or_none()
    if found is None:
        names = ", ".join((await session.execute(select(DistributorRow.name).order_by(DistributorRow.name))).scalars())
        raise AdvisorError(f"no distributor named {distributor!r} (known: {names or 'none; import customers first'})")
    row = (await session.execute(select(AdvisorRow).where(AdvisorRow.email == address))).scalar_one_or_none()
    created = row is None
    if row is None:
        row = AdvisorRow(email=address, created_at=now)
        session.add(row)
    row.name = name.strip() or address.split("@")[0]
    row.distributor_id = int(found)
    row.is_admin = is_admin
    row.password_hash = _HASHER.hash(password)
    await session.flush()
    if not created:  # a changed password or role ends the sessions opened with the old one
        await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.advisor_id == row.id))
    return row.id, created


async def list_advisors(session: AsyncSession) -> list[Advisor]:
    rows = await session.execute(
        select(AdvisorRow, DistributorRow.name)
        .join(DistributorRow, DistributorRow.id == AdvisorRow.distributor_id)
        .order_by(AdvisorRow.email)
    )
    return [_advisor(row, name) for row, name in rows.all()]


def _advisor(row: AdvisorRow, distributor: str) -> Advisor:
    return Advisor(row.id, row.email, row.name, row.distributor_id, distributor, row.is_admin)


async def log_in(
    session: AsyncSession, email: str, password: str, address: str, now: dt.datetime
) -> tuple[str, ConsoleSession]:
    """Check the credentials under the rate limits; returns the cookie token and the session."""
    email = email.strip().lower()[:254]
    since = now - FAILURE_WINDOW
    by_email = (
        await session.execute(
            select(func.count()).where(LoginAttemptRow.email == email, LoginAttemptRow.created_at >= since)
        )
    ).scalar_one()
    by_address = (
        await session.execute(
            select(func.count()).where(LoginAttemptRow.address == address, LoginAttemptRow.created_at >= since)
        )
    ).scalar_one()
    if by_email >= MAX_FAILURES_PER_EMAIL or by_address >= MAX_FAILURES_PER_ADDRESS:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise LoginRefused(f"Demasiados intentos fallidos. Espere {minutes} minutos e intente de nuevo.", 429)
    found = (
        await session.execute(
            select(AdvisorRow, DistributorRow.name)
            .join(DistributorRow, DistributorRow.id == AdvisorRow.distributor_id)
            .where(AdvisorRow.email == email)
        )
    ).one_or_none()
    try:
        _HASHER.verify(found[0].password_hash if found else _DUMMY_HASH, password)
        ok = found is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None:  # the caller records it with `record_failure` (this transaction rolls back)
        raise LoginRefused("Correo o contraseña incorrectos.", 401)
    row, distributor = found
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=SESSION_HOURS)
    session.add(
        ConsoleSessionRow(
            token_hash=_token_hash(token), advisor_id=row.id, csrf_token=csrf, created_at=now, expires_at=expires
        )
    )
    await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now))
    return token, ConsoleSession(_advisor(row, distributor), csrf, expires)


async def record_failure(session: AsyncSession, email: str, address: str, now: dt.datetime) -> None:
    session.add(LoginAttemptRow(email=email.strip().lower()[:254], address=address[:64], created_at=now))


async def session_for(session: AsyncSession, token: str, now: dt.datetime) -> ConsoleSession | None:
    """The advisor behind a cookie, or None when unknown or expired."""
    found = (
        await session.execute(
            select(ConsoleSessionRow, AdvisorRow, DistributorRow.name)
            .join(AdvisorRow, AdvisorRow.id == ConsoleSessionRow.advisor_id)
            .join(DistributorRow, DistributorRow.id == AdvisorRow.distributor_id)
            .where(ConsoleSessionRow.token_hash == _token_hash(token))
        )
    ).one_or_none()
    if found is None:
        return None
    console_session, advisor, distributor = found
    if console_session.expires_at <= now:
        return None
    return ConsoleSession(_advisor(advisor, distributor), console_session.csrf_token, console_session.expires_at)


async def log_out(session: AsyncSession, token: str) -> None:
    await session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == _token_hash(token)))
