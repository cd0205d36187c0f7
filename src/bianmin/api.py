"""The one NinjaAPI instance: JSON in UTF-8 with Chinese unescaped, errors in DESIGN.md's shape.
Each app contributes a router (``<app>/api.py``) registered here."""

import json

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from bianmin import __version__
from bianmin.core.errors import DomainError


class ChineseJSONRenderer(JSONRenderer):
    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)


api = NinjaAPI(
    title="便民 政务服务平台 API",
    version="1",
    description="基层政务服务平台接口。错误统一返回 {code, message, field}。",
    renderer=ChineseJSONRenderer(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def error_response(request: HttpRequest, status: int, code: str, message: str, field: str | None = None, **extra) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "field": field, **extra}, status=status)


def _field_label(loc) -> str | None:
    # ninja locations look like ("body", "payload", "id_number") or ("query", "lng")
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload", "header", "cookie", "file")]
    return ".".join(parts) or None


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是或否",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式错误",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "model_attributes_type": "格式错误",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "json_invalid": "JSON 格式错误",
    "value_error": "取值无效",
}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    errors = exc.errors or [{}]
    first = errors[0]
    kind = first.get("type", "")
    if kind == "json_invalid" or (kind == "" and not first):
        return error_response(request, 400, "malformed", "请求内容不是有效的 JSON")
    field = _field_label(first.get("loc", ()))
    message = first.get("ctx", {}).get("error") if kind == "value_error" else None
    if message is not None:
        message = str(message)
    else:
        message = _PYDANTIC_MESSAGES.get(kind, "输入有误")
    if field:
        message = f"{field}：{message}"
    details = [{"field": _field_label(e.get("loc", ())), "type": e.get("type")} for e in errors]
    return error_response(request, 422, "invalid", message, field, errors=details)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_django_validation_error(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        field, errs = next(iter(exc.error_dict.items()))
        message = "；".join(m for e in errs for m in e.messages)
        return error_response(request, 422, "invalid", message, None if field == "__all__" else field)
    return error_response(request, 422, "invalid", "；".join(exc.messages))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, "not_found", "未找到该记录")


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return error_response(request, 403, "forbidden", str(exc) or "无权执行此操作")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error_response(request, 401, "unauthorized", "未认证：请提供有效的密钥或先登录")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return error_response(request, 413, "too_large", "请求内容过大")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    status = exc.status_code
    if status == 400 and "JSON" in str(exc).upper():
        return error_response(request, 400, "malformed", "请求内容不是有效的 JSON")
    return error_response(request, status, "error", str(exc))


@api.get("/v1/version", tags=["平台"], summary="版本")
def version(request):
    return {"version": __version__}


def _register_routers() -> None:
    """Apps add their routers here, in the spine's order."""
    from bianmin.accounts.api import router as accounts_router
    from bianmin.appeals.api import router as appeals_router
    from bianmin.cases.api import router as cases_router
    from bianmin.catalog.api import router as catalog_router
    from bianmin.engagement.api import router as engagement_router
    from bianmin.evaluations.api import router as evaluations_router
    from bianmin.figures.api import router as figures_router
    from bianmin.followups.api import router as followups_router
    from bianmin.inspections.api import router as inspections_router
    from bianmin.kiosks.api import router as kiosks_router
    from bianmin.policies.api import router as policies_router
    from bianmin.regions.api import router as regions_router

    for router in (accounts_router, regions_router, catalog_router, cases_router, evaluations_router, followups_router, appeals_router,
                   policies_router, figures_router,
                   inspections_router, engagement_router):
        api.add_router("/v1/", router)
    api.add_router("/v1/", kiosks_router)


_register_routers()
