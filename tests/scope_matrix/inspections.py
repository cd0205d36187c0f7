"""Routes of inspections (督查) in the scope matrix. The records are made afresh in 鼓东 through
the services: a cycle that 鼓楼 runs itself (so the matrix's district admin is its reviewer and
鼓东, the level below, the respondent) with 鼓东's center drawn; field checks and notices that 鼓楼
organised; the city's assessment. Expected: the respondent (a center manager of 鼓东) submits and
answers, the district (the organiser) reviews, scores and decides — each refused the other's
part with 403 — and 鼓西 and 台江 reach nothing (404). Records the visited site may not see (an
unpublished mystery visit, an undrawn cycle) are 404 for it too."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap

from . import CITY, GUDONG, GULOU, Capability, Req, Scoped, Staff

_n = itertools.count(1)
TZ = ZoneInfo("Asia/Shanghai")
MANAGER = Role.CENTER_MANAGER
PDF = b"%PDF-1.4\n" + b"0" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _services():
    from bianmin.inspections import services

    return services


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data + str(next(_n)).encode())


def template(w):
    from bianmin.inspections.defaults import DEFAULT_ITEMS

    return _services().template_version_create(actor=w.principal("city"), area=w.areas[CITY], code="matrix",
                                               name="矩阵模板", items=DEFAULT_ITEMS[:2])


def cycle(w, *, sample: bool = True):
    services = _services()
    w.site(GUDONG)
    c = services.cycle_create(actor=w.principal("city"), area=w.areas[GULOU], title="矩阵周期",
                              period_start=date(2024, 1, 1), period_end=date(2024, 2, 29), template_id=template(w).pk,
                              district_codes=[GULOU], site_kinds=["center"], sites_per_district=50, cases_per_site=0,
                              seed=next(_n))
    if sample:
        services.cycle_sample(actor=w.principal("city"), cycle_id=c.pk, now=datetime(2024, 1, 2, 10, tzinfo=TZ))
    return c


def sampled(w, *, to: str = ""):
    services = _services()
    ss = cycle(w).sites.get(site=w.site(GUDONG))
    if to in ("submitted", "scored"):
        services.sampled_site_submit(actor=w.principal("owner", MANAGER), sampled_site_id=ss.pk)
    if to == "scored":
        services.review_score(actor=w.principal("district"), sampled_site_id=ss.pk, scores=_full(ss.cycle.template))
    return ss


def _full(template_):
    return [{"item_id": i.pk, "score": str(i.max_score), "remark": ""} for i in template_.items.all()]


def material_url(w, *, api: bool):
    ss = sampled(w)
    m = _services().material_upload(actor=w.principal("owner", MANAGER), sampled_site_id=ss.pk, title="照片",
                                    files=[("a.pdf", PDF + str(next(_n)).encode())])[0]
    return (f"/api/v1/inspections/sites/{ss.pk}/materials/{m.pk}" if api
            else f"/inspections/sites/{ss.pk}/materials/{m.pk}/")


def check(w, *, method: str = "onsite", finish: bool = False, publish: bool = False, scored: bool = False):
    services = _services()
    district = w.principal("district")
    extra = {"line": "consult", "phone_number": "0591-87000001", "answered": False} if method == "phone" \
        else {"place": "大厅", "summary": "现场检查"}
    c = services.check_create(actor=district, method=method, site=w.site(GUDONG), at=timezone.now() - timedelta(hours=1),
                              template_id=template(w).pk if scored else None, **extra)
    if method == "onsite" and (finish or publish):
        services.check_photo_add(actor=district, check_id=c.pk, files=[("p.png", PNG + str(next(_n)).encode())])
    if finish or publish:
        services.check_finding_add(actor=district, check_id=c.pk, category="daily", description="矩阵发现的问题")
        services.check_finish(actor=district, check_id=c.pk)
    if publish:
        services.check_publish(actor=district, check_id=c.pk)
    return c


def photo_url(w):
    c = check(w)
    p = _services().check_photo_add(actor=w.principal("district"), check_id=c.pk,
                                    files=[("p.png", PNG + str(next(_n)).encode())])[0]
    return f"/inspections/checks/{c.pk}/photos/{p.pk}/"


def notice(w, *, answered: bool = False):
    c = check(w, method="phone", finish=True)
    n = c.findings.get().notice
    if answered:
        _services().notice_answer(actor=w.principal("owner", MANAGER), notice_id=n.pk, answer="已整改",
                                  files=[("e.pdf", PDF + str(next(_n)).encode())])
    return n


def evidence_url(w):
    n = notice(w, answered=True)
    return f"/inspections/notices/{n.pk}/evidence/{n.evidence.get().pk}/"


def assessment_url(w):
    _services().assessment_compute(actor=w.principal("city"), area=w.areas[CITY], year=2024)
    return f"/api/v1/inspections/assessments/2024?area_code={CITY}"


def _post(url, **data):
    return Req(url, method="post", json=True, data=data)


def _form(url, **data):
    return Req(url, method="post", data=data)


INSPECTORS = ("district", "other", "city")  # who holds Cap.INSPECT among the matrix users

ROUTES = [
    # --- pages ---
    Staff("inspections:home"),
    Staff("inspections:notices"),
    Staff("inspections:checks"),
    Staff("inspections:findings"),
    Staff("inspections:assessment"),
    Staff("inspections:inbox"),
    Staff("inspections:template", make=lambda w: f"/inspections/templates/{template(w).pk}/"),
    Capability("inspections:cycle-new", cap=Cap.INSPECT, allowed=INSPECTORS),
    Capability("inspections:check-new", cap=Cap.INSPECT, allowed=INSPECTORS),
    Capability("inspections:settings", cap=Cap.INSPECT, allowed=INSPECTORS),
    Scoped("inspections:cycle", make=lambda w: f"/inspections/cycles/{cycle(w).pk}/"),
    Scoped("inspections:cycle-ranking", make=lambda w: f"/inspections/cycles/{cycle(w).pk}/ranking/"),
    Scoped("inspections:site", make=lambda w: f"/inspections/sites/{sampled(w).pk}/"),
    Scoped("inspections:material", make=lambda w: material_url(w, api=False)),
    Scoped("inspections:notice", make=lambda w: f"/inspections/notices/{notice(w).pk}/"),
    Scoped("inspections:notice-pdf", make=lambda w: f"/inspections/notices/{notice(w).pk}/pdf/"),
    Scoped("inspections:evidence", make=evidence_url),
    Scoped("inspections:check", make=lambda w: f"/inspections/checks/{check(w).pk}/"),
    Scoped("inspections:photo", make=photo_url),
    # --- API: lists and the city's records ---
    Staff("api:inspection_templates"),
    Staff("api:inspection_template", make=lambda w: f"/api/v1/inspections/templates/{template(w).pk}"),
    Staff("api:inspection_cycles"),
    Staff("api:inspection_checks"),
    Staff("api:inspection_findings"),
    Staff("api:inspection_notices"),
    Staff("api:inspection_notifications"),
    Staff("api:inspection_assessment", make=assessment_url),  # every caller sees the rows of its own scope
    Capability("api:inspection_template_create", cap=Cap.INSPECT, ok=(201,), denied=(404,), make=lambda w: _post(
        "/api/v1/inspections/templates", area_code=CITY, code=f"m{next(_n)}", name="模板",
        items=[{"category": "site", "text": "场所", "max_score": 10}])),
    Capability("api:inspection_cycle_create", cap=Cap.INSPECT, ok=(201,), denied=(404,), make=lambda w: _post(
        "/api/v1/inspections/cycles", area_code=CITY, title="市周期", period_start="2024-01-01", period_end="2024-02-29",
        template_id=template(w).pk, districts=[GULOU])),
    Capability("api:inspection_assessment_compute", cap=Cap.INSPECT, denied=(404,), make=lambda w: _post(
        f"/api/v1/inspections/assessments/2024/compute?area_code={CITY}")),
    # --- API: a cycle 鼓楼 runs, 鼓东 drawn ---
    Scoped("api:inspection_cycle", make=lambda w: f"/api/v1/inspections/cycles/{cycle(w).pk}"),
    Scoped("api:inspection_cycle_scores", make=lambda w: f"/api/v1/inspections/cycles/{cycle(w).pk}/scores"),
    # An undrawn cycle is not the site's to see yet; closing is the organiser's.
    Scoped("api:inspection_cycle_sample", ok_for=("district",), denied=(404,),
           make=lambda w: _post(f"/api/v1/inspections/cycles/{cycle(w, sample=False).pk}/sample")),
    Scoped("api:inspection_cycle_close", ok_for=("district",), denied=(404,),
           make=lambda w: _post(f"/api/v1/inspections/cycles/{cycle(w).pk}/close")),
    Scoped("api:inspection_site", make=lambda w: f"/api/v1/inspections/sites/{sampled(w).pk}"),
    Scoped("api:inspection_site_material", make=lambda w: material_url(w, api=True)),
    Scoped("api:inspection_site_prepare", role=MANAGER, ok_for=("owner",),
           make=lambda w: _post(f"/api/v1/inspections/sites/{sampled(w).pk}/prepare")),
    Scoped("api:inspection_site_upload", role=MANAGER, ok_for=("owner",), ok=(201,), make=lambda w: _form(
        f"/api/v1/inspections/sites/{sampled(w).pk}/materials", title="制度", files=_upload("r.pdf", PDF))),
    Scoped("api:inspection_site_submit", role=MANAGER, ok_for=("owner",),
           make=lambda w: _post(f"/api/v1/inspections/sites/{sampled(w).pk}/submit")),
    Scoped("api:inspection_site_score", role=MANAGER, ok_for=("district",), make=lambda w: (lambda ss: _post(
        f"/api/v1/inspections/sites/{ss.pk}/scores", scores=_full(ss.cycle.template)))(sampled(w, to="submitted"))),
    Scoped("api:inspection_site_finish", role=MANAGER, ok_for=("district",),
           make=lambda w: _post(f"/api/v1/inspections/sites/{sampled(w, to='scored').pk}/finish")),
    # --- API: field checks 鼓楼 organised at 鼓东 ---
    Scoped("api:inspection_check_create", ok_for=("district",), ok=(201,), make=lambda w: _post(
        "/api/v1/inspections/checks", method="onsite", site_code=w.site(GUDONG).code,
        at=(timezone.now() - timedelta(hours=1)).isoformat(), place="大厅")),
    Scoped("api:inspection_check", make=lambda w: f"/api/v1/inspections/checks/{check(w).pk}"),
    Scoped("api:inspection_check_photos", ok_for=("district",), ok=(201,), make=lambda w: _form(
        f"/api/v1/inspections/checks/{check(w).pk}/photos", caption="大厅", files=_upload("p.png", PNG))),
    Scoped("api:inspection_check_score", ok_for=("district",), make=lambda w: (lambda c: _post(
        f"/api/v1/inspections/checks/{c.pk}/scores", scores=_full(c.template)))(check(w, scored=True))),
    Scoped("api:inspection_check_finding", ok_for=("district",), ok=(201,), make=lambda w: _post(
        f"/api/v1/inspections/checks/{check(w).pk}/findings", category="staff", description="脱岗")),
    Scoped("api:inspection_check_finish", ok_for=("district",),
           make=lambda w: _post(f"/api/v1/inspections/checks/{check(w, method='phone').pk}/finish")),
    # A finished mystery visit is hidden from the visited site until the district publishes it.
    Scoped("api:inspection_check_publish", ok_for=("district",), denied=(404,),
           make=lambda w: _post(f"/api/v1/inspections/checks/{check(w, method='mystery', finish=True).pk}/publish")),
    # --- API: notices 鼓楼 sent to 鼓东 ---
    Scoped("api:inspection_notice", make=lambda w: f"/api/v1/inspections/notices/{notice(w).pk}"),
    Scoped("api:inspection_notice_pdf", make=lambda w: f"/api/v1/inspections/notices/{notice(w).pk}/pdf"),
    Scoped("api:inspection_notice_answer", role=MANAGER, ok_for=("owner",), make=lambda w: _form(
        f"/api/v1/inspections/notices/{notice(w).pk}/answer", answer="已整改", files=_upload("e.pdf", PDF))),
    Scoped("api:inspection_notice_decide", role=MANAGER, ok_for=("district",), make=lambda w: _post(
        f"/api/v1/inspections/notices/{notice(w, answered=True).pk}/decision", accept=True, note="通过")),
]
