"""News from cases, sent after the writing transaction commits (never for a rolled-back change).

Apps later in the spine (evaluations, followups, figures) connect receivers here instead of being
called by cases. Every signal is sent with ``sender=Case`` and ``case=<Case>``; receivers must be
idempotent (a retry of a job may resend) and must not assume the request's user.

- ``case_submitted``  a new case exists (window, online or an outside system).
- ``case_accepted``   accepted (受理) — it has an acceptance number and due dates.
- ``case_completed``  办结 (``case.result`` is approved or denied) — evaluations invite the applicant
                      to rate it (一事一评); followups watch ``case.multi_trip`` (跑多趟 follow-up).
- ``case_closed_without_decision``  不予受理 or 撤回 (``case.state`` says which).
- ``case_overdue``    the daily job found it past its promised due date (once per case).
- ``case_visited``    a visit (跑动) was recorded, ``visit=<Visit>``; a second one makes it 跑多趟.
- ``case_transferred`` forwarded to a higher site (业务转办); ``transfer=<Transfer>`` too.
"""

from django.dispatch import Signal

case_submitted = Signal()
case_accepted = Signal()
case_completed = Signal()
case_closed_without_decision = Signal()
case_overdue = Signal()
case_transferred = Signal()
case_visited = Signal()
