"""Uploaded files leave no orphan: a request that fails after its file was written (a later
check, the audit row, the database) removes the blob it created, unless another row uses the same
content (content addressing: a referenced blob is never deleted)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from bianmin.cases import services
from bianmin.cases.models import CaseEvent, CaseMaterial, StoredFile
from bianmin.cases.uploads import atomic_with_uploads, discard_unreferenced

from .conftest import principal

DAY = date(2026, 3, 2)
PDF = b"%PDF-1.4\n%material\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20 + b"photo"


class Boom(Exception):
    pass


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


def _blobs(media) -> set[str]:
    return {p.name for p in media.rglob("*") if p.is_file()} if media.exists() else set()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fail_audit(monkeypatch):
    """The audit row — written after the file and the material row — cannot be written."""
    def refuse(*args, **kwargs):
        raise Boom("audit unavailable")

    monkeypatch.setattr(services, "_audit", refuse)


def test_a_failed_material_upload_leaves_no_file(submit, clerk, media, monkeypatch):
    case = submit(DAY)
    m = case.materials.first()
    _fail_audit(monkeypatch)
    with pytest.raises(Boom):
        services.case_material_attach(actor=principal(clerk), case_id=case.pk, material_id=m.pk, data=PDF,
                                      file_name="身份证.pdf")
    assert not StoredFile.objects.exists()
    assert _blobs(media) == set()
    m.refresh_from_db()
    assert not m.received and m.file_id is None
    assert not CaseEvent.objects.filter(case=case, type="material").exists()


def test_a_failed_upload_keeps_a_blob_another_row_uses(submit, clerk, media, monkeypatch):
    actor = principal(clerk)
    first, second = submit(DAY), submit(DAY)
    services.case_material_attach(actor=actor, case_id=first.pk, material_id=first.materials.first().pk, data=PDF,
                                  file_name="身份证.pdf")
    assert _blobs(media) == {_sha(PDF)}
    _fail_audit(monkeypatch)
    for data in (PDF, PNG):  # the same content as the stored one, then a new one
        with pytest.raises(Boom):
            services.case_material_attach(actor=actor, case_id=second.pk, material_id=second.materials.first().pk,
                                          data=data, file_name="x")
    assert _blobs(media) == {_sha(PDF)}  # the shared blob stays, the new one went
    stored = StoredFile.objects.get()
    assert stored.sha256 == _sha(PDF) and (media / stored.path).read_bytes() == PDF
    assert CaseMaterial.objects.filter(file__isnull=False).count() == 1


def test_the_successful_upload_stays(submit, clerk, media):
    case = submit(DAY)
    m = services.case_material_attach(actor=principal(clerk), case_id=case.pk, material_id=case.materials.first().pk,
                                      data=PNG, file_name="照片.png")
    assert _blobs(media) == {_sha(PNG)} and m.file.sha256 == _sha(PNG)


def test_an_enclosing_block_that_fails_removes_what_a_nested_one_wrote(media, db):
    with pytest.raises(Boom), atomic_with_uploads():
        with atomic_with_uploads():
            services.store_file(data=PDF, name="a.pdf")
        assert _blobs(media) == {_sha(PDF)}  # the inner block succeeded
        raise Boom
    assert _blobs(media) == set() and not StoredFile.objects.exists()


def test_a_nested_block_that_fails_inside_a_surviving_one_removes_only_its_own(media, db):
    with atomic_with_uploads():
        services.store_file(data=PDF, name="a.pdf")
        with pytest.raises(Boom), atomic_with_uploads():
            services.store_file(data=PDF, name="again.pdf")  # found, not written: not its to remove
            services.store_file(data=PNG, name="b.png")
            raise Boom
    assert _blobs(media) == {_sha(PDF)}
    assert list(StoredFile.objects.values_list("sha256", flat=True)) == [_sha(PDF)]


def test_discard_never_removes_a_referenced_blob_but_removes_an_orphan(media, db):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stored = services.store_file(data=PDF, name="a.pdf")
    assert discard_unreferenced(sha256=stored.sha256, path=stored.path) is False
    assert (media / stored.path).read_bytes() == PDF
    orphan = default_storage.save(f"cases/orphan/{_sha(PNG)}", ContentFile(PNG))
    assert discard_unreferenced(sha256=_sha(PNG), path=orphan) is True
    assert _blobs(media) == {_sha(PDF)} and StoredFile.objects.count() == 1


def test_a_blob_removed_by_a_failed_concurrent_upload_is_written_again(media, db, monkeypatch):
    """Another upload of the same content wrote the blob, so this one did not; that upload then
    failed and removed it before this one's row went in: the row must not point at nothing."""
    from django.core.files.storage import FileSystemStorage

    real_exists = FileSystemStorage.exists
    calls = {"n": 0}

    def exists_once_then_real(self, path):
        calls["n"] += 1
        return True if calls["n"] == 1 else real_exists(self, path)

    monkeypatch.setattr(FileSystemStorage, "exists", exists_once_then_real)
    stored = services.store_file(data=PNG, name="b.png")
    assert (media / stored.path).read_bytes() == PNG


def test_the_upload_policy_cleans_names():
    from bianmin.core.uploads import NAME_MAX, clean_file_name

    assert clean_file_name("C:\\Users\\张三\\证明.pdf") == "证明.pdf"
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("现场\x00\x07照片.png") == "现场照片.png"
    assert clean_file_name("  ") == "附件" and clean_file_name("", default="证据") == "证据"
    long = clean_file_name("长" * 500 + ".pdf")
    assert len(long) == NAME_MAX and long.endswith(".pdf")


def test_one_policy_for_every_app():
    """Cases, bad-review evidence and appeal attachments refuse the same file the same way."""
    import pytest

    from bianmin.core.errors import Invalid, UnsupportedType
    from bianmin.core.uploads import check_file, check_files

    with pytest.raises(UnsupportedType) as exc:
        check_file("a.pdf", b"MZ\x90\x00", field="file")
    assert exc.value.status == 415 and "PDF、JPG、PNG、OFD" in exc.value.message
    with pytest.raises(Invalid):
        check_files([("a.pdf", b"%PDF-1")] * 11, field="files")
    assert check_file("x.pdf", b"%PDF-1.4", field="file").content_type == "application/pdf"


def test_no_module_checks_uploads_its_own_way():
    """Every app that takes files (cases, followups, appeals, inspections, policies, catalog) reads
    and checks them through core.uploads (or core.imports for bulk files): no module keeps its own
    signature table or size check, and no module reads ``request.FILES`` without the policy."""
    import ast
    from pathlib import Path

    import bianmin

    src = Path(bianmin.__file__).resolve().parent
    offenders = {}
    for path in src.rglob("*.py"):
        rel = path.relative_to(src).as_posix()
        # kiosks/kiosk_views.py: the certificate check hashes a file against a stored digest and
        # keeps nothing (its own 5 MB cap); not an upload the platform accepts.
        if rel in ("core/uploads.py", "core/imports.py", "kiosks/kiosk_views.py") or "/migrations/" in rel:
            continue
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        found = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "_SIGNATURES"]
        found += [f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                  and n.module.startswith("bianmin.cases") for a in n.names
                  if a.name in ("max_file_bytes", "sniff_content_type")]
        if ("request.FILES" in text or "UploadedFile" in text) and not any(
                m in text for m in ("bianmin.core.uploads", "bianmin.core.imports", "import_job_create")):
            found.append("reads uploads without core.uploads/core.imports")
        if found:
            offenders[rel] = found
    assert offenders == {}, offenders
