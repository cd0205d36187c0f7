"""Backups and restores of the database and the uploaded files, for SQLite and PostgreSQL.

A backup is a folder (default ``<BIANMIN_VAR>/backups/<timestamp>/``) holding:

* ``database.sqlite3`` — made with SQLite's online backup API (``sqlite3.Connection.backup``),
  which copies a consistent snapshot while the server keeps writing and reads through the WAL,
  so a plain file copy's torn pages and forgotten ``-wal`` frames cannot happen; or
  ``database.dump`` — ``pg_dump --format=custom`` of the PostgreSQL database;
* ``media.tar`` — the uploaded files folder;
* ``manifest.json`` — engine, time, version, the applied migrations, row counts per table and the
  SHA-256 of each file, checked before anything is restored.

A restore checks the manifest and the files first and changes nothing if they do not match. SQLite:
the backup file is copied to a temporary file beside the database, checked with
``PRAGMA integrity_check``, then copied *into* the live database with the same backup API. That is a
single write transaction on the destination: another connection sees the old database or the new
one, never a mix, and a ``-wal`` file left by the old database cannot be replayed over the new one
(which replacing the file with ``os.replace`` would risk). Only when the database file is missing or
unreadable is the checked temporary file moved into place with ``os.replace`` (and any stale
``-wal``/``-shm`` removed). PostgreSQL: ``pg_restore --clean --if-exists --single-transaction``, so a
failed restore rolls back. The media folder is unpacked beside the live one and swapped in by rename.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from bianmin.core.errors import Conflict, Invalid, NotFound

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
MEDIA_FILE = "media.tar"
FORMAT_VERSION = 1


class BackupError(Invalid):
    """A backup or restore that cannot be done; the message says why, in Chinese."""

    code = "backup_failed"


@dataclass
class BackupResult:
    path: Path
    engine: str
    tables: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


# ---------------------------------------------------------------------------------------------
# Helpers


def engine_of(alias: str = DEFAULT_DB_ALIAS) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持备份该数据库类型：{vendor}")
    return vendor


def media_root() -> Path:
    options = settings.STORAGES.get("default", {}).get("OPTIONS", {})
    return Path(options.get("location") or settings.MEDIA_ROOT or settings.VAR_DIR / "media")


def default_backup_dir() -> Path:
    return Path(settings.VAR_DIR) / "backups"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def table_row_counts(alias: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Rows per table of the live database (every table Django's introspection lists)."""
    connection = connections[alias]
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def table_checksum(table: str, alias: str = DEFAULT_DB_ALIAS) -> str:
    """A SHA-256 over a table's rows in primary-key order (every column, as the driver returns it).
    Comparable between two states of one database engine, which is what a restore check needs."""
    connection = connections[alias]
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
        order = ", ".join(connection.ops.quote_name(c) for c in columns)
        cursor.execute(f"SELECT {order} FROM {connection.ops.quote_name(table)} ORDER BY {order}")
        for row in cursor.fetchall():
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _applied_migrations(alias: str) -> list[str]:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections[alias])
    if not recorder.has_table():
        return []
    return sorted(f"{app}.{name}" for app, name in recorder.applied_migrations())


# ---------------------------------------------------------------------------------------------
# Backup


def backup_create(*, destination: Path | str | None = None, alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Back up the database and the media folder into `destination` (a new folder; by default a
    timestamped one under var/backups/). Safe while the server is running."""
    engine = engine_of(alias)
    if destination is None:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S-%f")
        destination = default_backup_dir() / f"bianmin-{stamp}"
    destination = Path(destination).resolve()
    if destination.exists() and any(destination.iterdir()):
        raise Conflict(f"备份目录已存在且不为空：{destination}", field="path")
    created = not destination.exists()
    destination.mkdir(parents=True, exist_ok=True)
    # Work in a hidden folder and move the files in at the end, the manifest last: a folder with a
    # manifest is complete.
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=destination.parent))
    ok = False
    try:
        files: dict[str, str] = {}
        if engine == "sqlite":
            db_name = _sqlite_backup(alias, work / SQLITE_FILE)
            tables = _sqlite_row_counts(work / SQLITE_FILE)  # counts of the snapshot itself
        else:
            db_name = _pg_dump(alias, work / PG_FILE)
            tables = table_row_counts(alias)  # live counts: may differ slightly while writes go on
        files[db_name] = _sha256(work / db_name)
        _tar_media(work / MEDIA_FILE)
        files[MEDIA_FILE] = _sha256(work / MEDIA_FILE)
        from bianmin import __version__

        manifest = {
            "format": FORMAT_VERSION,
            "engine": engine,
            "created_at": timezone.now().isoformat(),
            "version": __version__,
            "migrations": _applied_migrations(alias),
            "tables": tables,
            "files": files,
        }
        for name in files:
            os.replace(work / name, destination / name)
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(work / MANIFEST, destination / MANIFEST)
        ok = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not ok and created:
            shutil.rmtree(destination, ignore_errors=True)
    return BackupResult(path=destination, engine=engine, tables=manifest["tables"], files=files)


def _sqlite_backup(alias: str, target: Path) -> str:
    source_name = connections[alias].settings_dict["NAME"]
    if str(source_name) in ("", ":memory:") or not Path(source_name).exists():
        raise BackupError(f"找不到 SQLite 数据库文件：{source_name}")
    # Our own connections, not Django's: the backup must not run inside a request's transaction.
    # busy_timeout lets the copy wait for a writer's commit instead of failing.
    source = sqlite3.connect(str(source_name), timeout=30)
    try:
        dest = sqlite3.connect(str(target))
        try:
            # One step (pages=-1): a single read transaction, which in WAL mode never blocks the
            # server's writers. A copy in several steps would restart whenever another
            # connection writes in between, and might never finish under steady load.
            with dest:
                source.backup(dest, pages=-1)
            # The copy is a standalone file: no WAL beside it.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
    finally:
        source.close()
    return SQLITE_FILE


def _sqlite_row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(str(path))
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        conn.close()


def _tar_media(target: Path) -> None:
    root = media_root()
    with tarfile.open(target, "w") as tar:
        if root.exists():
            for path in sorted(root.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(root)), recursive=False)


# ---------------------------------------------------------------------------------------------
# PostgreSQL tools


def pg_tool(name: str) -> str | None:
    """Path to pg_dump / pg_restore: $BIANMIN_PG_BIN, else Debian's newest server folder (its
    version matches the installed server), else PATH."""
    candidates: list[Path] = []
    if os.environ.get("BIANMIN_PG_BIN"):
        candidates.append(Path(os.environ["BIANMIN_PG_BIN"]) / name)

    def _version(path: Path) -> int:
        try:
            return int(path.parent.parent.name)
        except ValueError:
            return 0

    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_version, reverse=True)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def _pg_env(alias: str) -> tuple[dict[str, str], str]:
    """libpq environment for the connection (the password goes in PGPASSWORD, never on a command
    line where `ps` would show it) and the database name."""
    s = connections[alias].settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    return env, s["NAME"]


def _run_pg(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600)
    except OSError as exc:
        raise BackupError(f"{what}无法运行：{exc}") from exc
    if result.returncode != 0:
        raise BackupError(f"{what}失败：{result.stderr.strip()[:2000]}")


def _pg_dump(alias: str, target: Path) -> str:
    tool = pg_tool("pg_dump")
    if tool is None:
        raise BackupError("找不到 pg_dump：请安装 PostgreSQL 客户端（Debian：postgresql-client），或设置 BIANMIN_PG_BIN")
    env, name = _pg_env(alias)
    _run_pg([tool, "--format=custom", "--no-owner", "--no-privileges", "--file", str(target), "--dbname", name],
            env, "pg_dump ")
    return PG_FILE


# ---------------------------------------------------------------------------------------------
# Restore


def backup_read(path: Path | str) -> dict:
    """The manifest of a backup folder, with every listed file checked against its SHA-256."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise NotFound(f"不是有效的备份目录（缺少 {MANIFEST}）：{path}", field="path")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"备份清单无法读取：{exc}") from exc
    if manifest.get("format") != FORMAT_VERSION or manifest.get("engine") not in ("sqlite", "postgresql"):
        raise BackupError("备份清单格式不受支持")
    for name, expected in (manifest.get("files") or {}).items():
        file = path / name
        if not file.is_file():
            raise BackupError(f"备份文件缺失：{name}")
        if _sha256(file) != expected:
            raise BackupError(f"备份文件校验失败（已损坏或被修改）：{name}")
    return manifest


def backup_restore(*, source: Path | str, alias: str = DEFAULT_DB_ALIAS) -> dict:
    """Restore a backup folder over the current database and media folder. Nothing is changed if
    the backup is incomplete, damaged or made for another database engine."""
    source = Path(source).resolve()
    manifest = backup_read(source)
    engine = engine_of(alias)
    if manifest["engine"] != engine:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(f"该备份来自 {names[manifest['engine']]}，当前数据库是 {names[engine]}，不能直接恢复")
    # Django's connection must hold nothing open (no transaction, no cached statement) while the
    # database underneath it is replaced.
    connections[alias].close()
    if engine == "sqlite":
        _sqlite_restore(alias, source / SQLITE_FILE)
    else:
        _pg_restore(alias, source / PG_FILE)
    _restore_media(source / MEDIA_FILE)
    connections[alias].close()
    return manifest


def _sqlite_restore(alias: str, backup_file: Path) -> None:
    live = Path(connections[alias].settings_dict["NAME"])
    live.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite3", dir=live.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(backup_file, tmp)
        check = sqlite3.connect(str(tmp))
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            check.close()
        if result != "ok":
            raise BackupError(f"备份数据库完整性检查未通过：{result}")
        if _sqlite_readable(live):
            src = sqlite3.connect(str(tmp))
            dest = sqlite3.connect(str(live), timeout=30)
            try:
                src.backup(dest)
            finally:
                dest.close()
                src.close()
        else:
            for suffix in ("-wal", "-shm"):
                Path(f"{live}{suffix}").unlink(missing_ok=True)
            os.replace(tmp, live)
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_readable(path: Path) -> bool:
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
        return True
    except sqlite3.DatabaseError:
        return False


def _pg_restore(alias: str, dump: Path) -> None:
    tool = pg_tool("pg_restore")
    if tool is None:
        raise BackupError("找不到 pg_restore：请安装 PostgreSQL 客户端（Debian：postgresql-client），或设置 BIANMIN_PG_BIN")
    env, name = _pg_env(alias)
    _run_pg([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", "--dbname", name, str(dump)], env, "pg_restore ")


def _restore_media(archive: Path) -> None:
    root = media_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".media-restore-", dir=root.parent))
    try:
        with tarfile.open(archive, "r") as tar:
            # "data" refuses absolute paths, "..", devices and links leaving the folder.
            tar.extractall(staging, filter="data")
        old = root.parent / f".media-old-{datetime.now().strftime('%Y%m%d%H%M%S%f')}"
        if root.exists():
            os.replace(root, old)
        os.replace(staging, root)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
