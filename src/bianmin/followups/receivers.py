"""followups listening to evaluations and appeals (they never call followups)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from bianmin.appeals.signals import rectification_requested
from bianmin.evaluations.signals import evaluation_submitted

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
