"""自助终端 API.

For terminals (their device key; a key speaks only for its own terminal, another → 404):
- ``POST /kiosk/terminals/{code}/heartbeat``   status, paper, printer, card reader, software version
- ``GET  /kiosk/terminals/{code}/config``      the item list and settings (ETag; 304 when unchanged)
- ``POST /kiosk/terminals/{code}/usage``       uses (item, outcome, duration), idempotent per ``ref``
- ``POST /kiosk/terminals/{code}/certificates`` issue a certificate; ``…/{number}/pdf`` prints it

For staff (session; scoped): the register, maintenance, pairing codes, offline list, availability,
the item list and its overrides, certificates and their revocation, usage figures.

Public: ``/kiosk/verify/{number}`` — the verification of a certificate (number + code).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from bianmin.accounts.auth import key_auth, staff_auth
from bianmin.accounts.principals import principal_of
from bianmin.core.errors import Invalid, NotFound, documented
from bianmin.core.masking import mask_id_number, mask_name
from bianmin.core.pagecache import etag_matches
from bianmin.core.paging import Mapped
from bianmin.core.ratelimit import check_rate
from bianmin.regions.models import Area, ServiceSite

from . import documents, selectors, services
from .models import Certificate, KioskItem, LocationKind, Maintenance, Terminal

router = Router(tags=["自助终端"])


# --- schemas (names prefixed: the OpenAPI document holds every app's schemas) ------------------


class KioskHeartbeatIn(Schema):
    status: Literal["normal", "fault", "maintenance"] = Field("normal", description="normal 正常；fault 故障；maintenance 维护中")
    paper: Literal["ok", "low", "out"] = Field("ok", description="打印纸：ok 充足；low 不足；out 缺纸")
    printer: Literal["ok", "fault"] = "ok"
    card_reader: Literal["ok", "fault"] = "ok"
    software_version: str = Field("", max_length=40)


class KioskHeartbeatOut(Schema):
    code: str
    state: str
    state_label: str
    status: str
    config_etag: str
    server_time: datetime


class KioskConfigItemOut(Schema):
    code: str
    name: str
    service: str
    certificate_title: str | None
    category: str


class KioskConfigTerminalOut(Schema):
    code: str
    site: str
    site_code: str


class KioskConfigOut(Schema):
    terminal: KioskConfigTerminalOut
    heartbeat_seconds: int
    idle_timeout_seconds: int
    reader: str
    items: list[KioskConfigItemOut]


class KioskUseIn(Schema):
    item_code: str | None = Field(None, max_length=64, description="事项编码（标准化事项编码）；省略为其他操作")
    outcome: Literal["success", "failed", "abandoned"]
    duration_ms: int = Field(..., ge=0, le=86_400_000)
    started_at: datetime
    ref: str = Field("", max_length=40, description="终端生成的唯一流水号：重发只保存一次")


class KioskUsageIn(Schema):
    uses: list[KioskUseIn] = Field(..., min_length=1)


class KioskUsageOut(Schema):
    saved: int
    repeated: int


class KioskIssueIn(Schema):
    item_code: str = Field(..., max_length=64)
    id_number: str = Field(..., max_length=32)
    name: str = Field(..., max_length=50)
    mobile: str = Field(..., max_length=20)


class KioskIssuedOut(Schema):
    number: str
    title: str
    issued_at: datetime
    valid_until: date
    sha256: str
    verify_url: str
    pdf_url: str
    acceptance_number: str | None


class KioskTerminalOut(Schema):
    code: str
    site_code: str
    site: str
    area_code: str
    area: str
    location_kind: str
    location_kind_label: str
    model: str
    serial: str
    operator: str
    installed_on: date
    state: str
    state_label: str
    status: str
    status_label: str
    paper: str
    printer: str
    card_reader: str
    software_version: str
    last_seen_at: datetime | None
    state_changed_at: datetime | None
    key_prefix: str
    paired: bool


class KioskTerminalIn(Schema):
    site_code: str = Field(..., max_length=32)
    code: str = Field(..., max_length=32)
    serial: str = Field(..., max_length=64)
    model: str = Field(..., max_length=100)
    operator: str = Field(..., max_length=100)
    installed_on: date
    location_kind: Literal[tuple(LocationKind.values)] | None = None  # type: ignore[valid-type]


class KioskTerminalCreatedOut(Schema):
    terminal: KioskTerminalOut
    device_key: str = Field(..., description="设备密钥，仅此一次显示")


class KioskKeyOut(Schema):
    device_key: str


class KioskPairingOut(Schema):
    pairing_code: str
    expires_at: datetime
    pair_url: str


class KioskReasonIn(Schema):
    reason: str = Field(..., max_length=300)


class KioskMaintenanceIn(Schema):
    kind: Literal[tuple(Maintenance.Kind.values)]  # type: ignore[valid-type]
    performed_on: date
    performed_by: str = Field(..., max_length=50)
    description: str = Field(..., max_length=500)


class KioskMaintenanceOut(Schema):
    id: int
    kind: str
    kind_label: str
    performed_on: date
    performed_by: str
    description: str
    recorded_at: datetime


class KioskAvailabilityRowOut(Schema):
    code: str
    name: str
    terminals: int
    availability: float | None


class KioskTerminalAvailabilityOut(Schema):
    code: str
    site: str
    availability: float | None
    offline_hours: float
    fault_hours: float
    maintenance_hours: float


class KioskAvailabilityOut(Schema):
    area_code: str
    start: date
    end: date
    areas: list[KioskAvailabilityRowOut]
    terminals: list[KioskTerminalAvailabilityOut]


class KioskItemOut(Schema):
    code: str
    name: str
    service: str
    source: str
    certificate_title: str
    validity_days: int
    default_offered: bool
    position: int


class KioskOverrideIn(Schema):
    area_code: str | None = Field(None, max_length=12)
    terminal_code: str | None = Field(None, max_length=32)
    offered: bool
    note: str = Field("", max_length=200)


class KioskOverrideOut(Schema):
    item_code: str
    item: str
    area_code: str | None
    terminal_code: str | None
    offered: bool
    note: str
    updated_at: datetime


class KioskCertificateOut(Schema):
    number: str
    title: str
    item_code: str
    terminal_code: str
    site: str
    holder: str
    id_number: str
    issued_at: datetime
    valid_until: date
    state: str
    state_label: str
    revoked_at: datetime | None
    revoked_reason: str
    acceptance_number: str | None
    sha256: str


class KioskVerifyOut(Schema):
    number: str
    title: str
    holder: str
    issued_on: date
    valid_until: date
    state: str
    state_label: str
    revoked: bool
    revoked_on: date | None


class KioskVerifyIn(Schema):
    code: str = Field(..., max_length=12)
    sha256: str = Field(..., min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$")


class KioskVerifyMatchOut(KioskVerifyOut):
    matches: bool
    message: str


class KioskFigureOut(Schema):
    uses: int
    success: int
    failed: int
    abandoned: int
    avg_seconds: float | None
    success_rate: float | None


class KioskDayFigureOut(KioskFigureOut):
    day: date


class KioskTerminalFigureOut(KioskFigureOut):
    code: str
    site: str


class KioskItemFigureOut(KioskFigureOut):
    code: str | None
    name: str


class KioskAreaFigureOut(KioskFigureOut):
    code: str
    name: str


class KioskUsageFiguresOut(Schema):
    area_code: str
    start: date
    end: date
    totals: KioskFigureOut
    by_day: list[KioskDayFigureOut]
    by_terminal: list[KioskTerminalFigureOut]
    by_item: list[KioskItemFigureOut]
    by_area: list[KioskAreaFigureOut]


# --- shaping ------------------------------------------------------------------------------------


def terminal_out(t: Terminal) -> dict:
    return {
        "code": t.code, "site_code": t.site.code, "site": t.site.name, "area_code": t.area.code, "area": t.area.name,
        "location_kind": t.location_kind, "location_kind_label": t.get_location_kind_display(), "model": t.model,
        "serial": t.serial, "operator": t.operator, "installed_on": t.installed_on, "state": t.state,
        "state_label": t.get_state_display(), "status": t.status, "status_label": t.get_status_display(),
        "paper": t.paper, "printer": t.printer, "card_reader": t.card_reader, "software_version": t.software_version,
        "last_seen_at": t.last_seen_at, "state_changed_at": t.state_changed_at, "key_prefix": t.api_key.prefix,
        "paired": t.browser_key_id is not None,
    }


def certificate_out(c: Certificate) -> dict:
    state = selectors.certificate_state(c)
    return {
        "number": c.number, "title": c.title, "item_code": c.item.code, "terminal_code": c.terminal.code,
        "site": c.terminal.site.name, "holder": mask_name(c.holder_name), "id_number": mask_id_number(c.holder_id_number),
        "issued_at": c.issued_at, "valid_until": c.valid_until, "state": state,
        "state_label": selectors.STATE_LABELS[state], "revoked_at": c.revoked_at, "revoked_reason": c.revoked_reason,
        "acceptance_number": c.case.acceptance_number if c.case_id else None, "sha256": c.sha256,
    }


def verify_out(c: Certificate) -> dict:
    state = selectors.certificate_state(c)
    return {
        "number": c.number, "title": c.title, "holder": mask_name(c.holder_name),
        "issued_on": timezone.localdate(c.issued_at), "valid_until": c.valid_until, "state": state,
        "state_label": selectors.STATE_LABELS[state], "revoked": c.revoked_at is not None,
        "revoked_on": timezone.localdate(c.revoked_at) if c.revoked_at else None,
    }


def _figure(row: dict) -> dict:
    return {k: row[k] for k in ("uses", "success", "failed", "abandoned", "avg_seconds", "success_rate")}


_Mapped = Mapped  # core.paging


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    today = timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=29)
    selectors.period_bounds(start, end)
    return start, end


def _area(code: str | None) -> Area | None:
    if not code:
        return None
    area = Area.objects.filter(code=code.strip()[:12]).first()
    if area is None:
        raise NotFound("未找到该区划", field="area")
    return area


# --- for terminals ----------------------------------------------------------------------------


@router.post("/kiosk/terminals/{code}/heartbeat", response=KioskHeartbeatOut, auth=key_auth, summary="终端心跳")
def kiosk_heartbeat(request: HttpRequest, code: str, payload: KioskHeartbeatIn):
    actor = principal_of(request)
    terminal = selectors.device_terminal(actor=actor, code=code)
    terminal = services.terminal_heartbeat(actor=actor, terminal=terminal, beat=services.Heartbeat(**payload.dict()))
    _config, etag = selectors.terminal_config(terminal=terminal)
    return {"code": terminal.code, "state": terminal.state, "state_label": terminal.get_state_display(),
            "status": terminal.status, "config_etag": etag, "server_time": timezone.now()}


@router.get("/kiosk/terminals/{code}/config", response={200: KioskConfigOut, 304: None}, auth=key_auth,
            summary="终端配置（事项清单等；ETag，未变化时返回 304）")
def kiosk_config(request: HttpRequest, code: str):
    terminal = selectors.device_terminal(actor=principal_of(request), code=code)
    config, etag = selectors.terminal_config(terminal=terminal)
    if etag_matches(request, etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(json.dumps(config, ensure_ascii=False), content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@router.post("/kiosk/terminals/{code}/usage", response={201: KioskUsageOut, 200: KioskUsageOut}, auth=key_auth,
             summary="上报使用记录（一条或多条；按流水号幂等）")
def kiosk_usage_log(request: HttpRequest, code: str, payload: KioskUsageIn):
    terminal = selectors.device_terminal(actor=principal_of(request), code=code)
    saved, repeated = services.usage_log(terminal=terminal, uses=[services.Use(**u.dict()) for u in payload.uses])
    return Status(201 if saved else 200, {"saved": saved, "repeated": repeated})


@router.post("/kiosk/terminals/{code}/certificates", response={201: KioskIssuedOut}, auth=key_auth,
             summary="出具证明（查询数据源；失败或超时不出具）")
def kiosk_certificate_issue(request: HttpRequest, code: str, payload: KioskIssueIn):
    from django.urls import reverse

    actor = principal_of(request)
    terminal = selectors.device_terminal(actor=actor, code=code)
    c = services.certificate_issue(actor=actor, terminal=terminal, item_code=payload.item_code,
                                   id_number=payload.id_number, name=payload.name, mobile=payload.mobile)
    return Status(201, {
        "number": c.number, "title": c.title, "issued_at": c.issued_at, "valid_until": c.valid_until,
        "sha256": c.sha256, "verify_url": documents.verification_url(c.number, c.verify_code),
        "pdf_url": reverse("api:kiosk_certificate_pdf", args=[terminal.code, c.number]),
        "acceptance_number": c.case.acceptance_number if c.case_id else None})


@router.get("/kiosk/terminals/{code}/certificates/{number}/pdf", auth=key_auth, summary="打印证明（出具后限时获取 PDF）",
            response={200: None})
def kiosk_certificate_pdf(request: HttpRequest, code: str, number: str):
    terminal = selectors.device_terminal(actor=principal_of(request), code=code)
    c = selectors.certificate_for_device(terminal=terminal, number=number)
    return pdf_response(c)


def pdf_response(c: Certificate) -> HttpResponse:
    from django.core.files.storage import default_storage

    with default_storage.open(c.file.path, "rb") as f:
        response = HttpResponse(f.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{c.number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# --- for staff: the register -----------------------------------------------------------------


@router.get("/kiosk/terminals", response=list[KioskTerminalOut], auth=staff_auth, summary="终端列表（本辖区）")
@paginate(LimitOffsetPagination)
def kiosk_terminal_list(request: HttpRequest, area: str | None = None, state: str | None = None,
                        location_kind: str | None = None, q: str | None = None):
    """state: pending/online/offline/retired/fault; location_kind: township/community/station/…"""
    if location_kind and location_kind not in LocationKind.values:
        raise Invalid("场所类别无效", field="location_kind")
    qs = selectors.terminal_list(actor=principal_of(request), area=_area(area), state=state or "",
                                 location_kind=location_kind or "", q=q or "")
    return _Mapped(qs.select_related("api_key"), terminal_out)


@router.post("/kiosk/terminals", response={201: KioskTerminalCreatedOut}, auth=staff_auth,
             summary="登记终端（生成设备密钥，仅显示一次）")
def kiosk_terminal_register(request: HttpRequest, payload: KioskTerminalIn):
    actor = principal_of(request)
    site = ServiceSite.objects.select_related("area", "parent_site__area").filter(code=payload.site_code.strip()).first()
    if site is None or not actor.sees_area(site.area):
        raise NotFound("未找到该服务场所", field="site_code")
    terminal, raw = services.terminal_register(
        actor=actor, site=site, code=payload.code, serial=payload.serial, model=payload.model,
        operator=payload.operator, installed_on=payload.installed_on, location_kind=payload.location_kind)
    return Status(201, {"terminal": terminal_out(terminal), "device_key": raw})


@router.get("/kiosk/terminals/{code}", response=KioskTerminalOut, auth=staff_auth, summary="终端详情")
def kiosk_terminal_detail(request: HttpRequest, code: str):
    return terminal_out(selectors.terminal_get(actor=principal_of(request), code=code))


@router.post("/kiosk/terminals/{code}/key", response=KioskKeyOut, auth=staff_auth,
             summary="更换设备密钥（旧密钥立即失效；新密钥仅显示一次）")
def kiosk_terminal_key(request: HttpRequest, code: str):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    _terminal, raw = services.terminal_key_rotate(actor=actor, terminal=terminal)
    return {"device_key": raw}


@router.post("/kiosk/terminals/{code}/pairing-code", response=KioskPairingOut, auth=staff_auth,
             summary="生成终端浏览器配对码（一次性，限时）")
def kiosk_terminal_pairing(request: HttpRequest, code: str):
    from django.urls import reverse

    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    pairing = services.terminal_pairing_issue(actor=actor, terminal=terminal)
    terminal.refresh_from_db(fields=["pairing_expires_at"])
    return {"pairing_code": pairing, "expires_at": terminal.pairing_expires_at, "pair_url": reverse("kiosk:pair")}


@router.post("/kiosk/terminals/{code}/retire", response=KioskTerminalOut, auth=staff_auth, summary="停用终端（吊销密钥）")
def kiosk_terminal_retire(request: HttpRequest, code: str, payload: KioskReasonIn):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    return terminal_out(services.terminal_retire(actor=actor, terminal=terminal, reason=payload.reason))


@router.get("/kiosk/terminals/{code}/maintenance", response=list[KioskMaintenanceOut], auth=staff_auth,
            summary="终端维护记录")
def kiosk_maintenance_list(request: HttpRequest, code: str):
    terminal = selectors.terminal_get(actor=principal_of(request), code=code)
    return [_maintenance_out(m) for m in selectors.maintenance_list(terminal=terminal)[:200]]


def _maintenance_out(m: Maintenance) -> dict:
    return {"id": m.pk, "kind": m.kind, "kind_label": m.get_kind_display(), "performed_on": m.performed_on,
            "performed_by": m.performed_by, "description": m.description, "recorded_at": m.recorded_at}


@router.post("/kiosk/terminals/{code}/maintenance", response={201: KioskMaintenanceOut}, auth=staff_auth,
             summary="登记维护记录")
def kiosk_maintenance_record(request: HttpRequest, code: str, payload: KioskMaintenanceIn):
    actor = principal_of(request)
    terminal = selectors.terminal_get(actor=actor, code=code)
    m = services.maintenance_record(actor=actor, terminal=terminal, kind=payload.kind, performed_on=payload.performed_on,
                                    performed_by=payload.performed_by, description=payload.description)
    return Status(201, _maintenance_out(m))


@router.get("/kiosk/offline", response=list[KioskTerminalOut], auth=staff_auth, summary="离线终端（本辖区）")
def kiosk_offline(request: HttpRequest, area: str | None = None):
    return [terminal_out(t) for t in
            selectors.offline_terminals(actor=principal_of(request), area=_area(area)).select_related("api_key")[:500]]


@router.get("/kiosk/availability", response=KioskAvailabilityOut, auth=staff_auth,
            summary="终端可用率（按下级区划和终端）")
def kiosk_availability(request: HttpRequest, area: str | None = None, start: date | None = None, end: date | None = None):
    actor = principal_of(request)
    start, end = _period(start, end)
    scope = selectors.usage_area(actor=actor, code=area)
    rows = selectors.availability_by_area(actor=actor, area=scope, start=start, end=end)
    terminals = list(selectors.terminal_list(actor=actor, area=scope).exclude(state=Terminal.State.PENDING))
    per = selectors.availability(terminals=terminals, start=start, end=end)
    return {
        "area_code": scope.code, "start": start, "end": end,
        "areas": [{"code": r["area"].code, "name": r["area"].name, "terminals": r["terminals"],
                   "availability": r["availability"]} for r in rows],
        "terminals": [{"code": t.code, "site": t.site.name, "availability": per[t.pk].ratio,
                       "offline_hours": round(per[t.pk].by_kind.get("offline", 0) / 3600, 2),
                       "fault_hours": round(per[t.pk].by_kind.get("fault", 0) / 3600, 2),
                       "maintenance_hours": round(per[t.pk].by_kind.get("maintenance", 0) / 3600, 2)}
                      for t in terminals],
    }


# --- for staff: the item list ------------------------------------------------------------------


def _item_out(i: KioskItem) -> dict:
    return {"code": i.code, "name": i.name, "service": i.service, "source": i.source,
            "certificate_title": i.certificate_title, "validity_days": i.validity_days,
            "default_offered": i.default_offered, "position": i.position}


@router.get("/kiosk/items", response=list[KioskItemOut], auth=staff_auth, summary="全市自助终端事项清单")
def kiosk_items(request: HttpRequest):
    return [_item_out(i) for i in selectors.kiosk_items()]


def _override_out(o) -> dict:
    return {"item_code": o.item.code, "item": o.item.name, "area_code": o.area.code if o.area_id else None,
            "terminal_code": o.terminal.code if o.terminal_id else None, "offered": o.offered, "note": o.note,
            "updated_at": o.updated_at}


@router.get("/kiosk/items/overrides", response=list[KioskOverrideOut], auth=staff_auth,
            summary="区划、终端的事项上线调整（本辖区）")
def kiosk_override_list(request: HttpRequest):
    return [_override_out(o) for o in selectors.item_overrides(actor=principal_of(request))[:1000]]


def _item(code: str) -> KioskItem:
    item = selectors.kiosk_items(active_only=False).filter(standard_item__code=(code or "").strip()[:64]).first()
    if item is None:
        raise NotFound("未找到该事项", field="item_code")
    return item


def _target(actor, area_code: str | None, terminal_code: str | None):
    if bool(area_code) == bool(terminal_code):
        raise Invalid("请指定区划（area_code）或终端（terminal_code）之一", field="area_code")
    if terminal_code:
        return None, selectors.terminal_get(actor=actor, code=terminal_code)
    area = _area(area_code)
    if not actor.sees_area(area):
        raise NotFound("未找到该区划", field="area_code")
    return area, None


@router.put("/kiosk/items/{item_code}/overrides", response=KioskOverrideOut, auth=staff_auth,
            summary="设置区划或终端的事项上线调整")
def kiosk_override_set(request: HttpRequest, item_code: str, payload: KioskOverrideIn):
    actor = principal_of(request)
    area, terminal = _target(actor, payload.area_code, payload.terminal_code)
    o = services.item_override_set(actor=actor, item=_item(item_code), area=area, terminal=terminal,
                                   offered=payload.offered, note=payload.note)
    return _override_out(o)


@router.delete("/kiosk/items/{item_code}/overrides", response={204: None}, auth=staff_auth,
               summary="取消区划或终端的事项上线调整（恢复上级设置）")
def kiosk_override_clear(request: HttpRequest, item_code: str, area_code: str | None = None,
                         terminal_code: str | None = None):
    actor = principal_of(request)
    area, terminal = _target(actor, area_code, terminal_code)
    services.item_override_clear(actor=actor, item=_item(item_code), area=area, terminal=terminal)
    return Status(204, None)


# --- for staff: certificates -----------------------------------------------------------------


@router.get("/kiosk/certificates", response=list[KioskCertificateOut], auth=staff_auth,
            summary="自助打印证明列表（持证人信息已脱敏）")
@paginate(LimitOffsetPagination)
def kiosk_certificate_list(request: HttpRequest, area: str | None = None, number: str | None = None,
                           revoked: bool | None = None):
    qs = selectors.certificate_list(actor=principal_of(request), area=_area(area), q=number or "", revoked=revoked)
    return _Mapped(qs.select_related("case"), certificate_out)


@router.get("/kiosk/certificates/{number}", response=KioskCertificateOut, auth=staff_auth, summary="证明详情")
def kiosk_certificate_detail(request: HttpRequest, number: str):
    return certificate_out(selectors.certificate_get(actor=principal_of(request), number=number))


@router.post("/kiosk/certificates/{number}/revoke", response=KioskCertificateOut, auth=staff_auth,
             summary="撤销证明（须说明原因；核验页面随即显示已撤销）")
def kiosk_certificate_revoke(request: HttpRequest, number: str, payload: KioskReasonIn):
    actor = principal_of(request)
    c = selectors.certificate_get(actor=actor, number=number)
    return certificate_out(services.certificate_revoke(actor=actor, certificate=c, reason=payload.reason))


# --- public verification -------------------------------------------------------------------


def _verify_rate(request: HttpRequest) -> None:
    from bianmin.core.audit import client_ip

    check_rate(f"kiosk-verify:{client_ip(request)}", 60, 60, message="核验过于频繁，请稍后再试")


@router.get("/kiosk/verify/{number}", response=KioskVerifyOut, auth=None, summary="核验证明（证明编号 + 核验码）",
            openapi_extra=documented(429))
def kiosk_verify(request: HttpRequest, number: str, code: str = Query(..., max_length=12)):
    _verify_rate(request)
    return verify_out(selectors.certificate_public(number=number, code=code))


@router.post("/kiosk/verify/{number}", response=KioskVerifyMatchOut, auth=None,
             summary="核对证明文件（提交 PDF 的 SHA-256；被改动的文件不能通过）", openapi_extra=documented(429))
def kiosk_verify_file(request: HttpRequest, number: str, payload: KioskVerifyIn):
    _verify_rate(request)
    c = selectors.certificate_public(number=number, code=payload.code)
    matches = payload.sha256.lower() == c.sha256 and c.revoked_at is None
    return {**verify_out(c), "matches": matches, "message": verify_message(c, payload.sha256.lower() == c.sha256)}


def verify_message(c: Certificate, same_file: bool) -> str:
    if not same_file:
        return "文件与出具时的存档不一致：该文件可能被改动，不能作为有效证明"
    if c.revoked_at is not None:
        return "文件与存档一致，但该证明已被撤销，不再有效"
    if c.valid_until < timezone.localdate():
        return "文件与存档一致，但该证明已过有效期"
    return "文件与出具时的存档一致，证明有效"


# --- usage figures ---------------------------------------------------------------------------


@router.get("/kiosk/usage", response=KioskUsageFiguresOut, auth=staff_auth,
            summary="终端使用统计（按日、终端、事项、下级区划）")
def kiosk_usage(request: HttpRequest, area: str | None = None, start: date | None = None, end: date | None = None):
    actor = principal_of(request)
    start, end = _period(start, end)
    f = selectors.usage_figures(actor=actor, area=selectors.usage_area(actor=actor, code=area), start=start, end=end)
    return {
        "area_code": f.area.code, "start": f.start, "end": f.end, "totals": _figure(f.totals),
        "by_day": [{"day": r["day"], **_figure(r)} for r in f.by_day],
        "by_terminal": [{"code": r["terminal"].code, "site": r["terminal"].site.name, **_figure(r)} for r in f.by_terminal],
        "by_item": [{"code": r["item"].code if r["item"] else None, "name": r["item"].name if r["item"] else "其他操作",
                     **_figure(r)} for r in f.by_item],
        "by_area": [{"code": r["area"].code, "name": r["area"].name, **_figure(r)} for r in f.by_area],
    }

