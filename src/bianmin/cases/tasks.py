"""Background jobs of cases (run by ``bianmin worker``); every job is idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

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
    """Queue the next morning's run unless one is already waiting (database backend only). Called
    after an acceptance commits, so a fresh installation starts the daily cycle by itself."""
    try:
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the database backend is a dependency
        return
    if mark_overdue_cases.get_backend().__class__.__module__.split(".")[0] != "django_tasks_db":
        return
    if DBTaskResult.objects.filter(task_path=mark_overdue_cases.module_path, status=TaskResultStatus.READY).exists():
        return
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    when = timezone.make_aware(dt.datetime.combine(tomorrow, DAILY_AT))
    mark_overdue_cases.using(run_after=when).enqueue()
