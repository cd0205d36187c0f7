"""Fixed-window rate limits shared by every app server and worker.

``hit(key, limit, window_seconds)`` counts one event for ``key`` in the current window and
says whether it is still within ``limit``; ``check_rate`` raises ``RateLimited`` (429, Chinese
message) instead. Windows are aligned to the epoch (a 60-second window runs from :00 to :59),
so a burst straddling a boundary can pass up to twice the limit: the usual price of fixed
windows, acceptable for anti-abuse and log-in lock-outs.

Where the count lives: nothing another server must see may stay in one process's memory
(DESIGN.md), so the counter is shared.

- With Redis configured (``REDIS_URL``), Django's cache: ``cache.add(key, 0)`` then
  ``cache.incr(key)``, both atomic in Redis.
- Otherwise the default cache is Django's DatabaseCache, whose ``incr`` is a ``get`` followed
  by a ``set`` (checked in django/core/cache/backends/base.py): two servers counting at once
  both read 4 and both write 5, so a burst would slip past the limit. The count is then kept in
  the ``RateCounter`` table and raised with one ``UPDATE … SET count = count + 1``, atomic on
  both SQLite and PostgreSQL.

Call ``hit`` outside the transaction of a write that may roll back (typically in the view,
before the service): on the database the count is part of the surrounding transaction, so a
failed log-in that rolls back would otherwise not be counted.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta

from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .errors import RateLimited
from .models import RateCounter

_ATOMIC_BACKENDS = ("django.core.cache.backends.redis.RedisCache",)


def _cache_is_atomic(cache) -> bool:
    path = f"{cache.__class__.__module__}.{cache.__class__.__qualname__}"
    return path in _ATOMIC_BACKENDS


def _bucket(key: str, window_seconds: int, now: float) -> tuple[str, int]:
    window = int(now // window_seconds)
    raw = f"{key}:{window_seconds}:{window}"
    if len(raw) > 200:  # long keys (e.g. URLs) would not fit the column or a memcached key
        raw = f"h:{hashlib.sha256(raw.encode()).hexdigest()}"
    return f"rl:{raw}", (window + 1) * window_seconds


def _count_in_database(bucket: str, expires_at: datetime, n: int = 1) -> int:
    with transaction.atomic():
        if not RateCounter.objects.filter(bucket=bucket).update(count=F("count") + n):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(bucket=bucket, count=n, expires_at=expires_at)
                return n
            except IntegrityError:  # created by another request meanwhile
                RateCounter.objects.filter(bucket=bucket).update(count=F("count") + n)
        # Our update holds the row lock until commit, so this reads our own increment.
        return RateCounter.objects.filter(bucket=bucket).values_list("count", flat=True).get()


def count(key: str, window_seconds: int, *, now: float | None = None, n: int = 1) -> int:
    """Record ``n`` events (one by default) for ``key`` and return how many the current window holds."""
    if window_seconds <= 0:
        raise ValueError("window_seconds must be positive")
    now = time.time() if now is None else now
    bucket, window_end = _bucket(key, window_seconds, now)
    cache = caches["default"]
    if _cache_is_atomic(cache):
        ttl = max(int(window_end - now) + 1, 1)
        cache.add(bucket, 0, timeout=ttl)
        try:
            return cache.incr(bucket, n)
        except ValueError:  # evicted between add and incr
            cache.add(bucket, n, timeout=ttl)
            return n
    expires_at = datetime.fromtimestamp(window_end, tz=UTC)
    return _count_in_database(bucket, expires_at, n)


def current(key: str, window_seconds: int, *, now: float | None = None) -> int:
    """How many events the current window of ``key`` holds, without counting one."""
    now = time.time() if now is None else now
    bucket, _end = _bucket(key, window_seconds, now)
    cache = caches["default"]
    if _cache_is_atomic(cache):
        return int(cache.get(bucket) or 0)
    return RateCounter.objects.filter(bucket=bucket).values_list("count", flat=True).first() or 0


def retry_after(window_seconds: int, *, now: float | None = None) -> int:
    """Seconds until the current window ends (when a full one lets events through again)."""
    now = time.time() if now is None else now
    return window_seconds - int(now % window_seconds)


def limited(message: str, window_seconds: int, *, now: float | None = None) -> RateLimited:
    """A 429 whose message says when to retry: ``message`` followed by "，请N分钟后再试"."""
    wait = retry_after(window_seconds, now=now)
    return RateLimited(f"{message}，请{_human(wait)}后再试", extra={"retry_after": wait})


def check_current(key: str, limit: int, window_seconds: int, *, message: str, now: float | None = None) -> None:
    """Raise ``limited`` when ``key`` already holds ``limit`` events in this window; counts nothing.
    For limits on accepted actions: check before, ``count`` after the action succeeded."""
    if current(key, window_seconds, now=now) >= limit:
        raise limited(message, window_seconds, now=now)


def hit(key: str, limit: int, window_seconds: int, *, now: float | None = None) -> bool:
    """Count one event; True while the window holds at most ``limit`` events (this one included)."""
    return count(key, window_seconds, now=now) <= limit


# Leases: this process's unspent share of a window's count, by bucket.
_leases: dict[str, int] = {}
_leases_lock = threading.Lock()


def hit_leased(key: str, limit: int, window_seconds: int, *, block: int, now: float | None = None) -> bool:
    """``hit`` for high-rate keys (an outside system's API key): the process takes ``block`` events
    of the window's shared count at once (one write) and spends them locally, so a busy key costs
    one counter write per ``block`` requests instead of one per request. The shared count still
    bounds every server together: what a process leases is counted whether it spends it or not, so
    the limit is never exceeded, and a key may be refused a little early (by at most the unspent
    leases of the other processes)."""
    if block <= 1:
        return hit(key, limit, window_seconds, now=now)
    now = time.time() if now is None else now
    bucket, _ = _bucket(key, window_seconds, now)
    with _leases_lock:
        left = _leases.get(bucket, 0)
        if left > 0:
            _leases[bucket] = left - 1
            return True
        if left < 0:  # this window's limit was reached: refuse without writing again
            return False
    total = count(key, window_seconds, now=now, n=block)
    granted = block - max(0, total - limit)  # what of this block is still within the limit
    with _leases_lock:
        if len(_leases) > 10000:  # windows that ended: forget them
            _leases.clear()
        _leases[bucket] = granted - 1 if granted > 0 else -1
    return granted > 0


def check_rate(key: str, limit: int, window_seconds: int, *, message: str | None = None,
               now: float | None = None, block: int = 1) -> None:
    """Count one event and raise ``RateLimited`` (429) past ``limit``. ``block`` > 1 counts through
    a lease (``hit_leased``)."""
    allowed = hit_leased(key, limit, window_seconds, block=block, now=now) if block > 1 else hit(
        key, limit, window_seconds, now=now)
    if not allowed:
        wait = retry_after(window_seconds, now=now)
        raise RateLimited(message or f"操作过于频繁，请{_human(wait)}后再试", extra={"retry_after": wait})


def _human(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    minutes = -(-seconds // 60)
    return f"{minutes}分钟"


def purge_expired(now: datetime | None = None) -> int:
    """Delete counters of windows that have ended; returns how many."""
    return RateCounter.objects.filter(expires_at__lt=now or timezone.now() - timedelta(seconds=1)).delete()[0]
