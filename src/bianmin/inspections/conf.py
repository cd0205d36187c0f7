"""Defaults of the inspections app; each can be changed in settings (and most per schedule)."""

from __future__ import annotations

from django.conf import settings

# The annual assessment's parts and their default weights (percent). An organiser sets its own
# per year (AssessmentScheme); a part without data for a district is left out and the others'
# weights are scaled up, as the breakdown says.
ASSESSMENT_PARTS = {
    "inspection": "督查得分",
    "satisfaction": "好差评满意率",
    "timeliness": "办件按时办结率",
    "appeal": "诉求按时答复率",
}
DEFAULT_WEIGHTS = {"inspection": 40, "satisfaction": 30, "timeliness": 15, "appeal": 15}


def default_weights() -> dict[str, int]:
    return dict(getattr(settings, "BIANMIN_ASSESSMENT_WEIGHTS", DEFAULT_WEIGHTS))


def period_months() -> int:
    return int(getattr(settings, "BIANMIN_INSPECTION_PERIOD_MONTHS", 2))


def notice_days() -> int:
    return int(getattr(settings, "BIANMIN_INSPECTION_NOTICE_DAYS", 10))


def submit_days() -> int:
    return int(getattr(settings, "BIANMIN_INSPECTION_SUBMIT_DAYS", 10))


MAX_FILES = 20  # per upload
