"""figures listening to the apps before it (they never import figures). Every receiver runs
after its writer committed, recounts the one roll-up slice the news can move (rollups.refresh)
and never raises: a failure is logged and the daily repair recounts the recent days."""

from __future__ import annotations

from django.dispatch import receiver

from bianmin.appeals.signals import appeal_changed, appeals_imported
from bianmin.cases.signals import case_accepted, case_completed, case_transferred, case_visited
from bianmin.evaluations.signals import evaluation_changed, evaluation_submitted
from bianmin.followups.signals import followup_changed, handling_changed, rectification_changed

from . import rollups as R


def _case(case_id: int) -> None:
    try:
        key = R.case_key(case_id)
    except Exception:  # pragma: no cover (a lost read: the repair recounts)
        R.log.exception("figures: could not read case %s", case_id)
        return
    R.refresh_quietly(key, (R.CASES,))


@receiver(case_completed, dispatch_uid="figures-case-completed")
def on_case_completed(sender, case, **kwargs):
    _case(case.pk)
    try:
        from .tasks import ensure_daily

        ensure_daily()  # the nightly repair and reports start with the first completed case
    except Exception:  # pragma: no cover
        R.log.exception("figures: could not schedule the daily job")


@receiver(case_visited, dispatch_uid="figures-case-visited")
def on_case_visited(sender, case, **kwargs):
    if case.state == "completed":
        _case(case.pk)


@receiver(case_accepted, dispatch_uid="figures-case-accepted")
def on_case_accepted(sender, case, **kwargs):
    R.refresh_quietly(R.received_key(case.pk), (R.RECEIVED,))


@receiver(case_transferred, dispatch_uid="figures-case-transferred")
def on_case_transferred(sender, case, **kwargs):
    R.refresh_quietly(R.received_key(case.pk), (R.RECEIVED,))


@receiver(evaluation_submitted, dispatch_uid="figures-evaluation-submitted")
def on_evaluation(sender, evaluation, **kwargs):
    _case(evaluation.case_id)


@receiver(evaluation_changed, dispatch_uid="figures-evaluation-changed")
def on_evaluation_changed(sender, evaluation, **kwargs):
    _case(evaluation.case_id)


@receiver(handling_changed, dispatch_uid="figures-handling-changed")
def on_handling(sender, handling, **kwargs):
    _case(handling.case_id)


@receiver(rectification_changed, dispatch_uid="figures-rectification-changed")
def on_rectification(sender, rectification, **kwargs):
    R.refresh_quietly(R.rect_key(rectification), (R.RECTS,))


@receiver(followup_changed, dispatch_uid="figures-followup-changed")
def on_followup(sender, followup, **kwargs):
    R.refresh_quietly(R.followup_key(followup), (R.FOLLOWUPS,))


@receiver(appeal_changed, dispatch_uid="figures-appeal-changed")
def on_appeal(sender, appeal, **kwargs):
    R.refresh_quietly(R.appeal_key(appeal), (R.APPEALS,))


@receiver(appeals_imported, dispatch_uid="figures-appeals-imported")
def on_appeals_imported(sender, appeal_ids, **kwargs):
    from bianmin.appeals.models import Appeal

    keys = {R.appeal_key(a) for a in Appeal.objects.filter(pk__in=appeal_ids).only("registered_at", "area_id", "site_id")}
    for key in sorted(keys):
        R.refresh_quietly(key, (R.APPEALS,))
