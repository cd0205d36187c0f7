"""The one daily-job scheduling helper (core/jobs.py): the next run is the next time the clock
shows the job's hour (today if still ahead), and a job already waiting is not queued twice."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bianmin.core.jobs import ensure_daily, next_daily_run

TZ = ZoneInfo("Asia/Shanghai")
SEVEN = dt.time(7, 0)


@pytest.mark.parametrize(("now", "expected"), [
    (dt.datetime(2026, 3, 2, 5, 0, tzinfo=TZ), dt.datetime(2026, 3, 2, 7, 0, tzinfo=TZ)),  # still ahead today
    (dt.datetime(2026, 3, 2, 7, 0, tzinfo=TZ), dt.datetime(2026, 3, 3, 7, 0, tzinfo=TZ)),  # the run itself
    (dt.datetime(2026, 3, 2, 23, 59, tzinfo=TZ), dt.datetime(2026, 3, 3, 7, 0, tzinfo=TZ)),
    # 23:30 UTC on March 1st is 07:30 on March 2nd in Shanghai: the local clock decides
    (dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, 7, 0, tzinfo=TZ)),
])
def test_next_daily_run_is_the_next_local_time(now, expected):
    assert next_daily_run(SEVEN, now=now) == expected


@pytest.mark.django_db
def test_a_waiting_run_is_not_queued_twice():
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from bianmin.followups.tasks import daily_followups

    assert ensure_daily(daily_followups, at=SEVEN) is True
    assert ensure_daily(daily_followups, at=SEVEN) is False
    queued = DBTaskResult.objects.filter(task_path=daily_followups.module_path, status=TaskResultStatus.READY)
    assert queued.count() == 1
