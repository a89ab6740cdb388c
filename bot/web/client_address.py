"""The address a request came from, for per-address limits (console logins, the web chat).

Behind a reverse proxy every request arrives from the proxy, so the client's own address is
in X-Forwarded-For, which anyone can also write. It is believed only as far as the proxies
named in PERSEO_TRUSTED_PROXIES vouch for it: walking the header from the right (the entry
the nearest proxy added), trusted hops are skipped and the first other address is the
client. Without trusted proxies (the default) the header is ignored and the peer's address
is used. (uvicorn, which `perseo-bot run` uses, already replaces the peer by the header's
client for connections from 127.0.0.1; see its FORWARDED_ALLOW_IPS.)
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

from bot.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, proxies: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in proxies)


def in_networks(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether an address as `client_address` gives it lies in one of `networks`."""
    return _trusted(_ip(address), networks)


def client_address(request: Request, settings: Settings | None) -> str:
    """The client's IP address as text ("unknown" when the server cannot tell)."""
    peer = request.client.host if request.client else "unknown"
    proxies = settings.trusted_proxy_networks() if settings is not None else ()
    if not proxies or not _trusted(_ip(peer), proxies):
        return peer
    hops = [h.strip() for value in request.headers.getlist("x-forwarded-for") for h in value.split(",")]
    client = peer
    for hop in reversed([h for h in hops if h]):
        address = _ip(hop)
        if address is None:
            break  # not written by a proxy we trust: stop at the last trusted hop
        client = str(address)
        if not _trusted(address, proxies):
            break
    return client
