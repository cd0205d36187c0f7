"""Public reads served from Django's cache framework, never stale.

Why versions and not purging: a cached page must change on the very next request after a write,
on every app server. Purging cannot promise that (another server's in-process cache is out of
reach, and a purge that runs before the writer commits is undone by a reader that refills the
old page). Instead each kind of public content has a version row (``ContentVersion``: "catalog",
"regions", "policies"…) that every write affecting it bumps *in its own transaction*
(``bump("catalog")``), and every cached answer is keyed by the versions it was built from. A
request reads the versions (one small query), and so finds the answer built from what is
committed now, or builds it. Old entries are never read again and age out of the cache.

The cache is the ``pages`` alias: in-process (LocMem) by default, Redis when ``REDIS_URL`` is
set (settings.py), so several app servers share what one built.

``serve`` also answers conditional GETs: the ETag is the digest of the key and the versions, and
Last-Modified the latest change of those namespaces (not before today's start: answers may
depend on the day). The body is kept gzip-compressed (a fifth of the memory) and sent as is to
clients that accept gzip.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from ninja.responses import NinjaJSONEncoder
from pydantic import TypeAdapter

# The namespaces of public content (one ContentVersion row each).
CATALOG = "catalog"  # standard items, items, guides, departments, stationing (catalog services)
REGIONS = "regions"  # areas, service sites, windows (regions services)
POLICIES = "policies"  # public policy versions (every move of the policies' changes feed)

ALIAS = "pages"
TIMEOUT = 24 * 3600  # entries are never stale (versioned keys); the timeout only frees memory
TABLE = "core_contentversion"

# The cookies that make a page personal (base.html shows the logged-in user and their messages):
# such requests are rendered, never served from or stored in the shared cache.
_PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


def bump(*namespaces: str) -> None:
    """Move the given namespaces to a new version. Call it inside the transaction that makes the
    change (a service's ``transaction.atomic``): readers see the new version exactly when they
    see the change. One upsert per namespace, the same SQL on SQLite and PostgreSQL."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for ns in namespaces:
            cursor.execute(
                f"INSERT INTO {TABLE} (namespace, version, changed_at) VALUES (%s, 1, %s) "
                f"ON CONFLICT (namespace) DO UPDATE SET version = {TABLE}.version + 1, changed_at = excluded.changed_at",
                [ns, now])


def _aware(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite gives the stored text back through a raw cursor
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def versions(namespaces: Iterable[str]) -> tuple[str, dt.datetime | None]:
    """("catalog7@….regions3@…", latest change) for the given namespaces; a namespace never
    bumped is at version 0."""
    names = sorted(set(namespaces))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT namespace, version, changed_at FROM {TABLE} WHERE namespace IN "
                       f"({', '.join(['%s'] * len(names))})", names)
        rows = {ns: (v, at) for ns, v, at in cursor.fetchall()}
    latest = None
    parts = []
    for ns in names:
        version, at = rows.get(ns, (0, None))
        at = _aware(at)
        # The change's instant is part of the tag: a database restored from a backup (or a test
        # rolled back) can come back to a version number already cached with other content.
        parts.append(f"{ns}{version}@{at.timestamp() if at else 0}")
        if at is not None and (latest is None or at > latest):
            latest = at
    return ".".join(parts), latest


def version_of(namespace: str) -> int:
    tag, _ = versions([namespace])
    return int(tag[len(namespace):].split("@")[0])


def etag_matches(request: HttpRequest, etag: str) -> bool:
    """Whether If-None-Match holds ``etag``, by weak comparison (RFC 9110 13.1.2): GZipMiddleware
    weakens a strong tag on a compressed answer, and the client sends back the W/ form."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


def _personal(request: HttpRequest) -> bool:
    return any(name in request.COOKIES for name in _PERSONAL_COOKIES)


def _accepts_gzip(request: HttpRequest) -> bool:
    return "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "").lower()


def _headers(response: HttpResponse, etag: str, last_modified: int, personal_vary: bool) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    # Revalidate every time (a 304 is cheap): a change must show on the next request.
    response["Cache-Control"] = "public, no-cache"
    patch_vary_headers(response, ("Cookie", "Accept-Encoding") if personal_vary else ("Accept-Encoding",))
    return response


def serve(request: HttpRequest, *, key: str, namespaces: Iterable[str], build: Callable[[], HttpResponse],
          personal_vary: bool = False) -> HttpResponse:
    """The answer to a public GET, from the cache when it holds the current one.

    ``key`` names the answer (route and its parameters); ``namespaces`` are the kinds of content
    it is built from; ``build()`` makes it (a DomainError it raises goes to the caller's handler,
    as without the cache). Only 200 answers without cookies are stored. ``personal_vary``: the
    page shows the logged-in user (HTML), so requests carrying a session are rendered as usual."""
    if request.method not in ("GET", "HEAD") or (personal_vary and _personal(request)):
        return build()
    tag, changed = versions(namespaces)
    today = timezone.localdate()
    digest = hashlib.blake2b(f"{key}\x1f{today:%Y%m%d}\x1f{tag}".encode(), digest_size=16).hexdigest()
    etag = f'W/"{digest[:24]}"'
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    last_modified = int(max(changed, day_start).timestamp()) if changed else int(day_start.timestamp())
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return _headers(not_modified, etag, last_modified, personal_vary)
    cache = caches[ALIAS]
    cache_key = f"page:{digest}"
    entry = cache.get(cache_key)
    if entry is None:
        response = build()
        if (response.status_code != 200 or response.streaming or response.cookies
                or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")):  # a page with a form token is personal
            return response
        body = response.content
        entry = (response["Content-Type"], gzip.compress(body, compresslevel=6, mtime=0))
        cache.set(cache_key, entry, TIMEOUT)
    content_type, compressed = entry
    if _accepts_gzip(request):
        response = HttpResponse(compressed, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(gzip.decompress(compressed), content_type=content_type)
    return _headers(response, etag, last_modified, personal_vary)


_adapters: dict[Any, TypeAdapter] = {}


def json_response(data: Any, schema: Any = None) -> HttpResponse:
    """JSON as the API renders it (ninja's encoder, Chinese unescaped), shaped by the route's
    response schema when given, as ninja would (unknown keys dropped, defaults filled)."""
    if schema is not None:
        adapter = _adapters.get(schema)
        if adapter is None:
            adapter = _adapters[schema] = TypeAdapter(schema)
        data = adapter.dump_python(adapter.validate_python(data))
    return HttpResponse(json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False),
                        content_type="application/json; charset=utf-8")


def serve_json(request: HttpRequest, *, key: str, namespaces: Iterable[str], data: Callable[[], Any],
               schema: Any = None) -> HttpResponse:
    """``serve`` for a public API route: ``data()`` returns what the route would return."""
    return serve(request, key=key, namespaces=namespaces, build=lambda: json_response(data(), schema))
