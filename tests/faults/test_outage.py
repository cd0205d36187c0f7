"""Outside systems down for a while: the SMS gateway and the 12345 platform stop answering, the
worker keeps running (``deliver_due`` once a simulated minute, the clock injected), messages keep
arriving; when the systems return, everything is delivered — nothing lost, nothing doubled, each
work order's updates in order. The gateway is the production HTTP one, against loopback receivers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from .receivers import URLS, Receiver

GATEWAY = "faults.receivers.LoopbackGateway"


@pytest.fixture
def receivers(settings):
    with Receiver() as sms, Receiver() as hotline:
        URLS.update({"sms": sms.url, "hotline12345": hotline.url})
        settings.BIANMIN_GATEWAYS = {"sms": GATEWAY, "hotline12345": GATEWAY}
        try:
            yield {"sms": sms, "hotline12345": hotline}
        finally:
            URLS.clear()


def enqueue_batch(tag: str, *, sms: int, work_orders: int, steps: int) -> list[str]:
    """`sms` text messages, and `steps` ordered updates for each of `work_orders` 12345 work
    orders, as the services write them (inside their transaction). Returns the keys."""
    from bianmin.core.outbox import enqueue

    keys = []
    with transaction.atomic():
        for n in range(sms):
            key = f"{tag}-sms-{n}"
            enqueue(channel="sms", recipient=f"1380000{n:04d}", payload={"template": "appeal_replied", "n": n},
                    dedupe_key=key)
            keys.append(key)
        for step in range(steps):
            for wo in range(work_orders):
                key = f"{tag}-wo{wo}-step{step}"
                enqueue(channel="hotline12345", recipient="12345",
                        payload={"work_order_no": f"{tag}-WO{wo}", "step": step}, dedupe_key=key,
                        ordering_key=f"12345:{tag}-WO{wo}")
                keys.append(key)
    return keys


def run_worker(start, minutes: int, receivers, *, down_until=None, mode="down"):
    """The worker's loop over simulated time: one deliver_due per minute; the receivers are in
    `mode` until `down_until`."""
    from bianmin.core.outbox import deliver_due

    for minute in range(minutes):
        now = start + timedelta(minutes=minute)
        state = mode if down_until is not None and now < down_until else "up"
        for r in receivers.values():
            r.mode = state
        deliver_due(now=now)


def assert_delivered_once_in_order(receivers, keys):
    from bianmin.core.models import OutboxMessage

    messages = OutboxMessage.objects.filter(dedupe_key__in=keys)
    assert messages.count() == len(keys)
    assert set(messages.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}
    accepted = {**receivers["sms"].accepted, **receivers["hotline12345"].accepted}
    assert sorted(accepted) == sorted(keys)  # nothing lost, nothing extra
    # Each work order's updates reached 12345 in the order they were written.
    by_order: dict[str, list[int]] = {}
    for body in receivers["hotline12345"].accepted.values():
        by_order.setdefault(body["payload"]["work_order_no"], []).append(body["payload"]["step"])
    assert by_order and all(steps == sorted(steps) for steps in by_order.values()), by_order


@pytest.mark.django_db
def test_outage_then_recovery_delivers_everything_once(receivers):
    from bianmin.core.models import OutboxMessage

    start = timezone.now() + timedelta(seconds=1)
    keys = enqueue_batch("a", sms=10, work_orders=3, steps=3)
    # 40 minutes down: attempts back off 1, 2, 4, 8, 16 minutes; nothing reaches the receivers.
    run_worker(start, 40, receivers, down_until=start + timedelta(minutes=40))
    assert receivers["sms"].accepted == {} and receivers["hotline12345"].accepted == {}
    assert receivers["sms"].refused > 10
    pending = OutboxMessage.objects.filter(dedupe_key__in=keys)
    assert set(pending.values_list("status", flat=True)) == {OutboxMessage.Status.PENDING}
    # Only the first update of each work order was tried: the later ones wait behind it.
    assert set(OutboxMessage.objects.filter(dedupe_key__endswith="step2").values_list("attempts", flat=True)) == {0}

    # More messages arrive during the outage's last minutes; then the systems come back.
    keys += enqueue_batch("b", sms=5, work_orders=2, steps=2)
    run_worker(start + timedelta(minutes=40), 90, receivers)

    assert_delivered_once_in_order(receivers, keys)
    assert receivers["sms"].duplicates() == 0 and receivers["hotline12345"].duplicates() == 0


@pytest.mark.django_db
def test_lost_answers_are_resent_and_deduplicated_by_the_receiver(receivers):
    """The receivers take the messages but the answers are lost (connection dropped): the outbox
    cannot know, so it sends again; the idempotency key lets the receiver keep one copy."""
    start = timezone.now() + timedelta(seconds=1)
    keys = enqueue_batch("c", sms=6, work_orders=2, steps=3)
    run_worker(start, 150, receivers, down_until=start + timedelta(minutes=5), mode="drop")

    assert_delivered_once_in_order(receivers, keys)
    assert receivers["sms"].duplicates() > 0  # sent again, as at-least-once delivery must
    assert all(m["key"] for m in receivers["sms"].raw)  # every copy carried its idempotency key


@pytest.mark.django_db
def test_outage_longer_than_the_retries_fails_visibly_and_requeues_once(receivers, settings):
    """Past the last attempt a message is marked failed (visible in the admin), not dropped;
    putting it back after the outage delivers it exactly once."""
    from bianmin.core.models import OutboxMessage
    from bianmin.core.outbox import outbox_retry

    settings.BIANMIN_OUTBOX_MAX_ATTEMPTS = 3
    start = timezone.now() + timedelta(seconds=1)
    keys = enqueue_batch("d", sms=4, work_orders=2, steps=2)
    run_worker(start, 60, receivers, down_until=start + timedelta(minutes=60))
    messages = OutboxMessage.objects.filter(dedupe_key__in=keys)
    failed = list(messages.filter(status=OutboxMessage.Status.FAILED).values_list("pk", flat=True))
    # Every message: a failed update no longer holds back the next of its work order, which
    # then fails in turn while the outage lasts.
    assert len(failed) == len(keys)
    assert all("503" in e for e in messages.filter(pk__in=failed).values_list("last_error", flat=True))

    assert outbox_retry(actor=None, message_ids=failed) == len(failed)
    later = start + timedelta(minutes=60)
    run_worker(later, 90, receivers)
    assert_delivered_once_in_order(receivers, keys)
    assert receivers["sms"].duplicates() == 0
