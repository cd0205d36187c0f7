"""Text input is normalised where it enters (core.text): control characters and NUL are never
stored — by the JSON API, by a form, in the intake path — and a NUL is no 500 on PostgreSQL."""

from __future__ import annotations

import json

import pytest

from bianmin.cases.models import Case

from .test_case_api import _intake


@pytest.fixture
def hall_key(areas, sites, calendar, catalog):
    from .test_case_api import _key

    return _key(sites["gudong"].area, site=sites["gudong"])


def test_json_text_loses_its_control_characters(client, hall_key):
    body = json.dumps(_intake(applicant_name="陈\x00七\x1b", summary="申请\x07低保\ud800\n第二行"))
    r = client.put("/api/v1/intake/cases/T-1", body, content_type="application/json", **hall_key)
    assert r.status_code == 200, r.content
    case = Case.objects.get()
    assert (case.applicant_name, case.summary) == ("陈七", "申请低保\n第二行")


def test_a_control_character_in_the_api_path_is_a_json_404(client, hall_key):
    r = client.put("/api/v1/intake/cases/T%07X", json.dumps(_intake()), content_type="application/json", **hall_key)
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "控制字符" in r.json()["message"]
    assert not Case.objects.exists()


def test_query_strings_and_forms_are_cleaned(client, login, clerk, sites):
    """The middleware cleans what pages read: a query's filter and a form's field."""
    from django.test import RequestFactory

    from bianmin.core.text import ControlCharacterMiddleware

    seen = {}

    def view(request):
        seen["get"], seen["post"] = request.GET.getlist("q"), request.POST.get("name")
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().post("/x/?q=a%00b&q=c%1bd", {"name": "张\x07三"})
    assert ControlCharacterMiddleware(view)(request).status_code == 200
    assert seen == {"get": ["ab", "cd"], "post": "张三"}
