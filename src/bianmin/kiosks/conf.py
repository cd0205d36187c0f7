"""Tunable rules of the kiosks, read from Django settings (defaults and meanings in the one table,
bianmin/conf.py; tests override them with the ``settings`` fixture)."""

from __future__ import annotations

from django.conf import settings


def offline_after_minutes() -> int:
    """A terminal silent this long is marked offline (its heartbeat comes every minute or so)."""
    return int(settings.BIANMIN_KIOSK_OFFLINE_MINUTES)


def offline_check_minutes() -> int:
    """How often the offline check runs in the worker."""
    return int(settings.BIANMIN_KIOSK_OFFLINE_CHECK_MINUTES)


def heartbeat_seconds() -> int:
    """The heartbeat interval told to terminals in their configuration."""
    return int(settings.BIANMIN_KIOSK_HEARTBEAT_SECONDS)


def idle_timeout_seconds() -> int:
    """A kiosk screen untouched this long is cleared (the citizen walked away)."""
    return int(settings.BIANMIN_KIOSK_IDLE_SECONDS)


def source_timeout_seconds() -> float:
    """A data source answering later than this issues nothing (the citizen is standing there)."""
    return float(settings.BIANMIN_KIOSK_SOURCE_TIMEOUT)


def sources() -> dict[str, str]:
    """Data-source adapters by code: dotted paths to classes (see sources.py). A city replaces
    the demo adapters with its departments' interfaces here."""
    from .sources import DEMO_SOURCES

    return {**DEMO_SOURCES, **(getattr(settings, "BIANMIN_KIOSK_SOURCES", None) or {})}


def reader() -> str:
    """The identity-card reader the kiosk pages use: "demo" (a synthetic person from the demo
    registries) or "device" (the terminal's reader driver, window.kioskReaderDevice)."""
    return str(settings.BIANMIN_KIOSK_READER)


def pairing_minutes() -> int:
    return int(settings.BIANMIN_KIOSK_PAIRING_MINUTES)


def print_minutes() -> int:
    """How long after issuing the terminal may fetch the certificate's PDF to print it."""
    return int(settings.BIANMIN_KIOSK_PRINT_MINUTES)


def max_uses_per_request() -> int:
    return int(settings.BIANMIN_KIOSK_MAX_USES_PER_REQUEST)
