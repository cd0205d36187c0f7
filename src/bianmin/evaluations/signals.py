"""News from evaluations, sent after the writing transaction commits.

Followups listens here (evaluations never imports followups): a bad review opens a handling
record. Receivers must be idempotent — the daily sweep in followups resends nothing but opens
what a lost signal (a crash between commit and send) missed.

- ``evaluation_submitted``  sender=Evaluation, evaluation=<Evaluation>, created=True for a new row
                            (a replayed duplicate sends nothing); the default 满意 recorded by
                            the daily sweep is announced the same way.
- ``evaluation_changed``    sender=Evaluation, evaluation=<Evaluation>: an existing evaluation changed
                            what it counts for (excluded from the figures after an upheld 申诉 or
                            a reviewed 刷评 flag).
"""

from django.dispatch import Signal

evaluation_submitted = Signal()
evaluation_changed = Signal()
