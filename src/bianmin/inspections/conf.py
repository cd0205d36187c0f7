"""Defaults of the inspections app (defaults and meanings in the one table, bianmin/conf.py; most can
be changed per schedule)."""

from __future__ import annotations

from django.conf import settings

# The annual assessment's parts; their default weights (percent) are BIANMIN_ASSESSMENT_WEIGHTS.
# An organiser sets its own per year (AssessmentScheme); a part without data for a district is left
# out and the others' weights are scaled up, as the breakdown says.
ASSESSMENT_PARTS = {
    "inspection": "督查得分",
    "satisfaction": "好差评满意率",
    "timeliness": "办件按时办结率",
    "appeal": "诉求按时答复率",
}


def default_weights() -> dict[str, int]:
    return dict(settings.BIANMIN_ASSESSMENT_WEIGHTS)


def period_months() -> int:
    return int(settings.BIANMIN_INSPECTION_PERIOD_MONTHS)


def notice_days() -> int:
    return int(settings.BIANMIN_INSPECTION_NOTICE_DAYS)


def submit_days() -> int:
    return int(settings.BIANMIN_INSPECTION_SUBMIT_DAYS)


MAX_FILES = 20  # per upload
