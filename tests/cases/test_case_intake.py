"""Intake rules: applicant validation, classified items, items a site does not offer, handling
modes at a village station, visits and 跑多趟, materials and files."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bianmin.cases import services
from bianmin.cases.models import Case, CaseEvent, CaseMaterial, State, StoredFile, Transfer, Visit
from bianmin.cases.selectors import case_get, cases_multi_trip, cases_queue
from bianmin.cases.services import Applicant
from bianmin.core import uploads
from bianmin.core.errors import Conflict, Invalid, NotFound, TooLarge, UnsupportedType
from bianmin.core.models import AuditEntry
from bianmin.core.validators import make_credit_code

from .conftest import at, principal

DAY = date(2026, 3, 2)


def _count():
    return (Case.objects.count(), CaseEvent.objects.count(), Visit.objects.count(), CaseMaterial.objects.count(),
            AuditEntry.objects.count())


@pytest.mark.parametrize("field,applicant", [
    ("id_number", Applicant(kind="person", name="张三", id_number="350102198005011234", mobile="13812345678")),
    ("mobile", Applicant(kind="person", name="张三", id_number="", mobile="12345")),
    ("applicant_name", Applicant(kind="person", name=" ", id_number="", mobile="13812345678")),
    ("credit_code", Applicant(kind="enterprise", name="福州某某公司", credit_code="91350100M000100Y44",
                              contact_name="李四", mobile="13812345678")),
    ("contact_name", Applicant(kind="enterprise", name="福州某某公司", credit_code=make_credit_code("350100", 7),
                               contact_name="", mobile="13812345678")),
    ("applicant_kind", Applicant(kind="robot", name="X", mobile="13812345678")),
])
def test_bad_applicant_is_422_naming_the_field_and_writes_nothing(submit, field, applicant):
    before = _count()
    with pytest.raises(Invalid) as err:
        submit(DAY, applicant=applicant)
    assert err.value.status == 422 and err.value.field == field
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
    assert _count() == before


def test_person_and_enterprise_are_normalised(submit):
    p = submit(DAY, applicant=Applicant(kind="person", name="王五", id_number="11010519491231002x",
                                        mobile="138-1234-5678"))
    assert (p.id_number, p.mobile, p.credit_code) == ("11010519491231002X", "13812345678", "")
    code = make_credit_code("350102", 42)
    e = submit(DAY, applicant=Applicant(kind="enterprise", name="福州便民科技有限公司", credit_code=code.lower(),
                                        contact_name="赵六", mobile="13912345678"))
    assert (e.credit_code, e.id_number, e.contact_name) == (code, "", "赵六")


def test_classified_item_is_422_and_writes_nothing(submit):
    before = _count()
    with pytest.raises(Invalid) as err:
        submit(DAY, item="secret")
    assert err.value.field == "item" and "涉密" in err.value.message
    assert _count() == before


def test_item_not_offered_at_site_is_422(submit, guxi_clerk):
    before = _count()
    with pytest.raises(Invalid) as err:  # 鼓东's item at 鼓西's center
        submit(DAY, item="dibao", site="guxi", user=guxi_clerk)
    assert err.value.field == "item" and "未提供该事项" in err.value.message
    assert _count() == before


def test_inactive_item_is_not_offered(submit, catalog):
    catalog["dibao"].active = False
    catalog["dibao"].save()
    with pytest.raises(Invalid):
        submit(DAY)


def test_window_defaults_to_the_items_window(submit, sites):
    assert submit(DAY).window == sites["w2"]


# --- levels ----------------------------------------------------------------------------------


def test_on_the_spot_item_is_handled_at_the_station(submit, station_clerk):
    actor = principal(station_clerk)
    case = submit(DAY, item="proof_station", site="station", user=station_clerk)
    services.case_accept(actor=actor, case_id=case.pk, now=at(DAY))
    services.case_complete(actor=actor, case_id=case.pk, result="approved", now=at(DAY))
    case.refresh_from_db()
    assert case.state == State.COMPLETED and case.promised_due_on == DAY and case.mode == "on_the_spot"
    assert case.acceptance_number.startswith("S-ZS-")


def test_authorised_item_is_handled_locally_recording_the_department(submit, station_clerk, catalog):
    case = submit(DAY, item="disabled_station", site="station", user=station_clerk)
    assert case.mode == "authorized" and case.authorized_by == catalog["cl"]
    services.case_accept(actor=principal(station_clerk), case_id=case.pk, now=at(DAY))
    assert Case.objects.get(pk=case.pk).site.code == "S-ZS"
    with pytest.raises(Conflict):
        services.case_transfer(actor=principal(station_clerk), case_id=case.pk)


def test_transfer_item_moves_to_the_township_and_both_sides_see_it(submit, station_clerk, clerk, sites):
    station = principal(station_clerk)
    case = submit(DAY, item="dibao_station", site="station", user=station_clerk)
    with pytest.raises(Conflict) as err:  # must be forwarded, not accepted at the station
        services.case_accept(actor=station, case_id=case.pk)
    assert "业务转办" in err.value.message
    services.case_transfer(actor=station, case_id=case.pk, note="材料已初审", now=at(DAY))
    case.refresh_from_db()
    assert case.site == sites["gudong"] and case.received_site == sites["station"]
    t = Transfer.objects.get(case=case)
    assert (t.from_site, t.to_site, t.note) == (sites["station"], sites["gudong"], "材料已初审")
    # The station still sees the case (and its state) but no longer handles it.
    assert case_get(principal=station, case_id=case.pk).pk == case.pk
    with pytest.raises(NotFound):
        services.case_accept(actor=station, case_id=case.pk)
    with pytest.raises(Conflict):  # only once
        services.case_transfer(actor=principal(clerk), case_id=case.pk)
    services.case_accept(actor=principal(clerk), case_id=case.pk, now=at(DAY))
    case.refresh_from_db()
    assert case.acceptance_number.startswith("C-GUDONG-")
    assert case_get(principal=station, case_id=case.pk).state == State.ACCEPTED
    assert case.pk in {c.pk for c in cases_queue(principal=principal(clerk))}


def test_after_a_transfer_the_case_no_longer_offers_it(submit, station_clerk, clerk, client, login):
    """Issue 19.7: the receiving site was still offered 转办, which then failed with 409."""
    station = principal(station_clerk)
    case = submit(DAY, item="dibao_station", site="station", user=station_clerk)
    login(station_clerk)
    assert client.get(f"/api/v1/cases/{case.pk}").json()["actions"] == [
        "reject", "request_correction", "withdraw", "transfer"]  # forwarded, not accepted, at the station
    assert "业务转办至" in client.get(f"/cases/{case.pk}/").content.decode()
    services.case_transfer(actor=station, case_id=case.pk, now=at(DAY))
    login(clerk)
    assert client.get(f"/api/v1/cases/{case.pk}").json()["actions"] == [
        "accept", "reject", "request_correction", "withdraw"]
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "业务转办至" not in page and "/transfer/" not in page and "受理</button>" in page


def test_transfer_not_allowed_for_local_items(submit, clerk):
    case = submit(DAY)
    with pytest.raises(Conflict):
        services.case_transfer(actor=principal(clerk), case_id=case.pk)


# --- visits ----------------------------------------------------------------------------------


def test_second_visit_makes_a_multi_trip_case(submit, clerk, guxi_clerk):
    actor = principal(clerk)
    case = submit(DAY)
    online = submit(DAY, channel="online")
    assert online.visit_count == 0
    assert not case.multi_trip
    services.case_visit_record(actor=actor, case_id=case.pk, purpose="补交材料", now=at(date(2026, 3, 4)))
    case.refresh_from_db()
    assert case.visit_count == 2 and case.multi_trip
    tz = ZoneInfo("Asia/Shanghai")
    found = cases_multi_trip(datetime(2026, 3, 1, tzinfo=tz), datetime(2026, 4, 1, tzinfo=tz), actor)
    assert [c.pk for c in found] == [case.pk]
    assert list(cases_multi_trip(datetime(2026, 3, 1, tzinfo=tz), datetime(2026, 4, 1, tzinfo=tz),
                                 principal(guxi_clerk))) == []
    with pytest.raises(NotFound):
        services.case_visit_record(actor=principal(guxi_clerk), case_id=case.pk)


# --- materials -------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n%test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def test_checklist_comes_from_the_guide(submit):
    case = submit(DAY)
    assert list(case.materials.values_list("name", "trust_level")) == [("居民身份证", "A"), ("家庭收入情况声明", "D")]


def test_upload_is_stored_by_content_and_deduplicated(submit, clerk, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                           "OPTIONS": {"location": tmp_path}}}
    actor = principal(clerk)
    a, b = submit(DAY), submit(DAY)
    ma = services.case_material_attach(actor=actor, case_id=a.pk, material_id=a.materials.first().pk, data=PDF,
                                       file_name="身份证.pdf")
    mb = services.case_material_attach(actor=actor, case_id=b.pk, material_id=b.materials.first().pk, data=PDF,
                                       file_name="sfz.pdf")
    assert ma.file_id == mb.file_id and StoredFile.objects.count() == 1
    stored = StoredFile.objects.get()
    import hashlib

    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored.path.endswith(stored.sha256) and (tmp_path / stored.path).read_bytes() == PDF
    assert stored.content_type == "application/pdf"
    assert ma.received


def test_bad_files_413_415_and_nothing_written(submit, clerk, settings):
    settings.BIANMIN_CASE_FILE_MAX_BYTES = 1024
    actor = principal(clerk)
    case = submit(DAY)
    m = case.materials.first()
    before = (StoredFile.objects.count(), CaseEvent.objects.count())
    with pytest.raises(TooLarge) as big:
        services.case_material_attach(actor=actor, case_id=case.pk, material_id=m.pk, data=PDF + b"x" * 2000,
                                      file_name="a.pdf")
    assert big.value.status == 413 and "过大：不能超过 1 KB" in big.value.message
    with pytest.raises(UnsupportedType) as bad:  # an .exe renamed .pdf is still refused
        services.case_material_attach(actor=actor, case_id=case.pk, material_id=m.pk, data=b"MZ\x90\x00" * 10,
                                      file_name="a.pdf")
    assert bad.value.status == 415
    assert (StoredFile.objects.count(), CaseEvent.objects.count()) == before
    assert not CaseMaterial.objects.get(pk=m.pk).received
    services.case_material_attach(actor=actor, case_id=case.pk, material_id=m.pk, data=PNG, file_name="a.png")


def test_ofd_is_accepted_by_name_and_zip_signature():
    assert uploads.sniff_content_type(b"PK\x03\x04rest", "证明.OFD") == "application/ofd"
    assert uploads.sniff_content_type(b"PK\x03\x04rest", "a.zip") is None


def test_pilot_credit_code_needs_a_permitted_users_confirmation(submit, clerk, manager):
    from bianmin.core.errors import Forbidden
    from bianmin.core.validators import CREDIT_CHARSET

    good = make_credit_code("350100", 99)
    bad_check = good[:17] + next(c for c in CREDIT_CHARSET if c != good[17])
    ent = Applicant(kind="enterprise", name="早期试点企业", credit_code=bad_check, contact_name="周九", mobile="13812345678")
    with pytest.raises(Invalid) as err:
        submit(DAY, applicant=ent)
    assert err.value.code == "credit_code_checksum" and err.value.field == "credit_code"
    with pytest.raises(Forbidden):  # a clerk may not confirm it
        submit(DAY, applicant=ent, pilot_credit_code=True)
    assert Case.objects.count() == 0
    case = submit(DAY, applicant=ent, user=manager, pilot_credit_code=True)
    assert case.credit_code == bad_check
    assert case.events.get(type="submitted").data["pilot_credit_code"] is True
    assert AuditEntry.objects.get(target_id=str(case.pk), action="create").changes["pilot_credit_code"] is True
    with pytest.raises(Invalid):  # the override never lets a malformed code through
        submit(DAY, applicant=Applicant(kind="enterprise", name="X", credit_code="IIIIIIIIIIIIIIIIII",
                                        contact_name="周九", mobile="13812345678"), user=manager, pilot_credit_code=True)
