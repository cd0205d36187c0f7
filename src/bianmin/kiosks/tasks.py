"""Background jobs of the kiosks (run by ``bianmin worker``; each idempotent).

``check_offline`` marks silent terminals offline every few minutes and puts itself back on the
queue; ``rollup_usage`` rolls up the past days' uses each night. Both cycles start by themselves:
a heartbeat makes sure a check is waiting, a check makes sure a roll-up is. The same work by
hand or from cron: ``bianmin manage kiosks_mark_offline`` and ``bianmin manage kiosks_rollup``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_tasks import task

ROLLUP_AT = dt.time(0, 30)


@task()
def check_offline() -> int:
    from .services import terminals_mark_offline

    try:
        return len(terminals_mark_offline())
    finally:
        ensure_offline_check()
        ensure_rollup()


@task()
def rollup_usage() -> dict:
    from .services import usage_rollup

    try:
        return usage_rollup()
    finally:
        ensure_rollup()


def ensure_offline_check() -> None:
    """Queue the next offline check unless one is waiting (the database backend only)."""
    from bianmin.core.jobs import database_backend

    from . import conf

    if not database_backend(check_offline):
        return
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if not DBTaskResult.objects.filter(task_path=check_offline.module_path, status=TaskResultStatus.READY).exists():
        check_offline.using(run_after=timezone.now() + dt.timedelta(minutes=conf.offline_check_minutes())).enqueue()


def ensure_rollup() -> None:
    from bianmin.core.jobs import ensure_daily

    ensure_daily(rollup_usage, at=ROLLUP_AT)
