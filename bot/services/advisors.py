"""Advisor accounts and console sessions: argon2id passwords, random session tokens kept
only as SHA-256, and login throttling (PostgreSQL or SQLite is the source of truth, so every
replica enforces the same limits).

Throttling, and why this shape: an attempt is counted *before* its password is checked, by
one conditional statement, so 30 concurrent guesses reach the hash check at most
MAX_FAILURES_PER_PAIR times. The hard limits are per (e-mail, address) and per address, so
a stranger guessing from elsewhere cannot lock the real advisor out; per e-mail from
anywhere there is only a growing delay (`email_delay`), which slows guessing spread over
many addresses but never refuses the right password."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.persistence.database import dialect_of
from bot.persistence.tables import AdvisorRow, ConsoleSessionRow, DistributorRow, LoginThrottleRow
from bot.services.importer import normalize_email

SESSION_HOURS = 12
MAX_FAILURES_PER_PAIR = 5  # one e-mail from one address; then 429 until 15 quiet minutes
MAX_FAILURES_PER_ADDRESS = 20  # any e-mails from one address (spraying one password over many)
EMAIL_FREE_FAILURES = 5  # one e-mail from anywhere: after this many, every attempt waits
EMAIL_FIRST_DELAY = 1.0  # seconds, doubling with each further failure...
EMAIL_MAX_DELAY = 10.0  # ...up to this
FAILURE_WINDOW = dt.timedelta(minutes=15)  # a counter starts over after this long without failures
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


def email_delay(failures_before: int) -> float:
    """Seconds an attempt on an e-mail waits when that e-mail already failed this many times
    (from any address) in the window: none for the first few, then doubling up to a cap. It
    slows guessing spread over many addresses without ever locking the real advisor out."""
    extra = failures_before - EMAIL_FREE_FAILURES
    if extra < 0:
        return 0.0
    return min(EMAIL_MAX_DELAY, EMAIL_FIRST_DELAY * 2.0 ** min(extra, 16))


async def _count(
    session: AsyncSession, scope: str, email: str, address: str, limit: int | None, now: dt.datetime
) -> int | None:
    """Count one attempt in the scope's counter, unless it already reached `limit` within the
    window; returns the failures including this one, or None when refused. One statement
    (an upsert with a condition, RETURNING), so concurrent attempts cannot both slip under
    the limit: PostgreSQL locks the row and re-checks the condition on the newest version,
    SQLite's transactions are serial (BEGIN IMMEDIATE)."""
    upsert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    stale = LoginThrottleRow.last_failure_at < now - FAILURE_WINDOW
    statement = (
        upsert(LoginThrottleRow)
        .values(scope=scope, email=email, address=address, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "email", "address"],
            set_={"failures": case((stale, 1), else_=LoginThrottleRow.failures + 1), "last_failure_at": now},
            where=None if limit is None else or_(stale, LoginThrottleRow.failures < limit),
        )
        .returning(LoginThrottleRow.failures)
    )
    counted = (await session.execute(statement)).scalar_one_or_none()
    return None if counted is None else int(counted)


async def _reserve(session: AsyncSession, email: str, address: str, now: dt.datetime) -> float:
    """Count the attempt as a failure before its password is checked (a success gives it back);
    returns how long it must wait. Refused (429, nothing counted: the transaction rolls back)
    past the limit of this e-mail from this address or of this address. Always in the same
    order (pair, address, e-mail), so concurrent transactions never deadlock."""
    refused = LoginRefused(
        f"Demasiados intentos fallidos. Espere {int(FAILURE_WINDOW.total_seconds() // 60)} minutos e intente de nuevo.",
        429,
    )
    if await _count(session, "pair", email, address, MAX_FAILURES_PER_PAIR, now) is None:
        raise refused
    if await _count(session, "address", "", address, MAX_FAILURES_PER_ADDRESS, now) is None:
        raise refused
    by_email = await _count(session, "email", email, "", None, now)
    assert by_email is not None
    return email_delay(by_email - 1)


async def _give_back(session: AsyncSession, email: str, address: str, now: dt.datetime) -> None:
    """A successful login: this e-mail's failures from this address are forgiven, and the
    attempt reserved in the other counters is given back."""
    await session.execute(
        update(LoginThrottleRow)
        .where(LoginThrottleRow.scope == "pair", LoginThrottleRow.email == email, LoginThrottleRow.address == address)
        .values(failures=0)
    )
    await session.execute(
        update(LoginThrottleRow)
        .where(
            or_(
                and_(
                    LoginThrottleRow.scope == "address",
                    LoginThrottleRow.email == "",
                    LoginThrottleRow.address == address,
                ),
                and_(
                    LoginThrottleRow.scope == "email", LoginThrottleRow.email == email, LoginThrottleRow.address == ""
                ),
            )
        )
        .values(failures=case((LoginThrottleRow.failures > 0, LoginThrottleRow.failures - 1), else_=0))
    )
    await session.execute(delete(LoginThrottleRow).where(LoginThrottleRow.last_failure_at < now - FAILURE_WINDOW))


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def log_in(
    sessions: async_sessionmaker[AsyncSession],
    email: str,
    password: str,
    address: str,
    now: dt.datetime,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[str, ConsoleSession]:
    """Check the credentials under the rate limits; returns the cookie token and the session.

    Three short transactions, none held while the password hash is computed: count the
    attempt (refused past the limits), read the advisor, and after a match give the attempt
    back and open the session. A wrong password needs no fourth step: it is already counted."""
    email = email.strip().lower()[:254]
    address = address[:64]
    async with sessions.begin() as session:
        delay = await _reserve(session, email, address, now)
    if delay:
        await sleep(delay)
    async with sessions() as session:
        found = (
            await session.execute(select(AdvisorRow.id, AdvisorRow.password_hash).where(AdvisorRow.email == email))
        ).one_or_none()
    # argon2 takes tens of milliseconds of CPU: off the event loop, so chats and consoles go on.
    matches = await asyncio.to_thread(_password_matches, found[1] if found else _DUMMY_HASH, password)
    if not matches or found is None:
        raise LoginRefused("Correo o contraseña incorrectos.", 401)
    async with sessions.begin() as session:
        await _give_back(session, email, address, now)
        row, distributor = (
            await session.execute(
                select(AdvisorRow, DistributorRow.name)
                .join(DistributorRow, DistributorRow.id == AdvisorRow.distributor_id)
                .where(AdvisorRow.id == found[0])
            )
        ).one()
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
