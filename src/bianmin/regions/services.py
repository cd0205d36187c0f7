"""Writes for areas and sites: the area and site files any city can supply, and the site,
window services used by the loaders and the admin. Every write runs in one transaction and
leaves an audit row."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid
from bianmin.core.models import AuditEntry
from bianmin.core.pagecache import REGIONS, bump
from bianmin.core.principal import Principal
from bianmin.core.scoping import require

from .models import Area, ServiceSite, Window

LEVELS = {"city": 0, "district": 1, "township": 2, "village": 3}
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
MAX_REPORTED_ERRORS = 20


@dataclass
class DataFileInfo:
    """A data file's rows and what its comment lines say about where it comes from."""

    source: str
    edition: str
    rows: list[dict]
    notes: list[str] = field(default_factory=list)


AreaFileInfo = DataFileInfo  # the name used before site files existed


def _read_commented_csv(path: Path | str, *, required: set[str], what: str) -> tuple[DataFileInfo, list[tuple[int, dict]]]:
    """Comment lines start with '#' ("# 来源：…", "# 版本：…", other notes), then a CSV with a header.
    Returns the info and the rows numbered by their line in the file, for error messages."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{what}不是 UTF-8 编码的文本") from exc
    lines = text.splitlines()
    comments = [line[1:].strip() for line in lines if line.startswith("#")]
    body_numbers = [n for n, line in enumerate(lines, start=1) if not line.startswith("#")]
    body = "\n".join(line for line in lines if not line.startswith("#"))

    def comment(prefix: str) -> str:
        for c in comments:
            if c.startswith(prefix):
                return c.split("：", 1)[1].strip() if "：" in c else c.split(":", 1)[-1].strip()
        return ""

    reader = csv.DictReader(io.StringIO(body))
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise Invalid(f"{what}缺少列：{'、'.join(sorted(missing))}")
    numbered = []
    for row in reader:
        # DictReader's line_num counts physical lines of the body; map back to the file's line.
        idx = min(reader.line_num, len(body_numbers)) - 1
        numbered.append((body_numbers[idx], {k: (v or "").strip() for k, v in row.items() if k is not None}))
    if not numbered:
        raise Invalid(f"{what}没有数据行")
    info = DataFileInfo(source=comment("来源"), edition=comment("版本"), rows=[r for _, r in numbered],
                        notes=[c for c in comments if not c.startswith(("来源", "版本"))])
    return info, numbered


def _raise_errors(errors: list[str]) -> None:
    if errors:
        more = f"……（共 {len(errors)} 处错误）" if len(errors) > MAX_REPORTED_ERRORS else ""
        raise Invalid("；".join(errors[:MAX_REPORTED_ERRORS]) + more)


def _codes(value: str) -> list[str]:
    return [c for c in value.replace(",", ";").replace(" ", ";").split(";") if c]


# ---------------------------------------------------------------------------------------------
# Areas


def read_area_file(path: Path | str) -> DataFileInfo:
    """Read an area file: comment lines starting with '#' (one says 来源：…, one 版本：…), then
    a CSV with columns code,name,level,parent_code. Optional columns: is_functional_zone (1/0)
    and administers (codes of the areas a functional zone administers, separated by ';').
    Any city can supply its own file; a functional zone uses a local 12-digit code."""
    info, numbered = _read_commented_csv(path, required={"code", "name", "level", "parent_code"}, what="区划文件")
    errors = []
    seen: set[str] = set()
    for n, row in numbered:
        code = row.get("code", "")
        if not (code.isdigit() and len(code) == 12):
            errors.append(f"第{n}行：区划代码应为12位数字")
        elif code in seen:
            errors.append(f"第{n}行：区划代码 {code} 重复")
        seen.add(code)
        if row.get("level") not in LEVELS:
            errors.append(f"第{n}行：层级应为 city/district/township/village")
        if not row.get("name"):
            errors.append(f"第{n}行：名称不能为空")
        parent_code = row.get("parent_code", "")
        if parent_code and not (parent_code.isdigit() and len(parent_code) == 12):
            errors.append(f"第{n}行：上级区划代码应为12位数字")
        for admin_code in _codes(row.get("administers", "")):
            if not (admin_code.isdigit() and len(admin_code) == 12):
                errors.append(f"第{n}行：托管区划代码“{admin_code}”应为12位数字")
    _raise_errors(errors)
    return info


@transaction.atomic
def areas_load(*, rows: Iterable[dict], actor: Principal | None = None) -> tuple[int, int]:
    """Create or update areas, parents before children, then the functional zones' administered
    areas. Idempotent: an unchanged row writes nothing. Returns (created, updated)."""
    rows = list(rows)
    ordered = sorted(rows, key=lambda r: (LEVELS[r["level"]], r["code"]))
    by_code = {a.code: a for a in Area.objects.all()}
    created = updated = 0
    created_codes: set[str] = set()
    for row in ordered:
        code, name, level = row["code"].strip(), row["name"].strip(), row["level"]
        parent_code = (row.get("parent_code") or "").strip()
        functional = (row.get("is_functional_zone") or "").strip().lower() in TRUE_WORDS
        parent = by_code.get(parent_code) if parent_code else None
        if parent_code and parent is None:
            raise Invalid(f"区划 {code} 的上级 {parent_code} 不存在")
        area = by_code.get(code)
        if area is None:
            area = Area(code=code, name=name, level=level, parent=parent, is_functional_zone=functional)
            area.save()
            by_code[code] = area
            created_codes.add(code)
            created += 1
        elif (area.name, area.level, area.parent_id, area.is_functional_zone) != (
            name, level, parent.pk if parent else None, functional
        ):
            old_path = area.path
            area.name, area.level, area.parent, area.is_functional_zone = name, level, parent, functional
            area.save()
            if area.path != old_path:
                _repath_descendants(old_path=old_path, new_path=area.path)
            updated += 1
    for row in rows:
        if "administers" not in row:
            continue
        zone = by_code[row["code"].strip()]
        wanted = []
        for admin_code in _codes(row.get("administers") or ""):
            if admin_code not in by_code:
                raise Invalid(f"功能区 {zone.code} 托管的区划 {admin_code} 不存在")
            wanted.append(by_code[admin_code])
        if {a.pk for a in zone.administers.all()} != {a.pk for a in wanted}:
            zone.administers.set(wanted)
            if zone.code not in created_codes:
                updated += 1
    if created or updated:
        audit(actor=actor, action=AuditEntry.Action.IMPORT, target_type="regions.area",
              label=f"区划载入：新增 {created} 个，更新 {updated} 个", changes={"created": created, "updated": updated})
        bump(REGIONS)
    return created, updated


def _repath_descendants(*, old_path: str, new_path: str) -> None:
    # A moved area takes its subtree with it: the scope rule reads `path` by prefix.
    for child in Area.objects.filter(path__startswith=old_path).exclude(path=old_path).order_by("path"):
        child.path = new_path + child.path[len(old_path):]
        Area.objects.filter(pk=child.pk).update(path=child.path)


# ---------------------------------------------------------------------------------------------
# Sites and windows

SITE_FIELDS = ("name", "kind", "venue", "address", "lng", "lat", "phone", "complaint_phone", "email", "hours", "active")


def _check_actor(actor: Principal | None, area: Area) -> None:
    """None is the system itself (a loader run from the command line); a person or key needs
    regions.edit at the site's area."""
    if actor is not None:
        require(actor, Cap.REGIONS_EDIT, area)


def _validated(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            name, errs = next(iter(exc.error_dict.items()))
            label = obj._meta.get_field(name).verbose_name if name != "__all__" else ""
            message = "；".join(m for e in errs for m in e.messages)
            raise Invalid(f"{label}：{message}" if label else message, field=None if name == "__all__" else name) from exc
        raise Invalid("；".join(exc.messages)) from exc


@transaction.atomic
def site_create(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    kind: str,
    area: Area,
    venue: str = ServiceSite.Venue.HALL,
    parent_site: ServiceSite | None = None,
    address: str = "",
    lng: float | None = None,
    lat: float | None = None,
    phone: str = "",
    complaint_phone: str = "",
    email: str = "",
    hours: str = "",
    active: bool = True,
) -> ServiceSite:
    _check_actor(actor, area)
    site = ServiceSite(code=code, name=name, kind=kind, venue=venue, area=area, parent_site=parent_site, address=address,
                       lng=lng, lat=lat, phone=phone, complaint_phone=complaint_phone, email=email, hours=hours, active=active)
    _validated(site)
    site.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=site, area_code=area.code,
          changes={f: _plain(getattr(site, f)) for f in ("code", *SITE_FIELDS)} | {"area": area.code,
                   "parent_site": parent_site.code if parent_site else None})
    bump(REGIONS)
    return site


@transaction.atomic
def site_update(*, actor: Principal | None, site: ServiceSite, **changes) -> ServiceSite:
    """Change some of a site's fields (names from SITE_FIELDS, plus `area` and `parent_site`).
    Writes nothing and no audit row when nothing changes."""
    unknown = set(changes) - set(SITE_FIELDS) - {"area", "parent_site"}
    if unknown:
        raise Invalid(f"不能修改的字段：{'、'.join(sorted(unknown))}")
    site = ServiceSite.objects.select_for_update().get(pk=site.pk)  # no joins: PostgreSQL cannot lock an outer join
    _check_actor(actor, site.area)
    if "area" in changes and changes["area"].pk != site.area_id:
        _check_actor(actor, changes["area"])  # moving a site needs the right at both ends
    diff = {}
    for name, value in changes.items():
        old = getattr(site, name)
        if (old.pk if hasattr(old, "pk") else old) != (value.pk if hasattr(value, "pk") else value):
            diff[name] = [_plain(old), _plain(value)]
            setattr(site, name, value)
    if not diff:
        return site
    _validated(site)
    site.save()
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=site, area_code=site.area.code, changes=diff)
    bump(REGIONS)
    return site


@transaction.atomic
def window_create(*, actor: Principal | None, site: ServiceSite, number: str, name: str, active: bool = True) -> Window:
    _check_actor(actor, site.area)
    window = Window(site=site, number=str(number).strip(), name=name.strip(), active=active)
    _validated(window)
    window.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=window, area_code=site.area.code,
          changes={"site": site.code, "number": window.number, "name": window.name, "active": active})
    bump(REGIONS)
    return window


@transaction.atomic
def window_update(*, actor: Principal | None, window: Window, name: str | None = None, active: bool | None = None) -> Window:
    window = Window.objects.select_for_update().get(pk=window.pk)
    _check_actor(actor, window.site.area)
    diff = {}
    if name is not None and name.strip() != window.name:
        diff["name"] = [window.name, name.strip()]
        window.name = name.strip()
    if active is not None and active != window.active:
        diff["active"] = [window.active, active]
        window.active = active
    if diff:
        _validated(window)
        window.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=window, area_code=window.site.area.code, changes=diff)
        bump(REGIONS)
    return window


def _plain(value):
    if isinstance(value, Area | ServiceSite):
        return value.code
    return value


# ---------------------------------------------------------------------------------------------
# The site file

SITE_COLUMNS = {"code", "kind", "name", "area_code"}


def _parse_windows(text: str) -> list[tuple[str, str]]:
    """'1:综合受理窗口|2:社保医保窗口' → [('1', '综合受理窗口'), ('2', '社保医保窗口')]."""
    windows = []
    for part in (p.strip() for p in text.split("|") if p.strip()):
        number, sep, name = part.replace("：", ":").partition(":")
        if not sep or not number.strip() or not name.strip():
            raise ValueError(part)
        windows.append((number.strip(), name.strip()))
    return windows


def read_site_file(path: Path | str) -> DataFileInfo:
    """Read a site file: '#' comment lines (来源：…, 版本：…, notes), then a CSV with columns
    code,kind,name,area_code and optionally venue,parent_site_code,address,lng,lat,phone,
    complaint_phone,email,hours,windows,active. `windows` is '1:综合受理窗口|2:社保医保窗口'.
    Checks the file's own consistency; the areas and parent sites are checked when loading."""
    info, numbered = _read_commented_csv(path, required=SITE_COLUMNS, what="服务场所文件")
    kinds, venues = set(ServiceSite.Kind.values), set(ServiceSite.Venue.values)
    errors: list[str] = []
    seen: set[str] = set()
    for n, row in numbered:
        code = row.get("code", "")
        if not code:
            errors.append(f"第{n}行：场所编码不能为空")
        elif code in seen:
            errors.append(f"第{n}行：场所编码 {code} 重复")
        seen.add(code)
        if not row.get("name"):
            errors.append(f"第{n}行：名称不能为空")
        if row.get("kind") not in kinds:
            errors.append(f"第{n}行：类型应为 {'/'.join(sorted(kinds))}")
        if row.get("venue") and row["venue"] not in venues:
            errors.append(f"第{n}行：场地类型“{row['venue']}”不在允许范围内")
        area_code = row.get("area_code", "")
        if not (area_code.isdigit() and len(area_code) == 12):
            errors.append(f"第{n}行：所属区划代码应为12位数字")
        lng, lat = row.get("lng", ""), row.get("lat", "")
        if bool(lng) != bool(lat):
            errors.append(f"第{n}行：经度和纬度应同时填写")
        elif lng:
            try:
                x, y = float(lng), float(lat)
                if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
                    raise ValueError
            except ValueError:
                errors.append(f"第{n}行：经纬度应为数字（经度 -180~180，纬度 -90~90）")
        if row.get("windows"):
            try:
                numbers = [w[0] for w in _parse_windows(row["windows"])]
                if len(numbers) != len(set(numbers)):
                    errors.append(f"第{n}行：窗口号重复")
            except ValueError as exc:
                errors.append(f"第{n}行：窗口“{exc}”应写作“窗口号:窗口名称”")
    _raise_errors(errors)
    return info


@dataclass
class SiteLoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    windows_created: int = 0
    windows_updated: int = 0


@transaction.atomic
def sites_load(*, rows: Iterable[dict], actor: Principal | None = None) -> SiteLoadResult:
    """Create or update sites and their windows from site-file rows, through site_create /
    site_update / window_create. Parents (centers) are written before the sites pointing to them.
    Idempotent: loading the same file again changes nothing. All or nothing: one bad row rolls
    back the whole file."""
    rows = list(rows)
    area_codes = {r["area_code"] for r in rows}
    areas = {a.code: a for a in Area.objects.filter(code__in=area_codes)}
    errors = [f"场所 {r['code']}：所属区划 {r['area_code']} 不存在" for r in rows if r["area_code"] not in areas]
    file_codes = {r["code"] for r in rows}
    parent_codes = {r.get("parent_site_code", "") for r in rows} - {""}
    existing = {s.code: s for s in ServiceSite.objects.filter(code__in=file_codes | parent_codes).select_related("area", "parent_site")}
    for r in rows:
        p = r.get("parent_site_code", "")
        if p and p not in file_codes and p not in existing:
            errors.append(f"场所 {r['code']}：上级场所 {p} 不存在")
    _raise_errors(errors)

    result = SiteLoadResult()
    # Rows without a parent first, so every parent exists when its children are written.
    pending = sorted(rows, key=lambda r: (bool(r.get("parent_site_code")), r["code"]))
    for row in pending:
        parent = existing.get(row.get("parent_site_code", "")) if row.get("parent_site_code") else None
        values = {
            "name": row["name"], "kind": row["kind"], "venue": row.get("venue") or ServiceSite.Venue.HALL,
            "area": areas[row["area_code"]], "parent_site": parent, "address": row.get("address", ""),
            "lng": float(row["lng"]) if row.get("lng") else None, "lat": float(row["lat"]) if row.get("lat") else None,
            "phone": row.get("phone", ""), "complaint_phone": row.get("complaint_phone", ""), "email": row.get("email", ""),
            "hours": row.get("hours", ""),
            "active": (row.get("active") or "1").lower() in TRUE_WORDS,
        }
        try:
            site = existing.get(row["code"])
            if site is None:
                site = site_create(actor=actor, code=row["code"], **values)
                existing[site.code] = site
                result.created += 1
                current_windows: dict[str, Window] = {}
            else:
                before = site.pk, {f: getattr(site, f) for f in SITE_FIELDS}, site.area_id, site.parent_site_id
                site = site_update(actor=actor, site=site, **values)
                existing[site.code] = site
                after = site.pk, {f: getattr(site, f) for f in SITE_FIELDS}, site.area_id, site.parent_site_id
                if before == after:
                    result.unchanged += 1
                else:
                    result.updated += 1
                current_windows = {w.number: w for w in site.windows.all()}
            if "windows" in row:
                wanted = _parse_windows(row.get("windows", ""))
                for number, name in wanted:
                    window = current_windows.pop(number, None)
                    if window is None:
                        window_create(actor=actor, site=site, number=number, name=name)
                        result.windows_created += 1
                    elif window.name != name or not window.active:
                        window_update(actor=actor, window=window, name=name, active=True)
                        result.windows_updated += 1
                # Windows the file no longer lists are closed, not deleted: cases and evaluations
                # may point to them.
                for window in current_windows.values():
                    if window.active:
                        window_update(actor=actor, window=window, active=False)
                        result.windows_updated += 1
        except Invalid as exc:
            raise Invalid(f"场所 {row['code']}：{exc.message}", field=exc.field) from exc
    return result
