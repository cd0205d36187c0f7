"""Domain errors raised by services and selectors; the API and views turn them into the
error shape of DESIGN.md: {"code", "message" (Chinese), "field"} with the matching status."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra or {}

    def as_dict(self) -> dict:
        data = {"code": self.code, "message": self.message, "field": self.field}
        data.update(self.extra)
        return data

    @property
    def field_errors(self) -> dict[str, str]:
        """Every field's message (a form shows each next to its field): all of them when the
        error was raised by ``FieldErrors``, else this one."""
        return dict(self.extra.get("errors") or {}) or ({self.field or "__all__": self.message})


class NotFound(DomainError):
    """Also raised for records outside the caller's scope, so that existence is not revealed."""

    status = 404
    code = "not_found"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class UnsupportedType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


def full_clean(obj, *, exclude: list[str] | None = None) -> None:
    """``obj.full_clean()`` with its first field's messages raised as Invalid (422) naming the
    field: how services validate a model before saving it."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise Invalid("；".join(errors), field=None if field == "__all__" else field) from None


def clean_text(value, field: str, what: str, *, required: bool = True, limit: int = 2000) -> str:
    """A person's text input (None is empty; anything else as its text), stripped; Invalid (422, in
    Chinese, naming `what`) when required and empty or longer than `limit`."""
    value = ("" if value is None else str(value)).strip()
    if required and not value:
        raise Invalid(f"请填写{what}", field=field)
    if len(value) > limit:
        raise Invalid(f"{what}不能超过 {limit} 字", field=field)
    return value


class FieldErrors:
    """Collects one message per field, so a form is answered with all its bad fields at once
    rather than one per submission. ``raise_if_any`` raises one ``Invalid`` (422) naming the first
    field, with every field's message under ``errors`` (``{"errors": {field: message}}`` in the API).

        errors = FieldErrors()
        title = errors.run(clean_title, raw_title)  # None when it failed
        if not content:
            errors.add("content", "请填写内容")
        errors.raise_if_any()
    """

    def __init__(self):
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Invalid as exc:
            for field, message in exc.field_errors.items():
                self.add(field, message)
            return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            field, message = next(iter(self.errors.items()))
            extra = {"errors": dict(self.errors)} if len(self.errors) > 1 else {}
            raise Invalid(message if len(self.errors) == 1 else f"{message}（共 {len(self.errors)} 处需修改）",
                          field=field, extra=extra)
def documented(*statuses: int) -> dict:
    """``openapi_extra`` for an API operation that may answer these error statuses besides the
    ones its shape implies (``bianmin.api.document_errors``), e.g. 429 where it limits rates."""
    return {"responses": {status: {"description": _DESCRIPTIONS.get(status, ""), "content": {}} for status in statuses}}


_DESCRIPTIONS = {429: "请求过于频繁，请稍后再试", 409: "与记录当前状态冲突", 403: "无权执行此操作"}


def error_pages(template: str):
    """A view decorator: a domain error (404 out of scope, 403, 409, 429…) becomes the app's Chinese
    error page ``template`` with the error's status, instead of Django's plain error pages."""
    import functools

    from django.shortcuts import render

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return render(request, template, {"title": "无法完成操作", "message": exc.message}, status=exc.status)

        return wrapper

    return decorator
