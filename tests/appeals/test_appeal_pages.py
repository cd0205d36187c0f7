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
    track = client.get(f"/appeals/track/?number={appeal.number}&phone4=7777")
    assert track.status_code == 200 and "&lt;b&gt;窗口&lt;/b&gt;无人" in track.content.decode()
    assert client.get(f"/appeals/track/?number={appeal.number}&phone4=0000").status_code == 404


def test_track_shows_the_reply_but_not_internal_notes(client, register, clerk, as_principal):
    from bianmin.appeals.services import appeal_add_note, appeal_reply

    appeal = register(clerk)
    appeal = appeal_add_note(actor=as_principal(clerk), appeal=appeal, text="内部：该窗口人员请假")
    appeal_reply(actor=as_principal(clerk), appeal=appeal, reply="已安排错峰值守")
    html = client.get(f"/appeals/track/?number={appeal.number}&phone4=5678").content.decode()
    assert "已安排错峰值守" in html and "该窗口人员请假" not in html and "鼓东窗口" not in html


def test_wrong_challenge_is_refused(client, areas):
    client.get("/appeals/submit/")
    response = client.post("/appeals/submit/", {"kind": "complaint", "area": GUDONG, "title": "t", "content": "c",
                                                "name": "刘", "mobile": "13566667777", "challenge": "99"})
    assert response.status_code == 400 and "验证题" in response.content.decode()
    assert not Appeal.objects.exists()


def test_submission_is_rate_limited(client, areas):
    from bianmin.appeals.views import SUBMIT_LIMIT

    for _ in range(SUBMIT_LIMIT[0]):
        form = client.get("/appeals/submit/").content.decode()
        client.post("/appeals/submit/", {"kind": "suggestion", "area": GUDONG, "title": "建议", "content": "多设座椅",
                                         "anonymous": "1", "challenge": _answer(form)})
    form = client.get("/appeals/submit/").content.decode()
    response = client.post("/appeals/submit/", {"kind": "suggestion", "area": GUDONG, "title": "建议", "content": "再来",
                                                "anonymous": "1", "challenge": _answer(form)})
    assert response.status_code == 400 and "频繁" in response.content.decode()
    assert Appeal.objects.count() == SUBMIT_LIMIT[0]


@pytest.mark.parametrize("url", ["/appeals/analysis/", "/appeals/kpi/", "/appeals/import/", "/appeals/manage/"])
def test_manager_pages_render(client, login, register, clerk, manager, url):
    register(clerk)
    page = login(manager).get(url)
    assert page.status_code == 200


def test_attachments_download_within_scope(client, login, register, clerk, guxi_clerk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.core.errors import Invalid

    appeal = register(clerk, attachments=[SimpleUploadedFile("现场.png", b"\x89PNG data", content_type="image/png")])
    url = f"/appeals/{appeal.number}/attachments/{appeal.attachments.get().pk}/"
    assert url in login(clerk).get(f"/appeals/{appeal.number}/").content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\x89PNG data"
    assert "attachment" in response["Content-Disposition"]
    client.logout()
    assert login(guxi_clerk).get(url).status_code == 404
    with pytest.raises(Invalid):
        register(clerk, attachments=[SimpleUploadedFile("a.html", b"<script>", content_type="text/html")])
