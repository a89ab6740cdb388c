"""`perseo-bot run` as a real process with Telegram and WhatsApp pointed at local fakes: a
Telegram update and a signed WhatsApp message are answered end to end, an unsigned one is
refused, and a replay is not answered twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import GRAPH_VERSION, PHONE_ID, TOKEN, WA_TOKEN, FakeGraph, FakeTelegram
from tests.servers import free_port, running

BIN = str(Path(sys.executable).parent / "perseo-bot")


def wait_until(check, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, FakeTelegram, FakeGraph]]:
    telegram, graph = FakeTelegram(), FakeGraph()
    with running(telegram.app()) as tg_url, running(graph.app()) as graph_url:
        graph.base = graph_url
        port = free_port()
        env = {
            **os.environ,
            "PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
            "PERSEO_HTTP_PORT": str(port),
            "PERSEO_MAIL_DIR": str(tmp_path / "mail"),
            "PERSEO_SECRET_KEY": "test",
            "PERSEO_TELEGRAM_TOKEN": TOKEN,
            "PERSEO_TELEGRAM_API_URL": f"{tg_url}/bot",
            "PERSEO_TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "PERSEO_TELEGRAM_WEBHOOK_URL": "https://bot.example.ec/webhooks/telegram",
            "PERSEO_WHATSAPP_TOKEN": WA_TOKEN,
            "PERSEO_WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
            "PERSEO_WHATSAPP_APP_SECRET": "app-secret",
            "PERSEO_WHATSAPP_VERIFY_TOKEN": "verify",
            "PERSEO_WHATSAPP_API_URL": f"{graph_url}/{GRAPH_VERSION}",
        }
        process = subprocess.Popen(
            [BIN, "run", "--no-scheduler"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _up(base), 40)
            yield base, telegram, graph
        finally:
            process.terminate()
            output = process.communicate(timeout=20)[0].decode()
            assert "Traceback" not in output, output


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_run_answers_telegram_and_whatsapp(server: tuple[str, FakeTelegram, FakeGraph]) -> None:
    base, telegram, graph = server
    registered = [c for c in telegram.calls if c.method == "setWebhook"]
    assert registered and registered[0].params["url"] == "https://bot.example.ec/webhooks/telegram"
    assert registered[0].params["secret_token"] == "s3cret"

    sender = {"id": 77, "is_bot": False, "first_name": "A"}
    text = {"message_id": 1, "date": int(time.time()), "text": "formas de pago", "chat": {"id": 77, "type": "private"}}
    update = {"update_id": 5, "message": {**text, "from": sender}}
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    assert httpx.post(base + "/webhooks/telegram", json=update, headers=headers).json()["status"] == "handled"
    assert httpx.post(base + "/webhooks/telegram", json=update, headers=headers).json()["status"] == "duplicate"
    assert httpx.post(base + "/webhooks/telegram", json=update).status_code == 403
    assert len(telegram.sent(77)) == 1 and "transferencia" in telegram.sent(77)[0].params["text"]

    message = {"from": "593987654321", "id": "wamid.run1", "timestamp": "1", "type": "text",
               "text": {"body": "con que clave entro la primera vez"}}  # fmt: skip
    value = {"messaging_product": "whatsapp", "messages": [message]}
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}).encode()
    signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    unsigned = httpx.post(base + "/webhooks/whatsapp", content=body)
    assert unsigned.status_code == 403
    signed = {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
    assert httpx.post(base + "/webhooks/whatsapp", content=body, headers=signed).status_code == 200
    wait_until(lambda: graph.sent("593987654321"))
    assert "123" in graph.sent("593987654321")[0].params["text"]["body"]
    httpx.post(base + "/webhooks/whatsapp", content=body, headers=signed)  # Meta retries: no second answer
    time.sleep(0.5)
    assert len(graph.sent("593987654321")) == 1
