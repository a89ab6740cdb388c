"""E-mail over a real SMTP conversation (aiosmtpd on 127.0.0.1), and restart safety of delivery."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.config import Settings
from bot.mail import MailError, SmtpMailer, compose
from scheduler.delivery import Delivered, EmailSender, RetryLater, Undeliverable


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses some addresses."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[object] = []
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address.startswith("rechazado@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def smtp_settings(port: int) -> Settings:
    return Settings(_env_file=None, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)  # type: ignore[call-arg]


async def test_mail_goes_through_smtp(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpMailer(smtp_settings(port))
    await mailer.send(
        compose("Perseo <bot@perseo.test>", "maria@andina.ec", "Factura 001", "Hola María: ñandú", cc="d@s.ec")
    )
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["Subject"] == "Factura 001" and received["Cc"] == "d@s.ec"  # type: ignore[index]
    assert "ñandú" in received.get_payload(decode=True).decode()  # type: ignore[attr-defined]


async def test_refused_address_is_permanent_and_no_server_is_transient(smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    with pytest.raises(MailError) as refused:
        await SmtpMailer(smtp_settings(port)).send(compose("bot@perseo.test", "rechazado@x.ec", "s", "b"))
    assert refused.value.permanent
    with pytest.raises(MailError) as unreachable:
        await SmtpMailer(smtp_settings(free_port())).send(compose("bot@perseo.test", "a@x.ec", "s", "b"))
    assert not unreachable.value.permanent


async def test_email_sender_maps_failures(smtp: tuple[Inbox, int]) -> None:
    from bot.persistence.tables import OutboxRow

    _, port = smtp
    sender = EmailSender(SmtpMailer(smtp_settings(port)), "bot@perseo.test")
    ok = OutboxRow(recipient="a@x.ec|copia@x.ec", subject="s", body="b")
    assert isinstance(await sender.send(ok), Delivered)
    assert isinstance(await sender.send(OutboxRow(recipient="rechazado@x.ec", subject="s", body="b")), Undeliverable)
    down = EmailSender(SmtpMailer(smtp_settings(free_port())), "bot@perseo.test")
    assert isinstance(await down.send(ok), RetryLater)


def test_kill_9_during_delivery_loses_nothing(tmp_path: Path) -> None:
    """kill -9 the process mid-run, start it again: every message arrives, and at most the one
    in flight at the kill arrives twice (at-least-once delivery). The dead process held one
    small batch, on a 30-second lease: a restart 30 seconds later sends the rest (issue 10.9)."""
    inbox = Inbox(delay=0.05)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    database = tmp_path / "restart.db"
    env = {
        **os.environ,
        "PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PERSEO_SMTP_HOST": "127.0.0.1",
        "PERSEO_SMTP_PORT": str(port),
        "PERSEO_SMTP_STARTTLS": "false",
    }
    count = 40
    seed = (
        "import asyncio, datetime as dt\n"
        "from bot.persistence.database import create_engine, sessionmaker, upgrade\n"
        "from scheduler.outbox import OutboxMessage, enqueue\n"
        f"async def main():\n"
        f"    engine = create_engine('sqlite+aiosqlite:///{database}')\n"
        "    await upgrade(engine)\n"
        "    now = dt.datetime(2026, 12, 1, 14, tzinfo=dt.UTC)\n"
        "    async with sessionmaker(engine).begin() as s:\n"
        f"        for n in range({count}):\n"
        "            message = OutboxMessage(\n"
        "                f'k:{n}', 'due_soon', 'email', f'c{n}@x.ec', f'mensaje {n}', 'b')\n"
        "            await enqueue(s, message, now)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", seed], check=True, env=env)
    bin_dir = Path(sys.executable).parent
    tick = [str(bin_dir / "perseo-bot"), "scheduler", "tick", "--now", "2026-12-01T10:00"]
    try:
        started = time.monotonic()
        process = subprocess.Popen(tick, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = started + 60
        while len(inbox.messages) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        lived = time.monotonic() - started  # the dead run's clock went at most this far past 10:00
        assert 15 <= len(inbox.messages) < count, "the kill should land in the middle of the run"
        with sqlite3.connect(database) as connection:
            held = [
                dt.datetime.fromisoformat(lease).replace(tzinfo=dt.UTC)
                for (lease,) in connection.execute("SELECT lease_until FROM outbox WHERE status = 'sending'")
            ]
        assert len(held) <= 10, "the dead process held one small batch, not everything due"
        start = dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)  # 10:00 in Guayaquil
        back = max(held, default=start)
        assert back <= start + dt.timedelta(seconds=30 + lived), "its rows return within about 30 seconds"
        after_restart = [*tick[:-1], (back + dt.timedelta(seconds=1)).isoformat()]
        subprocess.run(after_restart, env=env, check=True, capture_output=True)
    finally:
        controller.stop()
    subjects = [str(m["Subject"]) for m in inbox.messages]  # type: ignore[index]
    assert set(subjects) == {f"mensaje {n}" for n in range(count)}
    assert len(subjects) - count <= 1
