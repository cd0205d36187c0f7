"""Limits on a file imported in bulk (the 12345 work orders, the item catalog), checked before the
work and while it runs, so that no upload holds a worker for minutes or a disk for ever.

- size: the upload's byte count, before it is stored (413);
- the package: an xlsx is a ZIP; the sum of its members' uncompressed sizes is read from its
  directory before any sheet is parsed (a 214 KB file of empty rows expands to many MB of XML);
- rows: the count a sheet declares (its dimension) or a CSV's line count, before the work; then
  every row read — blank ones included, they cost the same to read — against the budget;
- time: a deadline for the whole read, checked per row.

A refused file is removed by its importer (the job row keeps the errors). The limits are settings
(``BIANMIN_IMPORT_LIMITS``: per kind, any of max_bytes, max_rows, max_blank_rows, max_seconds)."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import dataclass, replace

from django.conf import settings

from .errors import Invalid, TooLarge, UnsupportedType


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int
    max_rows: int  # rows with content
    max_blank_rows: int  # empty rows read and skipped, on top
    max_seconds: float
    max_unpacked_bytes: int  # an xlsx's members, uncompressed


DEFAULTS = {
    # 100,000 orders import in well under a minute (bench/); a month of a city's hotline.
    "appeals.12345": ImportLimits(max_bytes=20 * 1024 * 1024, max_rows=100_000, max_blank_rows=10_000,
                                  max_seconds=300, max_unpacked_bytes=400 * 1024 * 1024),
    # The catalog: some thousands of standard items, each row checked against the others.
    "catalog": ImportLimits(max_bytes=5 * 1024 * 1024, max_rows=5_000, max_blank_rows=5_000, max_seconds=120,
                            max_unpacked_bytes=100 * 1024 * 1024),
    # The policy library: an editor's batch of policies, imported while the page waits.
    "policies": ImportLimits(max_bytes=5 * 1024 * 1024, max_rows=2_000, max_blank_rows=2_000, max_seconds=30,
                             max_unpacked_bytes=50 * 1024 * 1024),
}


def limits_for(kind: str) -> ImportLimits:
    override = (settings.BIANMIN_IMPORT_LIMITS or {}).get(kind, {})
    return replace(DEFAULTS[kind], **override)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB"


def check_size(size: int | None, limits: ImportLimits, *, field: str = "file") -> None:
    if size is not None and size > limits.max_bytes:
        raise TooLarge(f"文件过大：导入文件不能超过 {_mb(limits.max_bytes)}，请拆分后分批导入", field=field)


def check_file(name: str, data: bytes | io.IOBase, limits: ImportLimits, *, field: str = "file") -> None:
    """Everything that can be known of a file before reading its rows: its size; for an xlsx, the
    unpacked size of its package and the rows its first sheet declares; for a CSV, its lines."""
    raw = data if isinstance(data, bytes) else None
    stream = io.BytesIO(raw) if raw is not None else data
    size = len(raw) if raw is not None else _size_of(stream)
    check_size(size, limits, field=field)
    lower = (name or "").lower()
    if lower.endswith(".xlsx"):
        _check_xlsx(stream, limits, field)
    elif lower.endswith(".csv"):
        lines = raw.count(b"\n") if raw is not None else sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
        if lines > limits.max_rows + limits.max_blank_rows + 1:
            raise Invalid(f"文件有 {lines} 行，超过一次导入的上限 {limits.max_rows} 行，请拆分后分批导入", field=field)
    if raw is None:
        stream.seek(0)


def _size_of(stream) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _check_xlsx(stream, limits: ImportLimits, field: str) -> None:
    try:
        with zipfile.ZipFile(stream) as package:
            unpacked = sum(member.file_size for member in package.infolist())
    except zipfile.BadZipFile:
        raise UnsupportedType("无法读取 Excel 文件，请确认是 .xlsx 格式", field=field) from None
    finally:
        stream.seek(0)
    if unpacked > limits.max_unpacked_bytes:
        raise TooLarge(f"Excel 文件解压后过大（{_mb(unpacked)}），请删除空行、空列后重新导入", field=field)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
        declared = wb.worksheets[0].max_row if wb.worksheets else 0
        wb.close()
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise UnsupportedType("无法读取 Excel 文件，请确认是 .xlsx 格式", field=field) from None
    finally:
        stream.seek(0)
    if declared and declared > limits.max_rows + limits.max_blank_rows + 1:
        raise Invalid(f"工作表有 {declared} 行（含空行），超过一次导入的上限 {limits.max_rows} 行；"
                      f"请删除多余的空行或拆分后分批导入", field=field)


class RowBudget:
    """Counts the rows read (blank ones too) and the time, refusing the file past its limits:
    what a sheet declares can lie, what is read cannot."""

    def __init__(self, limits: ImportLimits, *, field: str = "file"):
        self.limits = limits
        self.field = field
        self.rows = 0
        self.blank = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def row(self, *, blank: bool = False) -> None:
        if blank:
            self.blank += 1
        else:
            self.rows += 1
        if self.rows > self.limits.max_rows:
            raise Invalid(f"文件超过一次导入的上限 {self.limits.max_rows} 行，请拆分后分批导入", field=self.field)
        if self.blank > self.limits.max_blank_rows:
            raise Invalid(f"文件中的空行超过 {self.limits.max_blank_rows} 行，请删除空行后重新导入", field=self.field)
        if (self.rows + self.blank) % 256 == 0 and time.monotonic() > self.deadline:
            raise Invalid(f"文件读取超过 {self.limits.max_seconds:g} 秒仍未完成，已停止；请拆分后分批导入", field=self.field)
