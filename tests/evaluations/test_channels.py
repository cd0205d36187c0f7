"""Evaluations through every channel: link (QR/SMS/web, no JS, no log-in), device, kiosk,
provincial, staff record; the rules on grades, reasons, text, one evaluation + one 追评, and
duplicates answered once."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from .conftest import at, principal

pytestmark = pytest.mark.django_db


def _token(case):
    from bianmin.evaluations.links import token_for

    return token_for(case.evaluation_link.nonce)


def _count():
    from bianmin.evaluations.models import Evaluation

    return Evaluation.objects.count()


# --- the link page (QR code, SMS) ------------------------------------------------------------

def test_completion_issues_link_and_sms_invitation(completed_case):
    from bianmin.core.models import OutboxMessage

    case = completed_case()
    link = case.evaluation_link
    assert link.expires_at == case.completed_at + timedelta(days=7)
    sms = OutboxMessage.objects.get(channel="sms", dedupe_key=f"eval-invite:{case.pk}")
    assert sms.recipient == case.mobile
    assert "/evaluations/e/" in sms.payload["text"] and "via=sms" in sms.payload["text"]
    assert "请对本次服务进行评价" in sms.payload["text"]


def test_link_page_works_without_log_in_and_stores_one_evaluation(client, completed_case):
    case = completed_case()
    url = f"/evaluations/e/{_token(case)}/?via=sms"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "请您评价本次服务" in body and "非常满意" in body and "非常不满意" in body
    assert "<script" not in body  # works without JavaScript
    resp = client.post(url, {"grade": "5", "aspect_attitude": "5", "text": "窗口服务很耐心", "idempotency_key": "k1"})
    assert resp.status_code == 200
    assert "感谢您的评价" in resp.content.decode()
    from bianmin.evaluations.models import Evaluation

    e = Evaluation.objects.get(case=case)
    assert (e.grade, e.channel, e.kind, e.aspects["attitude"]) == (5, "sms", "first", 5)
    assert e.area_id == case.site.area_id and e.window_id == case.window_id and e.clerk_id == case.owner_id
    # the same form sent again (double tap): answered with the same thanks, stored once
    again = client.post(url, {"grade": "5", "aspect_attitude": "5", "text": "窗口服务很耐心", "idempotency_key": "k1"})
    assert again.status_code == 200 and "感谢您的评价" in again.content.decode()
    assert _count() == 1
    # a used link: a clear Chinese page, now the door to the one 追评 (test_additional_by_link.py)
    used = client.get(url)
    assert used.status_code == 200 and "您已评价" in used.content.decode()
    other = client.post(url, {"grade": "1", "reasons": ["attitude"]})
    assert other.status_code == 410
    assert _count() == 1


def test_forged_unknown_and_expired_links(client, completed_case):
    from bianmin.evaluations.links import token_for

    case = completed_case()
    token = _token(case)
    forged = client.post(f"/evaluations/e/{token[:-3]}abc/", {"grade": "5"})
    assert forged.status_code == 400 and "评价链接无效" in forged.content.decode()
    unknown = client.get(f"/evaluations/e/{token_for('not-a-stored-nonce')}/")
    assert unknown.status_code == 404 and "未找到该评价链接" in unknown.content.decode()
    link = case.evaluation_link
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    expired = client.post(f"/evaluations/e/{token}/", {"grade": "5"})
    assert expired.status_code == 410 and "已过期" in expired.content.decode()
    assert _count() == 0


def test_bad_grade_needs_a_reason_on_the_page(client, completed_case):
    case = completed_case()
    url = f"/evaluations/e/{_token(case)}/"
    resp = client.post(url, {"grade": "2", "text": "等了很久"})
    assert resp.status_code == 422
    assert "差评须至少选择一项原因" in resp.content.decode()
    assert "等了很久" in resp.content.decode()  # what was typed is kept
    assert _count() == 0
    ok = client.post(url, {"grade": "2", "text": "等了很久", "reasons": ["slow"]})
    assert ok.status_code == 200


def test_staff_session_cannot_evaluate(client, login, completed_case, clerks):
    case = completed_case()
    login(clerks["gudong"])
    page = client.get(f"/evaluations/e/{_token(case)}/")
    assert page.status_code == 403 and "工作人员账号不能评价" in page.content.decode()
    api = client.post(f"/api/v1/evaluations/link/{_token(case)}", json.dumps({"grade": 5}), content_type="application/json")
    assert api.status_code == 403 and api.json()["message"] == "工作人员账号不能参与评价"
    assert _count() == 0


# --- the JSON API by link --------------------------------------------------------------------

def test_api_link_rules(client, completed_case):
    case = completed_case()
    url = f"/api/v1/evaluations/link/{_token(case)}"
    no_reason = client.post(url, json.dumps({"grade": 1}), content_type="application/json")
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reasons"
    too_long = client.post(url, json.dumps({"grade": 5, "text": "好" * 501}), content_type="application/json")
    assert too_long.status_code == 422 and too_long.json()["field"] == "text"
    assert "500" in too_long.json()["message"]
    bad_grade = client.post(url, json.dumps({"grade": 7}), content_type="application/json")
    assert bad_grade.status_code == 422
    unknown_reason = client.post(url, json.dumps({"grade": 2, "reasons": ["nope"]}), content_type="application/json")
    assert unknown_reason.status_code == 422
    assert _count() == 0
    forged = client.post("/api/v1/evaluations/link/0", json.dumps({"grade": 5}), content_type="application/json")
    assert forged.status_code == 400 and forged.json()["code"] == "link_invalid"
    body = {"grade": 2, "reasons": ["attitude", "slow"], "text": "态度冷淡", "idempotency_key": "abc-1"}
    first = client.post(url, json.dumps(body), content_type="application/json")
    assert first.status_code == 201
    second = client.post(url, json.dumps(body), content_type="application/json")
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"] and second.json()["replayed"]
    assert _count() == 1
    other = client.post(url, json.dumps({"grade": 5}), content_type="application/json")
    assert other.status_code == 410 and other.json()["code"] == "link_gone" and "已经评价" in other.json()["message"]


# --- window device ---------------------------------------------------------------------------

def test_device_keys(client, completed_case, device_key):
    case = completed_case(window="w1")
    other_window_case = completed_case(window="w2")
    key, raw = device_key("w1")
    url = "/api/v1/evaluations/device"
    body = {"acceptance_number": case.acceptance_number, "grade": 5}
    none = client.post(url, json.dumps(body), content_type="application/json")
    assert none.status_code == 401
    wrong = client.post(url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    other = client.post(url, json.dumps({**body, "acceptance_number": other_window_case.acceptance_number}),
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert other.status_code == 403 and "本窗口" in other.json()["message"]
    ok = client.post(url, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=raw)
    assert ok.status_code == 201 and ok.json()["channel"] == "device"
    from bianmin.evaluations.models import Evaluation

    assert Evaluation.objects.get(case=case).device_key_id == key.pk
    assert _count() == 1
    _k, unbound = device_key("w1", bind=False)
    resp = client.post(url, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=unbound)
    assert resp.status_code == 403
    _k, kiosk_only = device_key("w1", scopes=("evaluations.kiosk",))
    resp = client.post(url, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=kiosk_only)
    assert resp.status_code == 403


def test_device_cannot_evaluate_an_open_case(client, calendar, sites, items, clerks, device_key):
    from bianmin.cases.services import Applicant, case_accept, case_submit
    from bianmin.core.validators import make_id_number

    clerk = principal(clerks["gudong"])
    case = case_submit(actor=clerk, site=sites["gudong"], item=items["gudong"], window=sites["w1"],
                       applicant=Applicant(kind="person", name="李四", mobile="13900001111",
                                           id_number=make_id_number("350102", date(1980, 5, 1), 7)), now=at(date(2026, 3, 2)))
    case = case_accept(actor=clerk, case_id=case.pk, now=at(date(2026, 3, 2), 11))
    _key, raw = device_key("w1")
    resp = client.post("/api/v1/evaluations/device", json.dumps({"acceptance_number": case.acceptance_number, "grade": 5}),
                       content_type="application/json", HTTP_X_API_KEY=raw)
    assert resp.status_code == 409 and "尚未办结" in resp.json()["message"]


# --- kiosk, 追评 --------------------------------------------------------------------------------

def test_kiosk_and_additional_evaluation(client, completed_case, system_key, sites):
    case = completed_case(mobile="13800008888")
    _key, raw = system_key("evaluations.kiosk", area_code=sites["gudong"].area.code)
    url = "/api/v1/evaluations/kiosk"
    wrong_phone = client.post(url, json.dumps({"acceptance_number": case.acceptance_number, "mobile_last4": "0000",
                                               "grade": 5}), content_type="application/json", HTTP_X_API_KEY=raw)
    assert wrong_phone.status_code == 404
    first = client.post(url, json.dumps({"acceptance_number": case.acceptance_number, "mobile_last4": "8888", "grade": 4}),
                        content_type="application/json", HTTP_X_API_KEY=raw)
    assert first.status_code == 201 and first.json()["kind"] == "first"
    add = client.post(url, json.dumps({"acceptance_number": case.acceptance_number, "mobile_last4": "8888", "grade": 2,
                                       "reasons": ["slow"], "text": "后来发现证明有误"}),
                      content_type="application/json", HTTP_X_API_KEY=raw)
    assert add.status_code == 201 and add.json()["kind"] == "additional"
    third = client.post(url, json.dumps({"acceptance_number": case.acceptance_number, "mobile_last4": "8888", "grade": 3}),
                        content_type="application/json", HTTP_X_API_KEY=raw)
    assert third.status_code == 409 and "只能追评一次" in third.json()["message"]
    assert _count() == 2
    # a kiosk of another township does not see this case
    other_case = completed_case(site="guxi", window="gx1", mobile="13800009999")
    resp = client.post(url, json.dumps({"acceptance_number": other_case.acceptance_number, "mobile_last4": "9999",
                                        "grade": 5}), content_type="application/json", HTTP_X_API_KEY=raw)
    assert resp.status_code == 404


@override_settings(BIANMIN_EVAL_RATE_KIOSK_CASE=(4, 3600))
def test_guessing_a_cases_last_four_digits_at_kiosks_is_throttled_per_case(client, completed_case, system_key, sites):
    """Ten thousand possible endings: after the allowed attempts on one case (from any kiosk),
    even the right digits wait (429), and nothing is written; another case is not affected."""
    case = completed_case(mobile="13800008888")
    other = completed_case(mobile="13800007777")
    kiosks = [system_key("evaluations.kiosk", area_code=sites["gudong"].area.code)[1] for _ in range(2)]
    url = "/api/v1/evaluations/kiosk"

    def attempt(c, last4, kiosk):
        return client.post(url, json.dumps({"acceptance_number": c.acceptance_number, "mobile_last4": last4,
                                            "grade": 5}), content_type="application/json", HTTP_X_API_KEY=kiosk)

    assert [attempt(case, f"{n:04d}", kiosks[n % 2]).status_code for n in range(4)] == [404] * 4
    blocked = attempt(case, "8888", kiosks[0])
    assert blocked.status_code == 429 and blocked.json()["message"] == "该办件的验证尝试次数过多，请稍后再试或到窗口评价"
    assert _count() == 0
    assert attempt(other, "7777", kiosks[1]).status_code == 201


@override_settings(BIANMIN_EVAL_ADDITIONAL_DAYS=15)
def test_additional_evaluation_only_within_the_period(completed_case):
    from bianmin.core.errors import Conflict
    from bianmin.evaluations.services import evaluation_submit

    case = completed_case()
    first = evaluation_submit(case_id=case.pk, grade=4, channel="web", actor=None).evaluation
    with pytest.raises(Conflict, match="15 日内"):
        evaluation_submit(case_id=case.pk, grade=3, channel="web", actor=None,
                          evaluated_at=first.evaluated_at + timedelta(days=16))
    with pytest.raises(Conflict, match="已评价"):
        evaluation_submit(case_id=case.pk, grade=3, channel="web", actor=None, kind="first")
    assert _count() == 1


# --- provincial channels in, staff records ----------------------------------------------------

def test_provincial_evaluations_come_in_idempotently_and_join_handling(client, completed_case, system_key,
                                                                      django_capture_on_commit_callbacks):
    from bianmin.evaluations.models import ProvincialReport
    from bianmin.followups.models import BadReviewHandling

    case = completed_case()
    _key, raw = system_key("evaluations.provincial")
    body = {"external_id": "MZT-2026-0001", "acceptance_number": case.acceptance_number, "source": "prov_app",
            "grade": 1, "reasons": ["attitude"], "text": "闽政通上的差评"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/api/v1/evaluations/provincial", json.dumps(body), content_type="application/json",
                            HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert first.status_code == 201 and first.json()["channel"] == "prov_app"
    again = client.post("/api/v1/evaluations/provincial", json.dumps(body), content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert _count() == 1
    # joins the same handling; not reported back to where it came from
    assert BadReviewHandling.objects.filter(evaluation_id=first.json()["id"]).exists()
    assert not ProvincialReport.objects.filter(evaluation_id=first.json()["id"]).exists()
    _k, kiosk = system_key("evaluations.kiosk")
    denied = client.post("/api/v1/evaluations/provincial", json.dumps({**body, "external_id": "X2"}),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {kiosk}")
    assert denied.status_code == 403


def test_staff_records_paper_evaluation_marked_as_such(client, login, completed_case, clerks):
    from bianmin.evaluations.models import Evaluation

    case = completed_case()
    login(clerks["gudong"])
    resp = client.post(f"/evaluations/cases/{case.pk}/record/", {"channel": "paper", "grade": "4", "text": "纸质表"})
    assert resp.status_code == 302
    e = Evaluation.objects.get(case=case)
    assert e.channel == "paper" and e.recorded_by == clerks["gudong"]
    # a clerk of the sibling township cannot reach the case
    login(clerks["guxi"])
    assert client.get(f"/evaluations/cases/{case.pk}/record/").status_code == 404
    api = client.post("/api/v1/evaluations/record", json.dumps({"case_id": case.pk, "channel": "phone", "grade": 5}),
                      content_type="application/json")
    assert api.status_code == 404


# --- QR code, slip, window screen --------------------------------------------------------------

def test_qr_codes_and_window_screen(client, login, completed_case, clerks, sites):
    from django.utils import timezone

    case = completed_case(window="w1", finished_at=timezone.now())  # the screen offers a case just finished
    login(clerks["gudong"])
    svg = client.get(f"/evaluations/cases/{case.pk}/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = client.get(f"/evaluations/cases/{case.pk}/qr.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    slip = client.get(f"/evaluations/cases/{case.pk}/slip/")
    assert slip.status_code == 200 and "请扫码评价" in slip.content.decode()
    screen = client.get(f"/evaluations/windows/{sites['w1'].pk}/screen/")
    assert screen.status_code == 200 and case.acceptance_number in screen.content.decode()
    login(clerks["guxi"])
    assert client.get(f"/evaluations/cases/{case.pk}/qr.png").status_code == 404
    assert client.get(f"/evaluations/windows/{sites['w1'].pk}/screen/").status_code == 404


def test_a_device_sees_another_areas_case_as_missing_and_cannot_replay_into_it(client, completed_case, device_key):
    """The scope rule on the device door: another area's existing case is a 404 like a missing
    one (it was a 403); and an idempotency-key replay is answered only after the window check
    (a 鼓西 device replaying 鼓东's key with 鼓东's case number got 鼓东's evaluation)."""
    from bianmin.evaluations.models import Evaluation

    gudong_case = completed_case(site="gudong", window="w1")
    _k, gudong_raw = device_key("w1")
    _k, guxi_raw = device_key("gx1")
    url = "/api/v1/evaluations/device"
    body = {"acceptance_number": gudong_case.acceptance_number, "grade": 5, "idempotency_key": "conc-key-1"}
    assert client.post(url, json.dumps(body), content_type="application/json",
                       HTTP_X_API_KEY=gudong_raw).status_code == 201
    replay = client.post(url, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=guxi_raw)
    assert replay.status_code == 404 and replay.json()["field"] is None and "id" not in replay.json()
    missing = client.post(url, json.dumps({**body, "acceptance_number": "NO-SUCH"}), content_type="application/json",
                          HTTP_X_API_KEY=guxi_raw)
    assert missing.status_code == 404 and missing.json()["message"] == replay.json()["message"]
    # The same window's other device replaying the key: the same evaluation, answered once.
    _k, second_w1 = device_key("w1")
    again = client.post(url, json.dumps(body), content_type="application/json", HTTP_X_API_KEY=second_w1)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert Evaluation.objects.count() == 1


def test_a_replay_from_another_window_of_the_same_area_is_refused(completed_case, device_key):
    """Within the area, the window check comes before the replay too (service level)."""
    from bianmin.core.errors import Forbidden
    from bianmin.evaluations import services
    from bianmin.evaluations.models import Channel

    case = completed_case(window="w1")
    key1, _ = device_key("w1")
    key2, _ = device_key("w2")
    services.evaluation_submit(case_id=case.pk, grade=5, channel=Channel.DEVICE, actor=None, device_key=key1,
                               window_id=key1.window_id, idempotency_key="k-1")
    with pytest.raises(Forbidden):
        services.evaluation_submit(case_id=case.pk, grade=5, channel=Channel.DEVICE, actor=None, device_key=key2,
                                   window_id=key2.window_id, idempotency_key="k-1")
