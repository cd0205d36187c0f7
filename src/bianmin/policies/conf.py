"""The policy API's knobs: settings (defaults and meanings in the one table, bianmin/conf.py; the
environment variable of the same name sets each for a server), read at call time so tests and
deployments can change them."""

from __future__ import annotations

from django.conf import settings


def key_requests_per_minute() -> int:
    """Requests a minute for one API key with the policies.read scope (a copy-keeping system)."""
    return int(settings.BIANMIN_POLICY_API_KEY_PER_MINUTE)


def anonymous_requests_per_minute() -> int:
    """Requests a minute from one address without a key (a citizen's page, a curious script)."""
    return int(settings.BIANMIN_POLICY_API_ANON_PER_MINUTE)


def subscribe_per_hour() -> int:
    """Subscriptions a client address may ask for in an hour (each sends a confirmation message)."""
    return int(settings.BIANMIN_POLICY_SUBSCRIBE_PER_HOUR)
