"""Daily jobs of engagement (run by ``bianmin worker``; each idempotent): the proposals'
reminders (催办) and the sweep of opinions whose rectification was completed while the signal
was lost. ``bianmin manage engagement_daily`` runs the same by hand or from cron. The cycle starts
with the first assignment of a proposal (services.proposal_assign)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core.jobs import ensure_daily as _ensure_daily

DAILY_AT = dt.time(8, 0)


@task()
def daily_engagement() -> dict:
    from .services import opinions_sweep_rectified, proposals_remind

    result = {"reminders": proposals_remind(), "opinions": opinions_sweep_rectified()}
    ensure_daily()
    return result


def ensure_daily() -> bool:
    return _ensure_daily(daily_engagement, at=DAILY_AT)
