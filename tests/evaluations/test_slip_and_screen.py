"""The completion slip (办结回执) and the window screen (窗口屏): the evaluation QR and link of a
completed case, reached from the clerk's case screen; a case not completed is refused with a
clear page (409); another township's case or window is not found (404)."""

from __future__ import annotations

from datetime import date

import pytest

from evaluations.conftest import principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_case(sites, items, clerks, calendar):
    from bianmin.cases.services import Applicant, case_accept, case_submit
    from bianmin.core.validators import make_id_number

    clerk = principal(clerks["gudong"])
    applicant = Applicant(kind="person", name="李四", id_number=make_id_number("350102", date(1985, 3, 2), 7),
                          mobile="13912340000")
    case = case_submit(actor=clerk, site=sites["gudong"], item=items["gudong"], applicant=applicant, window=sites["w1"])
    return case_accept(actor=clerk, case_id=case.pk)


def test_case_screen_of_a_completed_case_links_to_slip_and_window_screen(client, login, completed_case, clerks, sites,
                                                                          open_case):
    case = completed_case(window="w1")
    login(clerks["gudong"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/evaluations/cases/{case.pk}/slip/" in page and "打印办结回执" in page
    assert f"/evaluations/windows/{sites['w1'].pk}/screen/" in page
    still_open = client.get(f"/cases/{open_case.pk}/").content.decode()
    assert "/slip/" not in still_open and "打印办结回执" not in still_open


def test_slip_shows_qr_short_link_number_item_and_masked_applicant(client, login, completed_case, clerks):
    from bianmin.evaluations.links import short_code_display
    from bianmin.evaluations.models import EvaluationLink

    case = completed_case(name="张三丰")
    login(clerks["gudong"])
    resp = client.get(f"/evaluations/cases/{case.pk}/slip/")
    html = resp.content.decode()
    assert resp.status_code == 200 and "办结回执" in html and "<svg" in html
    code = EvaluationLink.objects.get(case=case).short_code
    # A short link to type (not the ~90-character token link), on the address the platform serves on.
    assert len(code) == 8 and f"http://127.0.0.1:8000/e/{short_code_display(code)}</p>" in html
    assert case.acceptance_number in html and "最低生活保障对象认定" in html
    assert "张**" in html and "张三丰" not in html
    assert "@page" in html and "A5" in html  # print layout
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' in html  # sized by CSS, never cropped


def test_the_short_link_leads_to_the_evaluation_page_in_any_case_with_or_without_the_dash(client, completed_case):
    from bianmin.evaluations.links import token_for

    case = completed_case()
    link = case.evaluation_link
    for typed in (link.short_code, link.short_code.lower(), f"{link.short_code[:4]}-{link.short_code[4:]}"):
        resp = client.get(f"/e/{typed}")
        assert resp.status_code == 302 and resp["Location"] == f"/evaluations/e/{token_for(link.nonce)}/?via=qr"
    page = client.get(f"/e/{link.short_code}", follow=True).content.decode()
    assert "请您评价本次服务" in page


def test_a_wrong_short_code_is_a_clear_404_and_guessing_is_limited(client, completed_case, settings):
    from bianmin.evaluations import views

    completed_case()
    resp = client.get("/e/AAAA-AAAA")
    assert resp.status_code == 404 and "未找到该评价链接" in resp.content.decode()
    assert client.get("/e/not-a-code-at-all").status_code == 404
    for _ in range(views.SHORT_MISS_LIMIT[0] - 2):
        client.get("/e/AAAA-AAAA")
    resp = client.get("/e/AAAA-AAAA")
    assert resp.status_code == 429 and "过于频繁" in resp.content.decode()


def test_a_link_made_before_short_codes_gets_one_when_its_slip_is_printed(client, login, completed_case, clerks):
    from bianmin.evaluations.models import EvaluationLink

    case = completed_case()
    EvaluationLink.objects.filter(case=case).update(short_code=None)
    login(clerks["gudong"])
    html = client.get(f"/evaluations/cases/{case.pk}/slip/").content.decode()
    code = EvaluationLink.objects.get(case=case).short_code
    assert code and f"/e/{code[:4]}-{code[4:]}" in html
    client.get(f"/evaluations/cases/{case.pk}/slip/")
    assert EvaluationLink.objects.get(case=case).short_code == code  # given once


def test_links_follow_the_public_base_url(completed_case, settings):
    from bianmin.evaluations.services import link_short_url, link_url

    settings.BIANMIN_PUBLIC_BASE_URL = "http://10.1.2.3:8131/"
    case = completed_case()
    assert link_url(case.evaluation_link).startswith("http://10.1.2.3:8131/evaluations/e/")
    assert link_short_url(case.evaluation_link).startswith("http://10.1.2.3:8131/e/")


def _screen(client, window):
    return client.get(f"/evaluations/windows/{window.pk}/screen/").content.decode()


def test_window_screen_shows_the_case_just_completed_with_a_large_qr(client, login, completed_case, clerks, sites):
    from django.utils import timezone

    login(clerks["gudong"])
    empty = client.get(f"/evaluations/windows/{sites['w2'].pk}/screen/")
    assert empty.status_code == 200 and "<svg" not in empty.content.decode() and "欢迎办理业务" in empty.content.decode()
    now = timezone.now()
    first = completed_case(window="w2", finished_at=now - timezone.timedelta(minutes=3), name="王五")
    latest = completed_case(window="w2", finished_at=now - timezone.timedelta(minutes=1), name="赵六")
    html = _screen(client, sites["w2"])
    assert "viewBox=" in html and "请扫码评价" in html and latest.acceptance_number in html
    assert first.acceptance_number not in html and "赵*" in html and "赵六" not in html
    from bianmin.core.qr import qr_svg
    from bianmin.evaluations.services import link_url

    assert qr_svg(link_url(latest.evaluation_link, via="qr"))[-200:] in html  # the QR of this case's link


def test_window_screen_never_offers_another_persons_case(client, login, completed_case, clerks, sites):
    """Issue 22.2: after the citizen evaluated, the screen fell back to a case finished the day
    before at that window, so the next person in line could evaluate a stranger's case."""
    from django.utils import timezone

    from bianmin.evaluations.services import evaluation_submit

    login(clerks["gudong"])
    yesterday = completed_case(window="w1", name="林一")  # finished yesterday, never evaluated
    html = _screen(client, sites["w1"])
    assert yesterday.acceptance_number not in html and "欢迎办理业务" in html  # too old to offer
    now = timezone.now()
    just_done = completed_case(window="w1", finished_at=now - timezone.timedelta(minutes=1), name="陈二")
    assert just_done.acceptance_number in _screen(client, sites["w1"])
    evaluation_submit(case_id=just_done.pk, grade=5, channel="qr", actor=None, link=just_done.evaluation_link)
    html = _screen(client, sites["w1"])
    assert "欢迎办理业务" in html and "<svg" not in html
    assert just_done.acceptance_number not in html and yesterday.acceptance_number not in html


def test_window_screen_is_empty_once_the_clerk_moved_on_or_after_a_while(client, login, completed_case, clerks, sites,
                                                                        settings):
    from django.utils import timezone

    from bianmin.cases.services import Applicant, case_submit
    from bianmin.catalog.models import Item
    from bianmin.core.validators import make_id_number

    login(clerks["gudong"])
    now = timezone.now()
    done = completed_case(window="w1", finished_at=now - timezone.timedelta(minutes=2))
    assert done.acceptance_number in _screen(client, sites["w1"])
    settings.BIANMIN_WINDOW_SCREEN_MINUTES = 1
    assert done.acceptance_number not in _screen(client, sites["w1"])  # shown for a short time only
    settings.BIANMIN_WINDOW_SCREEN_MINUTES = 5
    case_submit(actor=principal(clerks["gudong"]), site=sites["gudong"], item=Item.objects.get(site=sites["gudong"]),
                window=sites["w1"], applicant=Applicant(kind="person", name="下一位", mobile="13912349999",
                                                        id_number=make_id_number("350102", date(1990, 1, 1), 9)))
    html = _screen(client, sites["w1"])
    assert done.acceptance_number not in html and "欢迎办理业务" in html  # the next applicant is at the window


def test_slip_and_qr_of_a_case_not_completed_is_a_clear_409(client, login, clerks, open_case):
    login(clerks["gudong"])
    for url in (f"/evaluations/cases/{open_case.pk}/slip/", f"/evaluations/cases/{open_case.pk}/qr.svg"):
        resp = client.get(url)
        assert resp.status_code == 409 and "办件尚未办结，暂无评价二维码" in resp.content.decode()


def test_slip_and_screen_of_another_township_are_not_found(client, login, completed_case, clerks, sites):
    case = completed_case(window="w1")
    login(clerks["guxi"])
    assert client.get(f"/evaluations/cases/{case.pk}/slip/").status_code == 404
    assert client.get(f"/evaluations/windows/{sites['w1'].pk}/screen/").status_code == 404
