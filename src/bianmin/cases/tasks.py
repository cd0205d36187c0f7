"""Background jobs of cases (run by ``bianmin worker``); every job is idempotent."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core.jobs import ensure_daily

DAILY_AT = dt.time(6, 30)  # before the centers open, so the morning queue shows what is overdue


@task()
def mark_overdue_cases(today: str | None = None) -> int:
    """Daily: mark cases past their promised due date and notify their owners through the outbox
    (a case is marked, and notified, once). It puts itself back on the queue for the next
    morning; ``bianmin manage mark_overdue_cases`` runs the same job by hand or from cron."""
    from .services import cases_mark_overdue

    marked = cases_mark_overdue(today=dt.date.fromisoformat(today) if today else None)
    ensure_daily_overdue()
    return marked


def ensure_daily_overdue() -> None:
    """Queue the next morning's run unless one is already waiting. Called after an acceptance
    commits, so a fresh installation starts the daily cycle by itself."""
    ensure_daily(mark_overdue_cases, at=DAILY_AT)
