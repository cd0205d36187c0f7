"""`bianmin backup` / `restore` on the database the suite runs on: SQLite through the online backup
API, PostgreSQL through pg_dump/pg_restore (CI runs the suite on both, so both paths are proven)."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from bianmin import cli
from bianmin.core import backup
from bianmin.core.errors import Conflict, NotFound

CHECKED_TABLES = ["regions_area", "accounts_user", "accounts_roleassignment", "core_auditentry"]


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}}}
    (root / "dossiers").mkdir()
    (root / "dossiers" / "材料一.pdf").write_bytes(b"%PDF-1.4 original")
    return root


@pytest.fixture
def data(areas, make_user):
    from bianmin.core.audit import audit
    from bianmin.core.models import AuditEntry

    users = [make_user("window_clerk", "350102001000", username=f"clerk{i}") for i in range(3)]
    for user in users:
        audit(actor=None, action=AuditEntry.Action.CREATE, target=user, changes={"用户": user.username})
    return users


def snapshot(media_root):
    files = {str(p.relative_to(media_root)): p.read_bytes() for p in sorted(media_root.rglob("*")) if p.is_file()}
    return (backup.table_row_counts(), {t: backup.table_checksum(t) for t in CHECKED_TABLES}, files)


def damage(users, media_root):
    """Deletes, updates and inserts across the checked tables, and changes the uploads."""
    from bianmin.accounts.models import RoleAssignment, User
    from bianmin.core.models import AuditEntry
    from bianmin.regions.models import Area

    RoleAssignment.objects.filter(user=users[0]).delete()
    User.objects.filter(pk=users[1].pk).update(username="renamed", is_active=False)
    User.objects.create(username="intruder")
    Area.objects.filter(code="350102000000").update(name="被改掉的名称")
    AuditEntry.objects.create(action=AuditEntry.Action.DELETE, actor_label="x", target_label="误删")
    (media_root / "dossiers" / "材料一.pdf").write_bytes(b"overwritten")
    (media_root / "新文件.txt").write_text("不应存在")


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_back_every_row_and_file(data, media, tmp_path):
    engine = connection.vendor
    before = snapshot(media)
    result = backup.backup_create(destination=tmp_path / "b1")

    # The path taken is the engine's own: SQLite's online backup or pg_dump's custom format.
    expected_file = {"sqlite": backup.SQLITE_FILE, "postgresql": backup.PG_FILE}[engine]
    assert result.engine == engine
    assert set(result.files) == {expected_file, backup.MEDIA_FILE}
    manifest = json.loads((tmp_path / "b1" / backup.MANIFEST).read_text())
    assert manifest["tables"] == before[0]
    assert manifest["tables"]["accounts_user"] == 3
    assert "core.0001_initial" in manifest["migrations"]

    damage(data, media)
    assert snapshot(media) != before

    backup.backup_restore(source=tmp_path / "b1")
    assert snapshot(media) == before


@pytest.mark.django_db(transaction=True)
def test_commands_and_cli(data, media, tmp_path, monkeypatch):
    before = snapshot(media)
    out = io.StringIO()
    call_command("backup", str(tmp_path / "b2"), stdout=out)
    assert "备份完成" in out.getvalue()
    damage(data, media)
    changed = snapshot(media)

    # Without --yes and without a terminal to ask on, nothing happens.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "b2"))
    assert snapshot(media) == changed

    assert cli.main(["restore", str(tmp_path / "b2"), "--yes"]) == 0
    assert snapshot(media) == before


@pytest.mark.django_db(transaction=True)
def test_default_folder_is_timestamped_under_var(data, media, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    first = backup.backup_create()
    second = backup.backup_create()
    assert first.path.parent == tmp_path / "var" / "backups" and first.path != second.path
    assert first.path.name.startswith("bianmin-")


@pytest.mark.django_db(transaction=True)
def test_damaged_backup_is_refused_and_changes_nothing(data, media, tmp_path):
    result = backup.backup_create(destination=tmp_path / "b3")
    damage(data, media)
    changed = snapshot(media)
    db_file = next(name for name in result.files if name != backup.MEDIA_FILE)
    with (tmp_path / "b3" / db_file).open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00garbage\x00")
    with pytest.raises(backup.BackupError, match="校验失败"):
        backup.backup_restore(source=tmp_path / "b3")
    (tmp_path / "b3" / db_file).unlink()
    with pytest.raises(backup.BackupError, match="缺失"):
        backup.backup_restore(source=tmp_path / "b3")
    assert snapshot(media) == changed


@pytest.mark.django_db(transaction=True)
def test_backup_of_other_engine_is_refused(data, media, tmp_path):
    backup.backup_create(destination=tmp_path / "b4")
    manifest_path = tmp_path / "b4" / backup.MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["engine"] = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match="不能直接恢复"):
        backup.backup_restore(source=tmp_path / "b4")


def test_bad_paths(tmp_path, db):
    with pytest.raises(NotFound, match="不是有效的备份目录"):
        backup.backup_restore(source=tmp_path / "nowhere")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(Conflict, match="不为空"):
        backup.backup_create(destination=tmp_path / "full")
    with pytest.raises(CommandError, match="不是有效的备份目录"):
        call_command("restore", str(tmp_path / "nowhere"), "--yes")


@pytest.mark.django_db(transaction=True)
def test_write_in_flight_during_backup_is_wholly_out(data, media, tmp_path):
    """A transaction still open while the backup runs is absent from it, and the backup does not
    wait for it (SQLite: WAL snapshot; PostgreSQL: pg_dump's MVCC snapshot)."""
    from bianmin.core.models import AuditEntry

    audit_rows = AuditEntry.objects.count()
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            with transaction.atomic():
                AuditEntry.objects.create(action=AuditEntry.Action.CREATE, actor_label="在途", target_label="在途写入")
                written.set()
                assert release.wait(60)
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(60)
        result = backup.backup_create(destination=tmp_path / "b5")
    finally:
        release.set()
        thread.join(60)
    assert not errors
    assert result.tables["core_auditentry"] == audit_rows
    assert AuditEntry.objects.filter(actor_label="在途").count() == 1
    backup.backup_restore(source=tmp_path / "b5")
    assert AuditEntry.objects.filter(actor_label="在途").count() == 0
    assert AuditEntry.objects.count() == audit_rows
