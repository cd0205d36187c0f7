"""Daily jobs of the follow-up desk (run by ``bianmin worker``; each idempotent).

``daily_followups`` opens the handling records a lost signal missed, takes in pending appeal
rectification requests and the inspection notices the ledger has not caught up with, and builds
each district's call list for the day; it puts itself back on the queue for the next morning. The cycle starts by itself with the first handling record.
``bianmin manage followups_daily`` runs the same work by hand or from cron."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from bianmin.core import jobs

DAILY_AT = dt.time(7, 0)  # before the phone team starts


@task()
def daily_followups() -> dict:
    from .services import (
        followup_lists_build_daily,
        handlings_open_missing,
        rectifications_from_appeal_requests,
        rectifications_from_inspection_notices,
    )

    result = {"handlings": handlings_open_missing(), "appeal_requests": rectifications_from_appeal_requests(),
              "inspection_notices": rectifications_from_inspection_notices(),
              "lists": followup_lists_build_daily()}
    ensure_daily()
    return result


def ensure_daily() -> None:
    """Queue the next morning's run unless one is already waiting."""
    jobs.ensure_daily(daily_followups, at=DAILY_AT)
