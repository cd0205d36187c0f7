"""Tunable rules of the kiosks, read from Django settings (tests override them with the
``settings`` fixture)."""

from __future__ import annotations

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def offline_after_minutes() -> int:
    """A terminal silent this long is marked offline (its heartbeat comes every minute or so)."""
    return int(_get("BIANMIN_KIOSK_OFFLINE_MINUTES", 10))


def offline_check_minutes() -> int:
    """How often the offline check runs in the worker."""
    return int(_get("BIANMIN_KIOSK_OFFLINE_CHECK_MINUTES", 5))


def heartbeat_seconds() -> int:
    """The heartbeat interval told to terminals in their configuration."""
    return int(_get("BIANMIN_KIOSK_HEARTBEAT_SECONDS", 60))


def idle_timeout_seconds() -> int:
    """A kiosk screen untouched this long is cleared (the citizen walked away)."""
    return int(_get("BIANMIN_KIOSK_IDLE_SECONDS", 90))


def source_timeout_seconds() -> float:
    """A data source answering later than this issues nothing (the citizen is standing there)."""
    return float(_get("BIANMIN_KIOSK_SOURCE_TIMEOUT", 5.0))


def sources() -> dict[str, str]:
    """Data-source adapters by code: dotted paths to classes (see sources.py). A city replaces
    the demo adapters with its departments' interfaces here."""
    from .sources import DEMO_SOURCES

    return {**DEMO_SOURCES, **_get("BIANMIN_KIOSK_SOURCES", {})}


def reader() -> str:
    """The identity-card reader the kiosk pages use: "demo" (a synthetic person from the demo
    registries) or "device" (the terminal's reader driver, window.kioskReaderDevice)."""
    return str(_get("BIANMIN_KIOSK_READER", "demo"))


def pairing_minutes() -> int:
    return int(_get("BIANMIN_KIOSK_PAIRING_MINUTES", 30))


def print_minutes() -> int:
    """How long after issuing the terminal may fetch the certificate's PDF to print it."""
    return int(_get("BIANMIN_KIOSK_PRINT_MINUTES", 10))


def max_uses_per_request() -> int:
    return int(_get("BIANMIN_KIOSK_MAX_USES_PER_REQUEST", 500))
