"""Which address a request came from, behind trusted proxies or not."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from bot.config import Settings
from bot.web.client_address import client_address


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 4000)})


def settings(proxies: str) -> Settings:
    return Settings(_env_file=None, trusted_proxies=proxies)  # type: ignore[call-arg]


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(request("203.0.113.9", "1.2.3.4"), settings("")) == "203.0.113.9"
    assert client_address(request("203.0.113.9", "1.2.3.4"), None) == "203.0.113.9"


def test_a_trusted_proxy_vouches_for_the_address_it_added() -> None:
    proxies = settings("10.0.0.5, 10.1.0.0/16")
    assert client_address(request("10.0.0.5", "190.152.10.20"), proxies) == "190.152.10.20"
    # The client wrote a fake first entry; each trusted hop appended what it saw: the first
    # untrusted address from the right is the client.
    chain = request("10.0.0.5", "6.6.6.6, 190.152.10.20", "10.1.2.3")
    assert client_address(chain, proxies) == "190.152.10.20"


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    assert client_address(request("203.0.113.9", "190.152.10.20"), settings("10.0.0.5")) == "203.0.113.9"


def test_garbage_in_the_header_stops_at_the_last_trusted_hop() -> None:
    proxies = settings("10.0.0.5")
    assert client_address(request("10.0.0.5", "not-an-ip"), proxies) == "10.0.0.5"
    assert client_address(request("10.0.0.5"), proxies) == "10.0.0.5"
    assert client_address(request("10.0.0.5", "10.0.0.5"), proxies) == "10.0.0.5"  # all trusted: the leftmost


def test_a_wrong_proxy_setting_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        settings("10.0.0.5, proxy.local")
