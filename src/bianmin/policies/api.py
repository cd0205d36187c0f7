"""The open policy API (惠企政策开放接口): public reads, with or without a key.

Without a key a caller is limited per address; a system that keeps a copy of the library gets a
key with the `policies.read` scope (issued under 接口密钥 like every key, stored hashed) and a limit
of its own, counted in the shared counters (core/ratelimit.py) so every server sees the same
count. A key that is unknown or revoked is refused (401), never treated as anonymous.

Every answer carries an ETag; a request with If-None-Match that still holds gets 304 and no body.
One policy is served from the JSON stored when it became public (services.public_payload), with
`in_force` added for the day: the hot read is one prepared query and no serialization."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from bianmin.accounts.auth import authenticate_key
from bianmin.core.audit import client_ip
from bianmin.core.errors import Forbidden, Invalid, Unauthorized
from bianmin.core.pagecache import etag_matches
from bianmin.core.ratelimit import check_rate
from bianmin.regions.selectors import area_get

from . import conf, industries, matching, selectors, services
from .indexing import Filters
from .models import Category, Policy, Size

router = Router(tags=["惠企政策"])

KEY_SCOPE = "policies.read"


# ---------------------------------------------------------------------------------------------
# Schemas (names unique in the project's OpenAPI document)


class PolicyCodeNameOut(Schema):
    code: str
    name: str


class PolicyItemRefOut(Schema):
    code: str
    name: str
    url: str


class PolicyAttachmentOut(Schema):
    name: str
    size: int
    content_type: str
    url: str


class PolicyOut(Schema):
    in_force: bool = Field(description="今天是否在执行期限内且未过期")
    code: str
    version: int
    state: str = Field(description="published 已发布 / expired 已过期")
    state_label: str
    seq: int = Field(description="该版本最近一次公开变更的序号（变更接口的游标）")
    title: str
    aliases: list[str] = Field(description="俗称")
    category: str
    category_label: str = Field(description="政策类别")
    lead_department: PolicyCodeNameOut = Field(description="牵头部门")
    co_departments: list[PolicyCodeNameOut]
    area: PolicyCodeNameOut = Field(description="发布区划")
    handling_office: str = Field(description="承办科室")
    handling_phone: str = Field(description="承办科室电话")
    valid_from: str = Field(description="政策执行期限起（YYYY-MM-DD）")
    valid_until: str | None = Field(description="政策执行期限止；null 为长期有效")
    benefits: str = Field(description="优惠内容")
    conditions: str = Field(description="申请条件")
    materials: str = Field(description="申报材料")
    procedure: str = Field(description="办理流程")
    document_number: str = Field(description="发文字号")
    issuing_body: str = Field(description="发文机关")
    source_url: str = Field(description="原文链接")
    industries: list[PolicyCodeNameOut] = Field(description="适用行业（GB/T 4754-2017 门类/大类）；空为不限")
    sizes: list[PolicyCodeNameOut] = Field(description="适用企业规模；空为不限")
    areas: list[PolicyCodeNameOut] = Field(description="适用区域；空为发布区划全域")
    tags: list[str]
    required_tags: list[str] = Field(description="资质要求（具备其一）")
    min_age_years: int | None
    max_age_years: int | None
    no_application: bool = Field(description="免申即享")
    items: list[PolicyItemRefOut] = Field(description="申请本政策要办理的事项")
    attachments: list[PolicyAttachmentOut] = Field(description="申报表格")
    published_at: str | None
    url: str


class PolicySummaryOut(Schema):
    code: str
    version: int
    title: str
    aliases: list[str]
    category: str
    category_label: str
    lead_department: str
    area: str
    state: str
    in_force: bool
    valid_from: str
    valid_until: str | None
    no_application: bool
    tags: list[str]
    benefits_excerpt: str
    url: str


class PolicyListOut(Schema):
    q: str
    total: int
    page: int
    per_page: int
    fuzzy: bool = Field(description="没有完全匹配时按错别字容错给出的结果")
    items: list[PolicySummaryOut]


class PolicyChangeOut(Schema):
    seq: int
    code: str
    action: str = Field(description="upsert：保存 policy；delete：删除该编号的政策（已撤回）")
    reason: str = Field(description="published 发布 / revised 修订 / expired 到期 / withdrawn 撤回")
    version: int
    at: dt.datetime
    policy: PolicyOut | None


class PolicyChangesOut(Schema):
    cursor: int = Field(description="下次请求的 since")
    has_more: bool
    changes: list[PolicyChangeOut]


class PolicyForItemOut(Schema):
    item: PolicyCodeNameOut
    count: int
    items: list[PolicySummaryOut]


class PolicyFilterOptionOut(Schema):
    value: str
    label: str


class PolicyFiltersOut(Schema):
    categories: list[PolicyFilterOptionOut]
    sizes: list[PolicyFilterOptionOut]
    industries: list[PolicyFilterOptionOut]
    departments: list[PolicyFilterOptionOut]
    areas: list[PolicyFilterOptionOut]


class PolicyMatchIn(Schema):
    credit_code: str = Field("", max_length=30, description="统一社会信用代码（可选；校验位不符的早期试点代码给出提示）")
    industry: str = Field("", max_length=4, description="所属行业：GB/T 4754-2017 两位大类代码")
    size: str = Field("", max_length=10, description="large / medium / small / micro")
    area_code: str = Field("", max_length=12, description="注册地区划代码（县区或乡镇街道）")
    founded_on: dt.date | None = Field(None, description="成立日期")
    tags: list[str] = Field(default_factory=list, max_length=20, description="资质与标签，如 高新技术企业")


class PolicyConditionOut(Schema):
    key: str
    label: str
    status: str = Field(description="met 符合 / unmet 不符合 / unknown 信息不足 / open 不限")
    text: str


class PolicyMatchItemOut(Schema):
    policy: PolicySummaryOut
    eligible: bool
    missing: list[str] = Field(description="还需补充的企业信息")
    conditions: list[PolicyConditionOut]


class PolicyMatchOut(Schema):
    warnings: list[str]
    count: int
    matches: list[PolicyMatchItemOut]


class PolicyErrorOut(Schema):
    code: str
    message: str
    field: str | None


ERRORS = {401: PolicyErrorOut, 403: PolicyErrorOut, 404: PolicyErrorOut, 422: PolicyErrorOut, 429: PolicyErrorOut}


# ---------------------------------------------------------------------------------------------
# Keys, limits, ETags


def gate(request: HttpRequest) -> None:
    """Who is calling, and whether they are within their limit. Counted before any reading, so a
    refused caller costs one counter update."""
    raw = request.headers.get("X-Api-Key") or ""
    auth = request.headers.get("Authorization") or ""
    if not raw and auth.lower().startswith("bearer "):
        raw = auth[7:]
    if raw:
        key = authenticate_key(request, raw)
        if key is None:
            raise Unauthorized("接口密钥无效或已吊销")
        if KEY_SCOPE not in (key.scopes or []):
            raise Forbidden("该密钥未获准访问惠企政策接口（需要 policies.read 权限范围）")
        limit = conf.key_requests_per_minute()
        # A busy key leases its count in blocks (core/ratelimit.py: one counter write per block,
        # the shared count still bounds every server together).
        check_rate(f"policy-api:key:{key.pk}", limit, 60, block=max(1, min(100, limit // 50)),
                   message="该密钥的请求过于频繁，请稍后再试")
    else:
        check_rate(f"policy-api:ip:{client_ip(request) or '-'}", conf.anonymous_requests_per_minute(), 60,
                   message="请求过于频繁，请稍后再试；系统对接请申请接口密钥")


def _not_modified(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"
    return response


def _tag_headers(response: HttpResponse, etag: str) -> None:
    response["ETag"] = etag
    response["Cache-Control"] = "public, no-cache"


def _list_etag(request: HttpRequest, position: int, today: dt.date) -> str:
    # Every public answer depends on the feed position (any publication, expiry or withdrawal moves
    # it) and on the day (in force or not); the rest is the request's own query.
    query = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:16]
    return f'W/"l{position}-{today:%Y%m%d}-{query}"'


# ---------------------------------------------------------------------------------------------
# Shaping


def summary(p: Policy, today: dt.date) -> dict:
    benefits = " ".join((p.benefits or "").split())
    return {
        "code": p.code, "version": p.version, "title": p.title, "aliases": p.alias_list, "category": p.category,
        "category_label": str(Category(p.category).label), "lead_department": p.lead_department.name,
        "area": p.area.name, "state": p.state, "in_force": p.in_force_on(today), "valid_from": p.valid_from.isoformat(),
        "valid_until": p.valid_until.isoformat() if p.valid_until else None, "no_application": p.no_application,
        "tags": list(p.tags), "benefits_excerpt": benefits[:120] + ("…" if len(benefits) > 120 else ""),
        "url": services.policy_url(p.code),
    }


def served_body(p: Policy, today: dt.date) -> bytes:
    """The stored JSON with `in_force` put in front: bytes joined, nothing parsed."""
    flag = b"true" if p.in_force_on(today) else b"false"
    return b'{"in_force":' + flag + b"," + p.public_body.encode()[1:]


def filters_from(*, category: str = "", department: str = "", industry: str = "", size: str = "", area: str = "",
                 tag: str = "", in_force: bool = False, no_application: bool = False) -> Filters:
    """Public filter parameters (API and pages alike) checked and turned into Filters."""
    if category and category not in Category.values:
        raise Invalid("政策类别无效", field="category")
    if size and size not in Size.values:
        raise Invalid("企业规模应为 large、medium、small 或 micro", field="size")
    if industry and industries.get(industry) is None:
        raise Invalid("行业代码应为 GB/T 4754-2017 的门类字母或两位大类代码", field="industry")
    department_id = None
    if department:
        from bianmin.catalog.models import Department

        department_id = Department.objects.filter(code=department.strip()).values_list("pk", flat=True).first()
        if department_id is None:
            raise Invalid(f"部门编码“{department}”不存在", field="department")
    area_path = area_get(code=area).path if area else ""
    if len(tag) > 30:
        raise Invalid("标签不能超过30个字", field="tag")
    return Filters(category=category, department=department_id, industry=industries.normalize(industry) if industry else "",
                   size=size, area_path=area_path, tag=tag.strip(), in_force=in_force, no_application=no_application)


# ---------------------------------------------------------------------------------------------
# Routes (the fixed paths before /policies/{code})


@router.get("/policies", response={200: PolicyListOut, 304: None, **ERRORS}, summary="惠企政策检索与列表",
            url_name="policies_search",
            description="q 为中文关键词（政策名称、俗称、发文字号、部门、优惠内容、申请条件），群众常用叫法可查到正式政策；"
                        "不带 q 时按发布时间倒序列出。筛选：category 政策类别、department 部门编码、industry 行业门类或大类、"
                        "size 企业规模、area 区划代码（含上级和下级适用的政策）、tag 标签、in_force 仅执行期内、"
                        "no_application 仅免申即享。无密钥按来源地址限流；系统对接请用 policies.read 权限的密钥"
                        "（Authorization: Bearer <密钥> 或 X-Api-Key）。支持 ETag / If-None-Match。")
def policies_search(request, response: HttpResponse, q: str = "", category: str = "", department: str = "",
                    industry: str = "", size: str = "", area: str = "", tag: str = "", in_force: bool = False,
                    no_application: bool = False, page: int = 1, per_page: int = 20):
    gate(request)
    today = timezone.localdate()
    etag = _list_etag(request, selectors.feed_position(), today)
    if etag_matches(request, etag):
        return _not_modified(etag)
    filters = filters_from(category=category, department=department, industry=industry, size=size, area=area, tag=tag,
                           in_force=in_force, no_application=no_application)
    found = selectors.policy_search(q=q, filters=filters, page=page, per_page=per_page, today=today)
    _tag_headers(response, etag)
    return {"q": found.q, "total": found.total, "page": found.page, "per_page": found.per_page, "fuzzy": found.fuzzy,
            "items": [summary(p, today) for p in found.results]}


@router.get("/policies/changes", response={200: PolicyChangesOut, 304: None, **ERRORS}, summary="政策变更（增量同步）",
            url_name="policies_changes",
            description="保存政策副本的系统按游标增量同步：since 为上次返回的 cursor（首次为 0）。每个政策编号只出现一次"
                        "（其最新的变更）：upsert 带完整政策内容，delete 表示该政策已撤回、应删除。has_more 为 true 时"
                        "立即以新 cursor 继续请求。")
def policies_changes(request, response: HttpResponse, since: int = 0, limit: int = 100):
    gate(request)
    today = timezone.localdate()
    position = selectors.feed_position()
    etag = f'W/"c{since}-{limit}-{position}-{today:%Y%m%d}"'
    if etag_matches(request, etag):
        return _not_modified(etag)
    page = selectors.changes_since(since=since, limit=limit)
    out = []
    for change in page.changes:
        body = None
        if change.action == "upsert" and change.policy.public_body:
            body = json.loads(served_body(change.policy, today))
        out.append({"seq": change.seq, "code": change.code, "action": change.action if body or change.action == "delete"
                    else "delete", "reason": change.reason, "version": change.policy.version, "at": change.at,
                    "policy": body})
    _tag_headers(response, etag)
    return {"cursor": page.cursor, "has_more": page.has_more, "changes": out}


@router.get("/policies/filters", response={200: PolicyFiltersOut, 304: None, **ERRORS}, summary="筛选项",
            url_name="policies_filters", description="检索接口可用的政策类别、企业规模、行业、部门（有已公开政策的牵头部门）和区划。")
def policies_filters(request, response: HttpResponse):
    gate(request)
    today = timezone.localdate()
    etag = _list_etag(request, selectors.feed_position(), today)
    if etag_matches(request, etag):
        return _not_modified(etag)
    choices = selectors.filter_choices()
    _tag_headers(response, etag)
    return {
        "categories": [{"value": v, "label": str(lab)} for v, lab in choices["categories"]],
        "sizes": [{"value": v, "label": str(lab)} for v, lab in choices["sizes"]],
        "industries": [{"value": i.code, "label": i.name} for i in industries.all_industries()],
        "departments": [{"value": d.code, "label": d.name} for d in choices["departments"]],
        "areas": [{"value": a.code, "label": a.name} for a in choices["areas"]],
    }


@router.get("/policies/by-item/{code}", response={200: PolicyForItemOut, 304: None, **ERRORS},
            summary="事项相关的惠企政策", url_name="policies_for_item",
            description="code 为事项编码或实施编码（办事指南的编码）：办理该事项可申请的政策（含其上级事项的政策），"
                        "执行期内的在前。")
def policies_for_item(request, response: HttpResponse, code: str):
    gate(request)
    today = timezone.localdate()
    etag = _list_etag(request, selectors.feed_position(), today)
    if etag_matches(request, etag):
        return _not_modified(etag)
    si = selectors.standard_item_of(code=code)
    rows = selectors.policies_for_item(standard_item=si, today=today)
    rows.sort(key=lambda p: not p.in_force_on(today))
    _tag_headers(response, etag)
    return {"item": {"code": si.code, "name": si.name}, "count": len(rows), "items": [summary(p, today) for p in rows]}


@router.post("/policies/match", response={200: PolicyMatchOut, **ERRORS}, summary="企业政策匹配",
             url_name="policies_match",
             description="按企业画像（行业、规模、注册地、成立日期、资质标签）给出可享受或可能可享受的执行期内政策，"
                         "逐项说明符合与否的理由和还需补充的信息。不保存画像；订阅推送请使用网页。")
def policies_match(request, payload: PolicyMatchIn):
    gate(request)
    warnings = []
    if payload.credit_code.strip():
        code, pilot = services.check_credit_code(payload.credit_code, pilot_override=True)
        if pilot:
            warnings.append("统一社会信用代码校验位不符：如为早期试点代码，保存画像或订阅时须由政策部门工作人员确认")
    if payload.industry and (industries.get(payload.industry) is None or industries.get(payload.industry).is_section):
        raise Invalid("所属行业应为 GB/T 4754-2017 的两位大类代码", field="industry")
    if payload.size and payload.size not in Size.values:
        raise Invalid("企业规模应为 large、medium、small 或 micro", field="size")
    if payload.founded_on and payload.founded_on > timezone.localdate():
        raise Invalid("成立日期不能晚于今天", field="founded_on")
    area = area_get(code=payload.area_code) if payload.area_code else None
    profile = matching.Profile(industry=industries.normalize(payload.industry), size=payload.size,
                               area_path=area.path if area else "", area_name=area.name if area else "",
                               founded_on=payload.founded_on, tags=tuple(t.strip() for t in payload.tags if t.strip()))
    today = timezone.localdate()
    found = selectors.match_policies(profile=profile, today=today)
    return {"warnings": warnings, "count": len(found), "matches": [
        {"policy": summary(m.policy, today), "eligible": m.eligible, "missing": m.missing,
         "conditions": [c.__dict__ for c in m.conditions]} for m in found]}


@router.get("/policies/{code}", response={200: PolicyOut, 304: None, **ERRORS}, summary="一项惠企政策",
            url_name="policy_detail",
            description="政策的全部要素（已发布或已过期的版本；已撤回的为 404）。带 If-None-Match 且未变化时返回 304。")
def policy_detail(request, code: str):
    gate(request)
    policy = selectors.public_head(code=code)
    today = timezone.localdate()
    etag = f'"p{policy.pk}.{policy.feed_seq}.{int(policy.in_force_on(today))}"'
    if etag_matches(request, etag):
        return _not_modified(etag)
    response = HttpResponse(served_body(policy, today), content_type="application/json; charset=utf-8")
    _tag_headers(response, etag)
    return response
