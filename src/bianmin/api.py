"""The one NinjaAPI instance: JSON in UTF-8 with Chinese unescaped, errors in DESIGN.md's shape.
Each app contributes a router (``<app>/api.py``) registered here."""

import json
import re

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from bianmin import __version__
from bianmin.core.errors import DomainError
from bianmin.core.text import clean_querydict, clean_tree


class CleanParser(Parser):
    """JSON and form bodies and query strings with control characters removed where they are
    parsed (``core.text``: a NUL stored is a 500 on PostgreSQL, a BEL breaks the XML feeds)."""

    def parse_body(self, request):
        return clean_tree(json.loads(request.body))

    def parse_querydict(self, data, list_fields, request):
        # Query strings and form fields (QueryDicts), not the uploaded files (a MultiValueDict).
        cleaned = clean_querydict(data) if isinstance(data, QueryDict) else None
        return super().parse_querydict(cleaned if cleaned is not None else data, list_fields, request)


class ChineseJSONRenderer(JSONRenderer):
    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "description": "平台统一的错误格式：code 为英文错误代码，message 为中文说明，field 为出错的字段（可为空）。"
                   "个别错误附带更多字段（如整表导入的 errors 明细）。",
    "properties": {
        "code": {"type": "string", "title": "错误代码"},
        "message": {"type": "string", "title": "中文说明"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "字段"},
    },
    "required": ["code", "message", "field"],
}
ERROR_DESCRIPTIONS = {
    400: "请求内容无法解析（不是 UTF-8 编码的 JSON 对象、表单格式错误等）",
    401: "未认证：缺少或无效的密钥、未登录",
    403: "无权执行此操作（角色或密钥权限不足、CSRF 校验失败）",
    404: "记录不存在，或不在调用方的管辖范围内（不区分两者）",
    409: "与记录当前状态冲突（如已办结、已评价）",
    413: "请求或上传的文件过大",
    415: "上传的文件类型不支持（按文件内容识别）",
    422: "输入有误：缺少必填项、格式或取值范围错误、业务规则不允许",
    429: "请求过于频繁，请稍后再试",
}
_WRITES = {"post", "put", "patch", "delete"}


def document_errors(schema: dict) -> dict:
    """Every operation's error answers, in the one error shape, as its shape implies them: 401
    and 403 behind authentication; 404 behind authentication or with a path parameter; 409
    for a write; 400 and 413 with a body, 415 with a file; 422 with any input. An operation
    declares others itself (429 where it limits rates) through ``openapi_extra`` with
    ``bianmin.core.errors.documented``; statuses it declares with its own schema are kept."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for ops in schema.get("paths", {}).values():
        for method, op in ops.items():
            params = op.get("parameters", [])
            body = op.get("requestBody", {}).get("content", {})
            statuses = set()
            if op.get("security"):
                statuses |= {401, 403, 404}
            if any(p.get("in") == "path" for p in params):
                statuses.add(404)
            if method in _WRITES:
                statuses.add(409)
            if body:
                statuses |= {400, 413}
            if "multipart/form-data" in body:
                statuses.add(415)
            if params or body:
                statuses.add(422)
            responses = op.setdefault("responses", {})
            for status in sorted(statuses):
                if status not in responses and str(status) not in responses:
                    responses[status] = {"description": ERROR_DESCRIPTIONS[status],
                                         "content": {"application/json": {"schema": ref}}}
            for answer in responses.values():
                if answer.get("content") == {}:  # declared through documented(): the shared shape
                    answer["content"] = {"application/json": {"schema": ref}}
    return schema


class BianminAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        return document_errors(super().get_openapi_schema(**kwargs))


api = BianminAPI(
    title="便民 政务服务平台 API",
    version="1",
    description="基层政务服务平台接口。错误统一返回 {code, message, field}。",
    renderer=ChineseJSONRenderer(),
    parser=CleanParser(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


_CHINESE = re.compile("[\u4e00-\u9fff]")


def error_response(request: HttpRequest, status: int, code: str, message: str, field: str | None = None, **extra) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "field": field, **extra}, status=status)


def _field_label(loc) -> str | None:
    # ninja locations look like ("body", "payload", "id_number") or ("query", "lng")
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload", "header", "cookie", "file")]
    return ".".join(parts) or None


_PYDANTIC_MESSAGES = {
    "missing": "缺少必填项",
    "string_too_long": "内容过长：不能超过 {max_length} 个字符",
    "string_too_short": "内容过短：至少 {min_length} 个字符",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是或否",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式错误",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "greater_than_equal": "数值过小：不能小于 {ge}",
    "less_than_equal": "数值过大：不能大于 {le}",
    "greater_than": "数值过小：应大于 {gt}",
    "less_than": "数值过大：应小于 {lt}",
    "finite_number": "应为有限的数值",
    "int_from_float": "应为整数",
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
        try:
            message = message.format(**first.get("ctx", {}))
        except (KeyError, IndexError, ValueError):
            pass
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


# ninja's own refusals, raised before a view runs, in English: answered in Chinese.
_NINJA_MESSAGES = {
    "Cannot parse request body": (400, "malformed", "请求内容无法解析：应为 UTF-8 编码的 JSON 对象"),
    "CSRF check Failed": (403, "csrf_failed", "CSRF 校验失败：登录状态下的写请求须带 X-CSRFToken 请求头（值取自 csrftoken Cookie）"),
}
_STATUS_MESSAGES = {
    400: ("bad_request", "请求有误，无法处理"),
    401: ("unauthorized", "未认证：请提供有效的密钥或先登录"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到该记录"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与当前状态冲突"),
    413: ("too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("invalid", "输入有误"),
    429: ("rate_limited", "请求过于频繁，请稍后再试"),
}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # A refusal by the body parser itself (core.text) travels as the cause of ninja's 400.
    if isinstance(exc.__cause__, DomainError):
        return on_domain_error(request, exc.__cause__)
    text = str(exc)
    for known, (status, code, message) in _NINJA_MESSAGES.items():
        if text.startswith(known):
            return error_response(request, status, code, message)
    status = exc.status_code
    code, message = _STATUS_MESSAGES.get(status, ("error", "请求未能完成"))
    # Our own code raises domain errors, never HttpError with English text: keep the shape.
    return error_response(request, status, code, text if _CHINESE.search(text) else message)


@api.exception_handler(MultiPartParserError)
def on_multipart_error(request, exc):
    # An over-long file name, a broken boundary…: Django's parser refuses the whole body.
    return error_response(request, 400, "malformed", "表单内容无法解析：请检查上传的文件及其文件名（不超过 255 个字符）")


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


# --- bounds on every number and date the API takes in ----------------------------------------------

# An integer a caller sends: ids, pages, limits. Within JavaScript's safe integers (a client can
# hold it exactly) and far inside SQLite's and PostgreSQL's 64-bit integers, so that neither
# the parameter nor an offset computed from it overflows (page=99999999999999999999 was a 500).
INT_MIN, INT_MAX = 0, 2**53 - 1


def _constrained(field, kinds: tuple[type, ...]) -> bool:
    return any(isinstance(m, kinds) for m in field.metadata)


def _inner_types(annotation, *, into_lists: bool = True) -> list:
    """The types inside ``X | None``, ``list[X]`` (unless ``into_lists`` is False), ``Annotated[X, …]``."""
    import typing

    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner_types(args[0], into_lists=into_lists)
    if origin in (dict,):
        return []  # free-form maps: their services check the values
    if origin in (list, tuple, set, frozenset) and not into_lists:
        return []
    return [t for a in args for t in _inner_types(a, into_lists=into_lists)]


def _bounded_int_lists(annotation):
    """``list[int]`` (optionally ``| None``) with its items bounded, or None for any other shape.
    A bound on the field itself would apply to the list, not to its items."""
    import typing

    import annotated_types as at

    item = typing.Annotated[int, at.Ge(INT_MIN), at.Le(INT_MAX)]
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (int,):
        return list[item]
    args = typing.get_args(annotation)
    if type(None) in args and len(args) == 2:
        inner = next(a for a in args if a is not type(None))
        bounded = _bounded_int_lists(inner)
        return bounded | None if bounded is not None else None
    return None


def _bound_model(model, seen: dict) -> bool:
    """Give every int, float, date and datetime field of ``model`` (and of the models inside it)
    the platform's bounds, unless the field declares its own; returns whether it changed."""
    import datetime as dt

    import annotated_types as at
    from pydantic import AfterValidator, BaseModel

    from bianmin.core.validators import DAY_RANGE_MESSAGE, Day

    if model in seen:
        # Already bounded: a model that holds it (ninja's pagination input is shared by every
        # paginated route) must still be rebuilt to take the new bounds in.
        return seen[model]
    seen[model] = False
    changed = False
    for field in model.model_fields.values():
        for inner in _inner_types(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                if _bound_model(inner, seen):
                    changed = True
        bounded_list = _bounded_int_lists(field.annotation)
        if bounded_list is not None:
            field.annotation = bounded_list
            changed = True
        types = _inner_types(field.annotation, into_lists=False)
        if int in types and bool not in types:
            if not _constrained(field, (at.Ge, at.Gt)):
                field.metadata.append(at.Ge(INT_MIN))
                changed = True
            if not _constrained(field, (at.Le, at.Lt)):
                field.metadata.append(at.Le(INT_MAX))
                changed = True
        if float in types and not any(type(m).__name__ == "AllowInfNan" for m in field.metadata):
            from pydantic.types import AllowInfNan

            field.metadata.append(AllowInfNan(False))
            changed = True
        if (dt.date in types or dt.datetime in types) and not any(
                isinstance(m, AfterValidator) and m in Day.__metadata__ for m in field.metadata):
            field.metadata.append(Day.__metadata__[0])
            field.description = f"{field.description}（{DAY_RANGE_MESSAGE}）" if field.description else DAY_RANGE_MESSAGE
            changed = True
    if changed:
        model.model_rebuild(force=True)
    seen[model] = changed
    return changed


def bound_parameters(ninja_api: NinjaAPI) -> None:
    """Every integer, number and date the API takes in — path, query, form and body, in every
    operation registered now — is bounded (``INT_MIN``…``INT_MAX``; finite; a day in
    ``core.validators``' range) unless it declares tighter bounds itself. Applied once to the
    models ninja built from the views' signatures, so the OpenAPI schema documents the bounds
    and a route added later needs nothing to get them (tests/test_api_bounds.py walks them)."""
    seen: dict = {}
    for _prefix, router in ninja_api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _bound_model(model, seen)


_register_routers()
bound_parameters(api)
