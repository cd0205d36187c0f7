"""Issue 22.9: where a person is shown — the case's 办理过程, the dossier PDF, its file names — the
person's name appears, never the log-in name."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from urllib.parse import quote

import pytest
from conftest import GUDONG
from django.utils import timezone

from .conftest import at, principal

pytestmark = pytest.mark.django_db


@pytest.fixture
def named_clerk(make_user):
    return make_user("window_clerk", GUDONG, username="gudong_clerk", display_name="林小窗")


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "")


def test_the_timeline_and_the_dossier_name_the_person_not_the_log_in(client, login, submit, named_clerk, manager):
    from bianmin.cases import services

    case = submit(date(2026, 3, 2), user=named_clerk)
    services.case_accept(actor=principal(named_clerk), case_id=case.pk, now=at(date(2026, 3, 2)))
    login(manager)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "林小窗" in html and "gudong_clerk" not in html
    api = client.get(f"/api/v1/cases/{case.pk}").json()
    assert {e["actor"] for e in api["events"]} == {"林小窗"}
    resp = client.get(f"/cases/{case.pk}/dossier.pdf")
    assert resp.status_code == 200
    text = _pdf_text(resp.content)
    assert "林小窗" in text and "gudong_clerk" not in text and "gudong_cler" not in text
    case.refresh_from_db()
    name = f"业务卷宗-{case.acceptance_number}.pdf"
    assert resp["Content-Disposition"] == f"inline; filename*=utf-8''{quote(name)}"


def test_a_system_step_is_shown_as_the_system_in_chinese(submit, named_clerk):
    from bianmin.cases.events import _event

    case = submit(date(2026, 3, 2), user=named_clerk)
    event = _event(case, "overdue", None)
    assert event.actor_shown == "系统"


def test_the_dossier_zip_has_a_chinese_name_browsers_keep(client, login, submit, manager):
    case = submit(date(2026, 3, 2))
    login(manager)
    resp = client.post("/cases/dossiers.zip", {"ids": [case.pk]})
    assert resp.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    stamp = f"{timezone.localdate():%Y%m%d}"
    assert resp["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(f'办件卷宗-{stamp}.zip')}"
