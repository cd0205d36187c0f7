"""Daily job of inspections (run by ``bianmin worker``; idempotent): create and draw the current
period's cycle of every active schedule, and report overdue notices to the leadership lists. It
puts itself back on the queue for the next morning; it starts itself when a schedule is saved or
a notice issued. ``bianmin manage inspections_daily`` runs the same work by hand or from cron."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core.jobs import ensure_daily as ensure_daily_run

DAILY_AT = dt.time(6, 45)  # after the cases' overdue marking, before the centers open


@task()
def inspections_daily(today: str | None = None) -> dict:
    from .services import cycles_create_due, notices_check_overdue

    day = dt.date.fromisoformat(today) if today else None
    result = {"cycles": len(cycles_create_due(today=day)), "escalated": notices_check_overdue(today=day)}
    ensure_daily()
    return result


def ensure_daily() -> None:
    """Queue the next morning's run unless one is already waiting."""
    ensure_daily_run(inspections_daily, at=DAILY_AT)
