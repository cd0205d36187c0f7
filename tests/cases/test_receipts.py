"""What the applicant is told and handed (issue 22.6): the 受理回执 and the 一次性告知书 as pages
and PDFs, an SMS at 受理 and at 补正 through the outbox, 容缺受理 and 办结 confirmed on the page,
and the intake form's item choice narrowed by a search."""

from __future__ import annotations

from datetime import date

from pypdf import PdfReader

from bianmin.cases import services
from bianmin.cases.models import Case
from bianmin.core.calendar import add_working_days
from bianmin.core.models import AuditEntry, OutboxMessage

from .conftest import at, principal

DAY = date(2026, 3, 2)


def _receive_all(case, user):
    for m in case.materials.filter(required=True):
        services.case_material_attach(actor=principal(user), case_id=case.pk, material_id=m.pk, data=None, file_name="")


def _sms(case):
    return list(OutboxMessage.objects.filter(channel="sms", payload__case_id=case.pk).order_by("id"))


def test_accepting_with_a_required_material_missing_asks_for_confirmation(client, login, clerk, submit):
    case = submit(DAY)
    c = login(clerk)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "尚未收取必要材料：居民身份证、家庭收入情况声明" in page and 'name="accept_missing"' in page
    refused = c.post(f"/cases/{case.pk}/accept/", follow=True).content.decode()
    assert "如确需容缺受理" in refused and Case.objects.get(pk=case.pk).state == "submitted"
    assert _sms(case) == []
    c.post(f"/cases/{case.pk}/accept/", {"accept_missing": "1"})
    case.refresh_from_db()
    assert case.state == "accepted"
    event = case.events.get(type="accepted")
    assert event.data["missing_materials"] == ["居民身份证", "家庭收入情况声明"] and event.actor_id == clerk.pk
    entry = AuditEntry.objects.get(target_id=str(case.pk), changes__action="accept")
    assert entry.changes["missing_materials"] == ["居民身份证", "家庭收入情况声明"] and entry.actor_id == clerk.pk
    assert "容缺受理，待补：居民身份证、家庭收入情况声明" in c.get(f"/cases/{case.pk}/").content.decode()


def test_with_every_material_in_no_confirmation_is_needed(client, login, clerk, submit):
    case = submit(DAY)
    _receive_all(case, clerk)
    c = login(clerk)
    assert 'name="accept_missing"' not in c.get(f"/cases/{case.pk}/").content.decode()
    c.post(f"/cases/{case.pk}/accept/")
    case.refresh_from_db()
    assert case.state == "accepted" and "missing_materials" not in case.events.get(type="accepted").data


def test_completion_asks_for_confirmation(client, login, clerk, submit):
    case = submit(DAY)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    services.case_start(actor=principal(clerk), case_id=case.pk)
    c = login(clerk)
    r = c.post(f"/cases/{case.pk}/complete/", {"result": "approved"}, follow=True)
    assert "请勾选“确认办结”" in r.content.decode() and Case.objects.get(pk=case.pk).state == "in_progress"
    c.post(f"/cases/{case.pk}/complete/", {"result": "approved", "confirm": "1"})
    assert Case.objects.get(pk=case.pk).state == "completed"


def test_sms_at_acceptance_and_at_correction_once_each(clerk, submit):
    case = submit(DAY)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    case.refresh_from_db()
    [accepted] = _sms(case)
    assert accepted.recipient == "13812345678"
    assert case.acceptance_number in accepted.payload["text"] and "2026年3月" in accepted.payload["text"]
    assert "承诺" in accepted.payload["text"] and "/cases/track/" in accepted.payload["text"]
    services.case_request_correction(actor=principal(clerk), case_id=case.pk, materials=["户口簿", "结婚证"],
                                     now=at(date(2026, 3, 4)))
    correction = _sms(case)[1]
    assert "户口簿、结婚证" in correction.payload["text"] and "2026年3月18日前" in correction.payload["text"]
    # the same request seen again by the outbox (a retry) is not a second message
    assert len(_sms(case)) == 2


def test_the_correction_deadline_is_working_days_from_the_request(clerk, submit, settings):
    settings.BIANMIN_CASE_CORRECTION_WORKING_DAYS = 3
    case = submit(DAY)
    services.case_request_correction(actor=principal(clerk), case_id=case.pk, materials=["户口簿"], now=at(DAY))
    assert case.suspensions.get().due_on == add_working_days(DAY, 3) == date(2026, 3, 5)


def test_acceptance_receipt_page_and_pdf(client, login, clerk, guxi_clerk, submit):
    case = submit(DAY)
    _receive_all(case, clerk)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    case.refresh_from_db()
    c = login(clerk)
    page = c.get(f"/cases/{case.pk}/receipt/").content.decode()
    assert "受理回执" in page and case.acceptance_number in page and "张*" in page and "138****5678" in page
    assert "13812345678" not in page and "已收取材料" in page and "居民身份证" in page
    assert f"{case.promised_due_on.year}年{case.promised_due_on.month}月{case.promised_due_on.day}日" in page
    pdf = c.get(f"/cases/{case.pk}/receipt.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''" in pdf["Content-Disposition"]
    import io

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "受理回执" in text and case.acceptance_number in text
    assert login(guxi_clerk).get(f"/cases/{case.pk}/receipt/").status_code == 404


def test_no_receipt_before_acceptance_and_no_notice_without_a_correction(client, login, clerk, submit):
    case = submit(DAY)
    c = login(clerk)
    assert c.get(f"/cases/{case.pk}/receipt/").status_code == 404
    assert c.get(f"/cases/{case.pk}/notice/").status_code == 404


def test_correction_notice_lists_every_material_and_the_deadline(client, login, clerk, submit):
    case = submit(DAY)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    services.case_request_correction(actor=principal(clerk), case_id=case.pk, materials=["户口簿", "结婚证"],
                                     now=at(date(2026, 3, 4)))
    c = login(clerk)
    detail = c.get(f"/cases/{case.pk}/").content.decode()
    assert f"/cases/{case.pk}/notice/" in detail and f"/cases/{case.pk}/receipt/" in detail
    page = c.get(f"/cases/{case.pk}/notice/").content.decode()
    assert "一次性告知书" in page and "户口簿" in page and "结婚证" in page
    assert "2026年3月18日前" in page and "暂停计时" in page
    pdf = c.get(f"/cases/{case.pk}/notice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_intake_item_choice_is_searchable(client, login, clerk, sites, catalog):
    c = login(clerk)
    everything = c.get(f"/cases/new/?site={sites['gudong'].pk}").content.decode()
    assert "最低生活保障对象认定" in everything and 'id="item-q"' in everything
    narrowed = c.get(f"/cases/new/?site={sites['gudong'].pk}&q=低保").content.decode()
    assert "最低生活保障对象认定" not in narrowed  # 低保 is not in the item's name
    by_name = c.get(f"/cases/new/?site={sites['gudong'].pk}&q=生活保障").content.decode()
    assert "最低生活保障对象认定" in by_name and "“生活保障”：1 个事项" in by_name
    by_code = c.get(f"/cases/new/?site={sites['gudong'].pk}&q=350100000001").content.decode()
    assert "最低生活保障对象认定" in by_code
    none = c.get(f"/cases/new/?site={sites['gudong'].pk}&q=不存在的事项").content.decode()
    assert "没有名称或编码含“不存在的事项”的事项" in none
