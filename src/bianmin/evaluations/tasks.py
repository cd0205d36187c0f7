"""Daily jobs of 好差评 (run by ``bianmin worker``; each idempotent).

``daily_evaluations`` issues the links a lost completion signal missed and records the default
满意 of cases left unevaluated for 7 days; it puts itself back on the queue for the next night
(the pattern of ``cases.tasks``). The cycle starts by itself: every issued link makes sure a run
is waiting. ``bianmin manage evaluations_daily`` runs the same work by hand or from cron."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core import jobs

DAILY_AT = dt.time(1, 0)


@task()
def daily_evaluations() -> dict:
    from .services import evaluations_apply_defaults, evaluations_invite_missing

    result = {"invited": evaluations_invite_missing(), "defaults": evaluations_apply_defaults()}
    ensure_daily()
    return result


def ensure_daily() -> None:
    """Queue the next night's run unless one is already waiting."""
    jobs.ensure_daily(daily_evaluations, at=DAILY_AT)
