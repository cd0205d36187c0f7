"""Routes of appeals (诉求) and Open311 in the scope matrix. Each `make` registers an appeal afresh
in 鼓东 through the services."""

from __future__ import annotations

import itertools

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap

from . import GUDONG, Capability, KeyScoped, Public, Req, Scoped, Staff

_n = itertools.count(1)


def _appeal(w, *, replied=False, followed_up=False, public=False):
    from bianmin.appeals import services

    actor = w.principal("city")
    appeal = services.appeal_register(
        actor=actor, kind="complaint", channel="open311" if public else "phone", area=w.areas[GUDONG],
        title="矩阵诉求", content="矩阵诉求内容", name="矩阵群众", mobile="13800138000", is_public=public)
    if replied or followed_up:
        appeal = services.appeal_reply(actor=actor, appeal=appeal, reply="矩阵答复")
    if followed_up:
        appeal = services.appeal_follow_up(actor=actor, appeal=appeal, satisfaction="satisfied", resolved=True)
    return appeal


def _api(suffix="", method="get", data=None, **kw):
    def make(w):
        appeal = _appeal(w, **kw)
        url = f"/api/v1/appeals/{appeal.number}{suffix}"
        return Req(url, method=method, data=data, json=True) if method != "get" else url
    return make


def _attachment(w):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.appeals import services

    appeal = services.appeal_register(
        actor=w.principal("city"), kind="complaint", channel="reception", area=w.areas[GUDONG], title="矩阵附件",
        content="矩阵附件内容", name="矩阵群众", mobile="13800138000",
        attachments=[SimpleUploadedFile("现场.pdf", b"%PDF-1.4 matrix", content_type="application/pdf")])
    return f"/appeals/{appeal.number}/attachments/{appeal.attachments.get().pk}/"


def _page(w):
    return f"/appeals/{_appeal(w).number}/"


def _assign(w):
    appeal = _appeal(w)
    return Req(f"/api/v1/appeals/{appeal.number}/assign", method="post", data={"owner": w.user("city").username},
               json=True)


def _job(w, api=False):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bianmin.appeals import importer

    upload = SimpleUploadedFile("m.csv", "工单编号,诉求类型,标题,诉求内容,区划代码,受理时间\n".encode())
    job = importer.import_job_create(actor=w.principal("city"), upload=upload, area=w.areas[GUDONG], run_now=True)
    return f"/api/v1/appeals/import-jobs/{job.pk}" if api else f"/appeals/import/{job.pk}/"


def _rectify(w):
    import datetime as dt

    _appeal(w)
    today = dt.date.today().isoformat()
    return Req("/appeals/analysis/rectify/", method="post",
               data={"area": GUDONG, "by": "area", "key": GUDONG, "start": today, "end": today})


def _push(w):
    n = next(_n)
    order = {"work_order_no": f"M-WO-{n}", "kind": "咨询", "title": "矩阵工单", "content": "矩阵工单内容",
             "area_code": GUDONG, "registered_at": "2026-11-01 09:00", "name": "矩阵群众", "mobile": "13800138000"}
    return Req("/api/v1/appeals/work-orders", method="post", data=[order], json=True)


def _open311_request(w):
    return f"/open311/v2/requests/{_appeal(w, public=True).number}.json"


ROUTES = [
    # pages
    Staff("appeals:mine"),
    Staff("appeals:manage"),
    Staff("appeals:new"),
    Staff("appeals:analysis"),
    Staff("appeals:kpi"),
    Capability("appeals:import", cap=Cap.APPEAL_MANAGE, allowed=("city", "district", "other")),
    Scoped("appeals:detail", make=_page),
    Scoped("appeals:attachment", make=_attachment),
    Scoped("appeals:import_job", make=lambda w: _job(w)),
    Scoped("appeals:rectify", make=_rectify, role=Role.CENTER_MANAGER, ok=(302,)),
    Public("appeals:submit"),
    Public("appeals:track"),
    # staff API
    Staff("api:appeals_list"),
    Scoped("api:appeal_detail", make=_api()),
    Scoped("api:appeal_assign", make=_assign, role=Role.CENTER_MANAGER),
    Scoped("api:appeal_contact", make=_api("/contact", "post", {"text": "已联系"}), role=Role.CENTER_MANAGER),
    Scoped("api:appeal_note", make=_api("/notes", "post", {"text": "协调"}), role=Role.CENTER_MANAGER),
    Scoped("api:appeal_reply", make=_api("/reply", "post", {"text": "答复"}), role=Role.CENTER_MANAGER),
    Scoped("api:appeal_follow_up", make=_api("/follow-up", "post", {"satisfaction": "satisfied", "resolved": True},
                                             replied=True)),
    Scoped("api:appeal_close", make=_api("/close", "post", {}, followed_up=True), role=Role.CENTER_MANAGER),
    Scoped("api:appeal_import_job", make=lambda w: _job(w, api=True)),
    # content classes (诉求分类)
    Staff("api:appeal_topic_classes"),
    Scoped("api:appeal_topic_set", make=_api("/topic", "post", {"code": "0102"})),
    Scoped("api:appeal_class_trends", make=lambda w: f"/api/v1/appeals/class-trends?area_code={GUDONG}"),
    # 12345 platform
    KeyScoped("api:work_orders_push", make=_push, scopes=["appeals.12345"]),
    # Open311 GeoReport v2: public reads by design (only public, non-personal appeals are listed)
    Public("open311-discovery", make=lambda w: "/open311/v2/discovery.json"),
    Public("open311-services", make=lambda w: "/open311/v2/services.xml"),
    Public("open311-service", make=lambda w: "/open311/v2/services/complaint.json"),
    Public("open311-requests", make=lambda w: "/open311/v2/requests.json"),
    Public("open311-request", make=_open311_request),
]
