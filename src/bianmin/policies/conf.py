"""The policy API's knobs: a setting of the same name overrides each (read at call time, so tests
and deployments can change them); the environment variable of that name sets it for a server."""

from __future__ import annotations

import os

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return int(value)


def key_requests_per_minute() -> int:
    """Requests a minute for one API key with the policies.read scope (a copy-keeping system)."""
    return _int("BIANMIN_POLICY_API_KEY_PER_MINUTE", 600)


def anonymous_requests_per_minute() -> int:
    """Requests a minute from one address without a key (a citizen's page, a curious script)."""
    return _int("BIANMIN_POLICY_API_ANON_PER_MINUTE", 120)


def subscribe_per_hour() -> int:
    """Subscriptions a client address may ask for in an hour (each sends a confirmation message)."""
    return _int("BIANMIN_POLICY_SUBSCRIBE_PER_HOUR", 10)
