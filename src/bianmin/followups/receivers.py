"""followups listening to evaluations, appeals and inspections (they never call followups)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from bianmin.appeals.signals import rectification_requested
from bianmin.evaluations.signals import evaluation_submitted
from bianmin.inspections.signals import assessment_figures, notice_changed

log = logging.getLogger(__name__)


@receiver(evaluation_submitted, dispatch_uid="followups-open-handling")
def open_handling(sender, evaluation, created=True, **kwargs):
    if not created or not evaluation.is_bad:
        return
    from .services import handling_open
    from .tasks import ensure_daily

    try:
        handling_open(evaluation_id=evaluation.pk)
        ensure_daily()
    except Exception:
        # The evaluation has committed; the daily sweep (handlings_open_missing) opens what failed here.
        log.exception("followups: could not open the handling of evaluation %s", evaluation.pk)


@receiver(rectification_requested, dispatch_uid="followups-appeal-rectification")
def appeal_rectification(sender, request_id, **kwargs):
    from .services import rectification_from_appeal_request

    try:
        rectification_from_appeal_request(request_id=request_id)
    except Exception:
        log.exception("followups: could not open the rectification of appeal request %s", request_id)


@receiver(notice_changed, dispatch_uid="followups-inspection-notice")
def inspection_notice(sender, notice_id, **kwargs):
    from .services import rectification_sync_from_notice

    try:
        rectification_sync_from_notice(notice_id=notice_id)
    except Exception:
        # The notice has committed; the daily sweep (rectifications_from_inspection_notices) catches up.
        log.exception("followups: could not bring the ledger up to inspection notice %s", notice_id)


@receiver(assessment_figures, dispatch_uid="followups-assessment-figures")
def inspection_assessment_figures(sender, area, year, today, width, **kwargs):
    """The year's 好差评 satisfaction and appeal timeliness per district, for the inspections'
    annual assessment (it may not read evaluations or appeals itself)."""
    from .selectors import assessment_figures_for

    return assessment_figures_for(area=area, year=year, today=today, width=width)
