import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from bianmin.core import outbox
from bianmin.core.gateways import FileGateway, Gateway, GatewayError, HttpSmsGateway, gateway_for
from bianmin.core.models import AuditEntry, OutboxMessage
from bianmin.core.outbox import backoff, deliver_due, enqueue, outbox_retry
from bianmin.core.principal import Principal

PENDING, SENT, FAILED = "pending", "sent", "failed"


class Crash(BaseException):
    """The worker process dies (not an error a worker could catch and record)."""


class Receiver:
    """The outside system: remembers what reached it, and drops repeats by idempotency key as
    the outbox asks receivers to."""

    def __init__(self):
        self.calls: list[tuple[int, str]] = []
        self.effects: dict[str, dict] = {}
        self.fail: set[int] = set()  # message ids that fail (temporarily)
        self.refuse: set[int] = set()  # message ids refused for good
        self.crash_after_send: set[int] = set()

    def receive(self, message):
        self.calls.append((message.pk, message.dedupe_key))
        if message.pk in self.refuse:
            raise GatewayError("号码已停机", permanent=True)
        if message.pk in self.fail:
            raise GatewayError("网关繁忙")
        self.effects.setdefault(message.dedupe_key, message.payload)
        if message.pk in self.crash_after_send:
            self.crash_after_send.discard(message.pk)
            raise Crash()

    def sent_ids(self):
        return [pk for pk, _ in self.calls]


RECEIVER = Receiver()


class DoubleGateway(Gateway):
    def send(self, message):
        RECEIVER.receive(message)


class BuggyGateway(Gateway):
    def send(self, message):
        raise KeyError("bug")


@pytest.fixture
def receiver(settings, db):
    global RECEIVER
    RECEIVER = Receiver()
    settings.BIANMIN_GATEWAYS = {"sms": f"{__name__}.DoubleGateway", "notify": f"{__name__}.DoubleGateway",
                                 "buggy": f"{__name__}.BuggyGateway"}
    return RECEIVER


def put(key: str, *, channel="sms", ordering_key="", payload=None, recipient="13812345678") -> OutboxMessage:
    with transaction.atomic():
        return enqueue(channel=channel, recipient=recipient, payload=payload or {"text": f"您的办件 {key} 已办结"},
                       dedupe_key=key, ordering_key=ordering_key)


# --- enqueue ----------------------------------------------------------------------------------


def test_enqueue_is_idempotent_on_the_dedupe_key(receiver):
    first = put("case:1:done")
    again = put("case:1:done", payload={"text": "另一个内容"})
    assert again.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().payload == {"text": "您的办件 case:1:done 已办结"}


def test_enqueue_of_a_new_key_skips_the_lookup_but_the_unique_index_still_refuses_a_twin(receiver,
                                                                                         django_assert_num_queries):
    from django.db import IntegrityError

    with transaction.atomic():
        with django_assert_num_queries(1):  # the insert alone: no lookup, no savepoint
            enqueue(channel="sms", recipient="13812345678", payload={}, dedupe_key="ev:1", new_key=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        enqueue(channel="sms", recipient="13812345678", payload={}, dedupe_key="ev:1", new_key=True)
    assert OutboxMessage.objects.filter(dedupe_key="ev:1").count() == 1


def test_enqueue_rolls_back_with_the_writer(receiver):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(channel="sms", recipient="13812345678", payload={}, dedupe_key="k1")
        raise RuntimeError("the writer's change failed")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "SMS!", "dedupe_key": "k"}, ValueError),
        ({"channel": "sms", "dedupe_key": ""}, ValueError),
        ({"channel": "sms", "dedupe_key": "k", "payload": {"when": object()}}, TypeError),
    ],
)
def test_enqueue_refuses_bad_messages(receiver, kwargs, error):
    with pytest.raises(error), transaction.atomic():
        enqueue(recipient="13812345678", **{"payload": {}, **kwargs})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the writer's transaction"):
        enqueue(channel="sms", recipient="13812345678", payload={}, dedupe_key="k")
    assert not OutboxMessage.objects.exists()


# --- delivery ---------------------------------------------------------------------------------


def test_delivered_exactly_once(receiver):
    message = put("a")
    stats = deliver_due()
    assert (stats.claimed, stats.sent) == (1, 1)
    message.refresh_from_db()
    assert message.status == SENT and message.sent_at is not None and message.attempts == 1
    assert deliver_due().claimed == 0
    assert receiver.sent_ids() == [message.pk]


def test_failing_gateway_leaves_the_message_pending_with_back_off(receiver):
    message = put("a")
    receiver.fail.add(message.pk)
    now = timezone.now()
    stats = deliver_due(now=now)
    assert (stats.claimed, stats.retried, stats.sent) == (1, 1, 0)
    message.refresh_from_db()
    assert message.status == PENDING and message.attempts == 1
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert message.last_error == "网关繁忙"

    assert deliver_due(now=now + timedelta(seconds=59)).claimed == 0  # not yet due
    deliver_due(now=now + timedelta(minutes=1))
    message.refresh_from_db()
    assert message.attempts == 2 and message.next_attempt_at == now + timedelta(minutes=3)

    receiver.fail.clear()
    deliver_due(now=now + timedelta(minutes=3))
    message.refresh_from_db()
    assert message.status == SENT and message.last_error == ""
    assert len(receiver.effects) == 1


def test_back_off_schedule_is_deterministic_and_capped():
    assert [backoff(k).total_seconds() / 60 for k in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_gives_up_after_max_attempts_and_an_admin_can_requeue(receiver, settings):
    settings.BIANMIN_OUTBOX_MAX_ATTEMPTS = 3
    message = put("a")
    receiver.fail.add(message.pk)
    now = timezone.now()
    for minutes in (0, 1, 3):
        deliver_due(now=now + timedelta(minutes=minutes))
    message.refresh_from_db()
    assert message.status == FAILED and message.attempts == 3
    assert deliver_due(now=now + timedelta(days=1)).claimed == 0

    receiver.fail.clear()
    assert outbox_retry(actor=Principal(label="cityadmin"), message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert message.status == PENDING and message.attempts == 0
    entry = AuditEntry.objects.get(target_type="core.outboxmessage", target_id=str(message.pk))
    assert entry.changes == {"requeue": {"status": "failed", "attempts": 3}}
    deliver_due()
    message.refresh_from_db()
    assert message.status == SENT


def test_requeue_never_resends_a_sent_message(receiver):
    message = put("a")
    deliver_due()
    assert outbox_retry(actor=None, message_ids=[message.pk]) == 0
    assert deliver_due().claimed == 0


def test_permanent_refusal_fails_at_once(receiver):
    message = put("a")
    receiver.refuse.add(message.pk)
    stats = deliver_due()
    assert stats.failed == 1
    message.refresh_from_db()
    assert message.status == FAILED and message.attempts == 1 and "停机" in message.last_error


def test_a_buggy_gateway_does_not_stop_the_others(receiver):
    buggy = put("b", channel="buggy")
    fine = put("f")
    stats = deliver_due()
    assert (stats.sent, stats.retried) == (1, 1)
    buggy.refresh_from_db()
    assert buggy.status == PENDING and "KeyError" in buggy.last_error
    fine.refresh_from_db()
    assert fine.status == SENT


def test_messages_not_due_yet_wait(receiver):
    later = timezone.now() + timedelta(hours=1)
    with transaction.atomic():
        enqueue(channel="sms", recipient="1", payload={}, dedupe_key="later", not_before=later)
    assert deliver_due().claimed == 0
    assert deliver_due(now=later).sent == 1


# --- order ------------------------------------------------------------------------------------


def test_order_per_key(receiver):
    first = put("wo-1:accepted", channel="notify", ordering_key="wo-1")
    second = put("wo-1:replied", channel="notify", ordering_key="wo-1")
    other = put("wo-2:accepted", channel="notify", ordering_key="wo-2")
    receiver.fail.add(first.pk)
    now = timezone.now()
    deliver_due(now=now)
    # the second message of wo-1 waits while the first backs off; wo-2 is not held up
    assert receiver.sent_ids() == [first.pk, other.pk]
    second.refresh_from_db()
    assert second.status == PENDING and second.attempts == 0

    receiver.fail.clear()
    deliver_due(now=now + timedelta(minutes=1))
    assert receiver.sent_ids() == [first.pk, other.pk, first.pk, second.pk]


def test_same_key_messages_all_go_in_one_run_in_order(receiver):
    ids = [put(f"k{i}", ordering_key="case-9").pk for i in range(5)]
    stats = deliver_due()
    assert stats.sent == 5
    assert receiver.sent_ids() == ids


def test_a_failed_message_no_longer_holds_its_key(receiver):
    first = put("x1", ordering_key="k")
    second = put("x2", ordering_key="k")
    receiver.refuse.add(first.pk)
    deliver_due()
    assert receiver.sent_ids() == [first.pk, second.pk]
    second.refresh_from_db()
    assert second.status == SENT


def test_limit_bounds_a_run(receiver):
    for i in range(5):
        put(f"m{i}")
    assert deliver_due(limit=2).claimed == 2
    assert deliver_due(limit=10).claimed == 3


# --- crashes: at least once, deduplicated by the receiver -------------------------------------


def test_crash_between_send_and_record_resends_with_the_same_idempotency_key(receiver, settings):
    settings.BIANMIN_OUTBOX_LEASE_SECONDS = 300
    message = put("case:7:sms")
    receiver.crash_after_send.add(message.pk)
    now = timezone.now()
    with pytest.raises(Crash):
        deliver_due(now=now)
    message.refresh_from_db()
    assert message.status == PENDING and message.attempts == 1
    assert message.next_attempt_at == now + timedelta(seconds=300)  # the lease of the dead worker

    assert deliver_due(now=now + timedelta(seconds=299)).claimed == 0
    assert deliver_due(now=now + timedelta(seconds=300)).sent == 1
    message.refresh_from_db()
    assert message.status == SENT and message.attempts == 2
    assert receiver.calls == [(message.pk, "case:7:sms"), (message.pk, "case:7:sms")]
    assert list(receiver.effects) == ["case:7:sms"]  # one SMS for the citizen


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_outcome(receiver):
    message = put("a")
    now = timezone.now()
    [claimed_by_a] = outbox._claim(now, 10)  # worker A claims, then stalls past its lease
    [claimed_by_b] = outbox._claim(now + outbox.lease(), 10)  # worker B takes over
    assert claimed_by_b.attempts == 2
    assert outbox._record(claimed_by_b, error=None, permanent=False, now=now) == SENT
    assert outbox._record(claimed_by_a, error="超时", permanent=False, now=now) is None
    message.refresh_from_db()
    assert message.status == SENT and message.last_error == ""


# --- gateways ---------------------------------------------------------------------------------


def test_unconfigured_channels_fall_back_to_the_file_gateway(receiver, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    assert isinstance(gateway_for("hotline12345"), FileGateway)
    message = put("wo-1", channel="hotline12345", payload={"工单": "FZ2025-1", "状态": "已办结"}, recipient="12345")
    deliver_due()
    lines = (tmp_path / "outbox" / "hotline12345.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["payload"] == {"工单": "FZ2025-1", "状态": "已办结"}
    assert record["idempotency_key"] == "wo-1" and record["id"] == message.pk
    assert "已办结" in lines[0]  # written as Chinese, not \\u escapes


class _SmsHandler(BaseHTTPRequestHandler):
    status = 200
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((dict(self.headers), json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_server():
    _SmsHandler.seen = []
    _SmsHandler.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SmsHandler)  # an ephemeral port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield _SmsHandler, f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()
    server.server_close()


def test_http_sms_gateway_posts_json_with_token_and_idempotency_key(receiver, sms_server):
    handler, url = sms_server
    message = put("case:3:done", payload={"text": "您的办件已办结"})
    HttpSmsGateway(url=url, token="secret-token", timeout=5).send(message)
    [(headers, body)] = handler.seen
    assert headers["Authorization"] == "Bearer secret-token"
    assert headers["Idempotency-Key"] == "case:3:done"
    assert body == {"to": "13812345678", "payload": {"text": "您的办件已办结"}, "idempotency_key": "case:3:done"}


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False), (400, True), (401, True)])
def test_http_sms_gateway_errors(receiver, sms_server, status, permanent):
    handler, url = sms_server
    handler.status = status
    with pytest.raises(GatewayError, match=f"HTTP {status}") as info:
        HttpSmsGateway(url=url, token="t", timeout=5).send(put("a"))
    assert info.value.permanent is permanent


def test_http_sms_gateway_network_error_and_missing_url(receiver, sms_server):
    _, url = sms_server
    closed = url.replace("/send", "").rsplit(":", 1)[0] + ":1/send"  # nothing listens on port 1
    with pytest.raises(GatewayError, match="无法连接短信网关") as info:
        HttpSmsGateway(url=closed, token="t", timeout=2).send(put("a"))
    assert not info.value.permanent
    with pytest.raises(GatewayError, match="未配置短信网关地址"):
        HttpSmsGateway(url="", token="t").send(put("b"))


def test_http_sms_gateway_from_settings_through_the_outbox(receiver, sms_server, settings):
    handler, url = sms_server
    settings.BIANMIN_GATEWAYS = {"sms": "bianmin.core.gateways.HttpSmsGateway"}
    settings.BIANMIN_SMS_HTTP_URL = url
    settings.BIANMIN_SMS_HTTP_TOKEN = "tok"
    message = put("a")
    handler.status = 502
    assert deliver_due().retried == 1
    handler.status = 200
    assert deliver_due(now=timezone.now() + timedelta(minutes=1)).sent == 1
    assert [h["Idempotency-Key"] for h, _ in handler.seen] == ["a", "a"]
    message.refresh_from_db()
    assert message.status == SENT


# --- task and command -------------------------------------------------------------------------


def test_enqueue_wakes_the_worker_once(receiver, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import deliver_outbox

    with django_capture_on_commit_callbacks(execute=True):
        put("a")
    with django_capture_on_commit_callbacks(execute=True):
        put("b")
    assert DBTaskResult.objects.filter(task_path=deliver_outbox.module_path, status="READY").count() == 1


def test_a_commit_queues_one_run_a_moment_later_that_the_commits_of_that_moment_share(
        receiver, django_capture_on_commit_callbacks):
    """Debounced wake: the run is due within WAKE_DELAY of the commit (so a message waits at
    most that long), and a burst of commits makes one run, not one per message."""
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.outbox import WAKE_DELAY
    from bianmin.core.tasks import deliver_outbox

    before = timezone.now()
    for i in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            put(f"burst-{i}")
    runs = list(DBTaskResult.objects.filter(task_path=deliver_outbox.module_path, status="READY"))
    assert len(runs) == 1
    assert before < runs[0].run_after <= timezone.now() + WAKE_DELAY


def test_waiting_check_finds_only_a_ready_job_due_by_then(receiver):
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import _already_waiting, deliver_outbox

    now = timezone.now()
    assert not _already_waiting(now)
    later = deliver_outbox.using(run_after=now + timedelta(minutes=5)).enqueue()
    assert not _already_waiting(now) and _already_waiting(now + timedelta(minutes=5))
    DBTaskResult.objects.filter(id=later.id).update(status="RUNNING")
    assert not _already_waiting(now + timedelta(minutes=10))
    deliver_outbox.enqueue()  # no run_after: due at once
    assert _already_waiting(now)


def test_deliver_outbox_task_sends_and_schedules_the_retry(receiver):
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import deliver_outbox

    ok = put("ok")
    failing = put("failing")
    receiver.fail.add(failing.pk)
    result = deliver_outbox.call()
    assert result["sent"] == 1 and result["retried"] == 1
    ok.refresh_from_db()
    assert ok.status == SENT
    failing.refresh_from_db()
    job = DBTaskResult.objects.get(task_path=deliver_outbox.module_path, status="READY")
    assert job.run_after == failing.next_attempt_at


def test_delivery_keeps_a_heartbeat_so_a_message_whose_wake_was_lost_is_still_sent(receiver):
    from django_tasks_db.models import DBTaskResult

    from bianmin.core.tasks import HEARTBEAT, deliver_outbox

    before = timezone.now()
    deliver_outbox.call()  # nothing to send: the next run is still queued, a heartbeat away
    job = DBTaskResult.objects.get(task_path=deliver_outbox.module_path, status="READY")
    assert before + HEARTBEAT <= job.run_after <= timezone.now() + HEARTBEAT
    stranded = put("stranded")  # its after-commit wake never runs here (no on_commit in this test)
    assert DBTaskResult.objects.filter(task_path=deliver_outbox.module_path, status="READY").count() == 1
    deliver_outbox.call()  # what the worker does when the heartbeat run comes due
    stranded.refresh_from_db()
    assert stranded.status == SENT


def test_deliver_outbox_command(receiver, capsys):
    put("a")
    call_command("deliver_outbox")
    assert "成功 1 条" in capsys.readouterr().out
    assert OutboxMessage.objects.get().status == SENT


# --- several workers at once ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_once(settings):
    global RECEIVER
    RECEIVER = Receiver()
    settings.BIANMIN_GATEWAYS = {"sms": f"{__name__}.DoubleGateway"}
    for i in range(40):
        put(f"c{i}", ordering_key=f"k{i % 4}")
    errors = []

    def worker():
        from django.db import connection

        try:
            while deliver_due(limit=3).claimed:
                pass
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
    assert sorted(RECEIVER.sent_ids()) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert OutboxMessage.objects.filter(status=SENT).count() == 40
    # per ordering key, in creation order
    for k in range(4):
        keyed = list(OutboxMessage.objects.filter(ordering_key=f"k{k}").order_by("pk").values_list("pk", flat=True))
        assert [pk for pk in RECEIVER.sent_ids() if pk in keyed] == keyed


def test_admin_lists_masked_recipients_and_requeues_failed_messages(receiver, client, django_user_model):
    admin = django_user_model.objects.create_superuser(username="opsadmin", password="Test-Passw0rd!x")
    client.force_login(admin)
    message = put("a")
    receiver.refuse.add(message.pk)
    deliver_due()
    page = client.get("/admin/core/outboxmessage/").content.decode()
    assert "138****5678" in page and "13812345678" not in page and "发送失败" in page
    response = client.post("/admin/core/outboxmessage/", {"action": "requeue", "_selected_action": [message.pk]})
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == PENDING and message.attempts == 0
    assert AuditEntry.objects.filter(target_type="core.outboxmessage", actor_label="opsadmin").count() == 1


def test_deliver_outbox_loop_stops_on_a_signal_and_purges_rate_counters(receiver, monkeypatch):
    import threading as _threading

    from bianmin.core.models import RateCounter

    put("a")
    RateCounter.objects.create(bucket="rl:old", count=3, expires_at=timezone.now() - timedelta(hours=2))
    # The loop waits on an Event between rounds; make the first wait end the loop, as SIGTERM would.
    monkeypatch.setattr(_threading.Event, "wait", lambda self, timeout=None: self.set())
    monkeypatch.setattr("signal.signal", lambda *args: None)
    call_command("deliver_outbox", "--loop", "--interval", "1")
    assert OutboxMessage.objects.get().status == SENT
    assert not RateCounter.objects.exists()


def test_console_gateway_logs_the_message_in_chinese(receiver, settings, caplog):
    import logging

    settings.BIANMIN_GATEWAYS = {"notify": "bianmin.core.gateways.ConsoleGateway"}
    put("n1", channel="notify", payload={"text": "有新的差评待核实"}, recipient="staff:12")
    with caplog.at_level(logging.INFO, logger="bianmin.core.gateways"):
        assert deliver_due().sent == 1
    assert "有新的差评待核实" in caplog.text and "n1" in caplog.text
