"""Routes of the catalog in the scope matrix. Guides, site lists and search are public; standard
items (shared elements) are the city's (catalog.edit); implementation lists and stationing at a
site are scoped to the site's area (stationing.edit: center managers and district admins)."""

from __future__ import annotations

import itertools

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap

from . import CITY, GUDONG, Capability, Public, Req, Scoped, Staff

_n = itertools.count(1)
MANAGER = Role.CENTER_MANAGER


def _dept(w, area_code=CITY):
    from bianmin.catalog.models import Department

    dept, _ = Department.objects.get_or_create(code=f"M-CAT-D-{area_code}", defaults={
        "name": "矩阵民政局", "category": "民政", "area": w.areas[area_code]})
    return dept


def _standard(w):
    from bianmin.catalog.services import standard_item_create

    n = next(_n)
    return standard_item_create(actor=None, code=f"M-CAT-{n:05d}", name=f"矩阵目录事项{n}", item_type="benefit",
                                competent_department=_dept(w), implementing_body="街道办事处", legal_limit_days=20,
                                materials=[{"name": "居民身份证", "trust_level": "A"}])


def _item(w):
    from bianmin.catalog.services import item_create

    site = w.site(GUDONG)
    return item_create(actor=None, standard_item=_standard(w), area=site.area, site=site, promised_limit_days=10)


def _published(w):
    from bianmin.catalog.services import item_publish

    item = _item(w)
    item_publish(actor=None, item=item)
    return item


def _stationing(w):
    from bianmin.catalog.services import department_create, stationing_create

    n = next(_n)
    dept = department_create(actor=None, code=f"M-CAT-S-{n}", name=f"矩阵部门{n}", category="司法", area=w.areas[CITY])
    return stationing_create(actor=None, department=dept, site=w.site(GUDONG))


def _new_item_req(w):
    return Req("/api/v1/catalog/items", method="post", json=True,
               data={"code": _standard(w).code, "site_code": w.site(GUDONG).code, "promised_limit_days": 5})


def _new_stationing_req(w):
    from bianmin.catalog.services import department_create

    n = next(_n)
    dept = department_create(actor=None, code=f"M-CAT-N-{n}", name=f"矩阵新部门{n}", category="残联", area=w.areas[CITY])
    return Req("/api/v1/catalog/stationings", method="post", json=True,
               data={"department_code": dept.code, "site_code": w.site(GUDONG).code})


def _import_req(w):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    from bianmin.catalog.xlsx import HEADERS

    dept = _dept(w)
    wb = Workbook()
    wb.active.append(HEADERS)
    n = next(_n)
    wb.active.append([f"M-IMP-{n}", f"导入事项{n}", "", "公共服务", "主项", "", "", dept.code, "街道办事处", "", "", "", "",
                      "", 5, "不收费", "", "否", "是", "乡镇", "居民身份证:A"])
    buf = io.BytesIO()
    wb.save(buf)
    return Req("/api/v1/catalog/import", method="post", data={"file": SimpleUploadedFile("m.xlsx", buf.getvalue())})


def _import_job(w):
    from bianmin.catalog.xlsx import import_job_create

    req = _import_req(w)
    return import_job_create(actor=w.principal("city"), upload=req.data["file"], run_now=True)


ROUTES = [
    # public guides and search
    Public("api:guides_search", make=lambda w: "/api/v1/guides/search?q=%E4%BD%8E%E4%BF%9D"),
    Public("api:guides_site_list", make=lambda w: f"/api/v1/guides/sites/{_item(w).site.code}"),
    Public("api:guides_site_export", make=lambda w: f"/api/v1/guides/sites/{_item(w).site.code}/export"),
    Public("api:guide_detail", make=lambda w: f"/api/v1/guides/{_item(w).implementation_code}"),
    Public("api:guide_versions", make=lambda w: f"/api/v1/guides/{_published(w).implementation_code}/versions"),
    Public("api:guide_compare", make=lambda w: f"/api/v1/guides/{_published(w).implementation_code}/compare?a=1"),
    Public("catalog:search", make=lambda w: "/catalog/?q=%E4%BD%8E%E4%BF%9D"),
    Public("catalog:guide", make=lambda w: f"/catalog/guide/{_item(w).implementation_code}/"),
    Public("catalog:guide-compare", make=lambda w: f"/catalog/guide/{_published(w).implementation_code}/compare/?a=1"),
    Public("catalog:site-list", make=lambda w: f"/catalog/site/{_item(w).site.code}/"),
    # the city's shared catalog
    Capability("api:standard_item_create", cap=Cap.CATALOG_EDIT, ok=(201,), denied=(403, 404),
               make=lambda w: Req("/api/v1/catalog/standard-items", method="post", json=True, data={
                   "code": f"M-NEW-{next(_n)}", "name": "矩阵新事项", "item_type": "benefit",
                   "department_code": _dept(w).code, "implementing_body": "街道办事处", "legal_limit_days": 5})),
    Capability("api:standard_item_update", cap=Cap.CATALOG_EDIT, denied=(403, 404),
               make=lambda w: Req(f"/api/v1/catalog/standard-items/{_standard(w).code}", method="patch", json=True,
                                  data={"changes": {"fee": "工本费1元"}})),
    Capability("api:mapping_create", cap=Cap.CATALOG_EDIT, ok=(201,), denied=(403, 404),
               make=lambda w: Req("/api/v1/catalog/mappings", method="post", json=True, data={
                   "system": "provincial_hall", "external_code": f"M-MAP-{next(_n)}", "code": _standard(w).code})),
    Capability("api:catalog_import", cap=Cap.CATALOG_EDIT, ok=(202,), denied=(403, 404), make=_import_req),
    # an import job is the city's: anyone else is told it does not exist
    Capability("api:catalog_import_job", cap=Cap.CATALOG_EDIT, denied=(404,),
               make=lambda w: f"/api/v1/catalog/import-jobs/{_import_job(w).pk}"),
    Capability("catalog:staff-import-job", cap=Cap.CATALOG_EDIT, denied=(404,),
               make=lambda w: f"/catalog/staff/import/{_import_job(w).pk}/"),
    Staff("api:catalog_export"),
    Staff("api:mapping_resolve", ok=(404,),
          make=lambda w: "/api/v1/catalog/mappings/resolve?system=provincial_hall&code=NOT-MAPPED"),
    Staff("api:items_list"),
    Staff("api:compliance"),
    Staff("catalog:staff"),
    Staff("catalog:staff-compliance"),
    Staff("catalog:staff-import"),
    Staff("catalog:staff-export"),
    # implementation lists and stationing at a site of 鼓东
    Scoped("api:item_create", role=MANAGER, ok=(201,), make=_new_item_req),
    Scoped("api:item_update", role=MANAGER, make=lambda w: Req(
        f"/api/v1/catalog/items/{_item(w).pk}", method="patch", json=True, data={"changes": {"phone": "0591-1"}})),
    Scoped("api:item_publish", role=MANAGER, ok=(201,), make=lambda w: Req(
        f"/api/v1/catalog/items/{_item(w).pk}/publish", method="post", json=True, data={"note": "矩阵"})),
    Scoped("api:stationing_create", role=MANAGER, ok=(201,), make=_new_stationing_req),
    Scoped("api:stationing_update", role=MANAGER, make=lambda w: Req(
        f"/api/v1/catalog/stationings/{_stationing(w).pk}", method="patch", json=True,
        data={"changes": {"staff_count": 2}})),
    Scoped("catalog:staff-site", role=MANAGER, make=lambda w: f"/catalog/staff/site/{w.site(GUDONG).code}/"),
    Scoped("catalog:staff-item", role=MANAGER, make=lambda w: f"/catalog/staff/item/{_item(w).pk}/"),
    Scoped("catalog:staff-stationing", role=MANAGER, ok=(302,), make=lambda w: Req(
        f"/catalog/staff/site/{w.site(GUDONG).code}/stationing/", method="post",
        data={"stationing": _stationing(w).pk, "staff_count": "3", "active": "on"})),
]
