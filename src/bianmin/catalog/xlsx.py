"""xlsx import and export of the standard-item catalog (openpyxl: write-only mode out, read-only in).

The header row (first sheet, row 1) — documented in src/bianmin/catalog/FORMATS.md — is exactly COLUMNS' labels.
One row per standard item; materials in one cell: "名称:等级[:可选]", separated by "；" or ";".
An import is all or nothing: every row is checked first, every error is reported with its row and
column, and nothing is written unless there is none."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from openpyxl import load_workbook

from bianmin.core.audit import audit
from bianmin.core.errors import DomainError, Invalid, UnsupportedType
from bianmin.core.imports import RowBudget, check_file, limits_for
from bianmin.core.models import AuditEntry
from bianmin.core.pagecache import CATALOG, bump
from bianmin.core.principal import Principal
from bianmin.core.text import clean
from bianmin.core.uploads import clean_file_name

from . import services
from .models import Department, Material, StandardItem

# (field, header label, required)
COLUMNS: list[tuple[str, str, bool]] = [
    ("code", "事项编码", True),
    ("name", "事项名称", True),
    ("aliases", "别名", False),
    ("item_type", "事项类型", True),
    ("tier", "事项层级", False),
    ("parent", "上级事项编码", False),
    ("handling_kind", "办理项类型", False),
    ("competent_department", "主管部门编码", True),
    ("implementing_body", "实施主体", True),
    ("legal_basis", "设定依据", False),
    ("service_object", "服务对象", False),
    ("acceptance_conditions", "受理条件", False),
    ("flow", "办理流程", False),
    ("special_steps", "特别程序", False),
    ("legal_limit_days", "法定办结时限（工作日）", True),
    ("fee", "收费标准", False),
    ("result_name", "办理结果", False),
    ("is_classified", "涉密", False),
    ("is_public_service", "公共服务", False),
    ("levels", "实施层级", False),
    ("materials", "申请材料", False),
]
HEADERS = [label for _, label, _ in COLUMNS]
IMPORT_KIND = "catalog"  # core.imports limits: size, rows, blank rows, time
PROGRESS_EVERY = 100
YES = {"是", "1", "true", "yes", "y", "涉密"}
NO = {"", "否", "0", "false", "no", "n"}
LEVEL_WORDS = {"省": "province", "市": "city", "县": "county", "乡": "township", "乡镇": "township", "村": "village"}


def _choice_map(choices) -> dict[str, str]:
    out = {}
    for value, label in choices:
        out[str(value)] = value
        out[str(label)] = value
    return out


TYPE_MAP = _choice_map(StandardItem.ItemType.choices)
TIER_MAP = _choice_map(StandardItem.Tier.choices)
KIND_MAP = _choice_map(StandardItem.HandlingKind.choices)


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self):
        return f"第{self.row}行“{self.column}”：{self.message}"


class ImportRefused(Invalid):
    """The whole file is refused; `errors` lists every problem by row and column."""

    def __init__(self, errors: list[RowError]):
        shown = "；".join(str(e) for e in errors[:10])
        more = f"……共 {len(errors)} 处错误" if len(errors) > 10 else ""
        super().__init__(f"导入未执行（整表退回）：{shown}{more}", code="import_refused",
                         extra={"errors": [e.as_dict() for e in errors]})
        self.errors = errors


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(str(value)).strip()  # a file's text is input like a form's (core.text)


def parse_materials(text: str) -> list[dict]:
    out = []
    for spec in text.replace("；", ";").replace("\n", ";").split(";"):
        spec = spec.strip()
        if not spec:
            continue
        bits = [b.strip() for b in spec.replace("：", ":").split(":")]
        level = bits[1].upper() if len(bits) > 1 and bits[1] else "C"
        if level not in Material.TrustLevel.values:
            raise ValueError(f"材料“{bits[0]}”的信任等级应为 A、B、C 或 D")
        optional = len(bits) > 2 and bits[2] in ("可选", "否", "非必要")
        out.append({"name": bits[0], "trust_level": level, "required": not optional})
    return out


def format_materials(materials: Iterable[Material]) -> str:
    return "；".join(f"{m.name}:{m.trust_level}" + ("" if m.required else ":可选") for m in materials)


def _levels(text: str) -> str:
    parts = [p.strip() for p in text.replace("、", ",").replace("，", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        value = LEVEL_WORDS.get(p, p)
        if value not in StandardItem.LEVELS:
            raise ValueError("实施层级应为 省、市、县、乡镇、村（或 province…village），以逗号分隔")
        out.append(value)
    return ",".join(dict.fromkeys(out))


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows of an import file, after the checks that need no parsing (core.imports:
    size, unpacked size, declared rows), every row read counted against the row and time budget."""
    limits = limits_for(IMPORT_KIND)
    check_file("import.xlsx", data, limits)
    budget = RowBudget(limits)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload is the same error to the user
        raise UnsupportedType("文件不是有效的 xlsx 工作簿") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        while header and header[-1] == "":
            header.pop()
        if header != HEADERS:
            missing = [h for h in HEADERS if h not in header]
            extra = [h for h in header if h and h not in HEADERS]
            detail = []
            if missing:
                detail.append(f"缺少列：{'、'.join(missing)}")
            if extra:
                detail.append(f"多余列：{'、'.join(extra)}")
            if not detail:
                detail.append("列的顺序与模板不一致")
            raise ImportRefused([RowError(1, "表头", "；".join(detail) + "。请使用导出的模板")])
        out = []
        for n, values in enumerate(rows, start=2):
            cells = [_cell(v) for v in values][: len(HEADERS)]
            try:
                budget.row(blank=not any(cells))
            except Invalid as exc:
                raise ImportRefused([RowError(n, "表格", exc.message)]) from None
            if not any(cells):
                continue
            cells += [""] * (len(HEADERS) - len(cells))
            out.append((n, dict(zip([f for f, _, _ in COLUMNS], cells, strict=True))))
        return out
    finally:
        wb.close()


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _check_row(n: int, raw: dict[str, str], depts: dict[str, Department], codes_in_file: dict[str, int],
               existing: set[str]) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    label = {f: lab for f, lab, _ in COLUMNS}
    for f, lab, required in COLUMNS:
        if required and not raw[f]:
            errors.append(RowError(n, lab, "不能为空"))
    data: dict = {"code": raw["code"], "name": raw["name"], "aliases": raw["aliases"].replace("；", "、"),
                  "implementing_body": raw["implementing_body"]}
    for f in ("legal_basis", "service_object", "acceptance_conditions", "flow", "special_steps", "result_name"):
        data[f] = raw[f]
    data["fee"] = raw["fee"] or "不收费"
    if raw["code"]:
        if raw["code"] in codes_in_file:
            errors.append(RowError(n, label["code"], f"与第{codes_in_file[raw['code']]}行重复"))
        else:
            codes_in_file[raw["code"]] = n
        if len(raw["code"]) > 64:
            errors.append(RowError(n, label["code"], "不能超过64个字符"))
    if raw["item_type"]:
        if raw["item_type"] not in TYPE_MAP:
            errors.append(RowError(n, label["item_type"], "应为 行政许可、行政给付、行政确认、公共服务 等事项类型"))
        else:
            data["item_type"] = TYPE_MAP[raw["item_type"]]
    data["tier"] = TIER_MAP.get(raw["tier"] or "主项")
    if data["tier"] is None:
        errors.append(RowError(n, label["tier"], "应为 主项、子项 或 办理项"))
    if raw["handling_kind"]:
        if raw["handling_kind"] not in KIND_MAP:
            errors.append(RowError(n, label["handling_kind"], "应为 新设、变更、延续 或 注销"))
        else:
            data["handling_kind"] = KIND_MAP[raw["handling_kind"]]
    else:
        data["handling_kind"] = ""
    if raw["parent"]:
        if raw["parent"] not in existing and raw["parent"] not in codes_in_file:
            errors.append(RowError(n, label["parent"], f"上级事项“{raw['parent']}”不存在（须在本表前面的行或已有目录中）"))
        data["parent_code"] = raw["parent"]
    if raw["competent_department"]:
        dept = depts.get(raw["competent_department"])
        if dept is None:
            errors.append(RowError(n, label["competent_department"], f"部门编码“{raw['competent_department']}”不存在"))
        data["competent_department"] = dept
    if raw["legal_limit_days"]:
        try:
            days = int(raw["legal_limit_days"])
            if days < 0 or days > 3650:
                raise ValueError
            data["legal_limit_days"] = days
        except ValueError:
            errors.append(RowError(n, label["legal_limit_days"], "应为 0 至 3650 之间的整数（工作日）"))
    for f in ("is_classified", "is_public_service"):
        value = raw[f].lower()
        if value in YES:
            data[f] = True
        elif value in NO:
            data[f] = False
        else:
            errors.append(RowError(n, label[f], "应为 是 或 否"))
    try:
        data["levels"] = _levels(raw["levels"]) if raw["levels"] else "township"
    except ValueError as exc:
        errors.append(RowError(n, label["levels"], str(exc)))
    try:
        data["materials"] = parse_materials(raw["materials"])
    except ValueError as exc:
        errors.append(RowError(n, label["materials"], str(exc)))
    if len(raw["name"]) > 200:
        errors.append(RowError(n, label["name"], "不能超过200个字"))
    return data, errors


def import_catalog(*, actor: Principal | None, data: bytes,
                   on_progress: Callable[[str, int, int], None] | None = None) -> ImportResult:
    """Create or update standard items from an xlsx file, all or nothing. ``on_progress(stage,
    done, total)`` is called as rows are checked ("validating") and applied ("importing")."""
    rows = read_rows(data)
    if not rows:
        raise ImportRefused([RowError(2, "表格", "没有数据行")])
    depts = {d.code: d for d in Department.objects.all()}
    existing = set(StandardItem.objects.values_list("code", flat=True))
    codes_in_file: dict[str, int] = {}
    checked, errors = [], []
    for i, (n, raw) in enumerate(rows, start=1):
        data_row, row_errors = _check_row(n, raw, depts, codes_in_file, existing)
        checked.append((n, data_row))
        errors.extend(row_errors)
        if on_progress and i % PROGRESS_EVERY == 0:
            on_progress("validating", i, len(rows))
    if errors:
        raise ImportRefused(errors)
    created = updated = unchanged = 0
    try:
        with transaction.atomic():
            by_code = {si.code: si for si in StandardItem.objects.all()}
            for i, (n, row) in enumerate(checked, start=1):
                if on_progress and i % PROGRESS_EVERY == 0:
                    on_progress("importing", i, len(checked))
                parent_code = row.pop("parent_code", "")
                row["parent"] = by_code.get(parent_code) if parent_code else None
                materials = row.pop("materials")
                code = row.pop("code")
                current = by_code.get(code)
                try:
                    if current is None:
                        by_code[code] = services.standard_item_create(actor=actor, code=code, materials=materials, **row)
                        created += 1
                    else:
                        before = current.version
                        si = services.standard_item_update(actor=actor, standard_item=current, changes=row,
                                                           materials=materials)
                        by_code[code] = si
                        if si.version != before:
                            updated += 1
                        else:
                            unchanged += 1
                except DomainError as exc:
                    raise ImportRefused([RowError(n, _column_of(exc.field), exc.message)]) from None
            audit(actor=actor, action=AuditEntry.Action.IMPORT, target_type="catalog.standarditem",
                  label=f"事项目录导入：新增 {created}，更新 {updated}",
                  changes={"created": created, "updated": updated, "unchanged": unchanged, "rows": len(checked)})
            bump(CATALOG)
    except ImportRefused:
        raise
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _column_of(field: str | None) -> str:
    for f, label, _ in COLUMNS:
        if f == field:
            return label
    return "整行"


def export_catalog(*, standard_items: Iterable[StandardItem]) -> bytes:
    """The catalog as xlsx, in the import format (so an export can be edited and imported back),
    through the platform's one writer (``core.xlsx``: a text that looks like a formula stays text)."""
    from bianmin.core.xlsx import book

    type_label = dict(StandardItem.ItemType.choices)
    tier_label = dict(StandardItem.Tier.choices)
    kind_label = dict(StandardItem.HandlingKind.choices)
    rows = ([
        si.code, si.name, "、".join(si.alias_list), str(type_label[si.item_type]), str(tier_label[si.tier]),
        si.parent.code if si.parent_id else "", str(kind_label.get(si.handling_kind, "")) if si.handling_kind else "",
        si.competent_department.code, si.implementing_body, si.legal_basis, si.service_object,
        si.acceptance_conditions, si.flow, si.special_steps, si.legal_limit_days, si.fee, si.result_name,
        "是" if si.is_classified else "否", "是" if si.is_public_service else "否", si.levels,
        format_materials(si.materials.all()),
    ] for si in standard_items)
    return book("标准化事项", HEADERS, rows, widths=[20, 20] + [14] * (len(COLUMNS) - 2))


def export_template() -> bytes:
    return export_catalog(standard_items=[])


# --- import jobs: every catalog import runs in the background -------------------------------------

def import_job_create(*, actor: Principal, upload, run_now: bool = False):
    """Check what can be checked without parsing (the actor may edit the catalog; size, an
    xlsx's unpacked size and declared rows: core.imports), store the file and queue its import
    (``run_now``: the caller runs it, as the CLI and tests do)."""
    from .models import CatalogImport
    from .services import require_catalog_edit

    require_catalog_edit(actor)
    name = clean_file_name(getattr(upload, "name", ""), default="catalog.xlsx")
    if not name.lower().endswith(".xlsx"):
        raise UnsupportedType("只支持 .xlsx 文件（请使用导出的模板）", field="file")
    check_file(name, upload, limits_for(IMPORT_KIND))
    with transaction.atomic():
        job = CatalogImport(filename=name, created_by=getattr(actor, "user", None))
        job.file.save(name, upload, save=False)
        job.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=job, changes={"file": name})
        if not run_now:
            from .tasks import run_catalog_import

            transaction.on_commit(lambda: run_catalog_import.enqueue(job.pk))
    return job


def import_job_run(*, job_id: int):
    """Run one import job to its end (the worker calls this). Idempotent: a finished job is
    left as it is. The file is removed when the job ends, whatever the outcome."""
    from django.utils import timezone

    from bianmin.accounts.principals import principal_for_user

    from .models import CatalogImport

    S = CatalogImport.Status
    job = CatalogImport.objects.select_related("created_by").get(pk=job_id)
    if job.finished:
        return job

    def save(**fields):
        for k, v in fields.items():
            setattr(job, k, v)
        CatalogImport.objects.filter(pk=job.pk).update(**fields)

    def progress(stage: str, done: int, total: int):
        save(status=S.VALIDATING if stage == "validating" else S.IMPORTING, processed=done, total=total)

    save(status=S.VALIDATING, processed=0)
    actor = principal_for_user(job.created_by) if job.created_by else None
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        result = import_catalog(actor=actor, data=data, on_progress=progress)
    except ImportRefused as exc:
        save(status=S.REFUSED, errors=[e.as_dict() for e in exc.errors[:2000]], finished_at=timezone.now())
    except DomainError as exc:
        save(status=S.REFUSED, errors=[{"row": 0, "column": "", "message": exc.message}], finished_at=timezone.now())
    except Exception:
        save(status=S.FAILED, finished_at=timezone.now())
        _discard_file(job)
        raise
    else:
        rows = result.created + result.updated + result.unchanged
        save(status=S.DONE, total=rows, processed=rows, created_count=result.created, updated_count=result.updated,
             unchanged_count=result.unchanged, finished_at=timezone.now())
    _discard_file(job)
    return job


def _discard_file(job) -> None:
    """The catalog is in the database once imported, and a refused file is of no further use."""
    if job.file:
        job.file.delete(save=False)
        type(job).objects.filter(pk=job.pk).update(file="")
