"""xlsx import and export of the policy library (format in src/bianmin/policies/FORMATS.md).

The header row of the first sheet is exactly `HEADERS` (an export adds 状态, 版本 and 发布时间 after
them, which an import ignores, so an export can be edited and imported back). One row per policy.

An import is all or nothing: the file is read as a stream (openpyxl read-only mode), within a size
and a row limit; every row is checked first (every error reported with its row and column), and
nothing is written unless there is none. Rows become drafts, reviewed and published as usual: a
new code (or none) a new policy; the code of a policy with a draft, that draft; the code of a
public policy, a revision of it."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from openpyxl import load_workbook

from bianmin.catalog.models import Department, StandardItem
from bianmin.catalog.xlsx import ImportRefused, RowError
from bianmin.core.audit import audit
from bianmin.core.errors import DomainError, UnsupportedType
from bianmin.core.imports import RowBudget, check_file, limits_for
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.regions.models import Area

from . import industries, services
from .models import OPEN_STATES, PUBLIC_STATES, Category, Policy, Size, State

# (field, header, required)
COLUMNS: list[tuple[str, str, bool]] = [
    ("code", "政策编号", False),
    ("title", "政策名称", True),
    ("aliases", "俗称", False),
    ("category", "政策类别", True),
    ("lead_department", "牵头部门编码", True),
    ("co_departments", "协办部门编码", False),
    ("handling_office", "承办科室", True),
    ("handling_phone", "承办科室电话", True),
    ("valid_from", "执行期限起", True),
    ("valid_until", "执行期限止", False),
    ("benefits", "优惠内容", True),
    ("conditions", "申请条件", True),
    ("materials", "申报材料", True),
    ("procedure", "办理流程", True),
    ("document_number", "发文字号", False),
    ("issuing_body", "发文机关", False),
    ("source_url", "原文链接", False),
    ("industries", "适用行业", False),
    ("sizes", "适用企业规模", False),
    ("areas", "适用区域代码", False),
    ("tags", "标签", False),
    ("required_tags", "资质要求", False),
    ("min_age_years", "成立至少（年）", False),
    ("max_age_years", "成立不超过（年）", False),
    ("no_application", "免申即享", False),
    ("items", "申办事项编码", False),
]
HEADERS = [label for _, label, _ in COLUMNS]
EXPORT_ONLY = ["状态", "版本", "发布时间"]
LABEL = {f: label for f, label, _ in COLUMNS}
IMPORT_KIND = "policies"  # core.imports limits: size, unpacked size, rows, blank rows, time
YES = {"是", "1", "true", "yes", "y", "免申即享"}
NO = {"", "否", "0", "false", "no", "n"}
SIZE_WORDS = {**{s.value: s.value for s in Size}, **{str(s.label): s.value for s in Size},
              "大": "large", "中": "medium", "小": "small", "微": "micro"}
CATEGORY_WORDS = {**{c.value: c.value for c in Category}, **{str(c.label): c.value for c in Category}}
_SPLIT = re.compile(r"[、,，;；\n]+")


def split_list(text: str) -> list[str]:
    return [p.strip() for p in _SPLIT.split(text or "") if p.strip()]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(text: str) -> dt.date | None:
    """2024-01-01, 2024/1/1, 2024.1.1 or 2024年1月1日; empty and 长期有效 are None."""
    text = (text or "").strip()
    if text in ("", "长期", "长期有效"):
        return None
    m = _DATE.match(text)
    if not m:
        raise ValueError("日期格式应为 YYYY-MM-DD")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError("日期无效") from None


def read_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows as {field: text}, streamed; the header checked first."""
    # What can be known before parsing (size, an xlsx's unpacked size, the rows a sheet declares),
    # then every row read (blank ones too) against the row and time budget: core.imports.
    limits = limits_for(IMPORT_KIND)
    check_file("import.xlsx", data, limits)
    budget = RowBudget(limits)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
    except Exception:  # noqa: BLE001 - any unreadable upload is the same error to the user
        raise UnsupportedType("文件不是有效的 xlsx 工作簿", field="file") from None
    try:
        rows = ws.iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        if header[:len(HEADERS)] != HEADERS or any(h not in EXPORT_ONLY for h in header[len(HEADERS):]):
            missing = [h for h in HEADERS if h not in header]
            extra = [h for h in header if h and h not in HEADERS and h not in EXPORT_ONLY]
            detail = ([f"缺少列：{'、'.join(missing)}"] if missing else []) + ([f"多余列：{'、'.join(extra)}"] if extra else [])
            raise ImportRefused([RowError(1, "表头", "；".join(detail or ["列的顺序与模板不一致"]) + "。请使用导出的模板")])
        for n, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values][:len(HEADERS)]
            budget.row(blank=not any(cells))
            if not any(cells):
                continue
            cells += [""] * (len(HEADERS) - len(cells))
            yield n, dict(zip([f for f, _, _ in COLUMNS], cells, strict=True))
    finally:
        wb.close()


@dataclass
class Lookups:
    departments: dict[str, Department]
    areas: dict[str, Area]
    items: dict[str, StandardItem]


def _check_row(n: int, raw: dict[str, str], look: Lookups) -> tuple[services.PolicyData | None, list[RowError]]:
    errors: list[RowError] = []

    def err(f: str, message: str) -> None:
        errors.append(RowError(n, LABEL[f], message))

    for f, _label, required in COLUMNS:
        if required and not raw[f]:
            err(f, "不能为空")
    category = CATEGORY_WORDS.get(raw["category"])
    if raw["category"] and category is None:
        err("category", f"应为 {'、'.join(str(c.label) for c in Category)} 之一")
    lead = look.departments.get(raw["lead_department"])
    if raw["lead_department"] and lead is None:
        err("lead_department", f"部门编码“{raw['lead_department']}”不存在")
    co = []
    for code in split_list(raw["co_departments"]):
        d = look.departments.get(code)
        if d is None:
            err("co_departments", f"部门编码“{code}”不存在")
        else:
            co.append(d)
    dates = {}
    for f in ("valid_from", "valid_until"):
        try:
            dates[f] = parse_date(raw[f])
        except ValueError as exc:
            err(f, str(exc))
    inds = []
    for token in split_list(raw["industries"]):
        code = industries.normalize(token.split()[0])
        if industries.get(code) is None:
            err("industries", f"“{token}”不是 GB/T 4754-2017 的门类或大类代码")
        else:
            inds.append(code)
    sizes = []
    for token in split_list(raw["sizes"]):
        if token not in SIZE_WORDS:
            err("sizes", f"“{token}”应为 大型、中型、小型 或 微型")
        else:
            sizes.append(SIZE_WORDS[token])
    areas = []
    for token in split_list(raw["areas"]):
        code = token.ljust(12, "0") if token.isdigit() and len(token) in (6, 9) else token
        a = look.areas.get(code)
        if a is None:
            err("areas", f"区划代码“{token}”不存在")
        else:
            areas.append(a)
    items = []
    for code in split_list(raw["items"]):
        si = look.items.get(code)
        if si is None:
            err("items", f"事项编码“{code}”不存在")
        else:
            items.append(si)
    ages = {}
    for f in ("min_age_years", "max_age_years"):
        if raw[f]:
            if not raw[f].isdigit() or int(raw[f]) > 100:
                err(f, "应为 0 至 100 之间的整数")
            else:
                ages[f] = int(raw[f])
    flag = raw["no_application"].lower()
    if flag not in YES and flag not in NO:
        err("no_application", "应为 是 或 否")
    for f, limit in (("title", 200), ("code", 40), ("handling_office", 100), ("handling_phone", 60),
                     ("document_number", 100), ("issuing_body", 200), ("source_url", 500)):
        if len(raw[f]) > limit:
            err(f, f"不能超过{limit}个字")
    if errors or lead is None or category is None or dates.get("valid_from") is None:
        if not errors:
            err("valid_from", "不能为空")
        return None, errors
    data = services.PolicyData(
        title=raw["title"], category=category, lead_department=lead, handling_office=raw["handling_office"],
        handling_phone=raw["handling_phone"], valid_from=dates["valid_from"], valid_until=dates.get("valid_until"),
        benefits=raw["benefits"], conditions=raw["conditions"], materials=raw["materials"], procedure=raw["procedure"],
        aliases="、".join(split_list(raw["aliases"])), co_departments=co, document_number=raw["document_number"],
        issuing_body=raw["issuing_body"], source_url=raw["source_url"], industries=inds, sizes=sizes, areas=areas,
        tags=split_list(raw["tags"]), required_tags=split_list(raw["required_tags"]),
        min_age_years=ages.get("min_age_years"), max_age_years=ages.get("max_age_years"), no_application=flag in YES,
        items=items)
    return data, errors


def _column_of(field: str | None) -> str:
    return LABEL.get(field or "", "整行")


@dataclass
class ImportResult:
    created: int
    updated: int
    revised: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.revised


def import_policies(*, actor: Principal, data: bytes) -> ImportResult:
    """Check every row, then write them all in one transaction, or nothing."""
    look = Lookups(departments={d.code: d for d in Department.objects.select_related("area")},
                   areas={a.code: a for a in Area.objects.all()},
                   items={si.code: si for si in StandardItem.objects.filter(active=True)})
    checked: list[tuple[int, str, services.PolicyData]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for n, raw in read_rows(data):
        code = raw["code"]
        if code:
            if code in seen:
                errors.append(RowError(n, LABEL["code"], f"与第{seen[code]}行重复"))
            seen[code] = n
        row, row_errors = _check_row(n, raw, look)
        errors.extend(row_errors)
        if row is not None:
            # The checks of the services (scope, relations, field rules) before anything is written.
            try:
                services.check_policy_data(actor=actor, data=row)
            except DomainError as exc:
                errors.append(RowError(n, _column_of(exc.field), exc.message))
                continue
            checked.append((n, code, row))
        if len(errors) > 200:
            break
    if errors:
        raise ImportRefused(errors)
    if not checked:
        raise ImportRefused([RowError(2, "表格", "没有数据行")])
    latest = {p.code: p for p in Policy.objects.filter(code__in=[c for _, c, _ in checked if c]).order_by("code", "version")}
    created = updated = revised = 0
    with transaction.atomic():
        new_rows = []
        for n, code, row in checked:
            current = latest.get(code)
            try:
                if current is None:
                    new_rows.append((code, row))
                    continue
                if current.state in OPEN_STATES:
                    if current.state == State.REVIEW:
                        raise ImportRefused([RowError(n, LABEL["code"], "该政策正在审核中，请先退回后再导入修改")])
                    services.policy_update(actor=actor, policy_id=current.pk, data=row)
                    updated += 1
                elif current.state in PUBLIC_STATES:
                    draft = services.policy_revise(actor=actor, policy_id=current.pk)
                    services.policy_update(actor=actor, policy_id=draft.pk, data=row)
                    revised += 1
                else:
                    raise ImportRefused([RowError(n, LABEL["code"], f"该政策{current.get_state_display()}，不能导入修改")])
            except ImportRefused:
                raise
            except DomainError as exc:
                raise ImportRefused([RowError(n, _column_of(exc.field), exc.message)]) from None
        if new_rows:
            created = len(services.policies_load(actor=actor, rows=new_rows))
        audit(actor=actor, action=AuditEntry.Action.IMPORT, target_type="policies.policy",
              label=f"惠企政策导入：新增 {created}，修改草稿 {updated}，修订 {revised}",
              changes={"created": created, "updated": updated, "revised": revised})
    return ImportResult(created=created, updated=updated, revised=revised)


# --- export -----------------------------------------------------------------------------------


def _d(value) -> str:
    if value is None:
        return ""
    from django.utils import timezone

    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def export_rows(policies: Iterable[Policy]) -> Iterator[list]:
    """Rows in the import format plus the export-only columns. The policies come with their
    relations prefetched (see exports.library_queryset)."""
    category = {c.value: str(c.label) for c in Category}
    size = {s.value: str(s.label) for s in Size}
    state = {s.value: str(s.label) for s in State}
    for p in policies:
        yield [
            p.code, p.title, "、".join(p.alias_list), category.get(p.category, p.category), p.lead_department.code,
            "、".join(d.code for d in p.co_departments.all()), p.handling_office, p.handling_phone, _d(p.valid_from),
            _d(p.valid_until), p.benefits, p.conditions, p.materials, p.procedure, p.document_number, p.issuing_body,
            p.source_url, "、".join(p.industries), "、".join(size.get(s, s) for s in p.sizes),
            "、".join(a.code for a in p.areas.all()), "、".join(p.tags), "、".join(p.required_tags),
            "" if p.min_age_years is None else p.min_age_years, "" if p.max_age_years is None else p.max_age_years,
            "是" if p.no_application else "否", "、".join(si.code for si in p.items.all()),
            state.get(p.state, p.state), p.version, _d(p.published_at),
        ]


EXPORT_HEADER = HEADERS + EXPORT_ONLY
