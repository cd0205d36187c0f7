"""Daily jobs of the follow-up desk (run by ``bianmin worker``; each idempotent)."""

from __future__ import annotations

from django_tasks import task


@task()
def build_daily_lists() -> int:
    from .services import followup_lists_build_daily

    return followup_lists_build_daily()


@task()
def sweep() -> dict:
    from .services import handlings_open_missing, rectifications_from_appeal_requests

    return {"handlings": handlings_open_missing(), "appeal_requests": rectifications_from_appeal_requests()}
