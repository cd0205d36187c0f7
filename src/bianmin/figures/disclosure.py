"""Public disclosure (好差评结果公开, 国办发〔2019〕51号): per site and per district, the 好差评
results by month and the rectification of bad reviews — counts, rates and ledger numbers only, no
personal data (no citizen's name, phone, ID, text of a review or of a rectification: those can
name people). Figures run to yesterday, so the page changes once a day and a cache may keep it
for the day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from . import cohorts as C
from .rollups import sums
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
    rectifications: list


def disclosure(where: C.Where, name: str, *, today: date | None = None) -> Disclosure:
    today = today or timezone.localdate()
    end = today - timedelta(days=1)
    start = (end.replace(day=1) - timedelta(days=330)).replace(day=1)  # twelve months to yesterday
    got = sums(where, start, end, by=("month",))
    months = []
    for (m,), counts in sorted(got.items()):
        counts = dict(counts, rect_due=counts["rect_done"])  # the months' history: done ones
        months.append((m, counts, rates_from(counts, ("participation", "satisfaction", "followup", "rectification"))))
    total = sums(where, start, end).get((), {})
    live = {"rect_overdue_open": C.rows("rect_overdue_open", where, start, end, today=today).count()}
    total = dict(total, rect_due=total.get("rect_done", 0) + live["rect_overdue_open"])
    rects = list(C.rows("rect_found", where, end - timedelta(days=90), end).filter(source="bad_review")
                 .select_related("site").only("number", "found_on", "deadline", "status", "done_on", "on_time",
                                              "site__name", "area_id").order_by("-found_on", "-id")[:200])
    return Disclosure(name, start, end, months, total, rates_from(total, KEYS), rects)
