"""The workbench pages, the manager's views and the citizen's progress check."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest

from bianmin.cases import services
from bianmin.cases.models import Case
from bianmin.core.models import AuditEntry

from .conftest import at, principal

DAY = date(2026, 3, 2)


@pytest.fixture
def accepted(submit, clerk):
    case = submit(DAY)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    return Case.objects.get(pk=case.pk)


def test_queue_lists_my_sites_cases_masked_with_filters(client, login, clerk, guxi_clerk, accepted, submit):
    c = login(clerk)
    page = c.get("/cases/")
    text = page.content.decode()
    assert page.status_code == 200 and accepted.acceptance_number in text
    assert "138****5678" in text and "13812345678" not in text and "张*" in text
    # keyboard-friendly; the script may carry collectstatic's hash when var/static was collected
    assert 'data-key="/"' in text and re.search(r"keys(\.[0-9a-f]{12})?\.js", text)
    overdue = c.get("/cases/?deadline=overdue").content.decode()
    assert accepted.acceptance_number in overdue  # due 2026-03-23, long past today
    assert accepted.acceptance_number not in c.get("/cases/?state=submitted").content.decode()
    assert accepted.acceptance_number not in login(guxi_clerk).get("/cases/").content.decode()


def test_handle_screen_walks_a_case_to_completion(client, login, clerk, submit):
    case = submit(DAY)
    c = login(clerk)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "受理" in page and 'data-key="a"' in page
    c.post(f"/cases/{case.pk}/accept/", {"accept_missing": "1"})
    c.post(f"/cases/{case.pk}/request_correction/", {"materials": "户口簿\n结婚证"})
    assert Case.objects.get(pk=case.pk).state == "correction"
    c.post(f"/cases/{case.pk}/receive_correction/")
    c.post(f"/cases/{case.pk}/start/")
    r = c.post(f"/cases/{case.pk}/complete/", {"result": "denied", "reason": "", "confirm": "1"}, follow=True)
    assert "请填写不予批准理由" in r.content.decode()
    c.post(f"/cases/{case.pk}/complete/", {"result": "approved", "confirm": "1"})
    case.refresh_from_db()
    assert case.state == "completed"
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "办结" in page and "需补正：户口簿、结婚证" in page


def test_not_allowed_action_shows_the_reason(client, login, clerk, submit):
    case = submit(DAY)
    r = login(clerk).post(f"/cases/{case.pk}/start/", follow=True)
    assert "不能开始办理" in r.content.decode()


def test_sibling_township_gets_404_on_every_page(client, login, guxi_clerk, accepted):
    c = login(guxi_clerk)
    for url in (f"/cases/{accepted.pk}/", f"/cases/{accepted.pk}/dossier.pdf"):
        assert c.get(url).status_code == 404
    assert c.post(f"/cases/{accepted.pk}/accept/").status_code == 404
    assert c.post(f"/cases/{accepted.pk}/unmask/").status_code == 404


def test_intake_page_validates_with_the_field_named(client, login, clerk, catalog, sites, calendar):
    c = login(clerk)
    form = {"site": sites["gudong"].pk, "item": catalog["dibao"].pk, "applicant_kind": "person",
            "applicant_name": "李四", "id_number": "350102198001011235", "mobile": "13800001111", "submit": "1"}
    r = c.post("/cases/new/", form)
    assert r.status_code == 422 and "身份证号码" in r.content.decode()
    assert Case.objects.count() == 0
    from bianmin.core.validators import make_id_number

    form["id_number"] = make_id_number("350102", date(1980, 1, 1), 7)
    r = c.post("/cases/new/", form)
    assert r.status_code == 302 and Case.objects.count() == 1
    options = c.get("/cases/new/").content.decode()
    assert "涉密档案查询" not in options  # classified items are never offered


def test_unmask_is_audited_and_limited_to_the_permission(client, login, clerk, manager, accepted):
    assert login(clerk).post(f"/cases/{accepted.pk}/unmask/", follow=True).status_code == 200
    assert not AuditEntry.objects.filter(action="unmask").exists()  # a clerk may not
    c = login(manager)
    page = c.post(f"/cases/{accepted.pk}/unmask/", follow=True).content.decode()
    assert "13812345678" in page and accepted.id_number in page
    assert AuditEntry.objects.filter(action="unmask", target_id=str(accepted.pk)).count() == 2
    assert "13812345678" not in c.get(f"/cases/{accepted.pk}/").content.decode()  # shown once


def test_manager_view_overdue_list_and_dossier_zip(client, login, manager, accepted):
    c = login(manager)
    page = c.get("/cases/manage/").content.decode()
    assert "鼓东街道便民服务中心" in page and "场所办件总览" in page
    assert accepted.acceptance_number in c.get("/cases/overdue/").content.decode()
    r = c.post("/cases/dossiers.zip", {"ids": [accepted.pk]})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == 1
    assert AuditEntry.objects.filter(action="export").exists()


def test_workbench_is_in_the_staff_menu(client, login, clerk):
    page = login(clerk).get("/staff/").content.decode()
    assert "我的办件队列" in page and "/cases/" in page


def test_citizen_tracks_by_number_and_last_four_digits(client, accepted):
    ok = client.post("/cases/track/", {"number": accepted.acceptance_number, "last4": "5678"}).content.decode()
    assert "已受理" in ok and "最低生活保障对象认定" in ok and "张*" in ok
    assert "13812345678" not in ok and accepted.id_number not in ok
    wrong = client.post("/cases/track/", {"number": accepted.acceptance_number, "last4": "0000"}).content.decode()
    missing = client.post("/cases/track/", {"number": "NOPE-1", "last4": "5678"}).content.decode()
    message = "未查到办件：请核对受理编号和手机号码后四位"
    assert message in wrong and message in missing
    assert "最低生活保障" not in wrong


def test_citizen_tracking_is_rate_limited(client, accepted):
    statuses = [client.post("/cases/track/", {"number": "X", "last4": "1234"}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    r = client.post("/cases/track/", {"number": accepted.acceptance_number, "last4": "5678"})
    assert r.status_code == 429 and "已受理" not in r.content.decode()
