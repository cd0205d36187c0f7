"""Routes of cases (办件) in the scope matrix. Each `make` creates a case afresh in 鼓东 through
the services (catalog rows for it are plain test setup)."""

from __future__ import annotations

import itertools

from bianmin.accounts.roles import Role

from . import GUDONG, KeyScoped, Public, Req, Scoped, Staff

_n = itertools.count(1)


def _item(w, site, **kw):
    from bianmin.catalog.models import Department, Item, Material, StandardItem

    n = next(_n)
    dept, _ = Department.objects.get_or_create(code="M-CASES-D", defaults={
        "name": "矩阵民政", "category": "民政", "area": w.areas[GUDONG]})
    si = StandardItem.objects.create(code=f"M-CASES-{n:05d}", name=f"矩阵事项{n}", item_type="benefit",
                                     competent_department=dept, implementing_body="街道办事处", legal_limit_days=20)
    Material.objects.create(standard_item=si, name="居民身份证", trust_level="A")
    return Item.objects.create(standard_item=si, area=site.area, site=site, promised_limit_days=10,
                               implementation_code=f"M-CASES-{n:05d}-{site.code}", **kw)


def _case(w, *, state="submitted", station=False, external_id=""):
    from datetime import date

    from bianmin.cases import services
    from bianmin.cases.services import Applicant
    from bianmin.core.validators import make_id_number

    center = w.site(GUDONG)
    if station:
        village = w.areas[GUDONG].children.order_by("code").first()
        site = w.site(village.code, kind="station")
        item = _item(w, site, mode="transfer", transfer_to_site=center)
    else:
        site, item = center, _item(w, center)
    actor = w.principal("city")
    applicant = Applicant(kind="person", name="矩阵申请人", id_number=make_id_number("350102", date(1980, 1, 1), 1),
                          mobile="13800138000")
    case = services.case_submit(actor=actor, site=site, item=item, applicant=applicant,
                                external_source="api" if external_id else "", external_id=external_id,
                                # an outside system's numbers are its own within its key's area
                                external_area_id=site.area_id if external_id else None)
    if state in ("accepted", "in_progress", "correction"):
        services.case_accept(actor=actor, case_id=case.pk)
    if state == "in_progress":
        services.case_start(actor=actor, case_id=case.pk)
    if state == "correction":
        services.case_request_correction(actor=actor, case_id=case.pk, materials=["户口簿"])
    return case


def _ext(w):
    return _case(w, external_id=f"M-EXT-{next(_n)}")


def _intake_put(w):
    center = w.site(GUDONG)
    item = _item(w, center)
    from datetime import date

    from bianmin.core.validators import make_id_number

    body = {"site_code": center.code, "item_code": item.standard_item.code, "applicant_name": "矩阵申请人",
            "id_number": make_id_number("350102", date(1980, 1, 1), 1), "mobile": "13800138000"}
    return Req(f"/api/v1/intake/cases/M-PUT-{next(_n)}", method="put", data=body, json=True)


def _detail(suffix="", **kw):
    def make(w):
        case = _case(w, **kw)
        return f"/cases/{case.pk}/{suffix}"
    return make


def _post(path, data=None, json=False, **kw):
    def make(w):
        case = _case(w, **kw)
        url = path.format(id=case.pk, m=case.materials.first().pk if case.materials.exists() else 0)
        return Req(url, method="post", data=data or {}, json=json)
    return make


CLERK = Role.WINDOW_CLERK
MANAGER = Role.CENTER_MANAGER

ROUTES = [
    # pages
    Staff("cases:queue"),
    Staff("cases:intake"),
    Staff("cases:manage"),
    Staff("cases:overdue"),
    Public("cases:track"),
    Scoped("cases:detail", make=_detail(), role=CLERK),
    Scoped("cases:dossier", make=_detail("dossier.pdf", state="accepted"), role=CLERK),
    Scoped("cases:receipt", make=_detail("receipt/", state="accepted"), role=CLERK),
    Scoped("cases:receipt-pdf", make=_detail("receipt.pdf", state="accepted"), role=CLERK),
    Scoped("cases:notice", make=_detail("notice/", state="correction"), role=CLERK),
    Scoped("cases:notice-pdf", make=_detail("notice.pdf", state="correction"), role=CLERK),
    Scoped("cases:act", make=_post("/cases/{id}/accept/"), role=CLERK, ok=(302,)),
    Scoped("cases:material", make=_post("/cases/{id}/materials/{m}/"), role=CLERK, ok=(302,)),
    Scoped("cases:unmask", make=_post("/cases/{id}/unmask/"), role=MANAGER, ok=(302,)),
    Scoped("cases:assign", make=_post("/cases/{id}/assign/"), role=MANAGER, ok=(302,)),
    Scoped("cases:dossiers-zip", make=lambda w: Req("/cases/dossiers.zip", method="post",
                                                   data={"ids": [_case(w, state="accepted").pk]}), role=CLERK),
    # staff API
    Staff("api:list_cases"),
    Staff("api:cases_multi_trip_list", make=lambda w: "/api/v1/cases/multi-trip?since=2026-01-01&until=2027-01-01"),
    Scoped("api:create_case", role=CLERK, ok=(201,), make=lambda w: Req(
        "/api/v1/cases", method="post", json=True,
        data={"site_id": w.site(GUDONG).pk, "item_id": _item(w, w.site(GUDONG)).pk, "applicant_name": "矩阵申请人",
              "id_number": "11010519491231002X", "mobile": "13800138000"})),
    Scoped("api:get_case", make=lambda w: f"/api/v1/cases/{_case(w).pk}", role=CLERK),
    Scoped("api:case_dossier", make=lambda w: f"/api/v1/cases/{_case(w).pk}/dossier.pdf", role=CLERK),
    Scoped("api:case_accept", make=_post("/api/v1/cases/{id}/accept"), role=CLERK),
    Scoped("api:case_reject", make=_post("/api/v1/cases/{id}/reject", {"reason": "不符合条件"}, True), role=CLERK),
    Scoped("api:case_request_correction", make=_post("/api/v1/cases/{id}/correction", {"materials": ["户口簿"]}, True),
           role=CLERK),
    Scoped("api:case_receive_correction", make=_post("/api/v1/cases/{id}/correction/received", state="correction"),
           role=CLERK),
    Scoped("api:case_start", make=_post("/api/v1/cases/{id}/start", state="accepted"), role=CLERK),
    Scoped("api:case_complete", make=_post("/api/v1/cases/{id}/complete", {"result": "approved"}, True,
                                           state="in_progress"), role=CLERK),
    Scoped("api:case_withdraw", make=_post("/api/v1/cases/{id}/withdraw", {}, True), role=CLERK),
    Scoped("api:case_transfer", make=_post("/api/v1/cases/{id}/transfer", {}, True, station=True), role=CLERK),
    Scoped("api:case_record_visit", make=_post("/api/v1/cases/{id}/visits", {"purpose": "补交材料"}, True), role=CLERK,
           ok=(201,)),
    Scoped("api:case_attach_material", make=_post("/api/v1/cases/{id}/materials/{m}"), role=CLERK),
    # intake API for outside systems
    KeyScoped("api:case_intake_put", make=_intake_put, scopes=["cases.intake"]),
    KeyScoped("api:case_intake_get", make=lambda w: f"/api/v1/intake/cases/{_ext(w).external_id}",
              scopes=["cases.intake"]),
    KeyScoped("api:case_intake_withdraw", make=lambda w: Req(
        f"/api/v1/intake/cases/{_ext(w).external_id}/withdraw", method="post", data={}, json=True),
        scopes=["cases.intake"]),
]
