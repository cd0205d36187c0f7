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
    from bianmin.core.jobs import ensure_daily as schedule

    schedule(daily_figures, at=DAILY_AT)
