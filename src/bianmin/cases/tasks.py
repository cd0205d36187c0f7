"""Background jobs of cases (run by ``bianmin worker``)."""

from __future__ import annotations

from datetime import date

from django_tasks import task


@task()
def mark_overdue_cases(today: str | None = None) -> int:
    """The daily deadline job: mark cases past their promised due date and notify their owners
    through the outbox. Idempotent: a case is marked (and notified) once."""
    from .services import cases_mark_overdue

    return cases_mark_overdue(today=date.fromisoformat(today) if today else None)
