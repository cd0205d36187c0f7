"""申诉 evidence files: uploaded with the appeal (page and API) or added while the level above has
not decided, checked by their first bytes (415) and size (413) with nothing half-written,
stored once by content, listed for the deciding level, downloadable in scope only (404
elsewhere), every download audited, never deleted."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import GULOU, GUXI
from django.core.files.uploadedfile import SimpleUploadedFile
from evaluations.conftest import principal

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"still-from-cctv"
PDF = b"%PDF-1.4\n% signed statement\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 60


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


@pytest.fixture
def handling(completed_case, django_capture_on_commit_callbacks):
    from bianmin.evaluations.services import evaluation_submit

    case = completed_case()
    with django_capture_on_commit_callbacks(execute=True):
        e = evaluation_submit(case_id=case.pk, grade=1, channel="web", actor=None, reasons=["attitude"],
                              text="窗口人员态度冷淡").evaluation
    return e.handling


@pytest.fixture
def manager(make_user):
    from conftest import GUDONG

    return make_user("center_manager", GUDONG, username="gd_manager")


@pytest.fixture
def district_admin(make_user):
    return make_user("district_admin", GULOU, username="gl_admin")


def _page_appeal(client, h, *files, reason="群众误评", evidence=""):
    return client.post(f"/followups/handling/{h.pk}/", {
        "action": "appeal", "reason": reason, "evidence": evidence,
        "files": [SimpleUploadedFile(name, data) for name, data in files]})


def test_appeal_with_files_on_the_page_listed_for_the_level_above(client, login, handling, manager, district_admin):
    from bianmin.cases.models import StoredFile
    from bianmin.core.models import AuditEntry

    login(manager)
    resp = _page_appeal(client, handling, ("监控截图.png", PNG), ("情况说明.pdf", PDF))
    assert resp.status_code == 302
    handling.refresh_from_db()
    assert handling.status == "appealed" and handling.appeal_evidence == ""  # the files are the evidence
    rows = list(handling.evidence_files.select_related("file"))
    assert [r.file_name for r in rows] == ["监控截图.png", "情况说明.pdf"]
    assert rows[0].file.sha256 == hashlib.sha256(PNG).hexdigest() and rows[0].file.content_type == "image/png"
    assert rows[1].file.content_type == "application/pdf"
    assert "附件：监控截图.png、情况说明.pdf" in handling.events.get(kind="appealed").text
    assert StoredFile.objects.count() == 2

    login(district_admin)
    page = client.get(f"/followups/handling/{handling.pk}/").content.decode()
    assert "监控截图.png" in page and "情况说明.pdf" in page and "申诉成立（不计入统计）" in page
    before = AuditEntry.objects.filter(action="export").count()
    got = client.get(f"/followups/handling/{handling.pk}/evidence/{rows[0].pk}/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PNG
    assert got["Content-Type"] == "image/png" and "attachment" in got["Content-Disposition"]
    entry = AuditEntry.objects.filter(action="export").order_by("-id").first()
    assert AuditEntry.objects.filter(action="export").count() == before + 1
    assert entry.actor_id == district_admin.pk and entry.changes["file"] == "监控截图.png"


def test_same_file_twice_is_stored_once(client, login, handling, manager):
    from bianmin.cases.models import StoredFile

    login(manager)
    assert _page_appeal(client, handling, ("a.png", PNG), ("b.png", PNG)).status_code == 302
    assert handling.evidence_files.count() == 2 and StoredFile.objects.count() == 1


def test_reason_with_neither_description_nor_file_is_refused(client, login, handling, manager):
    login(manager)
    resp = _page_appeal(client, handling)
    assert resp.status_code == 422 and "请填写申诉证据" in resp.content.decode()
    handling.refresh_from_db()
    assert handling.status == "open"


def test_wrong_type_is_415_and_nothing_is_written(client, login, handling, manager, media):
    from bianmin.cases.models import StoredFile

    login(manager)
    # a good file first, then a program named as a photo: the whole appeal is refused
    resp = _page_appeal(client, handling, ("监控截图.png", PNG), ("photo.jpg", EXE))
    assert resp.status_code == 415 and "类型不支持" in resp.content.decode()
    handling.refresh_from_db()
    assert handling.status == "open" and not handling.evidence_files.exists() and not StoredFile.objects.exists()
    assert not handling.events.filter(kind="appealed").exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_too_large_is_413_with_a_chinese_message(client, login, handling, manager, settings):
    settings.BIANMIN_CASE_FILE_MAX_BYTES = 1024
    login(manager)
    resp = _page_appeal(client, handling, ("录像截图.png", PNG + b"\x00" * 2000))
    assert resp.status_code == 413 and "过大" in resp.content.decode()
    handling.refresh_from_db()
    assert handling.status == "open" and not handling.evidence_files.exists()
    api = client.post(f"/api/v1/followups/handlings/{handling.pk}/appeal/files",
                      {"reason": "误评", "files": [SimpleUploadedFile("big.png", PNG + b"\x00" * 2000)]})
    assert api.status_code == 413 and api.json()["code"] == "too_large" and "过大" in api.json()["message"]


def test_api_appeal_with_files_add_more_list_download(client, login, handling, manager, district_admin):
    from bianmin.core.models import AuditEntry

    login(manager)
    resp = client.post(f"/api/v1/followups/handlings/{handling.pk}/appeal/files",
                       {"reason": "恶意评价", "evidence": "监控录像显示正常办理",
                        "files": [SimpleUploadedFile("still.png", PNG)]})
    assert resp.status_code == 200 and resp.json()["status"] == "appealed"
    bad = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence",
                      {"files": [SimpleUploadedFile("x.pdf", EXE)]})
    assert bad.status_code == 415 and bad.json()["code"] == "unsupported_media_type"
    more = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence",
                       {"files": [SimpleUploadedFile("签字说明.pdf", PDF)]})
    assert more.status_code == 201 and more.json()[0]["file_name"] == "签字说明.pdf"
    assert handling.events.filter(kind="evidence_added").count() == 1

    login(district_admin)
    listed = client.get(f"/api/v1/followups/handlings/{handling.pk}/evidence").json()
    assert [f["file_name"] for f in listed] == ["still.png", "签字说明.pdf"]
    assert listed[1]["sha256"] == hashlib.sha256(PDF).hexdigest()
    got = client.get(listed[1]["url"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert AuditEntry.objects.filter(action="export", target_type="followups.appealevidence",
                                     target_id=str(listed[1]["id"])).count() == 1
    # decided: the evidence stays, and nothing more can be added
    client.post(f"/api/v1/followups/handlings/{handling.pk}/decide", json.dumps({"upheld": False, "note": "证据不足"}),
                content_type="application/json")
    login(manager)
    late = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence",
                       {"files": [SimpleUploadedFile("late.png", PNG)]})
    assert late.status_code == 409 and "不在申诉复核中" in late.json()["message"]
    assert handling.evidence_files.count() == 2
    page = client.get(f"/followups/handling/{handling.pk}/").content.decode()
    assert "申诉记录" in page and "still.png" in page


def test_evidence_is_out_of_reach_of_another_township(client, login, handling, manager, make_user):
    from bianmin.core.models import AuditEntry
    from bianmin.followups import services

    services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                             files=[("still.png", PNG)])
    row = handling.evidence_files.get()
    login(make_user("center_manager", GUXI, username="gx_manager"))
    before = AuditEntry.objects.filter(action="export").count()
    assert client.get(f"/followups/handling/{handling.pk}/evidence/{row.pk}/").status_code == 404
    assert client.get(f"/api/v1/followups/handlings/{handling.pk}/evidence/{row.pk}").status_code == 404
    assert client.get(f"/api/v1/followups/handlings/{handling.pk}/evidence").status_code == 404
    assert AuditEntry.objects.filter(action="export").count() == before
    # an evidence id under another handling's URL is not found either
    login(manager)
    assert client.get(f"/followups/handling/{handling.pk + 999}/evidence/{row.pk}/").status_code == 404


def test_evidence_is_never_deleted(handling, manager):
    from bianmin.followups import services
    from bianmin.followups.models import AppealEvidence

    services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                             files=[("still.png", PNG)])
    row = AppealEvidence.objects.get()
    with pytest.raises(PermissionError):
        row.delete()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        row.file.delete()
    assert AppealEvidence.objects.count() == 1


def test_too_many_files_refused(handling, manager):
    from bianmin.core.errors import Invalid
    from bianmin.followups import services

    with pytest.raises(Invalid) as exc:
        services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                                 files=[(f"{i}.png", PNG) for i in range(services.MAX_EVIDENCE_FILES + 1)])
    assert "最多" in exc.value.message


def test_a_file_missing_from_storage_is_404_not_500(client, login, handling, manager, media):
    import shutil

    from bianmin.core.models import AuditEntry
    from bianmin.followups import services

    services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                             files=[("still.png", PNG)])
    row = handling.evidence_files.get()
    shutil.rmtree(media)
    login(manager)
    before = AuditEntry.objects.filter(action="export").count()
    resp = client.get(f"/api/v1/followups/handlings/{handling.pk}/evidence/{row.pk}")
    assert resp.status_code == 404 and "缺失" in resp.json()["message"]
    assert AuditEntry.objects.filter(action="export").count() == before


# --- who may add evidence, and when -----------------------------------------------------------


def _files_on_disk(media) -> set[str]:
    return {p.name for p in media.rglob("*") if p.is_file()} if media.exists() else set()


def _appealed(handling, manager):
    from bianmin.followups import services

    services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                             files=[("still.png", PNG)])
    return handling


def test_the_deciding_level_may_not_add_evidence_403_on_api_and_page(client, login, handling, manager,
                                                                    district_admin, media):
    from bianmin.core.models import AuditEntry

    _appealed(handling, manager)
    def audited():
        return AuditEntry.objects.filter(target_type="followups.badreviewhandling").count()

    before = (handling.evidence_files.count(), handling.events.count(), audited())
    login(district_admin)
    api = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence",
                      {"files": [SimpleUploadedFile("补充.pdf", PDF)]})
    assert api.status_code == 403 and api.json()["code"] == "forbidden"
    assert "上级单位不能补充证据" in api.json()["message"]
    page = client.post(f"/followups/handling/{handling.pk}/",
                       {"action": "evidence", "files": [SimpleUploadedFile("补充.pdf", PDF)]})
    assert page.status_code == 403 and "上级单位不能补充证据" in page.content.decode()
    wrong_type = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence",
                             {"files": [SimpleUploadedFile("x.pdf", EXE)]})
    assert wrong_type.status_code == 403  # who comes before what
    assert (handling.evidence_files.count(), handling.events.count(), audited()) == before
    assert _files_on_disk(media) == {hashlib.sha256(PNG).hexdigest()}
    # the appealing site still may
    login(manager)
    ok = client.post(f"/api/v1/followups/handlings/{handling.pk}/evidence", {"files": [SimpleUploadedFile("补充.pdf", PDF)]})
    assert ok.status_code == 201


def test_a_city_admin_deciding_from_above_is_refused_too(handling, manager, make_user):
    from conftest import CITY

    from bianmin.core.errors import Forbidden
    from bianmin.followups import services

    _appealed(handling, manager)
    with pytest.raises(Forbidden) as exc:
        services.handling_appeal_evidence_add(actor=principal(make_user("city_admin", CITY)), handling_id=handling.pk,
                                              files=[("补充.pdf", PDF)])
    assert exc.value.status == 403 and handling.evidence_files.count() == 1


def test_evidence_after_the_decision_is_409_and_writes_no_file(handling, manager, district_admin, media):
    from bianmin.core.errors import Conflict
    from bianmin.followups import services

    _appealed(handling, manager)
    services.handling_appeal_decide(actor=principal(district_admin), handling_id=handling.pk, upheld=False,
                                    note="证据不足")
    with pytest.raises(Conflict) as exc:
        services.handling_appeal_evidence_add(actor=principal(manager), handling_id=handling.pk,
                                              files=[("补充.pdf", PDF)])
    assert exc.value.status == 409 and "不在申诉复核中" in exc.value.message
    assert handling.evidence_files.count() == 1 and _files_on_disk(media) == {hashlib.sha256(PNG).hexdigest()}


# --- no orphan files ----------------------------------------------------------------------------


def _fail_audit(monkeypatch):
    from bianmin.followups import services

    def refuse(*args, **kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(services, "audit", refuse)


def test_the_eleventh_file_is_422_and_leaves_no_file(handling, manager, media):
    from bianmin.core.errors import Invalid
    from bianmin.followups import services

    files = [(f"{i}.png", PNG + bytes([i])) for i in range(services.MAX_EVIDENCE_FILES)]
    services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评", files=files)
    before = _files_on_disk(media)
    assert len(before) == services.MAX_EVIDENCE_FILES
    with pytest.raises(Invalid) as exc:
        services.handling_appeal_evidence_add(actor=principal(manager), handling_id=handling.pk,
                                              files=[("第11个.pdf", PDF)])
    assert exc.value.status == 422 and "最多" in exc.value.message
    assert _files_on_disk(media) == before and handling.evidence_files.count() == services.MAX_EVIDENCE_FILES


def test_an_appeal_that_fails_after_its_files_were_written_leaves_none(handling, manager, media, monkeypatch):
    from bianmin.cases.models import StoredFile
    from bianmin.followups import services

    _fail_audit(monkeypatch)
    with pytest.raises(RuntimeError):
        services.handling_appeal(actor=principal(manager), handling_id=handling.pk, reason="误评",
                                 files=[("still.png", PNG), ("说明.pdf", PDF)])
    handling.refresh_from_db()
    assert handling.status == "open" and not handling.evidence_files.exists() and not StoredFile.objects.exists()
    assert _files_on_disk(media) == set()


def test_added_evidence_that_fails_keeps_only_the_files_rows_use(handling, manager, media, monkeypatch):
    """The appeal's photo is on file; the addition (the same photo again and a new PDF) fails
    after writing: the new PDF goes, the shared photo stays."""
    from bianmin.followups import services

    _appealed(handling, manager)
    _fail_audit(monkeypatch)
    with pytest.raises(RuntimeError):
        services.handling_appeal_evidence_add(actor=principal(manager), handling_id=handling.pk,
                                              files=[("again.png", PNG), ("新证据.pdf", PDF)])
    assert _files_on_disk(media) == {hashlib.sha256(PNG).hexdigest()}
    row = handling.evidence_files.select_related("file").get()
    assert (media / row.file.path).read_bytes() == PNG
