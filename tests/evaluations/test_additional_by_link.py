"""追评 through the citizen's link: once the case is evaluated, the same link (QR, SMS) offers
the one 追评 while the 追评 period runs (counted from the first evaluation), on a plain form
that works without JavaScript; a second 追评, a late one, a forged or expired link get a clear
Chinese page (or JSON error) and store nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _token(case):
    from bianmin.evaluations.links import token_for

    return token_for(case.evaluation_link.nonce)


def _kinds(case):
    from bianmin.evaluations.models import Evaluation

    return sorted(Evaluation.objects.filter(case=case).values_list("kind", flat=True))


@pytest.fixture
def evaluated(client, completed_case):
    """A case evaluated through its link (满意); returns (case, page url)."""
    case = completed_case()
    url = f"/evaluations/e/{_token(case)}/?via=sms"
    assert client.post(url, {"grade": "4", "idempotency_key": "first-1"}).status_code == 200
    return case, url


def test_used_link_offers_the_additional_form_and_takes_one(client, evaluated):
    from bianmin.evaluations.models import Evaluation

    case, url = evaluated
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "您已评价，可以追评一次" in body and "满意" in body
    assert 'name="kind" value="additional"' in body and "追评截止" in body
    assert "<script" not in body  # a plain form: works without JavaScript on any phone
    form = {"kind": "additional", "grade": "2", "reasons": ["slow"], "text": "证件寄到时已超过承诺时限",
            "idempotency_key": "add-1"}
    done = client.post(url, form)
    assert done.status_code == 200 and "感谢您的追评" in done.content.decode()
    extra = Evaluation.objects.get(case=case, kind="additional")
    assert (extra.grade, extra.channel, extra.reasons, extra.text) == (2, "sms", ["slow"], "证件寄到时已超过承诺时限")
    assert Evaluation.objects.get(case=case, kind="first").grade == 4  # the first evaluation is kept as it was
    # the same form again (double tap): the same thanks, stored once
    again = client.post(url, form)
    assert again.status_code == 200 and "感谢您的追评" in again.content.decode()
    assert _kinds(case) == ["additional", "first"]


def test_second_additional_is_a_clear_page(client, evaluated):
    case, url = evaluated
    assert client.post(url, {"kind": "additional", "grade": "5", "text": "后来补充：很好"}).status_code == 200
    shown = client.get(url)
    assert shown.status_code == 409 and "您已追评" in shown.content.decode()
    assert "每件业务只能追评一次" in shown.content.decode()
    second = client.post(url, {"kind": "additional", "grade": "3", "text": "再追评一次"})
    assert second.status_code == 409 and "只能追评一次" in second.content.decode()
    assert _kinds(case) == ["additional", "first"]


def test_after_the_period_is_a_clear_page(client, evaluated, settings):
    from bianmin.evaluations.models import Evaluation

    case, url = evaluated
    days = settings.BIANMIN_EVAL_ADDITIONAL_DAYS = 15
    Evaluation.objects.filter(case=case).update(evaluated_at=timezone.now() - timedelta(days=days, minutes=1))
    shown = client.get(url)
    assert shown.status_code == 410 and "追评期已过" in shown.content.decode() and "15 日内" in shown.content.decode()
    late = client.post(url, {"kind": "additional", "grade": "5"})
    assert late.status_code == 410 and "追评期已过" in late.content.decode()
    assert _kinds(case) == ["first"]
    # just inside the period it is still open
    Evaluation.objects.filter(case=case).update(evaluated_at=timezone.now() - timedelta(days=days) + timedelta(minutes=5))
    assert client.get(url).status_code == 200


def test_link_expiry_governs_the_first_evaluation_not_the_additional(client, evaluated):
    case, url = evaluated
    link = case.evaluation_link
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    assert client.get(url).status_code == 200
    assert client.post(url, {"kind": "additional", "grade": "5"}).status_code == 200
    assert _kinds(case) == ["additional", "first"]


def test_forged_expired_or_unevaluated_links_still_refused(client, completed_case):
    from bianmin.evaluations.links import token_for

    case = completed_case()
    token = _token(case)
    forged = client.post(f"/evaluations/e/{token[:-3]}abc/", {"kind": "additional", "grade": "5"})
    assert forged.status_code == 400 and "评价链接无效" in forged.content.decode()
    unknown = client.post(f"/evaluations/e/{token_for('no-such-nonce')}/", {"kind": "additional", "grade": "5"})
    assert unknown.status_code == 404
    not_yet = client.post(f"/evaluations/e/{token}/", {"kind": "additional", "grade": "5"})
    assert not_yet.status_code == 409 and "尚未评价" in not_yet.content.decode()
    link = case.evaluation_link
    link.expires_at = timezone.now() - timedelta(seconds=1)
    link.save()
    expired = client.post(f"/evaluations/e/{token}/", {"kind": "additional", "grade": "5"})
    assert expired.status_code == 410 and "已过期" in expired.content.decode()
    assert client.get(f"/evaluations/e/{token}/").status_code == 410
    assert _kinds(case) == []


def test_default_satisfied_case_has_no_additional_by_link(client, completed_case):
    from bianmin.evaluations.services import evaluations_apply_defaults

    case = completed_case()
    assert evaluations_apply_defaults(now=timezone.now() + timedelta(days=30)) >= 1
    resp = client.post(f"/evaluations/e/{_token(case)}/", {"kind": "additional", "grade": "5"})
    assert resp.status_code == 410 and "逾期未评价" in resp.content.decode()
    assert _kinds(case) == ["first"]


def test_bad_additional_needs_a_reason_and_keeps_the_text(client, evaluated):
    case, url = evaluated
    resp = client.post(url, {"kind": "additional", "grade": "1", "text": "结果有误"})
    body = resp.content.decode()
    assert resp.status_code == 422 and "差评须至少选择一项原因" in body and "结果有误" in body
    assert 'name="kind" value="additional"' in body
    no_grade = client.post(url, {"kind": "additional", "text": "结果有误"})
    assert no_grade.status_code == 422 and "请选择追评等级" in no_grade.content.decode()
    assert _kinds(case) == ["first"]


def test_evaluated_elsewhere_the_link_offers_the_additional(client, completed_case):
    from bianmin.evaluations.services import evaluation_submit

    case = completed_case()
    evaluation_submit(case_id=case.pk, grade=5, channel="web", actor=None)  # e.g. on the provincial app
    page = client.get(f"/evaluations/e/{_token(case)}/")
    assert page.status_code == 200 and "可以追评一次" in page.content.decode()


def test_api_link_route_accepts_the_additional(client, completed_case):
    from bianmin.evaluations import conf
    from bianmin.evaluations.models import Evaluation

    case = completed_case()
    url = f"/api/v1/evaluations/link/{_token(case)}"
    post = lambda body: client.post(url, json.dumps(body), content_type="application/json")  # noqa: E731
    early = post({"grade": 5, "kind": "additional"})
    assert early.status_code == 409 and "尚未评价" in early.json()["message"]
    assert post({"grade": 4}).status_code == 201
    used = post({"grade": 5})  # without kind: a first evaluation, refused on a used link as before
    assert used.status_code == 410 and used.json()["code"] == "link_gone"
    no_reason = post({"grade": 1, "kind": "additional"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reasons"
    body = {"grade": 3, "kind": "additional", "text": "补充：等候时间偏长", "idempotency_key": "api-add-1"}
    made = post(body)
    assert made.status_code == 201 and made.json()["kind"] == "additional" and made.json()["channel"] == "web"
    replay = post(body)
    assert replay.status_code == 200 and replay.json()["id"] == made.json()["id"] and replay.json()["replayed"]
    second = post({"grade": 5, "kind": "additional", "text": "再来一次"})
    assert second.status_code == 409 and "只能追评一次" in second.json()["message"]
    assert Evaluation.objects.filter(case=case).count() == 2
    # after the period, through the API too
    other = completed_case()
    other_url = f"/api/v1/evaluations/link/{_token(other)}"
    client.post(other_url, json.dumps({"grade": 5}), content_type="application/json")
    Evaluation.objects.filter(case=other).update(
        evaluated_at=timezone.now() - timedelta(days=conf.additional_period_days(), minutes=1))
    late = client.post(other_url, json.dumps({"grade": 5, "kind": "additional"}), content_type="application/json")
    assert late.status_code == 410 and late.json()["code"] == "link_gone" and "追评期已过" in late.json()["message"]
    forged = client.post("/api/v1/evaluations/link/0", json.dumps({"grade": 5, "kind": "additional"}),
                         content_type="application/json")
    assert forged.status_code == 400 and forged.json()["code"] == "link_invalid"


def test_bad_additional_opens_a_handling_marked_as_additional(client, login, evaluated, make_user,
                                                              django_capture_on_commit_callbacks):
    from conftest import GUDONG

    from bianmin.followups.models import BadReviewHandling

    case, url = evaluated
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"kind": "additional", "grade": "1", "reasons": ["not_done"], "text": "结果有误"})
    h = BadReviewHandling.objects.get(case=case)
    assert h.evaluation.kind == "additional"
    login(make_user("center_manager", GUDONG, username="gd_mgr_add"))
    assert "追评：" in client.get(f"/followups/handling/{h.pk}/").content.decode()
