"""A whole cycle through the API — create, draw, submit, review, notice, answer, accept, score —
and its bad input: Chinese messages with the right status, nothing half-written."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import CITY, GULOU, TAIJIANG
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bianmin.inspections.models import Cycle, Material, Notice, NoticeEvidence

from .conftest import PDF, PNG


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _post(c, url, **data):
    return c.post(url, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def api_cycle(people, template, make_cases, calendar):
    """A city cycle made and drawn through the API (the period lies before today wherever this runs)."""
    make_cases("gudong", 3, completed=date(2024, 2, 5))
    make_cases("taijiang", 2, completed=date(2024, 2, 6))
    c = _client(people["inspector"])
    made = _post(c, "/api/v1/inspections/cycles", area_code=CITY, title="2024年第2期督查", period_start="2024-03-01",
                 period_end="2024-04-30", template_id=template.pk, districts=[GULOU, TAIJIANG], site_kinds=["center"],
                 sites_per_district=1, cases_per_site=2, seed=42)
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "planned" and body["template_version"] == 1 and body["sites"] == []
    drawn = _post(c, f"/api/v1/inspections/cycles/{body['id']}/sample")
    assert drawn.status_code == 200
    return drawn.json()


def test_a_whole_cycle_through_the_api(api_cycle, people, template):
    inspector, district = _client(people["inspector"]), _client(people["gulou"])
    site = next(s for s in api_cycle["sites"] if s["district_code"] == GULOU)
    assert site["site_code"] == "C-GUDONG" and len(site["case_numbers"]) == 2
    assert api_cycle["rule"]["case_id_max"] > 0 and len(api_cycle["sample_digest"]) == 64
    url = f"/api/v1/inspections/sites/{site['id']}"
    up = district.post(f"{url}/materials", {"title": "场所照片", "files": SimpleUploadedFile("hall.png", PNG)})
    assert up.status_code == 201
    sub = _post(district, f"{url}/submit")
    assert sub.status_code == 200 and sub.json()["status"] == "submitted"
    kinds = sorted(m["kind"] for m in sub.json()["materials"])
    assert kinds == ["compliance", "dossier", "dossier", "item_list", "upload"]
    dossier = next(m for m in sub.json()["materials"] if m["kind"] == "dossier")
    got = inspector.get(dossier["url"])
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    items = {i.position: i for i in template.items.all()}
    scores = [{"item_id": i.pk, "score": str(i.max_score)} for i in items.values()]
    scores[9] = {"item_id": items[10].pk, "score": "12", "remark": "一份卷宗缺受理通知书"}
    assert _post(inspector, f"{url}/scores", scores=scores).status_code == 200
    fin = _post(inspector, f"{url}/finish")
    assert fin.status_code == 200 and fin.json()["score"] == "97.0"
    notices = district.get("/api/v1/inspections/notices").json()
    assert len(notices) == 1 and notices[0]["addressee_code"] == GULOU
    nurl = f"/api/v1/inspections/notices/{notices[0]['id']}"
    pdf = district.get(f"{nurl}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    ans = district.post(f"{nurl}/answer", {"answer": "补齐受理通知书", "files": SimpleUploadedFile("fix.pdf", PDF)})
    assert ans.status_code == 200 and ans.json()["status"] == "answered"
    dec = _post(inspector, f"{nurl}/decision", accept=True, note="通过")
    assert dec.status_code == 200 and dec.json()["status"] == "accepted" and dec.json()["on_time"] is True
    assert [e["kind"] for e in dec.json()["events"]] == ["issued", "answered", "accepted"]
    ranking = inspector.get(f"/api/v1/inspections/cycles/{api_cycle['id']}/scores").json()
    assert [(r["level"], r["area_code"], r["score"]) for r in ranking] == [("district", GULOU, "97.0"),
                                                                          ("site", "350102001000", "97.0")]


def test_bad_uploads_and_states_get_chinese_errors(api_cycle, people, settings):
    district = _client(people["gulou"])
    site = next(s for s in api_cycle["sites"] if s["district_code"] == GULOU)
    url = f"/api/v1/inspections/sites/{site['id']}/materials"
    r = district.post(url, {"title": "制度", "files": SimpleUploadedFile("x.docx", b"PK\x03\x04word")})
    assert r.status_code == 415 and "类型不支持" in r.json()["message"] and r.json()["field"] == "files"
    settings.BIANMIN_CASE_FILE_MAX_BYTES = 16
    r = district.post(url, {"title": "制度", "files": SimpleUploadedFile("big.pdf", PDF)})
    assert r.status_code == 413 and "过大" in r.json()["message"]
    assert not Material.objects.exists()
    r = _post(_client(people["inspector"]), f"/api/v1/inspections/sites/{site['id']}/finish")
    assert r.status_code == 409 and "已送检" in r.json()["message"]
    r = _post(_client(people["inspector"]), f"/api/v1/inspections/cycles/{api_cycle['id']}/sample")
    assert r.status_code == 409 and r.json()["message"] == "本周期已抽样，样本不能重抽"


def test_out_of_scope_is_404_and_in_scope_without_the_right_403(api_cycle, people):
    site = next(s for s in api_cycle["sites"] if s["district_code"] == GULOU)
    url = f"/api/v1/inspections/sites/{site['id']}"
    assert _client(people["taijiang"]).get(url).status_code == 404
    r = _post(_client(people["gudong"]), f"{url}/submit")
    assert r.status_code == 403 and r.json()["message"] == "送检材料由鼓楼区办理"
    r = _post(_client(people["gulou_inspector"]), f"{url}/scores", scores=[])
    assert r.status_code == 403 and "福州市的督查人员" in r.json()["message"]
    r = _post(_client(people["gulou"]), "/api/v1/inspections/cycles", area_code=CITY, title="x",
              period_start="2024-03-01", period_end="2024-04-30", template_id=1, districts=[GULOU])
    assert r.status_code == 404 and Cycle.objects.count() == 1


def test_a_second_answer_is_refused(notice, people):
    district = _client(people["gulou"])
    url = f"/api/v1/inspections/notices/{notice.pk}/answer"
    first = district.post(url, {"answer": "已整改", "files": SimpleUploadedFile("a.pdf", PDF)})
    second = district.post(url, {"answer": "再答一次", "files": SimpleUploadedFile("b.pdf", PDF + b"b")})
    assert first.status_code == 200 and second.status_code == 409
    assert second.json()["message"] == "该整改通知已答复，正在等待验收"
    assert NoticeEvidence.objects.count() == 1 and Notice.objects.get().answer == "已整改"


def test_validation_errors_are_422_in_chinese(people, template):
    r = _post(_client(people["inspector"]), "/api/v1/inspections/cycles", area_code=CITY, title="x",
              period_start="2024-05-01", period_end="2024-04-30", template_id=template.pk, districts=[GULOU])
    assert r.status_code == 422 and r.json()["message"] == "周期结束日期不能早于开始日期"
    r = _post(_client(people["inspector"]), "/api/v1/inspections/cycles", area_code=CITY, title="x",
              period_start="2024-05-01", period_end="2024-06-30", template_id=template.pk, districts=[GULOU],
              sites_per_district=99)
    assert r.status_code == 422 and r.json()["field"] == "sites_per_district"
    r = _post(_client(people["inspector"]), "/api/v1/inspections/assessments/2024/compute?area_code=" + CITY,
              weights={"inspection": 10})
    assert r.status_code == 422 and "之和应为 100" in r.json()["message"]
