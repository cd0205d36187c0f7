"""Tunable rules of 好差评, read from Django settings; their defaults (those of STANDARDS.md) and
meanings are in the one settings table, bianmin/conf.py. A province with another rule sets e.g.
``BIANMIN_EVAL_DEFAULT_AFTER_DAYS=15`` in the environment; tests override them with ``settings``."""

from __future__ import annotations

from django.conf import settings


def default_after_days() -> int:
    """No evaluation within this many natural days of completion → a default 满意 (Fujian: 7)."""
    return int(settings.BIANMIN_EVAL_DEFAULT_AFTER_DAYS)


def link_valid_days() -> int:
    """How long an evaluation link (QR, SMS) stays usable. The default window plus the 追评 period
    would be generous; the link only serves the first evaluation, so it expires with the default."""
    return int(settings.BIANMIN_EVAL_LINK_DAYS or default_after_days())


def additional_period_days() -> int:
    """追评: one more evaluation allowed within this many days of the first (local: Zhejiang)."""
    return int(settings.BIANMIN_EVAL_ADDITIONAL_DAYS)


def text_limit() -> int:
    return int(settings.BIANMIN_EVAL_TEXT_LIMIT)


def rate_per_link() -> tuple[int, int]:
    return tuple(settings.BIANMIN_EVAL_RATE_LINK)


def rate_per_device() -> tuple[int, int]:
    return tuple(settings.BIANMIN_EVAL_RATE_DEVICE)


def rate_per_kiosk_case() -> tuple[int, int]:
    """Attempts on one case at the kiosks (acceptance number + the phone's last four digits): a
    few typos and the 追评 pass, ten thousand guesses do not (all kiosks count together)."""
    return tuple(settings.BIANMIN_EVAL_RATE_KIOSK_CASE)


def rate_per_phone() -> tuple[int, int]:
    return tuple(settings.BIANMIN_EVAL_RATE_PHONE)


def burst_threshold() -> tuple[int, int]:
    """More than N evaluations of one window device (or one phone) within S seconds: each
    further one is flagged for review (someone pressing 非常满意 on a device over and over)."""
    return tuple(settings.BIANMIN_EVAL_BURST)


def repeated_text_days() -> int:
    """The same non-trivial text within this many days at one site is flagged (刷好评 scripts)."""
    return int(settings.BIANMIN_EVAL_REPEATED_TEXT_DAYS)


def window_screen_minutes() -> int:
    """How long the window screen offers the case just finished there (then it shows the welcome)."""
    return int(settings.BIANMIN_WINDOW_SCREEN_MINUTES)


def public_base_url() -> str:
    from bianmin.core.public_url import public_base_url

    return public_base_url()
