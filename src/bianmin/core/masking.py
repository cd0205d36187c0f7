"""Masking personal data for lists, exports and logs (PIPL; STANDARDS.md).

Masked is the default everywhere a person reads; showing the full value is a permission and
goes through an audited service. Every function accepts None, empty and malformed input and
never reveals more of a short value than of a well-formed one: when a value is too short to
keep the usual visible parts, all of it is masked.
"""

from __future__ import annotations

MASK = "*"


def _keep(value: str | None, head: int, tail: int) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) <= head + tail:
        return MASK * len(text)
    return text[:head] + MASK * (len(text) - head - tail) + (text[-tail:] if tail else "")


def mask_id_number(value: str | None) -> str:
    """350102199001011234 → 350102********1234: the area code and the last four stay, the
    birth date and sequence go."""
    return _keep(value, 6, 4)


def mask_mobile(value: str | None) -> str:
    """13812345678 → 138****5678."""
    return _keep(value, 3, 4)


def mask_name(value: str | None) -> str:
    """张三丰 → 张**, 张三 → 张*: the first character (usually the surname) stays. A one-character
    value is masked entirely."""
    text = (value or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    return text[0] + MASK * (len(text) - 1)


def mask_credit_code(value: str | None) -> str:
    """91350100M000100Y43 → 91350100******0Y43.

    The first eight characters (registering authority, entity category, area code) say nothing
    about who the entity is and stay; so do the last four, which let a clerk match a record with
    the paper in front of them, as with ID numbers. The middle of the entity identifier goes:
    an individual business (个体工商户, 92…) is close to personal data."""
    return _keep(value, 8, 4)


def mask_text(value: str | None) -> str:
    """Any other identifier (bank account, passport): first and last character only."""
    return _keep(value, 1, 1)


def keyed(value: str) -> str:
    """A short keyed digest (HMAC-SHA256 with the install's secret) for index lookups and rate
    limits: equal inputs meet, the phone number itself cannot be read back from it."""
    import hashlib
    import hmac

    from django.conf import settings

    if not value:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:16]
