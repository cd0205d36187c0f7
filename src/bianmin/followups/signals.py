"""News from followups, sent after the writing transaction commits (never for a rolled-back one).

Apps later in the spine (figures) listen here; followups never calls them. Receivers must be
idempotent: a save may be announced more than once, and a crash between commit and send loses
the news (figures' daily repair recounts recent days for that reason).

- ``handling_changed``       sender=BadReviewHandling, handling=<BadReviewHandling> (opened, verified,
                             rectified, followed up, appealed, decided, closed)
- ``rectification_changed``  sender=Rectification, rectification=<Rectification> (opened, planned, done)
- ``followup_changed``       sender=FollowUp, followup=<FollowUp> (a call, visit or questionnaire recorded)

Every save of these models through the services announces itself (``connect()``, a post_save
that only schedules the send on commit); bulk loaders write without news and rebuild.
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal

handling_changed = Signal()
rectification_changed = Signal()
followup_changed = Signal()


def _announcer(signal, name):
    def announce(sender, instance, raw=False, using=None, **kwargs):
        if raw:
            return
        transaction.on_commit(lambda: signal.send(sender=sender, **{name: instance}), using=using)

    return announce


def connect() -> None:
    from .models import BadReviewHandling, FollowUp, Rectification

    for model, signal, name in ((BadReviewHandling, handling_changed, "handling"),
                                (Rectification, rectification_changed, "rectification"),
                                (FollowUp, followup_changed, "followup")):
        post_save.connect(_announcer(signal, name), sender=model, weak=False,
                          dispatch_uid=f"followups-news-{model._meta.model_name}")
