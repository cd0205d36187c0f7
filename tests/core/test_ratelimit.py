import threading

import pytest
from django.core.cache import caches

from bianmin.core import ratelimit
from bianmin.core.errors import RateLimited
from bianmin.core.models import RateCounter
from bianmin.core.ratelimit import check_rate, count, hit, purge_expired

T0 = 1_750_000_020.0  # the start of a 60-second window (a multiple of 60)


def test_t0_starts_a_window():
    assert T0 % 60 == 0


@pytest.mark.django_db
def test_hits_within_the_limit_pass_and_the_next_one_is_refused():
    assert [hit("login:13812345678", 3, 60, now=T0 + i) for i in range(5)] == [True, True, True, False, False]


@pytest.mark.django_db
def test_keys_are_independent():
    for _ in range(3):
        hit("ip:10.0.0.1", 3, 60, now=T0)
    assert not hit("ip:10.0.0.1", 3, 60, now=T0)
    assert hit("ip:10.0.0.2", 3, 60, now=T0)


@pytest.mark.django_db
def test_a_new_window_starts_from_zero():
    window_start = (T0 // 60) * 60
    for _ in range(3):
        hit("k", 3, 60, now=window_start + 59)
    assert not hit("k", 3, 60, now=window_start + 59.9)
    assert hit("k", 3, 60, now=window_start + 60)


@pytest.mark.django_db
def test_check_rate_raises_429_with_a_chinese_message():
    window_start = (T0 // 60) * 60
    check_rate("eval:device-1", 1, 60, now=window_start + 15)
    with pytest.raises(RateLimited) as info:
        check_rate("eval:device-1", 1, 60, now=window_start + 15)
    error = info.value
    assert error.status == 429 and error.code == "rate_limited"
    assert error.message == "操作过于频繁，请45秒后再试"
    assert error.as_dict()["retry_after"] == 45
    with pytest.raises(RateLimited, match="请稍后再评价"):
        check_rate("eval:device-1", 1, 60, now=window_start + 15, message="评价过于频繁，请稍后再评价")


@pytest.mark.django_db
def test_minutes_in_the_message_for_long_windows():
    hour_start = (T0 // 3600) * 3600
    check_rate("sms:13812345678", 1, 3600, now=hour_start)
    with pytest.raises(RateLimited, match="请60分钟后再试"):
        check_rate("sms:13812345678", 1, 3600, now=hour_start)


@pytest.mark.django_db
def test_database_cache_counts_in_the_counter_table_not_with_cache_incr():
    # DatabaseCache.incr is get-then-set (not atomic across servers): the table is used instead.
    assert not ratelimit._cache_is_atomic(caches["default"])
    count("k", 60, now=T0)
    count("k", 60, now=T0)
    [row] = RateCounter.objects.all()
    assert row.count == 2 and row.bucket.startswith("rl:k:60:")


@pytest.mark.django_db
def test_long_keys_are_hashed_to_fit():
    key = "url:" + "长" * 500
    assert count(key, 60, now=T0) == 1 and count(key, 60, now=T0) == 2
    assert len(RateCounter.objects.get().bucket) <= 250


@pytest.mark.django_db
def test_bad_window_is_refused():
    with pytest.raises(ValueError):
        count("k", 0)


@pytest.mark.django_db
def test_purge_removes_ended_windows_only():
    from datetime import UTC, datetime

    count("old", 60, now=T0 - 3600)
    count("current", 60, now=T0)
    assert purge_expired(now=datetime.fromtimestamp(T0, tz=UTC)) == 1
    assert list(RateCounter.objects.values_list("count", flat=True)) == [1]


@pytest.mark.django_db
def test_atomic_caches_use_add_and_incr(settings, monkeypatch):
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                      "LOCATION": "ratelimit-test"}}
    monkeypatch.setattr(ratelimit, "_ATOMIC_BACKENDS", ("django.core.cache.backends.locmem.LocMemCache",))
    caches["default"].clear()
    assert [hit("k", 2, 60, now=T0) for _ in range(3)] == [True, True, False]
    assert not RateCounter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_all_counted():
    errors = []

    def worker():
        from django.db import connection

        try:
            for _ in range(15):
                count("burst", 3600, now=T0)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert RateCounter.objects.get().count == 60


def test_leased_counts_never_pass_the_limit_across_processes(db, monkeypatch):
    """Each process leases blocks of the shared count; together they are still held to the limit
    (an unspent lease of another process only makes the refusal come early), and the counter is
    written once per block, not once per event."""
    from bianmin.core import ratelimit
    from bianmin.core.models import RateCounter

    now = 1_800_000_000.0
    monkeypatch.setattr(ratelimit, "_leases", {})
    one_process = sum(ratelimit.hit_leased("lease-a", 10, 60, block=4, now=now) for _ in range(30))
    assert one_process == 10
    # three leases, one refused claim; the refusals after it cost no write
    assert RateCounter.objects.get(bucket__contains="lease-a").count == 16
    allowed = 0
    for i in range(30):
        if i % 3 == 0:
            monkeypatch.setattr(ratelimit, "_leases", {})  # another process: its own leases
        allowed += ratelimit.hit_leased("lease-b", 10, 60, block=4, now=now)
    assert allowed == 8  # two processes each left one leased event unspent
    monkeypatch.setattr(ratelimit, "_leases", {})
    assert ratelimit.hit_leased("lease-b", 10, 60, block=4, now=now + 60)  # a new window


def test_current_reads_without_counting_and_check_current_says_when(db):
    import pytest

    from bianmin.core import ratelimit
    from bianmin.core.errors import RateLimited

    now = 7_200.0 + 100  # 100 s into an hour window
    assert ratelimit.current("accepted:x", 3600, now=now) == 0
    for _ in range(2):
        ratelimit.count("accepted:x", 3600, now=now)
    assert ratelimit.current("accepted:x", 3600, now=now) == 2
    ratelimit.check_current("accepted:x", 3, 3600, message="提交过于频繁", now=now)  # counts nothing
    assert ratelimit.current("accepted:x", 3600, now=now) == 2
    ratelimit.count("accepted:x", 3600, now=now)
    with pytest.raises(RateLimited) as exc:
        ratelimit.check_current("accepted:x", 3, 3600, message="提交过于频繁", now=now)
    assert exc.value.message == "提交过于频繁，请59分钟后再试" and exc.value.extra["retry_after"] == 3500
