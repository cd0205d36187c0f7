"""Catalog pages. Public (no log-in): search, guides, a site's item list, guide versions.
Staff: implementation lists and stationing within scope, the compliance report, xlsx import/export.
Thin: parse, call a selector or service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from bianmin.accounts.principals import principal_of
from bianmin.core import pagecache
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError, NotFound
from bianmin.core.validators import parse_day
from bianmin.regions.models import Area, ServiceSite, Window
from bianmin.regions.selectors import area_get, area_top_city

from . import selectors, services, xlsx
from .extensions import guide_namespaces, guide_sections
from .models import Department, Item

# ---------------------------------------------------------------------------------------------
# Public


def _not_found(request, message: str):
    return render(request, "catalog/not_found.html", {"message": message}, status=404)


def _cached(request, name: str, build, *, sections: bool = False):
    """A public page through the page cache (core/pagecache.py): it is read from the catalog and
    the regions (site names, addresses, hours) and, for guides, the sections other apps add."""
    namespaces = (pagecache.CATALOG, pagecache.REGIONS, *(guide_namespaces() if sections else ()))
    return pagecache.serve(request, key=f"catalog:{name}:{request.get_full_path()}", namespaces=namespaces,
                           build=build, personal_vary=True)


def search_page(request):
    return _cached(request, "search", lambda: _search_page(request))


def _search_page(request):
    q = (request.GET.get("q") or "").strip()
    area_code = (request.GET.get("area") or "").strip()
    context = {"q": q, "area_code": area_code, "districts": [], "error": ""}
    city = area_top_city()
    if city is not None:
        context["districts"] = list(Area.objects.filter(parent=city, level=Area.Level.DISTRICT).order_by("code"))
    if q:
        try:
            area = area_get(code=area_code) if area_code else None
            results = selectors.catalog_search(q=q, area=area, limit=30)
            found = [r.standard_item for r in results]
            where = selectors.items_of(standard_items=found, area=area, per_item=6)
            total = selectors.items_count_of(standard_items=found, area=area)
            context["results"] = [{"r": r, "where": where.get(r.standard_item.pk, []),
                                   "more": total.get(r.standard_item.pk, 0) > 6,
                                   "total": total.get(r.standard_item.pk, 0)} for r in results]
            context["fuzzy"] = any(r.fuzzy for r in results)
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "catalog/search.html", context)


def guide_page(request, code: str):
    if request.GET.get("lng") or request.GET.get("lat"):
        return _guide_page(request, code)  # a reader's own location: not worth keeping
    return _cached(request, "guide", lambda: _guide_page(request, code), sections=True)


def _guide_page(request, code: str):
    try:
        item = selectors.guide_get(code=code)
    except NotFound:
        try:
            si = selectors.standard_guide_get(code=code)
        except NotFound:
            return _not_found(request, f"没有找到编码为“{code}”的办事指南。")
        return render(request, "catalog/standard_guide.html", {"si": si, "sections": guide_sections(si),
                                                               **_places_context(request, si)})
    return render(request, "catalog/guide.html", {"item": item, "g": selectors.guide_elements(item),
                                                  "versions": list(selectors.guide_versions(item=item)[:20]),
                                                  "sections": guide_sections(item.standard_item, item.area)})


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _places_context(request, si) -> dict:
    """Where to handle the item, cut to what a reader looks at: the nearest ten when the page is
    given a location (lng, lat), one district's places when it is given a district, otherwise each
    district with its first few places and a link to the rest."""
    lng, lat = _float(request.GET.get("lng")), _float(request.GET.get("lat"))
    district = (request.GET.get("district") or "").strip()
    try:
        if lng is not None and lat is not None:
            places = selectors.standard_places(standard_item=si, lng=lng, lat=lat, limit=10)
            return {"places": places, "nearest": places.rows}
        places = selectors.standard_places(standard_item=si, district=district, limit=500)
    except DomainError:
        places = selectors.standard_places(standard_item=si, limit=500)
        district = ""
    if district:
        return {"places": places, "district": next((d for d in places.districts if d["code"] == district), None),
                "district_rows": places.rows}
    groups: dict[str, list] = {}
    for row in places.rows:
        groups.setdefault(row["district_code"], []).append(row)
    per = selectors.PLACES_PER_DISTRICT
    return {"places": places, "groups": [{"district": d, "rows": groups.get(d["code"], [])[:per],
                                          "more": d["count"] > per} for d in places.districts]}


def guide_compare_page(request, code: str):
    try:
        item = selectors.guide_get(code=code)
    except NotFound:
        return _not_found(request, f"没有找到编码为“{code}”的办事指南。")
    versions = list(selectors.guide_versions(item=item))
    context = {"item": item, "versions": versions, "diff": None, "error": ""}
    a, b = request.GET.get("a"), request.GET.get("b")
    if a:
        try:
            context["a"] = int(a)
            context["b"] = int(b) if b else None
            context["diff"] = selectors.guide_compare(item=item, a=context["a"], b=context["b"])
        except ValueError:
            context["error"] = "版本号应为整数"
        except DomainError as exc:
            context["error"] = exc.message
    return render(request, "catalog/compare.html", context)


def site_list_page(request, code: str):
    return _cached(request, "site", lambda: _site_list_page(request, code))


def _site_list_page(request, code: str):
    try:
        site = selectors.site_public_get(code=code)
    except NotFound:
        return _not_found(request, f"没有找到编码为“{code}”的服务场所。")
    items = list(selectors.site_items(site=site))
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.standard_item.competent_department.name, []).append(it)
    return render(request, "catalog/site_list.html", {"site": site, "groups": groups, "count": len(items),
                                                      "departments": selectors.site_departments_public(site=site),
                                                      "today": timezone.localdate()})


# ---------------------------------------------------------------------------------------------
# Staff


def _staff_sites(principal):
    return selectors.sites_scoped(principal=principal, capability=Cap.STATIONING_EDIT)


@login_required
def staff_home(request):
    principal = principal_of(request)
    sites = list(_staff_sites(principal).filter(kind__in=["center", "station"])[:300])
    return render(request, "catalog/staff_home.html", {
        "sites": sites, "can_catalog": bool(principal.area_paths_for(Cap.CATALOG_EDIT))})


@login_required
def staff_site(request, code: str):
    principal = principal_of(request)
    try:
        site = selectors.site_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, code=code)
    except NotFound:
        return _not_found(request, "没有找到该服务场所，或不在您的管辖范围内。")
    items = list(selectors.items_scoped(principal=principal, capability=Cap.STATIONING_EDIT, site=site)
                 .order_by("standard_item__code"))
    stationings = list(selectors.stationings_scoped(principal=principal, capability=Cap.STATIONING_EDIT, site=site))
    stationed_ids = {s.department_id for s in stationings}
    departments = [d for d in selectors.departments_for_site(site=site) if d.pk not in stationed_ids]
    return render(request, "catalog/staff_site.html", {"site": site, "items": items, "stationings": stationings,
                                                       "departments": departments,
                                                       "windows": list(site.windows.filter(active=True))})


LOCAL_FORM_FIELDS = ("address", "phone", "complaint_phone", "hours", "promised_limit_days", "visits_needed", "notes",
                     "promise_kind", "mode", "stationed", "active", "implementing_body_name")


def _item_changes(post, item: Item) -> dict:
    changes: dict = {}
    for name in LOCAL_FORM_FIELDS:
        if name in ("stationed", "active"):
            changes[name] = post.get(name) == "on"
        elif name in ("promised_limit_days", "visits_needed"):
            raw = (post.get(name) or "").strip()
            if not raw.isdigit():
                raise DomainError(f"{'承诺办结时限' if name == 'promised_limit_days' else '到现场次数'}应为非负整数",
                                  field=name)
            changes[name] = int(raw)
        elif name in post:
            changes[name] = post.get(name, "").strip()
    window = (post.get("window") or "").strip()
    changes["window"] = Window.objects.filter(site=item.site, pk=window).first() if window.isdigit() else None
    auth = (post.get("authorized_by") or "").strip()
    changes["authorized_by"] = Department.objects.filter(pk=auth).first() if auth.isdigit() else None
    transfer = (post.get("transfer_to_site") or "").strip()
    changes["transfer_to_site"] = ServiceSite.objects.filter(pk=transfer).first() if transfer.isdigit() else None
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def staff_item_edit(request, pk: int):
    principal = principal_of(request)
    try:
        item = selectors.item_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=pk)
    except NotFound:
        return _not_found(request, "没有找到该事项，或不在您的管辖范围内。")
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "publish":
                v = services.item_publish(actor=principal, item=item, note=request.POST.get("note", "")[:300])
                messages.success(request, f"已发布第{v.number}版办事指南")
            else:
                services.item_update(actor=principal, item=item, changes=_item_changes(request.POST, item))
                messages.success(request, "已保存")
            return redirect("catalog:staff-item", pk=item.pk)
        except DomainError as exc:
            error = exc.message
        item = selectors.item_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=pk)
    site = item.site
    return render(request, "catalog/staff_item.html", {
        "item": item, "g": selectors.guide_elements(item), "error": error,
        "windows": list(site.windows.filter(active=True)) if site else [],
        "departments": list(selectors.departments_for_site(site=site)) if site else [],
        "parent_sites": _higher_sites(site) if site else [],
        "promise_kinds": Item.PromiseKind.choices, "modes": Item.Mode.choices,
        "versions": list(selectors.guide_versions(item=item)[:10]),
    }, status=422 if error else 200)


def _higher_sites(site: ServiceSite) -> list[ServiceSite]:
    out = []
    if site.parent_site_id:
        out.append(site.parent_site)
    area = site.area.parent
    while area is not None:
        out.extend(ServiceSite.objects.filter(area=area, kind="center", active=True)[:3])
        area = area.parent
    return out


@login_required
@require_http_methods(["POST"])
def staff_stationing_save(request, code: str):
    principal = principal_of(request)
    try:
        site = selectors.site_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, code=code)
    except NotFound:
        return _not_found(request, "没有找到该服务场所，或不在您的管辖范围内。")
    try:
        window_id = (request.POST.get("window") or "").strip()
        window = Window.objects.filter(site=site, pk=window_id).first() if window_id.isdigit() else None
        count_raw = (request.POST.get("staff_count") or "1").strip()
        if not count_raw.isdigit():
            raise DomainError("进驻人数应为非负整数", field="staff_count")
        since = parse_day(request.POST.get("since"), field="since")
        fields = {"window": window, "staff_count": int(count_raw), "staff_names": request.POST.get("staff_names", "").strip(),
                  "since": since, "keeps_separate_office": request.POST.get("keeps_separate_office") == "on"}
        st_id = (request.POST.get("stationing") or "").strip()
        if st_id:
            st = selectors.stationing_get_scoped(principal=principal, capability=Cap.STATIONING_EDIT, pk=int(st_id))
            fields["active"] = request.POST.get("active") == "on"
            services.stationing_update(actor=principal, stationing=st, changes=fields)
        else:
            dept_id = (request.POST.get("department") or "").strip()
            dept = next((d for d in selectors.departments_for_site(site=site) if str(d.pk) == dept_id), None)
            if dept is None:
                raise NotFound("请选择要进驻的部门", field="department")
            services.stationing_create(actor=principal, department=dept, site=site, **fields)
        messages.success(request, "进驻情况已保存")
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "输入有误"))
    return redirect("catalog:staff-site", code=site.code)


@login_required
def staff_compliance(request):
    principal = principal_of(request)
    try:
        report = selectors.compliance_for(principal=principal, area_code=request.GET.get("area") or None)
    except NotFound:
        return _not_found(request, "没有找到该区划，或不在您的管辖范围内。")
    if request.GET.get("format") == "xlsx":
        return _compliance_xlsx(report)
    return render(request, "catalog/compliance.html", {"report": report,
                                                       "problems": [s for s in report.sites if not s.compliant]})


def _compliance_xlsx(report) -> HttpResponse:
    from bianmin.core.xlsx import Sheet, books

    from .api import xlsx_response

    summary = Sheet("汇总", ["区划", "场所数", "达标场所数", "缺进驻部门（个次）", "未进驻事项（个次）", "事项进驻率（%）"],
                    [[r.area.name, r.sites, r.compliant_sites, r.missing_departments, r.missing_items, r.rate]
                     for r in [*report.districts, report.total]])
    detail = Sheet("明细", ["县（市）区", "场所编码", "场所", "类型", "未进驻的必进部门", "仍保留单独办事场所的部门",
                          "应进驻事项数", "已进驻事项数", "未进驻事项"],
                   [[s.district.name if s.district else "", s.site.code, s.site.name, s.site.get_kind_display(),
                     "、".join(s.missing_departments), "、".join(s.separate_offices), s.required_items, s.stationed_items,
                     "、".join(m.name for m in s.missing_items)] for s in report.sites])
    return xlsx_response(books(summary, detail), f"应进必进落实情况_{report.area.name}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def staff_import(request):
    """Every import runs in the background (a web worker never parses a sheet): the page queues
    it and sends the importer to the job's page, which shows progress and the result."""
    principal = principal_of(request)
    context = {"headers": xlsx.COLUMNS, "message": "",
               "jobs": selectors.catalog_imports_recent(principal=principal, limit=10)}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError("请选择要导入的 xlsx 文件", field="file")
            job = xlsx.import_job_create(actor=principal, upload=upload)
            return redirect("catalog:staff-import-job", job_id=job.pk)
        except DomainError as exc:
            context["message"], status = exc.message, exc.status
    return render(request, "catalog/import.html", context, status=status)


@login_required
def staff_import_job(request, job_id: int):
    try:
        job = selectors.catalog_import_get(principal=principal_of(request), job_id=job_id)
    except NotFound:
        return _not_found(request, "没有找到该导入任务。")
    return render(request, "catalog/import_job.html", {"job": job, "errors": job.errors[:500]})


@login_required
def staff_export(request):
    from .api import _export_qs, xlsx_response

    if request.GET.get("template"):
        return xlsx_response(xlsx.export_template(), "事项目录导入模板.xlsx")
    return xlsx_response(xlsx.export_catalog(standard_items=_export_qs()), "事项目录.xlsx")

