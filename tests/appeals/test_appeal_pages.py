"""Pages as an owner, a manager and a citizen would use them."""

import re

import pytest
from conftest import GUDONG

from bianmin.appeals.models import Appeal, Status


def test_owner_sees_my_appeals_with_deadlines(client, login, register, clerk):
    appeal = register(clerk, title="<script>alert('x')</script>")
    page = login(clerk).get("/appeals/")
    html = page.content.decode()
    assert page.status_code == 200 and "我负责的诉求" in html and appeal.number in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_owner_works_an_appeal_through_the_detail_page(client, login, register, clerk):
    appeal = register(clerk)
    c = login(clerk)
    url = f"/appeals/{appeal.number}/"
    page = c.get(url).content.decode()
    assert "事前电话沟通" in page and "138****5678" in page and "13812345678" not in page
    assert c.post(url, {"action": "contact", "text": "已电话联系张先生"}).status_code == 302
    assert c.post(url, {"action": "note", "text": "协调社保所增开窗口"}).status_code == 302
    assert c.post(url, {"action": "reply", "text": "已增开两个社保窗口"}).status_code == 302
    appeal.refresh_from_db()
    assert appeal.status == Status.REPLIED
    bad = c.post(url, {"action": "reply", "text": "再答复一次"}, follow=True).content.decode()
    assert "不能变更为" in bad


def test_other_township_gets_404(client, login, register, clerk, guxi_clerk):
    appeal = register(clerk)
    assert login(guxi_clerk).get(f"/appeals/{appeal.number}/").status_code == 404


def test_staff_entry_registers_with_first_receiver(client, login, clerk):
    c = login(clerk)
    assert "登记诉求" in c.get("/appeals/new/").content.decode()
    response = c.post("/appeals/new/", {"channel": "reception", "kind": "help", "area": GUDONG, "title": "老人办证求助",
                                        "content": "行动不便，希望上门办理", "party_type": "person", "name": "陈大爷",
                                        "mobile": "13911112222"})
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.channel == "reception" and appeal.first_receiver == clerk
    bad = c.post("/appeals/new/", {"channel": "reception", "kind": "help", "area": GUDONG, "title": "x", "content": "y",
                                   "party_type": "anonymous"}, follow=True)
    assert "只有举报和建议可以匿名提出" in bad.content.decode() and Appeal.objects.count() == 1


def test_manager_filters_overdue_and_escalated(client, login, register, clerk, manager):
    import datetime as dt

    late = register(clerk, title="超期的诉求")
    Appeal.objects.filter(pk=late.pk).update(due_date=dt.date(2020, 1, 1))
    register(clerk, title="正常的诉求")
    html = login(manager).get("/appeals/manage/?overdue=1").content.decode()
    assert "超期的诉求" in html and "正常的诉求" not in html and "已超期" in html


def _answer(html):
    a, b = map(int, re.search(r"验证：(\d+) \+ (\d+) = \?", html).groups())
    return str(a + b)


def test_citizen_submits_and_tracks(client, areas, register, clerk):
    form = client.get("/appeals/submit/").content.decode()
    assert "我要反映诉求" in form
    response = client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "<b>窗口</b>无人",
                                                "content": "中午窗口无人值守", "name": "刘女士", "mobile": "13566667777",
                                                "challenge": _answer(form)})
    html = response.content.decode()
    assert response.status_code == 200 and "诉求已提交" in html
    appeal = Appeal.objects.get()
    assert appeal.channel == "web" and appeal.title == "<b>窗口</b>无人"
    track = client.post("/appeals/track/", {"number": appeal.number, "phone4": "7777"})
    assert track.status_code == 200 and "&lt;b&gt;窗口&lt;/b&gt;无人" in track.content.decode()
    assert client.post("/appeals/track/", {"number": appeal.number, "phone4": "0000"}).status_code == 404


def test_track_shows_the_reply_but_not_internal_notes(client, register, clerk, as_principal):
    from bianmin.appeals.services import appeal_add_note, appeal_reply

    appeal = register(clerk)
    appeal = appeal_add_note(actor=as_principal(clerk), appeal=appeal, text="内部：该窗口人员请假")
    appeal_reply(actor=as_principal(clerk), appeal=appeal, reply="已安排错峰值守")
    html = client.post("/appeals/track/", {"number": appeal.number, "phone4": "5678"}).content.decode()
    assert "已安排错峰值守" in html and "该窗口人员请假" not in html and "鼓东窗口" not in html


def test_wrong_challenge_is_refused(client, areas):
    client.get("/appeals/submit/")
    response = client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "t", "content": "c",
                                                "name": "刘", "mobile": "13566667777", "challenge": "99"})
    assert response.status_code == 422 and "验证题" in response.content.decode()
    assert not Appeal.objects.exists()


def _submit(client, **fields):
    form = client.get("/appeals/submit/").content.decode()
    data = {"kind": "complaint", "area": GUDONG, "title": "窗口无人", "content": "中午窗口无人值守", "name": "刘女士",
            "mobile": "13566667777", "challenge": _answer(form)}
    data.update(fields)
    return client.post("/appeals/submit/", data, **({"REMOTE_ADDR": fields.pop("ip")} if "ip" in fields else {}))


def _field_errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error">([^<]+)</p>', html)


def test_the_last_four_digits_go_in_a_post_never_in_the_url(client, register, clerk):
    """Issue 22.8: the tracking took the phone's last four digits in the query string."""
    appeal = register(clerk)
    page = client.get(f"/appeals/track/?number={appeal.number}&phone4=5678")
    html = page.content.decode()
    assert page.status_code == 200 and 'method="post"' in html and appeal.title not in html  # not looked up
    assert f'value="{appeal.number}"' in html and "5678" not in html
    assert appeal.title in client.post("/appeals/track/", {"number": appeal.number, "phone4": "5678"}).content.decode()


def test_every_bad_field_is_named_next_to_it_at_once_and_nothing_is_stored(client, areas):
    """Issue 22.4: a 200-character name was a 500; errors came one at a time."""
    response = _submit(client, title="", name="长" * 200, mobile="123", challenge="99")
    html = response.content.decode()
    assert response.status_code == 422 and "系统繁忙" not in html
    errors = _field_errors(html)
    assert "验证题答案不正确，请重新计算" in errors and "请填写诉求标题" in errors
    assert any("姓名不能超过 50 个字" in e for e in errors) and any("手机" in e for e in errors)
    assert not Appeal.objects.exists()


def test_an_over_long_appeal_is_refused_with_a_message_not_cut(client, areas):
    """Issue 22.4: a 200,000-character appeal was accepted; a 300-character title cut to 200."""
    response = _submit(client, content="很" * 200_000, title="题" * 300)
    errors = _field_errors(response.content.decode())
    assert response.status_code == 422
    assert "诉求内容不能超过 5000 个字（现有 200000 个字）" in errors and "标题不能超过 200 个字（现有 300 个字）" in errors
    assert not Appeal.objects.exists()


def test_the_township_choice_is_grouped_by_district(client, areas):
    html = client.get("/appeals/submit/").content.decode()
    assert '<optgroup label="鼓楼区">' in html
    group = html.split('<optgroup label="鼓楼区">', 1)[1].split("</optgroup>", 1)[0]
    assert f'value="{GUDONG}"' in group and "鼓楼区（不确定具体乡镇、街道）" in group


def test_only_accepted_submissions_count_and_the_message_says_when_to_retry(client, areas, settings):
    from bianmin.appeals import views

    limit = views.SUBMIT_LIMIT[0]
    for _ in range(limit + 3):  # mistakes (a wrong answer) cost nothing
        assert _submit(client, challenge="99").status_code == 422
    for i in range(limit):
        assert _submit(client, mobile=f"1356666{i:04d}").status_code == 200
    refused = _submit(client, mobile="13511112222")
    html = refused.content.decode()
    assert refused.status_code == 429 and re.search(r"提交过于频繁，请\d+(秒|分钟)后再试", html)
    assert Appeal.objects.count() == limit


def test_behind_a_trusted_proxy_each_real_client_has_its_own_limit(client, areas, settings):
    from bianmin.appeals import views

    settings.BIANMIN_TRUSTED_PROXIES = "10.0.0.0/24"
    limit = views.SUBMIT_LIMIT[0]

    def via_proxy(client_ip, mobile):
        form = client.get("/appeals/submit/").content.decode()
        return client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "t", "content": "c",
                                                "name": "刘", "mobile": mobile, "challenge": _answer(form)},
                           REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=f"{client_ip}, 10.0.0.7")

    for i in range(limit):
        assert via_proxy("203.0.113.9", f"1357777{i:04d}").status_code == 200
    assert via_proxy("203.0.113.9", "13577779999").status_code == 429
    assert via_proxy("198.51.100.4", "13588880000").status_code == 200  # another citizen, same proxy


def test_one_phone_is_limited_across_addresses(client, areas):
    from bianmin.appeals import views

    for i in range(views.SUBMIT_PHONE_LIMIT[0]):
        form = client.get("/appeals/submit/").content.decode()
        assert client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "t", "content": "c",
                                                "name": "刘", "mobile": "13599990000", "challenge": _answer(form)},
                           REMOTE_ADDR=f"192.0.2.{i + 1}").status_code == 200
    form = client.get("/appeals/submit/").content.decode()
    refused = client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "t", "content": "c",
                                               "name": "刘", "mobile": "13599990000", "challenge": _answer(form)},
                          REMOTE_ADDR="192.0.2.200")
    assert refused.status_code == 429 and "后再试" in refused.content.decode()


def test_submission_is_rate_limited(client, areas):
    from bianmin.appeals.views import SUBMIT_LIMIT

    for _ in range(SUBMIT_LIMIT[0]):
        form = client.get("/appeals/submit/").content.decode()
        client.post("/appeals/submit/", {"kind": "suggestion", "area": GUDONG, "title": "建议", "content": "多设座椅",
                                         "anonymous": "1", "challenge": _answer(form)})
    form = client.get("/appeals/submit/").content.decode()
    response = client.post("/appeals/submit/", {"kind": "suggestion", "area": GUDONG, "title": "建议", "content": "再来",
                                                "anonymous": "1", "challenge": _answer(form)})
    assert response.status_code == 429 and "频繁" in response.content.decode()
    assert Appeal.objects.count() == SUBMIT_LIMIT[0]


@pytest.mark.parametrize("url", ["/appeals/analysis/", "/appeals/kpi/", "/appeals/import/", "/appeals/manage/"])
def test_manager_pages_render(client, login, register, clerk, manager, url):
    register(clerk)
    page = login(manager).get(url)
    assert page.status_code == 200


def test_attachments_download_within_scope(client, login, register, clerk, guxi_clerk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.core.errors import UnsupportedType

    png = b"\x89PNG\r\n\x1a\n data"
    appeal = register(clerk, attachments=[SimpleUploadedFile("现场.png", png, content_type="image/png")])
    url = f"/appeals/{appeal.number}/attachments/{appeal.attachments.get().pk}/"
    assert url in login(clerk).get(f"/appeals/{appeal.number}/").content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == png
    assert "attachment" in response["Content-Disposition"]
    client.logout()
    assert login(guxi_clerk).get(url).status_code == 404
    with pytest.raises(UnsupportedType):
        register(clerk, attachments=[SimpleUploadedFile("a.html", b"<script>", content_type="text/html")])


def test_attachments_are_typed_by_content_not_by_the_client(register, clerk):
    """The client's declared type was trusted: an HTML page declared image/png was stored and
    served as one. The platform's upload policy types a file by its first bytes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.appeals.models import Appeal
    from bianmin.core.errors import UnsupportedType

    with pytest.raises(UnsupportedType) as refused:
        register(clerk, attachments=[SimpleUploadedFile("现场.png", b"<html><script>alert(1)</script>",
                                                        content_type="image/png")])
    assert refused.value.status == 415 and "按文件内容识别" in refused.value.message
    assert not Appeal.objects.exists()
    pdf = SimpleUploadedFile("..\\..\\证明\x07.pdf", b"%PDF-1.4 x", content_type="application/octet-stream")
    stored = register(clerk, attachments=[pdf]).attachments.get()
    assert (stored.name, stored.content_type) == ("证明.pdf", "application/pdf")
