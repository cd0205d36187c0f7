"""Heavy concurrent writes: many threads, each with its own database connection, writing through
real services at the same moment. On SQLite this is what IMMEDIATE transactions and the busy
timeout (settings) are for: every writer waits its turn, none gets "database is locked".
The same test runs on PostgreSQL, where it checks the services' own races (unique keys)."""

from __future__ import annotations

import threading

import pytest
from conftest import GUDONG
from django.db import connections, transaction

THREADS = 8
WRITES_PER_THREAD = 15


def run_together(work, threads: int = THREADS) -> list[BaseException]:
    """Run work(i) in `threads` threads released at once by a barrier; return their errors."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(i)
        except BaseException as exc:  # collected for the main thread's assertions
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connection

    pool = [threading.Thread(target=runner, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in pool), "a writer hung"
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_site_creation_all_succeed(areas):
    from bianmin.core.models import AuditEntry
    from bianmin.regions.models import ServiceSite
    from bianmin.regions.services import site_create

    area = areas[GUDONG]

    def work(i: int) -> None:
        for n in range(WRITES_PER_THREAD):
            site_create(actor=None, code=f"T{i:02d}{n:03d}", name=f"压力测试服务站{i}-{n}",
                        kind=ServiceSite.Kind.STATION, area=area)

    errors = run_together(work)
    assert errors == [], [repr(e) for e in errors]
    created = ServiceSite.objects.filter(code__startswith="T")
    assert created.count() == THREADS * WRITES_PER_THREAD
    # Each write is whole: the site and its audit row, never one without the other.
    audited = set(AuditEntry.objects.filter(target_type="regions.servicesite", action=AuditEntry.Action.CREATE)
                  .values_list("target_id", flat=True))
    assert {str(pk) for pk in created.values_list("pk", flat=True)} <= audited


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueue_of_the_same_keys_gives_one_message_each(db):
    """Every thread enqueues the same 15 keys (a retried request, two workers racing): one
    message per key, no error reaches any writer."""
    from bianmin.core.models import OutboxMessage
    from bianmin.core.outbox import enqueue

    def work(i: int) -> None:
        for n in range(WRITES_PER_THREAD):
            with transaction.atomic():
                enqueue(channel="sms", recipient="13800000000", payload={"n": n, "writer": i},
                        dedupe_key=f"race:{n}")

    errors = run_together(work)
    assert errors == [], [repr(e) for e in errors]
    assert OutboxMessage.objects.filter(dedupe_key__startswith="race:").count() == WRITES_PER_THREAD


@pytest.mark.django_db(transaction=True)
def test_readers_and_writers_mixed(areas):
    """Readers beside writers (WAL on SQLite): reads never fail and writes never wait forever."""
    from bianmin.core.audit import audit
    from bianmin.core.models import AuditEntry
    from bianmin.regions.models import Area

    def work(i: int) -> None:
        for n in range(WRITES_PER_THREAD):
            if i % 2:
                assert Area.objects.filter(path__startswith=areas[GUDONG].path).count() >= 1
                list(AuditEntry.objects.order_by("-id")[:20])
            else:
                with transaction.atomic():
                    audit(actor=None, action=AuditEntry.Action.UPDATE, target_type="test.row",
                          target_id=f"{i}-{n}", changes={"n": n})

    errors = run_together(work)
    assert errors == [], [repr(e) for e in errors]
    assert AuditEntry.objects.filter(target_type="test.row").count() == (THREADS // 2) * WRITES_PER_THREAD
