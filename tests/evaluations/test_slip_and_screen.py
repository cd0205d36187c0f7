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
    from bianmin.evaluations.links import token_for
    from bianmin.evaluations.models import EvaluationLink

    case = completed_case(name="张三丰")
    login(clerks["gudong"])
    resp = client.get(f"/evaluations/cases/{case.pk}/slip/")
    html = resp.content.decode()
    assert resp.status_code == 200 and "办结回执" in html and "<svg" in html
    token = token_for(EvaluationLink.objects.get(case=case).nonce)
    assert f"/evaluations/e/{token}/</p>" in html  # the link printed for typing, without the query
    assert case.acceptance_number in html and "最低生活保障对象认定" in html
    assert "张**" in html and "张三丰" not in html
    assert "@page" in html and "A5" in html  # print layout
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ' in html  # sized by CSS, never cropped


def test_window_screen_shows_the_case_just_completed_with_a_large_qr(client, login, completed_case, clerks, sites):
    from bianmin.evaluations.links import token_for

    login(clerks["gudong"])
    empty = client.get(f"/evaluations/windows/{sites['w2'].pk}/screen/")
    assert empty.status_code == 200 and "<svg" not in empty.content.decode() and "欢迎办理业务" in empty.content.decode()
    first = completed_case(window="w2", complete_hour=10, name="王五")
    latest = completed_case(window="w2", complete_hour=11, name="赵六")
    html = client.get(f"/evaluations/windows/{sites['w2'].pk}/screen/").content.decode()
    assert "viewBox=" in html and "请扫码评价" in html and latest.acceptance_number in html
    assert first.acceptance_number not in html and "赵*" in html and "赵六" not in html
    assert token_for(latest.evaluation_link.nonce) in client.get(
        f"/evaluations/cases/{latest.pk}/slip/").content.decode()


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
