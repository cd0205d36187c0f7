"""Public disclosure (好差评结果公开, 国办发〔2019〕51号): per site and per district, the 好差评
results by month and the rectification of bad reviews (paged) — counts, rates and ledger numbers only, no
personal data (no citizen's name, phone, ID, text of a review or of a rectification: those can
name people). Figures run to yesterday, so the page changes once a day and a cache may keep it
for the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from . import cohorts as C
from .rollups import where_sums
from .selectors import rates_from

KEYS = ("participation", "satisfaction", "followup", "rectification", "on_time")


@dataclass
class Disclosure:
    name: str
    start: date
    end: date
    months: list
    total: dict
    rates: list


def disclosure(where: C.Where, name: str, *, today: date | None = None) -> Disclosure:
    today = today or timezone.localdate()
    end = today - timedelta(days=1)
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)  # twelve months to yesterday
    got = where_sums(where, start, end, per="month")
    months = []
    for m, counts in sorted(got.items()):
        counts = dict(counts, rect_due=counts["rect_done"])  # the months' history: done ones
        months.append((m, counts, rates_from(counts, ("participation", "satisfaction", "followup", "rectification"))))
    total = where_sums(where, start, end).get(None, {})
    live = {"rect_overdue_open": C.rows("rect_overdue_open", where, start, end, today=today).count()}
    total = dict(total, rect_due=total.get("rect_done", 0) + live["rect_overdue_open"])
    return Disclosure(name, start, end, months, total, rates_from(total, KEYS))


PER_PAGE = 30
STATUSES = {"open": "整改中", "done": "已整改"}


def disclosed_rectifications(where: C.Where, d: Disclosure, *, status: str = ""):
    """The rectifications of bad reviews of the last 90 days of the disclosure, newest first
    (the page shows them PER_PAGE at a time): ledger numbers, dates and status only."""
    qs = C.rows("rect_found", where, d.end - timedelta(days=90), d.end).filter(source="bad_review")
    if status:
        qs = qs.filter(status=status)
    return (qs.select_related("site").only("number", "found_on", "deadline", "status", "done_on", "on_time",
                                           "site__name", "area_id").order_by("-found_on", "-id"))
