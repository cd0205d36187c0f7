"""Evaluations listening to cases: a completed case gets its evaluation link and SMS invitation."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from bianmin.cases.signals import case_completed

log = logging.getLogger(__name__)


@receiver(case_completed, dispatch_uid="evaluations-invite-on-completion")
def invite_on_completion(sender, case, **kwargs):
    from .services import evaluation_link_issue
    from .tasks import ensure_daily

    try:
        evaluation_link_issue(case=case)
        ensure_daily()
    except Exception:
        # The daily sweep (evaluations_invite_missing) issues what a failure here missed; the
        # completion itself has committed and must not be reported as failed to the clerk.
        log.exception("evaluations: could not issue the link of case %s", case.pk)
