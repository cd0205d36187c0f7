"""Certificates: issued from a data source as a PDF with an embedded CJK font, a unique number and
a QR code to the verification page; verified by the file's digest; revoked; nothing issued when
the source refuses, fails or is late; evaluated on the kiosk channel through its case."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.utils import timezone

from bianmin.kiosks import sources

from .conftest import INSURED, OWNER, UNINSURED, bearer, post_json


def issue(client, terminal, raw, item, person, mobile="13800001234"):
    return post_json(client, f"/api/v1/kiosk/terminals/{terminal.code}/certificates",
                     {"item_code": item.code, "id_number": person[0], "name": person[1], "mobile": mobile}, **bearer(raw))


@pytest.fixture
def issued(client, make_terminal, kiosk_items, registries):
    terminal, raw = make_terminal("gudong")
    response = issue(client, terminal, raw, kiosk_items["social"], INSURED)
    assert response.status_code == 201, response.content
    data = response.json()
    pdf = client.get(data["pdf_url"], **bearer(raw))
    return terminal, raw, data, pdf.content


def test_issue_gives_a_pdf_with_embedded_font_number_and_qr(issued):
    from bianmin.core.models import AuditEntry
    from bianmin.kiosks.models import Certificate

    terminal, _raw, data, pdf = issued
    assert re.fullmatch(r"ZM\d{16}", data["number"])
    assert pdf.startswith(b"%PDF-") and b"/FontFile2" in pdf  # the TrueType CJK font is embedded
    assert b"/Subtype /Image" in pdf  # the QR code
    assert hashlib.sha256(pdf).hexdigest() == data["sha256"]
    c = Certificate.objects.get(number=data["number"])
    assert data["verify_url"].endswith(f"/kiosk/v/{c.number}/{c.verify_code}/")
    # validity counts from the issuing day in Beijing time (after 16:00 UTC that is already tomorrow)
    assert (c.valid_until - timezone.localdate(c.issued_at)).days == 90
    entry = AuditEntry.objects.get(target_type="kiosks.certificate", target_id=str(c.pk))
    assert entry.changes["holder"] == "林**" and INSURED[0] not in str(entry.changes)


def test_issue_records_a_finished_case_that_the_kiosk_channel_evaluates(client, issued):
    from bianmin.cases.models import Case
    from bianmin.evaluations.models import Evaluation

    _terminal, raw, data, _pdf = issued
    case = Case.objects.get(acceptance_number=data["acceptance_number"])
    assert case.state == "completed" and case.external_source == "kiosk" and case.external_id == data["number"]
    assert case.site.code == "C-GD" and case.id_number == INSURED[0]
    response = post_json(client, "/api/v1/evaluations/kiosk",
                         {"acceptance_number": case.acceptance_number, "mobile_last4": "1234", "grade": 5}, **bearer(raw))
    assert response.status_code == 201
    assert Evaluation.objects.get(case=case).channel == "kiosk"


def test_the_pdf_is_for_the_issuing_terminal_only(client, issued, make_terminal):
    other, other_raw = make_terminal("gudong")
    _terminal, _raw, data, _pdf = issued
    assert client.get(f"/api/v1/kiosk/terminals/{other.code}/certificates/{data['number']}/pdf",
                      **bearer(other_raw)).status_code == 404


def test_verification_shows_masked_holder_and_compares_the_digest(client, issued):
    from bianmin.kiosks.models import Certificate

    _terminal, _raw, data, pdf = issued
    c = Certificate.objects.get(number=data["number"])
    page = client.get(f"/kiosk/v/{c.number}/{c.verify_code}/")
    text = page.content.decode()
    assert page.status_code == 200 and "证明有效" in text and "林**" in text and INSURED[0] not in text
    assert page["Cache-Control"].startswith("no-store")
    api = client.get(f"/api/v1/kiosk/verify/{c.number}?code={c.verify_code}").json()
    assert api["state"] == "valid" and api["holder"] == "林**" and api["revoked"] is False
    same = post_json(client, f"/api/v1/kiosk/verify/{c.number}", {"code": c.verify_code, "sha256": data["sha256"]})
    assert same.json()["matches"] is True
    changed = pdf.replace(b"/Producer", b"/Producex", 1)
    other = post_json(client, f"/api/v1/kiosk/verify/{c.number}",
                      {"code": c.verify_code, "sha256": hashlib.sha256(changed).hexdigest()}).json()
    assert other["matches"] is False and "可能被改动" in other["message"]
    # Through the page: the uploaded file itself.
    from django.core.files.uploadedfile import SimpleUploadedFile

    ok = client.post(f"/kiosk/v/{c.number}/{c.verify_code}/", {"file": SimpleUploadedFile("a.pdf", pdf)})
    assert "存档一致，证明有效" in ok.content.decode()
    bad = client.post(f"/kiosk/v/{c.number}/{c.verify_code}/", {"file": SimpleUploadedFile("a.pdf", changed)})
    assert "可能被改动" in bad.content.decode()


def test_the_number_alone_finds_nothing(client, issued):
    _terminal, _raw, data, _pdf = issued
    assert client.get(f"/kiosk/v/{data['number']}/AAAAAAAA/").status_code == 404
    assert client.get(f"/api/v1/kiosk/verify/{data['number']}?code=AAAAAAAA").status_code == 404


def test_revocation_is_audited_and_the_certificate_no_longer_verifies(client, login, issued, manager):
    from bianmin.core.models import AuditEntry
    from bianmin.kiosks.models import Certificate

    _terminal, _raw, data, _pdf = issued
    c = Certificate.objects.get(number=data["number"])
    login(manager)
    empty = post_json(client, f"/api/v1/kiosk/certificates/{c.number}/revoke", {"reason": "  "})
    assert empty.status_code == 422 and empty.json()["message"] == "请填写撤销原因"
    response = post_json(client, f"/api/v1/kiosk/certificates/{c.number}/revoke", {"reason": "缴费记录更正"})
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    assert post_json(client, f"/api/v1/kiosk/certificates/{c.number}/revoke", {"reason": "再次"}).status_code == 409
    assert AuditEntry.objects.filter(target_type="kiosks.certificate", action="transition",
                                     changes__reason="缴费记录更正").exists()
    client.logout()
    verdict = post_json(client, f"/api/v1/kiosk/verify/{c.number}", {"code": c.verify_code, "sha256": data["sha256"]}).json()
    assert verdict["revoked"] is True and verdict["matches"] is False and "已被撤销" in verdict["message"]
    assert "已被撤销" in client.get(f"/kiosk/v/{c.number}/{c.verify_code}/").content.decode()


@pytest.mark.parametrize(("item", "person", "message"), [
    ("social", UNINSURED, "未查询到您的社会保险参保缴费记录"),
    ("house", OWNER, "名下有不动产登记记录"),
    ("social", (INSURED[0], "张三"), "姓名与身份证号码不一致"),
])
def test_a_refusal_issues_nothing(client, make_terminal, kiosk_items, registries, item, person, message):
    from bianmin.cases.models import Case
    from bianmin.kiosks.models import Certificate

    terminal, raw = make_terminal("gudong")
    response = issue(client, terminal, raw, kiosk_items[item], person)
    assert response.status_code == 422 and message in response.json()["message"]
    assert not Certificate.objects.exists() and not Case.objects.exists()


def test_a_certificate_without_a_catalog_item_at_the_center_stands_alone(client, make_terminal, kiosk_items, registries):
    terminal, raw = make_terminal("gudong")
    response = issue(client, terminal, raw, kiosk_items["house"], INSURED)
    assert response.status_code == 201 and response.json()["acceptance_number"] is None


class Broken(sources.Source):
    label = "测试登记簿"

    def fetch(self, query, *, timeout):
        raise ConnectionError("connection refused")


class Slow(sources.Source):
    label = "测试登记簿"

    def fetch(self, query, *, timeout):
        sources.clock = lambda: 1000.0 + timeout + 0.5  # the answer comes after the deadline
        return sources.Found(facts=[("参保", "是")], statement="", issuer="测试")


@pytest.mark.parametrize(("adapter", "status", "message"), [
    ("kiosks.test_certificates.Broken", 503, "测试登记簿暂时无法查询"),
    ("kiosks.test_certificates.Slow", 504, "测试登记簿查询超时，本次未出具证明"),
])
def test_a_failing_or_late_source_issues_nothing(client, make_terminal, kiosk_items, registries, settings, monkeypatch,
                                                 adapter, status, message):
    from bianmin.cases.models import Case, StoredFile
    from bianmin.kiosks.models import Certificate

    monkeypatch.setattr(sources, "clock", lambda: 1000.0)
    settings.BIANMIN_KIOSK_SOURCES = {"social_insurance": adapter}
    terminal, raw = make_terminal("gudong")
    response = issue(client, terminal, raw, kiosk_items["social"], INSURED)
    assert response.status_code == status and message in response.json()["message"]
    assert not Certificate.objects.exists() and not Case.objects.exists() and not StoredFile.objects.exists()


def test_bad_input_is_422_in_chinese(client, make_terminal, kiosk_items, registries):
    terminal, raw = make_terminal("gudong")
    bad_id = issue(client, terminal, raw, kiosk_items["social"], ("350102198501011230", "林建华"))
    assert bad_id.status_code == 422 and bad_id.json()["field"] == "id_number"
    bad_mobile = issue(client, terminal, raw, kiosk_items["social"], INSURED, mobile="123")
    assert bad_mobile.status_code == 422 and bad_mobile.json()["field"] == "mobile"
    guide = issue(client, terminal, raw, kiosk_items["guide"], INSURED)
    assert guide.status_code == 422 and guide.json()["message"] == "该事项不出具证明"


def test_staff_list_masks_and_the_pdf_is_an_audited_unmasking(client, login, issued, manager, make_user):
    from conftest import GUDONG

    from bianmin.core.models import AuditEntry

    _terminal, _raw, data, pdf = issued
    login(manager)
    listed = client.get("/api/v1/kiosk/certificates").json()["items"]
    assert listed[0]["holder"] == "林**" and listed[0]["id_number"].startswith("350102") and "*" in listed[0]["id_number"]
    assert client.get(f"/kiosks/certificates/{data['number']}/pdf").content == pdf
    assert AuditEntry.objects.filter(action="unmask", target_type="kiosks.certificate").count() == 1
    clerk = make_user("window_clerk", GUDONG)
    login(clerk)
    assert client.get(f"/kiosks/certificates/{data['number']}/pdf").status_code == 403
