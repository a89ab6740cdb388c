"""Who is asking: the address of the client behind our own reverse proxies.

Without trusted proxies (PERSEO_TRUSTED_PROXIES, empty by default) the TCP peer is the client
and X-Forwarded-For is ignored: anyone can write that header, so believing it would let a
client pick a fresh address for every request and walk around every per-address limit. When
the peer is one of our proxies, the client is the right-most X-Forwarded-For entry that is not
one of our proxies: each proxy appends the peer it saw, so entries to the left of that one were
written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Protocol

from fastapi import Request

UNKNOWN = "unknown"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class _ProxySettings(Protocol):
    @property
    def trusted_proxies(self) -> str | Iterable[str]: ...


def trusted_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """'10.0.0.5, 172.16.0.0/12' -> networks (bot.config has already refused bad entries)."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in parts if p.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, settings: _ProxySettings) -> str:
    """The client's address as a string (`unknown` when the server cannot tell)."""
    peer = request.client.host if request.client else UNKNOWN
    networks = trusted_networks(settings.trusted_proxies)
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = [
        entry.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for entry in header.split(",")
        if entry.strip()
    ]
    for entry in reversed(forwarded):
        if not _trusted(entry, networks):
            return entry
    return forwarded[0] if forwarded else peer  # every hop is ours: the left-most is the origin
