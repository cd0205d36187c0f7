"""Anti-abuse: rate limits per device and phone (429, nothing stored), bursts and repeated
texts flagged for review, the review page."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _device(client, raw, case, grade=5, text=""):
    return client.post("/api/v1/evaluations/device", json.dumps({"acceptance_number": case.acceptance_number,
                                                                 "grade": grade, "text": text}),
                       content_type="application/json", HTTP_X_API_KEY=raw)


@override_settings(BIANMIN_EVAL_BURST=(2, 60))
def test_burst_from_one_device_is_flagged(client, completed_case, device_key):
    from bianmin.evaluations.models import Evaluation

    _key, raw = device_key("w1")
    cases = [completed_case(window="w1") for _ in range(3)]
    flags = [_device(client, raw, c).json()["flagged"] for c in cases]
    assert flags == [False, False, True]
    assert Evaluation.objects.get(case=cases[2]).flag == "burst"


@override_settings(BIANMIN_EVAL_RATE_DEVICE=(2, 60))
def test_device_rate_limit(client, completed_case, device_key):
    from bianmin.evaluations.models import Evaluation

    _key, raw = device_key("w1")
    cases = [completed_case(window="w1") for _ in range(3)]
    codes = [_device(client, raw, c).status_code for c in cases]
    assert codes == [201, 201, 429]
    assert not Evaluation.objects.filter(case=cases[2]).exists()


def test_repeated_text_is_flagged(completed_case):
    from bianmin.evaluations.services import evaluation_submit

    a, b = completed_case(), completed_case()
    first = evaluation_submit(case_id=a.pk, grade=5, channel="web", actor=None, text="服务非常好，非常满意！").evaluation
    second = evaluation_submit(case_id=b.pk, grade=5, channel="web", actor=None, text="服务非常好，非常满意！").evaluation
    assert (first.flag, second.flag) == ("", "repeated_text")


@override_settings(BIANMIN_EVAL_RATE_PHONE=(1, 3600))
def test_phone_rate_limit_on_links(client, completed_case):
    from bianmin.evaluations.links import token_for
    from bianmin.evaluations.models import Evaluation

    a, b = completed_case(mobile="13900001234"), completed_case(mobile="13900001234")
    ok = client.post(f"/api/v1/evaluations/link/{token_for(a.evaluation_link.nonce)}", json.dumps({"grade": 5}),
                     content_type="application/json")
    assert ok.status_code == 201
    limited = client.post(f"/api/v1/evaluations/link/{token_for(b.evaluation_link.nonce)}", json.dumps({"grade": 5}),
                          content_type="application/json")
    assert limited.status_code == 429 and "频繁" in limited.json()["message"]
    assert not Evaluation.objects.filter(case=b).exists()


def test_flag_review_page(client, login, completed_case, make_user):
    from bianmin.evaluations.models import Evaluation
    from bianmin.evaluations.services import evaluation_submit

    a, b = completed_case(), completed_case()
    evaluation_submit(case_id=a.pk, grade=5, channel="web", actor=None, text="窗口服务特别棒点赞")
    flagged = evaluation_submit(case_id=b.pk, grade=5, channel="web", actor=None, text="窗口服务特别棒点赞").evaluation
    login(make_user("center_manager", "350102001000"))
    page = client.get("/evaluations/flagged/")
    assert page.status_code == 200 and "重复评价内容" in page.content.decode()
    resp = client.post("/evaluations/flagged/", {"evaluation_id": flagged.pk, "decision": "exclude"})
    assert resp.status_code == 302
    flagged = Evaluation.objects.get(pk=flagged.pk)
    assert flagged.flag_reviewed and flagged.excluded
    login(make_user("center_manager", "350102002000"))  # 鼓西 cannot review 鼓东's
    resp = client.post("/evaluations/flagged/", {"evaluation_id": flagged.pk, "decision": "keep"})
    assert resp.status_code == 404
