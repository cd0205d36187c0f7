"""SMS invitations and provincial reports through the outbox with a failing gateway (delayed,
never lost or doubled, in order per case); default evaluations after 7 days; the status page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from .conftest import at
from .gateways import Flaky

pytestmark = pytest.mark.django_db

FLAKY = "evaluations.gateways.Flaky"


@pytest.fixture
def flaky():
    Flaky.down = True
    Flaky.delivered = []
    with override_settings(BIANMIN_GATEWAYS={"sms": FLAKY, "provincial_eval": FLAKY}):
        yield Flaky


def test_sms_invitation_survives_a_gateway_outage(flaky, completed_case):
    from bianmin.core.models import OutboxMessage
    from bianmin.core.outbox import deliver_due
    from bianmin.evaluations.services import evaluation_link_issue

    case = completed_case()
    # The 受理 message to the same phone goes first (one ordering key per phone): this test is about
    # the invitation alone.
    OutboxMessage.objects.filter(channel="sms").exclude(dedupe_key=f"eval-invite:{case.pk}").delete()
    now = timezone.now()
    stats = deliver_due(now=now)
    sms = OutboxMessage.objects.get(channel="sms")
    assert stats.retried >= 1 and sms.status == "pending" and sms.attempts == 1
    assert sms.next_attempt_at == now + timedelta(minutes=1) and "不可用" in sms.last_error
    evaluation_link_issue(case=case)  # a retried completion hook: still one message
    assert OutboxMessage.objects.filter(channel="sms").count() == 1
    flaky.down = False
    deliver_due(now=now + timedelta(seconds=30))  # not due yet
    assert flaky.delivered == []
    deliver_due(now=now + timedelta(minutes=2))
    deliver_due(now=now + timedelta(minutes=10))
    sms.refresh_from_db()
    assert sms.status == "sent"
    assert [d for d in flaky.delivered if d[0] == "sms"] == [("sms", f"eval-invite:{case.pk}", sms.pk)]


def test_provincial_reports_in_order_per_case(flaky, completed_case, django_capture_on_commit_callbacks, make_user):
    from bianmin.core.outbox import deliver_due
    from bianmin.evaluations.selectors import report_status
    from bianmin.evaluations.services import evaluation_submit
    from bianmin.followups import services as fs

    from .conftest import principal

    case = completed_case()
    with django_capture_on_commit_callbacks(execute=True):
        e = evaluation_submit(case_id=case.pk, grade=2, channel="web", actor=None, reasons=["slow"]).evaluation
    manager = principal(make_user("district_admin", "350102000000"))
    h = fs.handling_verify(actor=manager, handling_id=e.handling.pk, verdict="no_basis", verification="超出政策",
                           explanation="已解释")
    fs.handling_follow_up(actor=manager, handling_id=h.pk, satisfied=True, result="理解")
    fs.handling_close(actor=manager, handling_id=h.pk)
    assert report_status(actor=manager) == {"sent": 0, "pending": 2, "failed": 0}
    now = timezone.now()
    deliver_due(now=now)  # provincial side down: the evaluation report fails, the outcome waits behind it
    flaky.down = False
    for minutes in (2, 4, 8):
        deliver_due(now=now + timedelta(minutes=minutes))
    provincial = [d[1] for d in flaky.delivered if d[0] == "provincial_eval"]
    assert provincial == [f"prov:{e.pk}:evaluation", f"prov:{e.pk}:outcome"]
    assert report_status(actor=manager) == {"sent": 2, "pending": 0, "failed": 0}


def test_reports_status_page(client, login, completed_case, make_user):
    from bianmin.evaluations.services import evaluation_submit

    case = completed_case()
    evaluation_submit(case_id=case.pk, grade=5, channel="web", actor=None)
    login(make_user("district_admin", "350102000000"))
    page = client.get("/evaluations/reports/")
    body = page.content.decode()
    assert page.status_code == 200 and "待发送 1" in body and "已发送 0" in body
    api = client.get("/api/v1/evaluations/reports/status")
    assert api.json() == {"sent": 0, "pending": 1, "failed": 0}
    login(make_user("district_admin", "350103000000"))  # 台江 sees none of 鼓楼's
    assert client.get("/api/v1/evaluations/reports/status").json()["pending"] == 0


def test_default_evaluation_after_seven_days(completed_case):
    from bianmin.evaluations.models import Evaluation, ProvincialReport
    from bianmin.evaluations.services import evaluation_submit, evaluations_apply_defaults

    today = timezone.localdate()
    old = completed_case(day=today - timedelta(days=8))
    recent = completed_case(day=today - timedelta(days=6))
    evaluated = completed_case(day=today - timedelta(days=9))
    evaluation_submit(case_id=evaluated.pk, grade=5, channel="web", actor=None,
                      evaluated_at=at(today - timedelta(days=9), 18))
    assert evaluations_apply_defaults() == 1
    assert evaluations_apply_defaults() == 0  # idempotent
    d = Evaluation.objects.get(case=old)
    assert (d.is_default, d.grade, d.channel, d.kind) == (True, 4, "default", "first")
    assert not Evaluation.objects.filter(case=recent).exists()
    assert Evaluation.objects.filter(case=evaluated).count() == 1
    assert ProvincialReport.objects.filter(evaluation=d, event="default").exists()


def test_daily_command(completed_case):
    from io import StringIO

    from django.core.management import call_command

    completed_case(day=timezone.localdate() - timedelta(days=8))
    out = StringIO()
    call_command("evaluations_daily", stdout=out)
    assert "默认好评 1 件" in out.getvalue()


def test_provincial_http_adapter_posts_with_idempotency_key(completed_case):
    """The adapter against a local HTTP server: 503 is retried, 200 delivers, the key is sent."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from bianmin.core.gateways import GatewayError
    from bianmin.core.models import OutboxMessage
    from bianmin.evaluations.gateways import ProvincialHttpGateway
    from bianmin.evaluations.services import evaluation_submit

    seen, answers = [], [503, 200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        case = completed_case()
        evaluation_submit(case_id=case.pk, grade=5, channel="web", actor=None)
        message = OutboxMessage.objects.get(channel="provincial_eval")
        gateway = ProvincialHttpGateway(url=f"http://127.0.0.1:{server.server_port}/report", token="t")
        with pytest.raises(GatewayError) as failed:
            gateway.send(message)
        assert not failed.value.permanent
        gateway.send(message)
    finally:
        server.shutdown()
    assert [k for k, _ in seen] == [message.dedupe_key] * 2
    payload = seen[1][1]["payload"]
    assert payload["case_number"] == case.acceptance_number and payload["region_code"] == case.site.area.code
    assert payload["applicant_phone"] == case.mobile and payload["grade"] == 5 and payload["item_code"]


def test_daily_jobs_queue_themselves_once(completed_case, django_capture_on_commit_callbacks):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from bianmin.evaluations.services import evaluation_submit
    from bianmin.evaluations.tasks import daily_evaluations
    from bianmin.followups.tasks import daily_followups

    case = completed_case()
    completed_case()
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_submit(case_id=case.pk, grade=1, channel="web", actor=None, reasons=["slow"])
    for job in (daily_evaluations, daily_followups):
        queued = DBTaskResult.objects.filter(task_path=job.module_path, status=TaskResultStatus.READY)
        assert queued.count() == 1
        assert queued.get().run_after > timezone.now()
