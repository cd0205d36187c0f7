"""News that inspections sends to apps later in the spine (it never imports them).

``notice_changed``
    Sent on commit whenever a rectification notice (整改通知) is issued or changes state
    (answered, sent back, accepted). Keyword arguments: ``notice_id``, ``revision`` (the notice's
    ``revision`` after the change), ``status`` (``issued | answered | returned | accepted``),
    ``area_code`` (the inspected site's area).

    The owner of the one rectification ledger (followups) brings its ledger row up to the
    notice (``Notice`` is read from ``bianmin.inspections.models``) and then records what it
    wrote with ``inspections.services.notice_ledger_synced(notice_id=…, revision=…,
    ledger_ref=…)``. A signal is lost when no receiver is connected or a receiver fails: the
    notices whose ``ledger_revision`` is below their ``revision`` are the ones to sweep
    (``selectors.notices_out_of_ledger()``). Overdue needs no news: the ledger row carries the
    notice's deadline.

``assessment_figures``
    Sent (synchronously, inside ``assessment_compute``) to ask the apps that may read 好差评 and
    appeals — inspections may not — for the year's figures per district. Keyword arguments:
    ``area`` (the organiser, the city), ``year``, ``today``, ``width`` (the length of a district's
    area path). A receiver returns ``{part: {district path: (numerator, denominator)}}`` for the
    parts it counts: ``"satisfaction"`` (active evaluations graded 非常满意/满意/基本满意 over active
    evaluations made in the year) and ``"appeal"`` (appeals registered in the year answered by
    their deadline over those answered plus those open past it). A part no receiver gives is
    "无数据" in the breakdown and its weight goes to the others.
"""

from django.dispatch import Signal

notice_changed = Signal()
assessment_figures = Signal()
