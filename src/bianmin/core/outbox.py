"""The outbox: messages to outside systems, written with the change that causes them and
delivered later by the worker.

Writing: ``enqueue()`` inside the writer's transaction. If the transaction rolls back, the
message never existed; if it commits, the message will be delivered. ``dedupe_key`` makes
enqueueing idempotent: the same key returns the message already there, never a second one (so a
service retried after a time-out, or two requests racing, send one SMS).

Delivering: ``deliver_due()`` (the ``deliver_outbox`` task and management command call it).

1. Claim: in one short transaction, pick due pending messages and take a lease on them by
   moving ``next_attempt_at`` forward by ``BIANMIN_OUTBOX_LEASE_SECONDS`` and counting the
   attempt. PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so several workers claim disjoint
   batches without waiting on each other. SQLite: transactions are IMMEDIATE (settings), so
   claims are serialised by the database write lock. No lock is held while sending.
2. Send each claimed message through its channel's gateway, outside any transaction.
3. Record the outcome, fenced by the attempt number: a worker whose lease ran out (and whose
   message another worker re-claimed) cannot overwrite the newer outcome.

Order: a message with an ``ordering_key`` is not claimed while an earlier message (lower id)
with the same key is still pending — whether waiting, in flight or backing off. A message that
has *failed* for good no longer holds the others back: it needs a person anyway, and the
failure is visible in the admin.

Retries: after the k-th failed attempt the next one is due after min(2^(k-1), 60) minutes (1, 2,
4, … capped at an hour), deterministic so tests and operators can predict it. After
``BIANMIN_OUTBOX_MAX_ATTEMPTS`` (default 10) attempts, or at once when the gateway says the
failure is permanent, the message is ``failed``; an administrator can put it back
(``outbox_retry``, an admin action).

At least once, not exactly once: a worker that dies after the gateway accepted a message and
before step 3 leaves the message pending; once its lease expires another worker sends it again.
Every gateway therefore sends ``dedupe_key`` as an idempotency key so the receiving side drops
the duplicate.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .audit import audit
from .gateways import GatewayError, gateway_for
from .models import AuditEntry, OutboxMessage
from .principal import Principal

log = logging.getLogger(__name__)

PENDING = OutboxMessage.Status.PENDING
SENT = OutboxMessage.Status.SENT
FAILED = OutboxMessage.Status.FAILED

_CHANNEL = re.compile(r"^[a-z0-9_]{1,30}$")


def max_attempts() -> int:
    return int(settings.BIANMIN_OUTBOX_MAX_ATTEMPTS)


def lease() -> timedelta:
    return timedelta(seconds=int(settings.BIANMIN_OUTBOX_LEASE_SECONDS))


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, … minutes, at most 60."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- writing ---------------------------------------------------------------------------------


def enqueue(
    *,
    channel: str,
    recipient: str,
    payload: dict,
    dedupe_key: str,
    ordering_key: str = "",
    not_before: datetime | None = None,
    new_key: bool = False,
) -> OutboxMessage:
    """Add a message to the outbox, or return the one already there with this ``dedupe_key``
    (unchanged, even if this call's payload differs: the first writer wins).

    ``new_key=True`` says the key cannot exist yet (it names a row inserted in this same
    transaction): the lookup and the savepoint are skipped, the unique index still guards it.

    Must run inside the transaction of the change that causes the message."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() must be called inside the writer's transaction.atomic()")
    if not _CHANNEL.match(channel or ""):
        raise ValueError(f"invalid outbox channel {channel!r}")
    if not dedupe_key:
        raise ValueError("dedupe_key is required")
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    json.dumps(payload)  # fail here, in the writer, rather than in the worker

    if not new_key:
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    message = OutboxMessage(
        channel=channel,
        recipient=recipient or "",
        payload=payload,
        dedupe_key=dedupe_key,
        ordering_key=ordering_key or "",
        next_attempt_at=not_before or timezone.now(),
    )
    message.full_clean(exclude=["payload"], validate_unique=False)  # {} is a valid payload
    if new_key:
        message.save(force_insert=True)
        transaction.on_commit(_wake_worker)
        return message
    try:
        with transaction.atomic():  # a savepoint: losing the race must not break the caller
            message.save()
    except IntegrityError:
        # Another transaction enqueued the same key first and has committed (on PostgreSQL we
        # waited for it on the unique index).
        return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(_wake_worker)
    return message


# A delivery run is queued a moment after the commit that needs it, and every commit within that
# moment finds it waiting: under load one run (a few write transactions of the worker) serves all
# the messages of the window instead of one run per message, whose job rows and status writes had
# halved the evaluations a server takes (bench_evaluations, with and without the worker).
WAKE_DELAY = timedelta(seconds=1)


def _wake_worker() -> None:
    # Never let waking the worker disturb the writer: the worker's own schedule finds the
    # message anyway.
    try:
        from .tasks import wake_delivery

        wake_delivery(run_after=timezone.now() + WAKE_DELAY)
    except Exception:
        log.exception("outbox: could not enqueue the delivery task")


def outbox_retry(*, actor: Principal | None, message_ids: list[int]) -> int:
    """Put failed (or stuck) messages back in the queue for a full new round of attempts.
    Returns how many were requeued. Sent messages are never resent."""
    now = timezone.now()
    count = 0
    with transaction.atomic():
        for message in OutboxMessage.objects.select_for_update().filter(pk__in=message_ids).exclude(status=SENT):
            before = {"status": message.status, "attempts": message.attempts}
            message.status = PENDING
            message.attempts = 0
            message.next_attempt_at = now
            message.full_clean(exclude=["payload"], validate_unique=False)
            message.save(update_fields=["status", "attempts", "next_attempt_at"])
            audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=message,
                  label=f"外发消息 {message.pk}（{message.channel}）",
                  changes={"requeue": before})
            count += 1
        if count:
            transaction.on_commit(_wake_worker)
    return count


# --- delivering ------------------------------------------------------------------------------


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0  # failed this time, will try again
    failed: int = 0  # gave up
    lost_lease: int = 0  # outcome not recorded: another worker had taken the message over

    def as_dict(self) -> dict:
        return asdict(self)


def _claim(now: datetime, limit: int) -> list[OutboxMessage]:
    earlier_pending = OutboxMessage.objects.filter(
        status=PENDING, ordering_key=OuterRef("ordering_key"), pk__lt=OuterRef("pk"),
    )
    with transaction.atomic():
        qs = (
            OutboxMessage.objects.filter(status=PENDING, next_attempt_at__lte=now)
            .filter(Q(ordering_key="") | ~Exists(earlier_pending))
            .order_by("pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        batch = list(qs[:limit])
        until = now + lease()
        for message in batch:
            message.attempts += 1
            message.next_attempt_at = until
        OutboxMessage.objects.bulk_update(batch, ["attempts", "next_attempt_at"])
    return batch


def _record(message: OutboxMessage, *, error: str | None, permanent: bool, now: datetime) -> str | None:
    """Store the outcome of the attempt claimed with ``message.attempts``; return the new
    status, or None when the lease was lost."""
    mine = OutboxMessage.objects.filter(pk=message.pk, status=PENDING, attempts=message.attempts)
    if error is None:
        changes = {"status": SENT, "sent_at": timezone.now(), "last_error": ""}
    elif permanent or message.attempts >= max_attempts():
        changes = {"status": FAILED, "last_error": error[:2000]}
    else:
        changes = {"next_attempt_at": now + backoff(message.attempts), "last_error": error[:2000]}
    with transaction.atomic():
        if not mine.update(**changes):
            return None
    return changes.get("status", PENDING)


def deliver_due(now: datetime | None = None, limit: int = 100) -> DeliveryStats:
    """Send what is due. Safe to run in several workers at once."""
    now = now or timezone.now()
    stats = DeliveryStats()
    # Several rounds: sending the first message of an ordering key makes the next one
    # claimable. Each round claims only due messages and leaves every claimed one sent, backing
    # off or failed, so the rounds end.
    while stats.claimed < limit:
        batch = _claim(now, limit - stats.claimed)
        if not batch:
            break
        stats.claimed += len(batch)
        _send_batch(batch, stats, now)
    return stats


def _send_batch(batch: list[OutboxMessage], stats: DeliveryStats, now: datetime) -> None:
    for message in batch:
        error: str | None = None
        permanent = False
        try:
            gateway_for(message.channel).send(message)
        except GatewayError as exc:
            error, permanent = str(exc) or exc.__class__.__name__, exc.permanent
        except Exception as exc:  # a bug in a gateway must not stop the others' messages
            log.exception("outbox: gateway for %s raised", message.channel)
            error = f"{exc.__class__.__name__}: {exc}"
        status = _record(message, error=error, permanent=permanent, now=now)
        if status is None:
            stats.lost_lease += 1
            log.warning("outbox: message %s was taken over by another worker", message.pk)
        elif status == SENT:
            stats.sent += 1
        elif status == FAILED:
            stats.failed += 1
            log.error("outbox: message %s (%s) failed for good: %s", message.pk, message.channel, error)
        else:
            stats.retried += 1
            log.warning("outbox: message %s (%s) attempt %s failed: %s", message.pk, message.channel,
                        message.attempts, error)


def next_due_at() -> datetime | None:
    """When the earliest pending message becomes due (for scheduling the next run)."""
    return (
        OutboxMessage.objects.filter(status=PENDING).order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True).first()
    )
