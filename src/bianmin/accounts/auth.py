"""Authentication for the API: session log-in (staff in the browser) or an API key (systems
and devices), sent as `Authorization: Bearer <key>` or `X-Api-Key: <key>`."""

from __future__ import annotations

from datetime import timedelta

from django.db.models.functions import Coalesce
from django.utils import timezone
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from bianmin.core.audit import client_ip
from bianmin.core.prepared import PreparedQuery

from .models import ApiKey

# Compiled once (core/prepared.py): building this query cost several times running it.
_KEY_BY_DIGEST = PreparedQuery(
    lambda digest: ApiKey.objects.annotate(scope_path=Coalesce("site__area__path", "area__path"))
    .filter(digest=digest, revoked_at__isnull=True)[:1]
)

# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def authenticate_key(request, raw_key: str | None) -> ApiKey | None:
    if not raw_key:
        return None
    # Only the key's row and the path of its scope (what the Principal needs): every request with
    # a key runs this, and joining three whole related rows cost more than the rest of the lookup.
    # Code that needs the key's site or window loads it when it asks.
    found = _KEY_BY_DIGEST(digest=ApiKey.digest_of(raw_key.strip()))
    if not found:
        return None
    key = found[0]
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now, last_used_ip=client_ip(request))
        key.last_used_at = now
    request.api_key = key
    return key


class BearerKey(HttpBearer):
    openapi_description = "接口密钥：Authorization: Bearer <密钥>"

    def authenticate(self, request, token):
        return authenticate_key(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request, key):
        return authenticate_key(request, key)


# Routes for outside systems accept either header; staff routes accept the session too.
key_auth = [BearerKey(), HeaderKey()]
staff_or_key_auth = [django_auth, BearerKey(), HeaderKey()]
staff_auth = [django_auth]
