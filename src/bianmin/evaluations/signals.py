"""News from evaluations, sent after the writing transaction commits.

Followups listens here (evaluations never imports followups): a bad review opens a handling
record. Receivers must be idempotent — the daily sweep in followups resends nothing but opens
what a lost signal (a crash between commit and send) missed.

- ``evaluation_submitted``  sender=Evaluation, evaluation=<Evaluation>, created=True for a new row
                            (a replayed duplicate sends nothing).
"""

from django.dispatch import Signal

evaluation_submitted = Signal()
