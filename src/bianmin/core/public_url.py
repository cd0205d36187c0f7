"""The address citizens reach the platform at, for links that leave it (SMS, printed slips, QR).

``BIANMIN_PUBLIC_BASE_URL`` says it (e.g. ``https://bianmin.fuzhou.gov.cn``). When it is unset,
``bianmin up`` sets it to the host and port it serves on (``served_base_url``), so a link in an
SMS or on a slip never points at a port nothing listens on. A separately run ``bianmin worker``
has no server to follow: set the variable for it (README)."""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

DEFAULT = "http://127.0.0.1:8000"
WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


def public_base_url() -> str:
    return str(settings.BIANMIN_PUBLIC_BASE_URL or DEFAULT).rstrip("/")


def public_url(path: str) -> str:
    """An absolute link to ``path`` (which starts with "/") for people outside the platform."""
    return f"{public_base_url()}{path}"


def _outward_address() -> str | None:
    """This machine's address on its default route: what others on the network reach it by.
    Connecting a UDP socket sends nothing; it only asks the kernel which source address it would use."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("0.") else address


def served_base_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port``. A wildcard address (all
    interfaces) is no address a phone can open: the machine's outward address stands for it."""
    if host in WILDCARDS:
        host = _outward_address() or socket.gethostname() or "127.0.0.1"
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            host = f"[{host.strip('[]')}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}"
