"""News that appeals sends to apps later in the spine (DESIGN.md: appeals never import followups).

``rectification_requested``
    Sent on commit when a manager opens a rectification from a high-frequency group of appeals
    (分析页 → “发起整改”). Keyword arguments:

    - ``source``: always ``"appeal_group"``
    - ``request_id``: the primary key of the durable ``appeals.RectificationRequest`` row
    - ``group_by``: ``"class" | "class1" | "item" | "department" | "area"`` (content class, its
      level-1 class, …; ``"topic"`` only on requests made before the classification); ``group_key``,
      ``group_label``
    - ``area_code``: the 12-digit code of the area the rectification belongs to
    - ``period_start``, ``period_end`` (dates), ``appeal_count``, ``appeal_ids`` (list of ints)

    A receiver (the followups app, the owner of the one rectification ledger) opens its ledger
    entry and then calls ``appeals.services.rectification_request_mark(request_id=…,
    accepted=True, ledger_ref=…)``. Because a signal is lost if no receiver is connected or a
    receiver fails, the row stays ``pending`` until marked: followups can also sweep pending
    rows (``RectificationRequest.objects.filter(status="pending")``) in a periodic task.

``appeal_satisfaction_recorded``
    Sent on commit after a follow-up records satisfaction: ``appeal_id``, ``satisfaction``
    (``satisfied | basic | unsatisfied``), ``area_code``. For the follow-up desk's ledgers.

``appeal_changed``
    Sent on commit after any save of an appeal through the services (registered, assigned,
    replied, followed up, reopened, closed, escalated): ``appeal=<Appeal>``. For the figures.

``appeals_imported``
    Sent on commit after a chunk of 12345 work orders went in by bulk insert (no per-row save):
    ``appeal_ids`` (list of ints, created and updated).
"""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal

rectification_requested = Signal()
appeal_satisfaction_recorded = Signal()
appeal_changed = Signal()
appeals_imported = Signal()


def _announce(sender, instance, raw=False, using=None, **kwargs):
    if not raw:
        transaction.on_commit(lambda: appeal_changed.send(sender=sender, appeal=instance), using=using)


def connect() -> None:
    """Every save of an appeal announces itself on commit (a post_save that only schedules it)."""
    from .models import Appeal

    post_save.connect(_announce, sender=Appeal, weak=False, dispatch_uid="appeals-news-appeal")
