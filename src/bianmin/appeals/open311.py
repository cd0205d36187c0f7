"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2/``, so that
existing civic-issue apps and client libraries can file and follow appeals.

- Services are the five appeal kinds (咨询/求助/投诉/举报/建议); each has a definition with one
  optional attribute, ``area_code`` (the township or village the appeal concerns).
- ``POST requests.(json|xml)`` needs an ``api_key`` of a key with the ``open311`` scope; the
  appeal lands in the key's area (or the ``attribute[area_code]`` below it).
- ``GET requests`` lists only appeals filed through Open311 (``is_public``), never a 举报, and
  never personal data: this is the public side of the platform.
- Errors are the spec's list of ``{code, description}`` with the matching HTTP status.

Views are plain Django views: the spec's two formats and its error shape do not fit the JSON
API's conventions, and nothing here is shared with it except the services."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bianmin.accounts.auth import authenticate_key
from bianmin.accounts.principals import principal_for_key
from bianmin.core.audit import client_ip
from bianmin.core.capabilities import Cap
from bianmin.core.errors import DomainError

from .models import Appeal, AppealKind, Channel, PartyType, Status

CLOSED = {Status.REPLIED, Status.FOLLOWED_UP, Status.CLOSED}
MAX_RESULTS = 1000
MAX_RANGE = dt.timedelta(days=90)

SERVICE_DESCRIPTIONS = {
    AppealKind.CONSULT: "咨询政务服务事项的办理条件、材料、流程等",
    AppealKind.HELP: "办事遇到困难，请求帮助",
    AppealKind.COMPLAINT: "对便民服务中心、工作人员或办事过程的投诉",
    AppealKind.REPORT: "举报违规违纪行为（不公开）",
    AppealKind.SUGGESTION: "对政务服务的意见和建议",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def jurisdiction() -> str:
    return settings.BIANMIN_OPEN311_JURISDICTION


# --- rendering ------------------------------------------------------------------------------

def _xml_node(parent: ET.Element, tag: str, value) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_node(node, k, v)
    elif isinstance(value, list):
        child_tag = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}.get(tag, "item")
        for v in value:
            _xml_node(node, child_tag, v)
    elif value is None:
        pass
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    else:
        node.text = str(value)


def render(data, fmt: str, *, root: str = "", item: str = "", status: int = 200) -> HttpResponse:
    if fmt == "xml":
        top = ET.Element(root)
        if isinstance(data, list):
            for entry in data:
                _xml_node(top, item, entry)
        else:
            for k, v in data.items():
                _xml_node(top, k, v)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8", xml_declaration=False)
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render([{"code": status, "description": description}], fmt, root="errors", item="error", status=status)


def handles_errors(view):
    def wrapped(request, *args, fmt: str = "json", **kwargs):
        try:
            _check_jurisdiction(request)
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)
        except ValidationError as exc:
            return error(fmt, 400, "；".join(exc.messages))
        except DomainError as exc:
            status = 404 if exc.status == 404 else 403 if exc.status in (401, 403) else 429 if exc.status == 429 else 400
            return error(fmt, status, exc.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _check_jurisdiction(request) -> None:
    given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if given and given != jurisdiction():
        raise Open311Error(404, f"jurisdiction_id“{given[:40]}”不存在")


# --- discovery and services -----------------------------------------------------------------

@require_http_methods(["GET"])
@handles_errors
def discovery(request, *, fmt: str):
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": "便民服务平台 诉求受理（12345）",
        "key_service": "接口密钥由县（市）区行政服务中心管理员在平台“接口密钥”中创建，权限范围选 open311。",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2026-01-01T00:00:00+08:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return render(data, fmt, root="discovery")


def _service(kind: str) -> dict:
    return {
        "service_code": kind,
        "service_name": str(AppealKind(kind).label),
        "description": SERVICE_DESCRIPTIONS[kind],
        "metadata": True,
        "type": "realtime",
        "keywords": str(AppealKind(kind).label),
        "group": "诉求",
    }


@require_http_methods(["GET"])
@handles_errors
def services(request, *, fmt: str):
    return render([_service(k) for k in AppealKind.values], fmt, root="services", item="service")


def _kind_or_404(code: str) -> str:
    if code not in AppealKind.values:
        raise Open311Error(404, f"service_code“{code[:40]}”不存在")
    return code


@require_http_methods(["GET"])
@handles_errors
def service_definition(request, code: str, *, fmt: str):
    kind = _kind_or_404(code)
    data = {
        "service_code": kind,
        "attributes": [{
            "variable": True,
            "code": "area_code",
            "datatype": "string",
            "required": False,
            "datatype_description": "12位行政区划代码（也接受6位或9位）",
            "order": 1,
            "description": "诉求所在的乡镇（街道）或村（社区），不填则为接口密钥的授权区划",
        }],
    }
    return render(data, fmt, root="service_definition")


# --- requests -------------------------------------------------------------------------------

def _request_out(appeal: Appeal) -> dict:
    expected = timezone.make_aware(dt.datetime.combine(appeal.due_date, dt.time(18)))
    return {
        "service_request_id": appeal.number,
        "status": "closed" if appeal.status in CLOSED else "open",
        "status_notes": str(appeal.get_status_display()) + (f"：{appeal.reply}" if appeal.reply else ""),
        "service_name": str(appeal.get_kind_display()),
        "service_code": appeal.kind,
        "description": appeal.content,
        "agency_responsible": appeal.department.name if appeal.department_id else appeal.area.name,
        "service_notice": f"应于 {appeal.due_date:%Y-%m-%d} 前答复",
        "requested_datetime": timezone.localtime(appeal.registered_at).isoformat(),
        "updated_datetime": timezone.localtime(appeal.updated_at).isoformat(),
        "expected_datetime": expected.isoformat(),
        "address": appeal.address,
        "address_id": "",
        "zipcode": "",
        "lat": appeal.lat,
        "long": appeal.lng,
        "media_url": "",
    }


def _public() -> Appeal.objects.__class__:
    return Appeal.objects.filter(is_public=True).exclude(kind=AppealKind.REPORT).select_related("area", "department")


def _parse_w3c(name: str, value: str) -> dt.datetime:
    moment = parse_datetime(value.strip().replace(" ", "+")) if value else None
    if moment is None:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time.min)
        except ValueError:
            raise Open311Error(400, f"{name} 应为 W3C 日期时间格式，例如 2026-01-01T00:00:00+08:00") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@csrf_exempt
@require_http_methods(["GET", "POST"])
@handles_errors
def requests_view(request, *, fmt: str):
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    qs = _public()
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        # The spec: service_request_id overrides every other filter.
        qs = qs.filter(number__in=ids[:MAX_RESULTS])
    else:
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        for code in codes:
            _kind_or_404(code)
        if codes:
            qs = qs.filter(kind__in=codes)
        end = _parse_w3c("end_date", params["end_date"]) if params.get("end_date") else timezone.now()
        start = _parse_w3c("start_date", params["start_date"]) if params.get("start_date") else end - MAX_RANGE
        if start > end:
            raise Open311Error(400, "start_date 不能晚于 end_date")
        if end - start > MAX_RANGE:
            raise Open311Error(400, "查询时间范围不能超过90天")
        qs = qs.filter(registered_at__gte=start, registered_at__lte=end)
        statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed")
        if statuses == {"open"}:
            qs = qs.exclude(status__in=CLOSED)
        elif statuses == {"closed"}:
            qs = qs.filter(status__in=CLOSED)
    items = [_request_out(a) for a in qs.order_by("-registered_at")[:MAX_RESULTS]]
    return render(items, fmt, root="service_requests", item="request")


@require_http_methods(["GET"])
@handles_errors
def request_detail(request, request_id: str, *, fmt: str):
    appeal = _public().filter(number=request_id).first()
    if appeal is None:
        raise Open311Error(404, f"service_request_id“{request_id[:40]}”不存在")
    return render([_request_out(appeal)], fmt, root="service_requests", item="request")


def _float(name: str, value: str, lo: float, hi: float) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} 应为数字") from None
    if not lo <= number <= hi:
        raise Open311Error(400, f"{name} 超出范围")
    return number


def _create(request, fmt: str) -> HttpResponse:
    from bianmin.regions.models import Area

    from .services import appeal_register

    data = request.POST
    raw_key = (data.get("api_key") or request.GET.get("api_key") or "").strip()
    if not raw_key:
        raise Open311Error(400, "缺少必填参数 api_key")
    key = authenticate_key(request, raw_key)
    if key is None:
        raise Open311Error(403, "api_key 无效或已吊销")
    principal = principal_for_key(key, ip=client_ip(request))
    key_area = key.site.area if key.site_id else key.area
    if not principal.can(Cap.APPEAL_OPEN311, key_area):
        raise Open311Error(403, "该 api_key 没有 Open311 提交权限")
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "缺少必填参数 service_code")
    kind = _kind_or_404(code)
    lat = _float("lat", data.get("lat", "").strip(), -90, 90)
    lng = _float("long", data.get("long", "").strip(), -180, 180)
    address = (data.get("address_string") or "").strip()
    address_id = (data.get("address_id") or "").strip()
    if (lat is None or lng is None) and not address and not address_id:
        raise Open311Error(400, "缺少位置：须提供 lat 和 long，或 address_string，或 address_id")
    description = (data.get("description") or "").strip()
    if not description:
        raise Open311Error(400, "缺少必填参数 description（诉求内容）")
    area = key_area
    area_code = (data.get("attribute[area_code]") or "").strip()
    if area_code:
        full = area_code.ljust(12, "0") if area_code.isdigit() and len(area_code) in (6, 9, 12) else ""
        area = Area.objects.filter(code=full, path__startswith=key_area.path).first()
        if area is None:
            raise Open311Error(400, f"attribute[area_code]“{area_code[:20]}”不存在或不在该 api_key 的授权范围内")
    name = f"{(data.get('last_name') or '').strip()}{(data.get('first_name') or '').strip()}"
    phone = (data.get("phone") or "").strip()
    email = (data.get("email") or "").strip()
    anonymous = not name and not phone and not email
    if anonymous and kind not in (AppealKind.REPORT, AppealKind.SUGGESTION):
        raise Open311Error(400, "除举报和建议外，须提供姓名（first_name/last_name）和联系电话（phone）或电子邮箱（email）")
    appeal = appeal_register(
        actor=principal, kind=kind, channel=Channel.OPEN311, area=area, title=description[:30],
        content=description, party_type=PartyType.ANONYMOUS if anonymous else PartyType.PERSON,
        name=name or ("Open311用户" if not anonymous else ""), mobile=phone, email=email,
        address=address or address_id, lat=lat, lng=lng, is_public=True,
    )
    body = [{"service_request_id": appeal.number, "service_notice": f"已受理，应于 {appeal.due_date:%Y-%m-%d} 前答复",
             "account_id": None}]
    return render(body, fmt, root="service_requests", item="request", status=201)
