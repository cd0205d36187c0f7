"""Writes for areas and sites."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from bianmin.core.errors import Invalid

from .models import Area

LEVELS = {"city": 0, "district": 1, "township": 2, "village": 3}


@dataclass
class AreaFileInfo:
    source: str
    edition: str
    rows: list[dict]


def read_area_file(path: Path | str) -> AreaFileInfo:
    """Read an area file: comment lines starting with '#' (one says 来源 …, one 版本 …), then
    a CSV with columns code,name,level,parent_code. Any city can supply its own file."""
    text = Path(path).read_text(encoding="utf-8-sig")
    comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    source = next((c.split("：", 1)[1] for c in comments if c.startswith("来源")), "")
    edition = next((c.split("：", 1)[1] for c in comments if c.startswith("版本")), "")
    reader = csv.DictReader(io.StringIO(body))
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or [])
    if missing:
        raise Invalid(f"区划文件缺少列：{'、'.join(sorted(missing))}")
    rows = list(reader)
    errors = []
    for n, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not (code.isdigit() and len(code) == 12):
            errors.append(f"第{n}行：区划代码应为12位数字")
        if row.get("level") not in LEVELS:
            errors.append(f"第{n}行：层级应为 city/district/township/village")
        if not (row.get("name") or "").strip():
            errors.append(f"第{n}行：名称不能为空")
    if errors:
        raise Invalid("；".join(errors[:20]) + ("……" if len(errors) > 20 else ""))
    return AreaFileInfo(source=source, edition=edition, rows=rows)


@transaction.atomic
def areas_load(*, rows: Iterable[dict]) -> tuple[int, int]:
    """Create or update areas, parents before children. Returns (created, updated)."""
    ordered = sorted(rows, key=lambda r: (LEVELS[r["level"]], r["code"]))
    by_code = {a.code: a for a in Area.objects.all()}
    created = updated = 0
    for row in ordered:
        code, name, level = row["code"].strip(), row["name"].strip(), row["level"]
        parent_code = (row.get("parent_code") or "").strip()
        parent = by_code.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise Invalid(f"区划 {code} 的上级 {parent_code} 不存在")
        area = by_code.get(code)
        if area is None:
            area = Area(code=code, name=name, level=level, parent=parent)
            area.save()
            by_code[code] = area
            created += 1
        elif (area.name, area.level, area.parent_id) != (name, level, parent.pk if parent else None):
            area.name, area.level, area.parent = name, level, parent
            area.save()
            updated += 1
    return created, updated
