"""engagement listening to followups (which never imports it): a rectification completed that came
from a symposium opinion tells the opinion's raiser the result."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from bianmin.followups.signals import rectification_changed

log = logging.getLogger(__name__)


@receiver(rectification_changed, dispatch_uid="engagement-opinion-rectified")
def opinion_rectified(sender, rectification, **kwargs):
    if rectification.source != "symposium" or rectification.status != "done":
        return
    from .services import opinion_rectified as settle

    try:
        settle(rectification_id=rectification.pk)
    except Exception:
        # The rectification has committed; the daily sweep (opinions_sweep_rectified) settles it.
        log.exception("engagement: could not settle the opinion of rectification %s", rectification.pk)
