"""The platform's own figures for the annual assessment.

inspections reads cases (below it in the spine) and counts 按时办结率 itself from the raw rows: cases
completed in the year neither marked overdue nor completed after their promised date, over cases
completed in the year. 好差评 and appeals sit beside it (it may not import them): their figures come
from the receivers of ``signals.assessment_figures`` (followups, which reads both, answers today),
counted from those apps' raw rows too. A receiver that fails leaves its parts without data (logged):
the assessment still computes, and its breakdown says which part was left out."""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from django.db.models import Count, F, Q
from django.db.models.functions import Substr
from django.utils import timezone

from .signals import assessment_figures

log = logging.getLogger(__name__)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(date(year, 1, 1), time.min, tzinfo=tz), datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=tz)


def platform_figures(*, area, year: int, today: date | None = None) -> dict[str, dict[str, tuple[int, int]]]:
    """{district path: {"satisfaction" | "timeliness" | "appeal": (numerator, denominator)}}."""
    from bianmin.cases.models import Case

    today = today or timezone.localdate()
    lo, hi = year_bounds(year)
    width = len(area.path) + 13  # the path of the area one level below (12-digit code and "/")
    out: dict[str, dict[str, tuple[int, int]]] = {}
    late = Q(overdue=True) | Q(promised_due_on__isnull=False, completed_on__gt=F("promised_due_on"))
    rows = (Case.objects.filter(state="completed", site__area__path__startswith=area.path, completed_at__gte=lo,
                                completed_at__lt=hi)
            .annotate(child=Substr("site__area__path", 1, width)).values("child")
            .annotate(num=Count("pk", filter=~late), den=Count("pk")).order_by().values_list("child", "num", "den"))
    for child, num, den in rows:
        out.setdefault(child, {})["timeliness"] = (num or 0, den or 0)
    for receiver, answer in assessment_figures.send_robust(sender=None, area=area, year=year, today=today, width=width):
        if isinstance(answer, Exception):
            log.error("assessment figures from %r failed", receiver, exc_info=answer)
            continue
        for part, by_child in (answer or {}).items():
            if part == "timeliness":
                continue  # counted here
            for child, (num, den) in by_child.items():
                out.setdefault(child, {})[part] = (num or 0, den or 0)
    return out
