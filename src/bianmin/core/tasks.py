"""Background jobs of the core mechanisms (run by ``bianmin worker``).

``deliver_outbox`` sends what is due and puts itself back on the queue for the moment the
earliest waiting message becomes due, and never later than ``HEARTBEAT`` from now.
``wake_delivery`` (called when a message is enqueued) adds a run now unless one is already
waiting to run by then, so the queue holds at most a couple of these jobs however many messages
are written. Running it
twice at once is harmless: claims are exclusive (see ``outbox``).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.db import connections, router
from django.utils import timezone
from django_tasks import task

from .jobs import database_backend, ensure_daily

log = logging.getLogger(__name__)


# The longest a message waits when the wake-up after its commit never ran (the web process died
# between the commit and the hook, or the wake failed): every run schedules the next one no later
# than this, so the queue always holds a delivery run and such a message is found by it.
HEARTBEAT = timedelta(minutes=5)


@task()
def deliver_outbox(limit: int = 100) -> dict:
    from .outbox import deliver_due, next_due_at

    try:
        stats = deliver_due(limit=limit)
    finally:
        now = timezone.now()
        due = next_due_at()
        wake_delivery(run_after=now + HEARTBEAT if due is None else max(min(due, now + HEARTBEAT), now))
    return stats.as_dict()


def _already_waiting(run_after: datetime) -> bool:
    """Whether a deliver_outbox job is queued to run no later than ``run_after`` (only the
    database backend can tell; elsewhere assume not)."""
    try:
        from django_tasks_db.models import DBTaskResult, get_date_max
    except ImportError:  # pragma: no cover - the database backend is a dependency
        return False
    from django_tasks import TaskResultStatus

    if not database_backend(deliver_outbox):
        return False
    # This runs after every commit that queues a message (each evaluation, each SMS), so it is
    # one prepared statement rather than a queryset compiled per call; it is the same lookup as
    # DBTaskResult.objects.filter(task_path=…, status=READY).filter(Q(run_after=max) | Q(run_after__lte=…)).
    connection = connections[router.db_for_read(DBTaskResult)]
    sql = _WAITING_SQL.get(connection.alias)
    if sql is None:
        qn, field = connection.ops.quote_name, DBTaskResult._meta.get_field
        sql = _WAITING_SQL[connection.alias] = (
            f"SELECT 1 FROM {qn(DBTaskResult._meta.db_table)} WHERE {qn(field('task_path').column)} = %s"
            f" AND {qn(field('status').column)} = %s"
            f" AND ({qn(field('run_after').column)} = %s OR {qn(field('run_after').column)} <= %s) LIMIT 1")
    to_db = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [deliver_outbox.module_path, TaskResultStatus.READY, to_db(get_date_max()),
                             to_db(run_after)])
        return cursor.fetchone() is not None


_WAITING_SQL: dict[str, str] = {}


def wake_delivery(run_after: datetime | None = None) -> None:
    """Queue a deliver_outbox run at ``run_after`` (now by default) unless one is already due by then."""
    when = run_after or timezone.now()
    if _already_waiting(when):
        return
    job = deliver_outbox.using(run_after=run_after) if run_after else deliver_outbox
    job.enqueue()


PURGE_AT = time(3, 0)  # the night's quietest hour


@task()
def purge_rate_counters() -> int:
    """Daily: delete the rate-limit counters of windows that have ended (RateCounter rows; with
    Redis they expire by themselves). It puts itself back on the queue; ``bianmin worker`` starts
    the cycle (cli.cmd_worker)."""
    from .ratelimit import purge_expired

    try:
        return purge_expired()
    finally:
        ensure_daily_purge()


def ensure_daily_purge() -> None:
    ensure_daily(purge_rate_counters, at=PURGE_AT)
