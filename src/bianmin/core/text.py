"""Text as it enters the platform: control characters removed at the edge.

Nothing a person or a system legitimately sends contains a control character other than a tab or
a line break, yet one stored does harm far from where it came in: a NUL fails the write on
PostgreSQL (a 500), an ESC or BEL reaches staff pages raw, a public XML feed (Open311) is no
longer well-formed, a spreadsheet refuses the file. So every text that comes in — query strings
and form fields (``ControlCharacterMiddleware``), JSON bodies (``bianmin.api``'s parser),
uploaded files read as rows (the importers), request headers kept in the audit log — goes through
``clean`` once, where it enters; nothing downstream has to think about it.

Removed: C0 controls except tab, line feed and carriage return; DEL and the C1 controls; lone
UTF-16 surrogates (a JSON "\\ud800" decodes to one, which no UTF-8 database accepts); and the
non-characters U+FFFE and U+FFFF, which XML cannot hold."""

from __future__ import annotations

import re
from typing import Any

from django.http import QueryDict

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """``value`` without the characters above (unchanged, and not copied, when it has none)."""
    return CONTROL.sub("", value) if CONTROL.search(value) else value


def clean_tree(data: Any) -> Any:
    """A decoded JSON document with every string (keys too) cleaned."""
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, dict):
        return {clean(k) if isinstance(k, str) else k: clean_tree(v) for k, v in data.items()}
    if isinstance(data, list):
        return [clean_tree(v) for v in data]
    return data


def clean_querydict(data: QueryDict) -> QueryDict | None:
    """A cleaned copy of a query string's or a form's values, or None when there is nothing to
    clean (the common case costs one scan, no copy). Uploaded files are not in it."""
    if not any(CONTROL.search(k) or any(CONTROL.search(v) for v in values if isinstance(v, str))
               for k, values in data.lists()):
        return None
    copy = QueryDict(mutable=True, encoding=data.encoding)
    for k, values in data.lists():
        copy.setlist(clean(k), [clean(v) if isinstance(v, str) else v for v in values])
    copy._mutable = False
    return copy


class ControlCharacterMiddleware:
    """Removes control characters from every query string, and from form bodies of the pages
    (the API's parser cleans its form and JSON bodies itself, where it parses them, so that a
    malformed multipart body is answered in the API's error shape). A control character in the
    path names nothing that can exist: 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path_info.startswith("/api/")
        if CONTROL.search(request.path_info):
            return _not_found(request, api)
        cleaned = clean_querydict(request.GET)
        if cleaned is not None:
            request.GET = cleaned
        if not api and request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            cleaned = clean_querydict(request.POST)
            if cleaned is not None:
                request.POST = cleaned
        return self.get_response(request)


def _not_found(request, api: bool):
    message = "地址中含有不可见的控制字符，没有这样的页面"
    if api:
        import json

        from django.http import HttpResponse

        return HttpResponse(json.dumps({"code": "not_found", "message": message, "field": None}, ensure_ascii=False),
                            status=404, content_type="application/json; charset=utf-8")
    from django.shortcuts import render

    return render(request, "404.html", {"message": message}, status=404)
