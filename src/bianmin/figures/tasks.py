"""Daily job of the figures (run by ``bianmin worker``; idempotent).

``daily_figures`` recounts the roll-ups of the last ``BIANMIN_FIGURES_REPAIR_DAYS`` days from
the raw rows (what a lost news left behind; a never-built table is built whole), makes the
monthly and quarterly reports of the period that just ended for every district and the city
when they are missing, and puts itself back on the queue for the next night. The cycle starts
with the first completed case. ``bianmin manage figures_daily`` runs the same by hand or cron."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

DAILY_AT = dt.time(5, 30)  # after midnight's writes, before anyone opens the cockpit


def repair(today: dt.date | None = None) -> dict:
    from bianmin.cases.models import Case

    from .conf import repair_days
    from .models import DailyRollup
    from .rollups import rebuild

    today = today or timezone.localdate()
    if not DailyRollup.objects.exists() and Case.objects.filter(state="completed").exists():
        return {"rebuilt": rebuild(), "since": None}
    since = today - dt.timedelta(days=repair_days())
    return {"rebuilt": rebuild(since=since), "since": since.isoformat()}


def daily(today: dt.date | None = None) -> dict:
    from .reports import reports_due_make

    today = today or timezone.localdate()
    result = repair(today)
    result["reports"] = reports_due_make(today=today)
    return result


@task()
def daily_figures() -> dict:
    result = daily()
    ensure_daily()
    return result


@task()
def report_make(report_id: int) -> None:
    from .reports import report_build

    report_build(report_id=report_id)


def ensure_daily() -> None:
    try:
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover
        return
    if daily_figures.get_backend().__class__.__module__.split(".")[0] != "django_tasks_db":
        return
    if DBTaskResult.objects.filter(task_path=daily_figures.module_path, status=TaskResultStatus.READY).exists():
        return
    now = timezone.localtime()
    day = now.date() if now.time() < DAILY_AT else now.date() + dt.timedelta(days=1)
    daily_figures.using(run_after=timezone.make_aware(dt.datetime.combine(day, DAILY_AT))).enqueue()
