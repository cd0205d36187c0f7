"""API fuzzing: schemathesis generates requests for every operation of /api/openapi.json (valid and
invalid ones) and sends them to the Django app in-process. Every answer must be a non-5xx response
whose body matches the schema declared for its status code.

Bounded for CI: a fixed number of examples per operation, derandomized (the same inputs on every
run and both databases), no deadline. New routes are picked up as apps register them. Requests
carry a city-admin session (with its CSRF token) and an API key with every scope, so operations
behind authentication are exercised past the 401.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from conftest import CITY
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bianmin.wsgi import application

# Per operation, for the fuzzing phase (the examples and coverage phases add their own few).
# BIANMIN_FUZZ_EXAMPLES=200 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("BIANMIN_FUZZ_EXAMPLES", 10))

try:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
    SCHEMA_ERROR: Exception | None = None
except Exception as exc:  # reported by test_openapi_schema_builds, not as a collection error
    schema, SCHEMA_ERROR = None, exc


def test_openapi_schema_builds():
    """A schema that fails to build (a 500 on /api/openapi.json, the docs page broken too) fails
    here instead of stopping the whole suite at collection."""
    assert SCHEMA_ERROR is None, f"/api/openapi.json 无法生成：{SCHEMA_ERROR}"


# No 5xx; every status documented for its operation (the error answers too: bianmin.api
# documents them per operation); every body — errors included — as its schema says; the
# content type documented.
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]


@pytest.fixture
def in_process_requests():
    """Requests run in the test's transaction: Django's own test client keeps the connection
    open across a request the same way (closing it would abort the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db, areas, make_user, in_process_requests):
    from django.conf import settings as django_settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from bianmin.accounts.models import ApiKey
    from bianmin.accounts.principals import KEY_SCOPE_CAPABILITIES

    admin = make_user("city_admin", CITY, username="fuzz_admin")
    browser = Client()
    browser.force_login(admin)
    session_id = browser.cookies[django_settings.SESSION_COOKIE_NAME].value

    raw_key = "fuzz-" + "k" * 40
    ApiKey.objects.create(name="模糊测试", prefix=raw_key[:8], digest=ApiKey.digest_of(raw_key),
                          area=areas[CITY], scopes=sorted(KEY_SCOPE_CAPABILITIES))
    csrf = _get_new_csrf_string()
    return {
        "headers": {"X-Api-Key": raw_key, "X-CSRFToken": csrf},
        "cookies": {django_settings.SESSION_COOKIE_NAME: session_id, django_settings.CSRF_COOKIE_NAME: csrf},
    }


if schema is not None:

    @pytest.mark.django_db
    @schema.parametrize()
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def test_api_answers_without_5xx_and_as_documented(case, credentials):
        # Our key and session go with every request; a generated Authorization header (a bad bearer
        # token) is kept, which also tests that one bad credential next to a good one is no 500.
        # identity: the checks read the body as JSON; GZipMiddleware answers a client that accepts gzip
        headers = {**(case.headers or {}), **credentials["headers"], "Accept-Encoding": "identity"}
        case.call_and_validate(headers=headers, cookies=credentials["cookies"], checks=CHECKS)
