"""The address of the client behind a request: what rate limits per address and the audit log
use. Behind a reverse proxy every request comes from the proxy; counting per REMOTE_ADDR would
make the whole city share one limit (issue 22.8). So REMOTE_ADDR is trusted only when it is not
a configured proxy; a configured proxy's ``X-Forwarded-For`` is read from the right, skipping the
trusted proxies, and the first other address is the client. A header from anyone else is ignored
(a client can write any X-Forwarded-For it likes).

Setting ``BIANMIN_TRUSTED_PROXIES`` (bianmin/conf.py): comma-separated addresses or networks of
the reverse proxies in front of the platform (``10.0.0.5,10.1.0.0/24``); empty (default) when
clients connect directly."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def _networks(raw: tuple[str, ...]) -> tuple[Network, ...]:
    out = []
    for item in raw:
        item = item.strip()
        if item:
            out.append(ipaddress.ip_network(item, strict=False))
    return tuple(out)


def trusted_proxies() -> tuple[Network, ...]:
    raw = settings.BIANMIN_TRUSTED_PROXIES or ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return _networks(tuple(raw))


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address, proxies) -> bool:
    return any(address in net for net in proxies)


def client_address(meta) -> str | None:
    """The client's address from a request's META (see the module docstring)."""
    remote = _address(meta.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    proxies = trusted_proxies()
    if not proxies or not _trusted(remote, proxies):
        return str(remote)
    hops = [h for h in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
    client = remote
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a malformed entry: do not trust what lies beyond it
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
