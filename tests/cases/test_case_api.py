"""The staff API and the intake API for outside systems (API keys scoped to sites)."""

from __future__ import annotations

import io
import secrets
import zipfile
from datetime import date

import pytest

from bianmin.cases.models import Case, CaseEvent
from bianmin.core.models import AuditEntry
from bianmin.core.validators import make_credit_code, make_id_number

ID = make_id_number("350102", date(1985, 7, 9), 31)


def _key(area, *, site=None, scopes=("cases.intake",), name="省网上办事大厅"):
    from bianmin.accounts.models import ApiKey

    raw = secrets.token_urlsafe(32)
    ApiKey.objects.create(name=name, prefix=raw[:8], digest=ApiKey.digest_of(raw), area=area, site=site,
                          scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def hall_key(areas, sites, calendar, catalog):
    return _key(sites["gudong"].area, site=sites["gudong"])


def _intake(**over):
    body = {"site_code": "C-GUDONG", "item_code": "350100000001", "applicant_kind": "person",
            "applicant_name": "陈七", "id_number": ID, "mobile": "13700001111", "summary": "申请低保"}
    body.update(over)
    return body


def test_intake_is_idempotent(client, hall_key):
    first = client.put("/api/v1/intake/cases/WS-2026-0001", _intake(), content_type="application/json", **hall_key)
    again = client.put("/api/v1/intake/cases/WS-2026-0001", _intake(), content_type="application/json", **hall_key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert Case.objects.count() == 1
    case = Case.objects.get()
    assert (case.channel, case.external_id, case.visit_count) == ("api", "WS-2026-0001", 0)
    assert CaseEvent.objects.filter(case=case).count() == 1
    body = first.json()
    assert body["applicant"]["mobile"] == "137****1111" and "*" in body["applicant"]["id_number"]
    assert body["applicant"]["name"] == "陈*"


def test_intake_updates_while_submitted_then_409_once_accepted(client, hall_key, clerk):
    from bianmin.cases.services import case_accept

    from .conftest import principal

    client.put("/api/v1/intake/cases/X1", _intake(), content_type="application/json", **hall_key)
    changed = client.put("/api/v1/intake/cases/X1", _intake(mobile="13700002222"), content_type="application/json",
                         **hall_key)
    assert changed.status_code == 200 and changed.json()["applicant"]["mobile"] == "137****2222"
    case = Case.objects.get()
    case_accept(actor=principal(clerk), case_id=case.pk)
    again = client.put("/api/v1/intake/cases/X1", _intake(mobile="13700003333"), content_type="application/json",
                       **hall_key)
    assert again.status_code == 409 and "不能再修改" in again.json()["message"]
    same = client.put("/api/v1/intake/cases/X1", _intake(mobile="13700002222"), content_type="application/json",
                      **hall_key)
    assert same.status_code == 200 and same.json()["state"] == "accepted"
    got = client.get("/api/v1/intake/cases/X1", **hall_key)
    assert got.json()["acceptance_number"].startswith("C-GUDONG-")


@pytest.mark.parametrize("over,status,field", [
    ({"id_number": "350102198507090310"}, 422, "id_number"),
    ({"mobile": "1380000"}, 422, "mobile"),
    ({"applicant_kind": "enterprise", "id_number": "", "credit_code": "ABC", "contact_name": "李"}, 422, "credit_code"),
    ({"item_code": "350100000002"}, 422, "item_code"),  # classified
    ({"item_code": "350100000003"}, 422, "item_code"),  # not offered at 鼓东's center
    ({"site_code": "C-GUXI"}, 404, "site_code"),  # outside the key's site
])
def test_intake_bad_input(client, hall_key, over, status, field):
    before = (Case.objects.count(), AuditEntry.objects.count())
    r = client.put("/api/v1/intake/cases/BAD-1", _intake(**over), content_type="application/json", **hall_key)
    assert r.status_code == status, r.content
    assert r.json()["field"] == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["message"])
    assert (Case.objects.count(), AuditEntry.objects.count()) == before


def test_intake_needs_a_key_with_the_intake_scope(client, areas, sites, calendar, catalog):
    assert client.put("/api/v1/intake/cases/A", _intake(), content_type="application/json").status_code == 401
    other = _key(sites["gudong"].area, site=sites["gudong"], scopes=["evaluations.device"], name="评价器")
    r = client.put("/api/v1/intake/cases/A", _intake(), content_type="application/json", **other)
    # The device works at the site (in scope) but may not file cases: forbidden, not hidden.
    assert r.status_code == 403 and r.json()["message"] == "您的角色无权执行此操作"
    assert Case.objects.count() == 0


def test_a_key_without_the_intake_scope_does_not_read_intake_cases(client, hall_key, sites):
    """The case lookup checks the intake capability, not only that the key's site is in scope."""
    client.put("/api/v1/intake/cases/R1", _intake(), content_type="application/json", **hall_key)
    device = _key(sites["gudong"].area, site=sites["gudong"], scopes=["evaluations.device"], name="评价器")
    assert client.get("/api/v1/intake/cases/R1", **device).status_code == 404
    assert client.get("/api/v1/intake/cases/R1", **hall_key).status_code == 200


def test_intake_withdraw_and_keys_of_other_systems_do_not_see_the_case(client, hall_key, sites):
    client.put("/api/v1/intake/cases/W1", _intake(), content_type="application/json", **hall_key)
    r = client.post("/api/v1/intake/cases/W1/withdraw", {"reason": "申请人撤回"}, content_type="application/json",
                    **hall_key)
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    again = client.post("/api/v1/intake/cases/W1/withdraw", {}, content_type="application/json", **hall_key)
    assert again.status_code == 409
    guxi_key = _key(sites["guxi"].area, site=sites["guxi"], name="另一系统")
    assert client.get("/api/v1/intake/cases/W1", **guxi_key).status_code == 404


def test_openapi_documents_the_intake_api(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/intake/cases/{external_id}" in schema["paths"]
    put = schema["paths"]["/api/v1/intake/cases/{external_id}"]["put"]
    assert "幂等" in put["summary"] and put.get("security")


# --- staff API -------------------------------------------------------------------------------


@pytest.fixture
def staff(client, login, clerk, calendar, catalog, sites):
    return login(clerk)


def test_staff_creates_and_handles_a_case(staff, catalog, sites):
    r = staff.post("/api/v1/cases", {"site_id": sites["gudong"].pk, "item_id": catalog["dibao"].pk,
                                     "applicant_kind": "enterprise", "applicant_name": "福州便民科技有限公司",
                                     "credit_code": make_credit_code("350102", 3), "contact_name": "林八",
                                     "mobile": "13600001111"}, content_type="application/json")
    assert r.status_code == 201, r.content
    case_id = r.json()["id"]
    assert r.json()["actions"] == ["accept", "reject", "request_correction", "withdraw"]  # no 转办 for a local item
    assert r.json()["applicant"]["credit_code"].count("*") == 6
    assert staff.post(f"/api/v1/cases/{case_id}/start").status_code == 409
    assert staff.post(f"/api/v1/cases/{case_id}/accept").json()["state"] == "accepted"
    r = staff.post(f"/api/v1/cases/{case_id}/correction", {"materials": ["营业执照副本"]}, content_type="application/json")
    assert r.json()["state"] == "correction" and r.json()["deadline_status"] == "paused"
    assert staff.post(f"/api/v1/cases/{case_id}/correction/received").json()["state"] == "accepted"
    r = staff.post(f"/api/v1/cases/{case_id}/complete", {"result": "denied"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = staff.post(f"/api/v1/cases/{case_id}/complete", {"result": "approved"}, content_type="application/json")
    assert r.json()["state"] == "completed"
    listed = staff.get("/api/v1/cases?state=completed").json()
    assert [c["id"] for c in listed["items"]] == [case_id]


def test_staff_bad_applicant_is_422_with_the_field(staff, catalog, sites):
    r = staff.post("/api/v1/cases", {"site_id": sites["gudong"].pk, "item_id": catalog["dibao"].pk,
                                     "applicant_name": "张三", "id_number": "123", "mobile": "13800001111"},
                   content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    assert Case.objects.count() == 0


def test_staff_upload_limits_via_api(staff, catalog, sites, settings, tmp_path):
    settings.BIANMIN_CASE_FILE_MAX_BYTES = 100
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                           "OPTIONS": {"location": tmp_path}}}
    r = staff.post("/api/v1/cases", {"site_id": sites["gudong"].pk, "item_id": catalog["dibao"].pk,
                                     "applicant_name": "张三", "id_number": ID, "mobile": "13800001111"},
                   content_type="application/json")
    case_id, material_id = r.json()["id"], r.json()["materials"][0]["id"]
    url = f"/api/v1/cases/{case_id}/materials/{material_id}"
    from django.core.files.uploadedfile import SimpleUploadedFile

    big = staff.post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * 200, "application/pdf")})
    assert big.status_code == 413 and big.json()["message"].startswith("文件“a.pdf”过大")
    bad = staff.post(url, {"file": SimpleUploadedFile("a.gif", b"GIF89a" + b"0" * 10, "image/gif")})
    assert bad.status_code == 415
    ok = staff.post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 ok", "application/pdf")})
    assert ok.status_code == 200 and ok.json()["materials"][0]["received"] is True


def test_dossier_pdf_and_zip(staff, submit, clerk):
    from bianmin.cases import services
    from bianmin.cases.dossier import dossiers_zip

    from .conftest import at, principal

    case = submit(date(2026, 3, 2))
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(date(2026, 3, 2)))
    r = staff.get(f"/api/v1/cases/{case.pk}/dossier.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and b"/FontFile2" in r.content
    assert AuditEntry.objects.filter(action="export").count() == 1
    other = submit(date(2026, 3, 3))
    data = dossiers_zip([Case.objects.get(pk=case.pk), other])
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == 2 and all(n.endswith(".pdf") for n in names)


def test_staff_of_sibling_township_get_404(client, login, guxi_clerk, submit):
    case = submit(date(2026, 3, 2))
    c = login(guxi_clerk)
    assert c.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert c.post(f"/api/v1/cases/{case.pk}/accept").status_code == 404
    assert c.get(f"/api/v1/cases/{case.pk}/dossier.pdf").status_code == 404
    assert c.get("/api/v1/cases").json()["count"] == 0


def test_external_ids_belong_to_the_keys_system_and_area(client, hall_key, sites):
    """A 鼓西 key taking HALL-2026-000123 first made the number a 404 for the 鼓东 key and told
    it which numbers exist: numbers are unique per (the key's system, the key's area) now."""
    guxi_key = _key(sites["guxi"].area, site=sites["guxi"], name="鼓西 省网上办事大厅")
    guxi_case = client.put("/api/v1/intake/cases/HALL-2026-000123", _intake(site_code="C-GUXI"),
                           content_type="application/json", **guxi_key)
    assert guxi_case.status_code == 200, guxi_case.content
    assert client.get("/api/v1/intake/cases/HALL-2026-000123", **hall_key).status_code == 404
    gudong_case = client.put("/api/v1/intake/cases/HALL-2026-000123", _intake(), content_type="application/json",
                             **hall_key)
    assert gudong_case.status_code == 200 and gudong_case.json()["id"] != guxi_case.json()["id"]
    assert Case.objects.filter(external_id="HALL-2026-000123").count() == 2
    # Each key reads and withdraws its own.
    assert client.get("/api/v1/intake/cases/HALL-2026-000123", **guxi_key).json()["site_code"] == "C-GUXI"
    r = client.post("/api/v1/intake/cases/HALL-2026-000123/withdraw", {}, content_type="application/json",
                    **hall_key)
    assert r.status_code == 200 and r.json()["site_code"] == "C-GUDONG" and r.json()["state"] == "withdrawn"
    assert Case.objects.get(pk=guxi_case.json()["id"]).state == "submitted"


def test_the_source_is_the_keys_not_the_callers(client, areas, sites, calendar, catalog):
    from bianmin.accounts.models import ApiKey

    headers = _key(sites["gudong"].area, site=sites["gudong"])
    ApiKey.objects.filter(name="省网上办事大厅").update(system="fj_online_hall")
    r = client.put("/api/v1/intake/cases/S-1", {**_intake(), "source": "somebody_else"},
                   content_type="application/json", **headers)
    assert r.status_code == 200
    case = Case.objects.get()
    assert (case.external_source, case.external_area_id) == ("fj_online_hall", sites["gudong"].area_id)
    # A rotated key of the same system and area finds the case again.
    rotated = _key(sites["gudong"].area, site=sites["gudong"], name="轮换后")
    ApiKey.objects.filter(name="轮换后").update(system="fj_online_hall")
    assert client.get("/api/v1/intake/cases/S-1", **rotated).json()["id"] == case.pk


def test_staff_create_a_case_by_site_code(staff, catalog, sites):
    body = {"item_id": catalog["dibao"].pk, "applicant_name": "王五", "id_number": ID, "mobile": "13800002222"}
    r = staff.post("/api/v1/cases", {**body, "site_code": "C-GUDONG"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["site_code"] == "C-GUDONG"
    r = staff.post("/api/v1/cases", {**body, "site_code": "C-GUXI"}, content_type="application/json")
    assert r.status_code == 404 and r.json()["field"] == "site_code"
    r = staff.post("/api/v1/cases", body, content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "site_id"
    r = staff.post("/api/v1/cases", {**body, "site_id": sites["gudong"].pk, "site_code": "C-GUDONG"},
                   content_type="application/json")
    assert r.status_code == 422
    assert Case.objects.count() == 1
