"""Background jobs of the policy library (run by ``bianmin worker``; each idempotent).

``daily_policies`` expires the policies whose term has ended and warns each lead department of
its policies ending within 30 days (through the outbox); it puts itself back on the queue for its
next run (core.jobs.ensure_daily), and every publication makes sure a run is waiting.
``bianmin manage policies_daily`` runs the same work by hand or from cron.

``notify_subscribers`` tells subscribers of a newly published version that matches them."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

DAILY_AT = dt.time(0, 30)  # after midnight: a term ending yesterday is expired before anyone reads it


@task()
def daily_policies(today: str | None = None) -> dict:
    from .services import policies_expire_due, policies_warn_expiring

    day = dt.date.fromisoformat(today) if today else None
    result = {"expired": policies_expire_due(today=day), "warned_departments": policies_warn_expiring(today=day)}
    ensure_daily()
    return result


@task()
def notify_subscribers(policy_id: int, previous_id: int | None = None) -> int:
    from .services import subscribers_notify

    return subscribers_notify(policy_id=policy_id, previous_id=previous_id)


def ensure_daily() -> None:
    """Queue the next run unless one is waiting (core/jobs.py)."""
    from bianmin.core.jobs import ensure_daily as ensure

    ensure(daily_policies, at=DAILY_AT)
