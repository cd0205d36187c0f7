"""A whole cycle through the pages, the forms' mistakes shown on their page, the error pages in
Chinese, the field-check pages and the settings."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import CITY, GULOU
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bianmin.inspections.models import Cycle, FieldCheck, Leader, Notice, Schedule

from .conftest import PDF, PNG


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _text(response) -> str:
    return response.content.decode()


def test_a_whole_cycle_through_the_pages(people, template, make_cases, calendar):
    make_cases("gudong", 2, completed=date(2024, 2, 5))
    inspector, district = _as(people["inspector"]), _as(people["gulou"])
    form = inspector.get("/inspections/cycles/new/")
    assert form.status_code == 200 and "新建督查周期" in _text(form)
    made = inspector.post("/inspections/cycles/new/", {
        "area": CITY, "title": "2024年第2期督查", "period_start": "2024-03-01", "period_end": "2024-04-30",
        "template_id": template.pk, "districts": [GULOU], "site_kinds": ["center"], "sites_per_district": "1",
        "cases_per_site": "1", "submit_days": "10", "notice_days": "10"})
    cycle = Cycle.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/inspections/cycles/{cycle.pk}/"
    inspector.post(f"/inspections/cycles/{cycle.pk}/", {"action": "sample"})
    ss = cycle.sites.get()
    page = _text(district.get(f"/inspections/cycles/{cycle.pk}/"))
    assert ss.site.name in page and "待送检" in page
    site_url = f"/inspections/sites/{ss.pk}/"
    assert "提交送检材料" in _text(district.get(site_url))
    district.post(site_url, {"action": "upload", "title": "场所照片", "files": SimpleUploadedFile("a.png", PNG)})
    bad = district.post(site_url, {"action": "upload", "title": "制度", "files": SimpleUploadedFile("x.txt", b"hello")},
                        follow=True)
    assert "类型不支持" in _text(bad)
    district.post(site_url, {"action": "submit"})
    review = _text(inspector.get(site_url))
    assert "完成评审并下发整改通知" in review and "事项清单及办事指南" in review
    scores = {f"score_{i.pk}": str(i.max_score) for i in template.items.all()}
    first = template.items.get(position=1)
    scores.update({f"score_{first.pk}": "8", f"remark_{first.pk}": "", "action": "finish"})
    missing = inspector.post(site_url, scores, follow=True)
    assert "请填写评审意见" in _text(missing) and not Notice.objects.exists()
    scores[f"remark_{first.pk}"] = "咨询引导区未设置"
    inspector.post(site_url, scores)
    notice = Notice.objects.get()
    page = _text(district.get(f"/inspections/notices/{notice.pk}/"))
    assert "答复整改情况" in page and "咨询引导区未设置" in page
    district.post(f"/inspections/notices/{notice.pk}/", {"action": "answer", "answer": "已设置咨询引导台",
                                                        "files": SimpleUploadedFile("after.pdf", PDF)})
    assert "验收通过" in _text(inspector.get(f"/inspections/notices/{notice.pk}/"))
    inspector.post(f"/inspections/notices/{notice.pk}/", {"action": "accept", "note": "到位"})
    notice.refresh_from_db()
    assert notice.status == Notice.Status.ACCEPTED
    assert "98.0" in _text(inspector.get(f"/inspections/cycles/{cycle.pk}/ranking/"))
    listing = _text(district.get("/inspections/notices/?status=accepted"))
    assert notice.number in listing
    xlsx = district.get("/inspections/notices/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    pdf = district.get(f"/inspections/notices/{notice.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_error_pages_are_chinese(notice, people):
    other = _as(people["taijiang"])
    r = other.get(f"/inspections/notices/{notice.pk}/")
    assert r.status_code == 404 and "未找到该记录" in _text(r)
    r = _as(people["gudong"]).post(f"/inspections/notices/{notice.pk}/",
                                   {"action": "answer", "answer": "x", "files": SimpleUploadedFile("a.pdf", PDF)})
    assert r.status_code == 403 and "由鼓楼区办理" in _text(r)
    r = _as(people["clerk"]).get("/inspections/cycles/new/")
    assert r.status_code == 403 and "督查人员" in _text(r)


def test_field_check_pages(people, sites, calendar):
    inspector = _as(people["inspector"])
    assert "登记实地查访" in _text(inspector.get("/inspections/checks/new/"))
    r = inspector.post("/inspections/checks/new/", {"method": "mystery", "site": "C-GUDONG", "at": "2026-03-10T09:30",
                                                    "place": "大厅", "summary": "暗访记录"})
    check = FieldCheck.objects.get()
    assert r.status_code == 302 and check.method == "mystery"
    url = f"/inspections/checks/{check.pk}/"
    inspector.post(url, {"action": "photo", "caption": "等候区", "files": SimpleUploadedFile("p.png", PNG)})
    inspector.post(url, {"action": "finding", "category": "daily", "description": "无人引导"})
    inspector.post(url, {"action": "finish"})
    assert _as(people["gudong"]).get(url).status_code == 404
    assert "公布暗访结果" in _text(inspector.get(url))
    inspector.post(url, {"action": "publish"})
    page = _text(_as(people["gudong"]).get(url))
    assert "无人引导" in page and "ZGTZ" in page
    photo = check.photos.get()
    assert _as(people["gudong"]).get(f"/inspections/checks/{check.pk}/photos/{photo.pk}/").status_code == 200


def test_settings_page_saves_versions_schedules_and_leaders(people, areas):
    inspector = _as(people["inspector"])
    page = _text(inspector.get("/inspections/settings/"))
    assert "center-standard" in page and "场所建设|" in page
    from bianmin.inspections.defaults import DEFAULT_ITEMS
    from bianmin.inspections.models import Category

    labels = dict(Category.choices)
    lines = "\n".join(f"{labels[i['category']]}|{i['text']}|{i['max_score']}" for i in DEFAULT_ITEMS)
    inspector.post("/inspections/settings/", {"action": "template", "area": CITY, "code": "center-standard",
                                              "name": "督查评分表", "items": lines})
    bad = inspector.post("/inspections/settings/", {"action": "template", "area": CITY, "code": "center-standard",
                                                    "name": "督查评分表", "items": "只有一列"}, follow=True)
    assert "格式应为" in _text(bad)
    inspector.post("/inspections/settings/", {"action": "schedule", "area": CITY, "template_code": "center-standard",
                                              "period_months": "2", "active": "1", "site_kinds": ["center"]})
    inspector.post("/inspections/settings/", {"action": "leader", "leader_area": GULOU, "name": "王五",
                                              "title": "分管副区长", "mobile": "13900001111"})
    assert Schedule.objects.get().period_months == 2
    leader = Leader.objects.get()
    assert leader.area.code == GULOU
    assert "139****1111" in _text(inspector.get("/inspections/settings/"))
    r = _as(people["taijiang"]).post("/inspections/settings/", {"action": "leader-remove", "leader_id": leader.pk})
    assert r.status_code == 404 and Leader.objects.get().active  # 台江 cannot reach 鼓楼's list


def test_the_inbox_marks_read(notice, people):
    district = _as(people["gulou"])
    page = _text(district.get("/inspections/inbox/"))
    assert notice.number in page and "标为已读" in page
    from bianmin.inspections.models import Notification

    note = Notification.objects.get(dedupe_key=f"notice:{notice.pk}")
    r = district.post("/inspections/inbox/", {"notification_id": note.pk})
    assert r.status_code == 302 and r["Location"] == f"/inspections/notices/{notice.pk}/"
    assert note.reads.filter(user=people["gulou"]).exists()


@pytest.mark.parametrize("path", ["/inspections/", "/inspections/notices/", "/inspections/checks/",
                                  "/inspections/findings/", "/inspections/assessment/", "/inspections/inbox/"])
def test_empty_lists_say_so(path, people):
    r = _as(people["gudong"]).get(path)
    assert r.status_code == 200 and ("暂无" in _text(r) or "没有" in _text(r) or "尚未" in _text(r))
