"""12345 work orders in bulk: from an xlsx/CSV file (an ImportJob) or a JSON batch (the API).

The whole input is validated first; one bad row refuses everything, with every error by row and
column. Then rows are upserted by work-order number in chunks: a number seen before updates its
appeal (and adds an 'updated' event), a new one creates an appeal. Everything is bulk: lookups
are preloaded into dicts, deadlines are cached per date, and each chunk is one transaction with
a handful of statements, so 100,000 rows take well under a minute on SQLite (bench/)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from bianmin.core.audit import audit
from bianmin.core.errors import Invalid
from bianmin.core.imports import RowBudget, check_file, limits_for
from bianmin.core.models import AuditEntry
from bianmin.core.principal import Principal
from bianmin.core.text import clean

from . import signals
from .deadlines import DeadlineCalculator
from .models import Appeal, AppealEvent, AppealKind, Channel, ImportJob, PartyType, Status, TopicBy
from .services import clean_party, new_number
from .topics import Classifier

CHUNK = 5000
MAX_REPORTED_ERRORS = 2000
HOTLINE_SYSTEM = "hotline_12345"  # catalog.ItemMapping.System.HOTLINE_12345

# header (Chinese, as the 12345 platform exports it) → field; English names accepted too.
COLUMNS: dict[str, str] = {
    "工单编号": "work_order_no",
    "诉求类型": "kind",
    "分类编码": "category_code",
    "标题": "title",
    "诉求内容": "content",
    "诉求人": "name",
    "联系电话": "mobile",
    "证件号码": "id_number",
    "企业名称": "enterprise_name",
    "统一社会信用代码": "credit_code",
    "区划代码": "area_code",
    "地址": "address",
    "受理时间": "registered_at",
}
LABELS = {v: k for k, v in COLUMNS.items()}
REQUIRED = ("work_order_no", "kind", "title", "content", "area_code", "registered_at")
KIND_BY_LABEL = {str(label): value for value, label in AppealKind.choices} | {v: v for v in AppealKind.values}
PARTY_FIELD_TO_COLUMN = {"party_type": "name", "name": "name", "mobile": "mobile", "id_number": "id_number",
                         "enterprise_name": "enterprise_name", "credit_code": "credit_code", "email": "mobile"}
# What the complaint is, and who makes it: once the appeal's owner has acted on it, a change from
# 12345 is still taken (the hotline platform is the record), but never silently.
GUARDED = ("kind", "content", "party_type", "name", "mobile", "id_number", "enterprise_name", "credit_code")
UPDATABLE = ("kind", "title", "content", "category_code", "category_unmapped", "item_id", "area_id", "address",
             "party_type", "name", "mobile", "id_number", "enterprise_name", "credit_code", "topic_id", "topic_by")


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRefused(Invalid):
    """Every error of the input at once; nothing is written. ``pushed``: a batch sent through the
    API (the message speaks of the batch and its orders, not of a file)."""

    def __init__(self, errors: list[RowError], total: int, *, pushed: bool = False):
        shown = errors[:MAX_REPORTED_ERRORS]
        message = (f"本批工单有 {len(errors)} 处错误，已全部拒绝，请修改后重新推送" if pushed
                   else f"文件有 {len(errors)} 处错误，已全部拒绝导入，请修改后重新上传")
        super().__init__(message, code="import_refused",
                         extra={"errors": [e.as_dict() for e in shown], "error_count": len(errors), "total": total})
        self.errors = errors
        self.total = total


# --- reading --------------------------------------------------------------------------------

IMPORT_KIND = "appeals.12345"  # core.imports limits


def read_rows(name: str, data: bytes | io.IOBase, budget: RowBudget | None = None
              ) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(header fields, iterator of (row number as a spreadsheet shows it, values)). Every row read
    counts against ``budget`` (rows, blank rows, time: core.imports)."""
    lower = name.lower()
    budget = budget or RowBudget(limits_for(IMPORT_KIND))
    if lower.endswith(".xlsx"):
        return _read_xlsx(data, budget)
    if lower.endswith(".csv"):
        return _read_csv(data, budget)
    raise Invalid("只支持 .xlsx 或 .csv 文件", field="file", code="unsupported_file")


def _counted(rows, budget: RowBudget, is_blank) -> Iterator[tuple[int, list]]:
    for n, row in rows:
        blank = is_blank(row)
        budget.row(blank=blank)
        if not blank:
            yield n, row


def _read_csv(data, budget: RowBudget) -> tuple[list[str], Iterator]:
    raw = data if isinstance(data, bytes) else data.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError as exc:
            raise Invalid("文件编码无法识别，请保存为 UTF-8 编码的 CSV", field="file") from exc
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise Invalid("文件为空", field="file")
    return [h.strip() for h in header], _counted(enumerate(reader, start=2), budget,
                                                 lambda row: not any(c.strip() for c in row))


def _read_xlsx(data, budget: RowBudget) -> tuple[list[str], Iterator]:
    from openpyxl import load_workbook

    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise Invalid("无法读取 Excel 文件，请确认是 .xlsx 格式", field="file") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise Invalid("文件为空", field="file")

    def body():
        try:
            for n, row in _counted(enumerate(rows, start=2), budget,
                                   lambda row: not (row and any(c not in (None, "") for c in row))):
                yield n, list(row)
        finally:
            wb.close()

    return [str(h or "").strip() for h in header], body()


# --- validating -----------------------------------------------------------------------------

@dataclass
class Clean:
    row: int
    work_order_no: str
    kind: str
    title: str
    content: str
    category_code: str
    area_id: int
    address: str
    registered_at: dt.datetime
    party: dict


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel comes back as 13800000000.0
    return clean(str(value)).strip()  # a file's or a push's text is input like a form's (core.text)


def _datetime(value) -> dt.datetime | None:
    """A registration time as people type it (2026-03-02 09:30, 2026/3/2) or as systems send it
    (ISO 8601: 2026-03-02T09:30:00+08:00, …Z, with fractions of a second). Without an offset it is
    local time (Asia/Shanghai)."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(9))
    else:
        text = _text(value)
        moment = None
        try:
            moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" and text else text)
        except ValueError:
            plain = text.replace("/", "-").replace("T", " ")
            for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
                try:
                    moment = dt.datetime.strptime(plain, fmt)
                    break
                except ValueError:
                    continue
        if moment is None:
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class _Skip(Exception):
    pass


class Validator:
    """Validates rows against preloaded areas; reusable for a file or a JSON batch."""

    def __init__(self, area, codes: Iterable[str] | None = None):
        """`codes`: the area codes the input uses, when known (a small batch); otherwise every
        area under `area` is loaded once (a file)."""
        from bianmin.regions.models import Area

        self.scope_area = area
        qs = Area.objects.filter(path__startswith=area.path)
        if codes is not None:
            qs = qs.filter(code__in={c.strip().ljust(12, "0") for c in codes if c and c.strip().isdigit()})
        self.areas = dict(qs.values_list("code", "id"))
        self.now = timezone.now()

    def row(self, n: int, values: dict, errors: list[RowError], seen: dict[str, int]) -> Clean | None:
        before = len(errors)

        def err(field: str, message: str):
            errors.append(RowError(n, LABELS.get(field, field), message))

        for f in REQUIRED:
            if not _text(values.get(f)):
                err(f, "不能为空")
        no = _text(values.get("work_order_no"))
        if len(no) > 40:
            err("work_order_no", "工单编号不能超过40个字符")
        elif no:
            if no in seen:
                err("work_order_no", f"与第{seen[no]}行的工单编号重复")
            else:
                seen[no] = n
        kind_text = _text(values.get("kind"))
        kind = KIND_BY_LABEL.get(kind_text)
        if kind_text and kind is None:
            err("kind", f"“{kind_text[:20]}”不是有效的诉求类型（咨询、求助、投诉、举报、建议）")
        code = _text(values.get("area_code"))
        area_id = None
        if code:
            full = code.ljust(12, "0") if code.isdigit() and len(code) in (6, 9, 12) else None
            area_id = self.areas.get(full) if full else None
            if area_id is None:
                err("area_code", f"区划代码“{code[:20]}”不存在或不在导入范围内")
        moment = None
        if _text(values.get("registered_at")):
            moment = _datetime(values.get("registered_at"))
            if moment is None:
                err("registered_at", "时间格式应为 YYYY-MM-DD HH:MM 或 ISO 8601（如 2026-03-02T09:30:00+08:00）")
            elif moment > self.now + dt.timedelta(days=1):
                err("registered_at", "受理时间不能晚于今天")
        title, content = _text(values.get("title")), _text(values.get("content"))
        if len(title) > 200:
            err("title", "标题不能超过200个字")
        name = _text(values.get("name"))
        enterprise, credit = _text(values.get("enterprise_name")), _text(values.get("credit_code"))
        party_type = PartyType.ENTERPRISE if (enterprise or credit) else PartyType.PERSON if name else PartyType.ANONYMOUS
        party = None
        # The appellant is checked even when the kind is wrong, field by field, so that every error
        # of the row is reported at once; then the rules across fields (anonymous, enterprise).
        from bianmin.core import validators

        field_errors = False
        for f, fn in (("mobile", validators.validate_mobile), ("id_number", validators.validate_id_number),
                      ("credit_code", validators.validate_credit_code)):
            value = _text(values.get(f))
            if value:
                try:
                    fn(value)
                except ValidationError as exc:
                    err(f, "；".join(exc.messages))
                    field_errors = True
        try:
            if field_errors:
                raise _Skip
            party = clean_party(kind=kind or AppealKind.REPORT, party_type=party_type, name=name, mobile=_text(values.get("mobile")),
                                id_number=_text(values.get("id_number")), enterprise_name=enterprise,
                                credit_code=credit)
        except _Skip:
            pass
        except Invalid as exc:
            err(PARTY_FIELD_TO_COLUMN.get(exc.field or "", exc.field or "name"), exc.message)
        if len(errors) > before:
            return None
        return Clean(n, no, kind, title, content, _text(values.get("category_code"))[:40], area_id,
                     _text(values.get("address"))[:200], moment, party)


def validate_file(name: str, data, area, *, on_row: Callable[[int], None] | None = None) -> list[Clean]:
    header, rows = read_rows(name, data)
    fields = [COLUMNS.get(h, h if h in LABELS else None) for h in header]
    missing = [LABELS[f] for f in REQUIRED if f not in fields]
    if missing:
        raise ImportRefused([RowError(1, m, "缺少该列") for m in missing], 0)
    validator = Validator(area)
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    cleaned: list[Clean] = []
    total = 0
    for n, values in rows:
        total += 1
        record = {f: values[i] if i < len(values) else None for i, f in enumerate(fields) if f}
        clean = validator.row(n, record, errors, seen)
        if clean is not None:
            cleaned.append(clean)
        if on_row and total % 10000 == 0:
            on_row(total)
    if errors:
        raise ImportRefused(errors, total)
    if not cleaned:
        raise Invalid("文件中没有工单", field="file")
    return cleaned


def validate_records(records: list[dict], area) -> list[Clean]:
    validator = Validator(area, codes=[_text(r.get("area_code")) for r in records])
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    cleaned = []
    total = 0
    for n, record in enumerate(records, start=1):
        total += 1
        clean = validator.row(n, record, errors, seen)
        if clean is not None:
            cleaned.append(clean)
    if errors:
        raise ImportRefused(errors, total, pushed=True)
    return cleaned


# --- writing --------------------------------------------------------------------------------

class ItemResolver:
    """12345 category code → catalog item, through the catalog's mapping table only. A code with
    no mapping is reported, never guessed from names. Only what the input needs is loaded (the
    mappings of its codes, the items of their standard items, the area chains of its areas), so
    a one-order push costs a few small queries, not a read of the whole catalog."""

    def __init__(self, codes: Iterable[str]):
        from bianmin.catalog.models import Item, ItemMapping

        codes = {c for c in codes if c}
        self.mappings = {code: (item_id, std_id) for code, item_id, std_id in ItemMapping.objects.filter(
            system=HOTLINE_SYSTEM, external_code__in=codes).values_list("external_code", "item_id", "standard_item_id")} \
            if codes else {}
        std_ids = {std for _item, std in self.mappings.values() if std}
        self.items: dict[tuple[int, int], int] = {}
        if std_ids:
            for pk, std_id, area_id in (Item.objects.filter(active=True, standard_item_id__in=std_ids)
                                        .values_list("id", "standard_item_id", "area_id").order_by("-id")):
                self.items[(std_id, area_id)] = pk
        self.std_with_items = {std for std, _area in self.items}
        self.ancestors: dict[int, list[int]] = {}
        self.unmapped: dict[str, int] = {}

    def _chain(self, area_id: int) -> list[int]:
        """The area and the areas above it, nearest first (one lookup per distinct area)."""
        if area_id not in self.ancestors:
            from bianmin.regions.models import Area

            path = Area.objects.filter(pk=area_id).values_list("path", flat=True).first() or ""
            codes = [c for c in path.rstrip("/").split("/") if c]
            ids = dict(Area.objects.filter(code__in=codes).values_list("code", "id"))
            self.ancestors[area_id] = [ids[c] for c in reversed(codes) if c in ids]
        return self.ancestors[area_id]

    def resolve(self, code: str, area_id: int) -> tuple[int | None, bool]:
        """(item id or None, unmapped?)"""
        if not code:
            return None, False
        mapping = self.mappings.get(code)
        if mapping is None:
            self.unmapped[code] = self.unmapped.get(code, 0) + 1
            return None, True
        item_id, std_id = mapping
        if item_id:
            return item_id, False
        if std_id not in self.std_with_items:
            return None, False
        for aid in self._chain(area_id):
            found = self.items.get((std_id, aid))
            if found:
                return found, False
        return None, False


def upsert(cleaned: list[Clean], *, actor: Principal | None, on_progress: Callable[[int, int, int], None] | None = None) -> tuple[int, int, dict[str, int]]:
    """Create or update appeals by work-order number. Returns (created, updated, unmapped codes)."""
    calc = DeadlineCalculator()
    resolver = ItemResolver({c.category_code for c in cleaned})
    classifier = Classifier.from_database()
    label = (actor.label if actor else "12345")[:150]
    created = updated = 0
    numbers_used: set[str] = set()
    for start in range(0, len(cleaned), CHUNK):
        chunk = cleaned[start:start + CHUNK]
        with transaction.atomic():
            existing = {a.work_order_no: a for a in Appeal.objects.filter(
                work_order_no__in=[c.work_order_no for c in chunk]).only("id", "work_order_no", "status", *UPDATABLE)}
            to_create: list[Appeal] = []
            to_update: list[Appeal] = []
            guarded: dict[int, dict] = {}
            for c in chunk:
                item_id, unmapped = resolver.resolve(c.category_code, c.area_id)
                fields = dict(kind=c.kind, title=c.title, content=c.content, category_code=c.category_code,
                              category_unmapped=unmapped, item_id=item_id, area_id=c.area_id, address=c.address,
                              **c.party)
                fields.pop("email", None)
                appeal = existing.get(c.work_order_no)
                if appeal is not None and appeal.topic_by == TopicBy.STAFF:
                    fields.update(topic_id=appeal.topic_id, topic_by=TopicBy.STAFF)  # a staff correction stays
                else:
                    match = classifier.classify(c.title, c.content)
                    fields.update(topic_id=match.class_id, topic_by=TopicBy.RULE if match.class_id else "")
                if appeal is None:
                    day = timezone.localdate(c.registered_at)
                    contact_due, due = calc.due(c.kind, day)
                    number = new_number(day)
                    while number in numbers_used:
                        number = new_number(day)
                    numbers_used.add(number)
                    to_create.append(Appeal(
                        number=number, work_order_no=c.work_order_no, channel=Channel.HOTLINE_12345,
                        status=Status.REGISTERED, registered_at=c.registered_at, contact_due=contact_due,
                        due_date=due, due_in_unconfirmed_year=calc.unconfirmed(day, due),
                        first_receiver_label="12345热线", **fields,
                    ))
                elif any(getattr(appeal, k) != v for k, v in fields.items()):
                    if appeal.status != Status.REGISTERED:
                        changed = {k: (getattr(appeal, k), fields[k]) for k in GUARDED if getattr(appeal, k) != fields[k]}
                        if changed:
                            guarded[appeal.pk] = changed
                    for k, v in fields.items():
                        setattr(appeal, k, v)
                    to_update.append(appeal)
            _avoid_number_collisions(to_create)
            now = timezone.now()
            _insert_rows(Appeal, to_create)
            if to_create:
                ids = dict(Appeal.objects.filter(work_order_no__in=[a.work_order_no for a in to_create])
                           .values_list("work_order_no", "id"))
                for a in to_create:
                    a.pk = a.id = ids[a.work_order_no]
            if to_update:
                _update_rows(to_update, now)
            _insert_rows(AppealEvent,
                [AppealEvent(appeal_id=a.pk, kind=AppealEvent.Kind.REGISTERED, at=a.registered_at, actor_label=label,
                             text="12345工单导入", data={"channel": Channel.HOTLINE_12345}) for a in to_create]
                + [AppealEvent(appeal_id=a.pk, kind=AppealEvent.Kind.UPDATED, at=now, actor_label=label,
                               text=_guarded_text(guarded[a.pk]) if a.pk in guarded else "12345工单更新",
                               data={"fields": sorted(guarded[a.pk])} if a.pk in guarded else {})
                   for a in to_update],
            )
            _audit_guarded(guarded, to_update, actor)
            changed_ids = [a.pk for a in to_create] + [a.pk for a in to_update]
            transaction.on_commit(lambda ids=changed_ids: signals.appeals_imported.send(sender=Appeal, appeal_ids=ids))
        created += len(to_create)
        updated += len(to_update)
        if on_progress:
            on_progress(min(start + CHUNK, len(cleaned)), created, updated)
    # Unmapped codes go to the catalog's list of codes to map (its service), once per code.
    from bianmin.catalog.services import mapping_report_unmapped

    for code in sorted(resolver.unmapped):
        mapping_report_unmapped(system=HOTLINE_SYSTEM, external_code=code)
    return created, updated, resolver.unmapped


_GUARDED_LABELS = {"kind": "诉求类型", "content": "诉求内容"}


def _guarded_text(changed: dict) -> str:
    parts = []
    if "kind" in changed:
        before, after = (AppealKind(v).label for v in changed["kind"])
        parts.append(f"诉求类型（{before}→{after}）")
    if set(changed) - {"kind", "content"}:
        parts.append("诉求人")
    if "content" in changed:
        parts.append("诉求内容")
    return f"12345平台在办理开始后修改了{'、'.join(parts)}"


def _audit_guarded(guarded: dict[int, dict], appeals: list[Appeal], actor: Principal | None) -> None:
    """One audit row per appeal whose kind, complainant or content 12345 changed after its owner
    acted: what changed, the kind before and after, the content it replaced; the complainant's
    details masked (the audit log is read by more people than the appeal)."""
    if not guarded:
        return
    from bianmin.core.masking import mask_credit_code, mask_id_number, mask_mobile, mask_name
    from bianmin.regions.models import Area

    codes = dict(Area.objects.filter(pk__in={a.area_id for a in appeals if a.pk in guarded}).values_list("id", "code"))
    mask = {"name": mask_name, "mobile": mask_mobile, "id_number": mask_id_number, "credit_code": mask_credit_code,
            "enterprise_name": str, "party_type": str}
    for appeal in appeals:
        changed = guarded.get(appeal.pk)
        if not changed:
            continue
        record = {"after_owner_acted": True, "status": appeal.status, "fields": sorted(changed)}
        if "kind" in changed:
            record["kind"] = list(changed["kind"])
        if "content" in changed:
            record["content_before"] = changed["content"][0][:2000]
        for k in set(changed) & set(mask):
            record[k] = [mask[k](v) for v in changed[k]]
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target_type="appeals.appeal", target_id=str(appeal.pk),
              label=f"12345工单 {appeal.work_order_no}", area_code=codes.get(appeal.area_id, ""), changes=record)


def _insert_rows(model, objs: list) -> None:
    """A parameterised INSERT run with executemany. bulk_create spends most of its time compiling
    SQL (each of ~46 values per row goes through the compiler; SQLite's variable limit makes that
    477 statements for 10,000 appeals); one prepared statement is several times faster on SQLite
    and pipelined on psycopg 3. Ids are read back by the caller by a unique key."""
    if not objs:
        return
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the thread-local proxy
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    convert = _converters(fields, connection)
    params = [[conv(f.pre_save(obj, True)) for f, conv in zip(fields, convert, strict=True)] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


_PASS_THROUGH = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _converters(fields, connection):
    """Per field, how a Python value becomes a database parameter. Text, integers, booleans and
    keys go as they are (both drivers adapt them); dates, times and JSON need the backend."""
    out = []
    for f in fields:
        if isinstance(f, _PASS_THROUGH) and not isinstance(f, models.JSONField):
            out.append(lambda v: v)
        else:
            out.append(lambda v, f=f: f.get_db_prep_save(v, connection))
    return out


def _update_rows(appeals: list[Appeal], now) -> None:
    """One parameterised UPDATE run with executemany. Django's bulk_update builds a CASE WHEN per
    field and row, which grows quadratically with the batch (11× slower than inserting, measured);
    executemany is one prepared statement on SQLite and a pipeline on psycopg 3."""
    connection = connections[DEFAULT_DB_ALIAS]
    fields = [Appeal._meta.get_field(name) for name in (*UPDATABLE, "updated_at")]
    convert = _converters(fields, connection)
    qn = connection.ops.quote_name
    sql = (f"UPDATE {qn(Appeal._meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in fields)} "
           f"WHERE {qn(Appeal._meta.pk.column)} = %s")
    for a in appeals:
        a.updated_at = now
    params = [[conv(getattr(a, f.attname)) for f, conv in zip(fields, convert, strict=True)] + [a.pk] for a in appeals]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _avoid_number_collisions(appeals: list[Appeal]) -> None:
    taken = set(Appeal.objects.filter(number__in=[a.number for a in appeals]).values_list("number", flat=True))
    for a in appeals:
        while a.number in taken:
            a.number = new_number(timezone.localdate(a.registered_at))
        taken.add(a.number)


# --- jobs -----------------------------------------------------------------------------------

def import_job_run(*, job_id: int, on_progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Run one import job to its end (the worker calls this; so does the CLI, with a progress bar)."""
    job = ImportJob.objects.select_related("area", "created_by").get(pk=job_id)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.REFUSED):
        return job  # idempotent: a job retried by the worker does not run twice

    def save(**fields):
        for k, v in fields.items():
            setattr(job, k, v)
        ImportJob.objects.filter(pk=job.pk).update(**fields)
        if on_progress:
            on_progress(job)

    save(status=ImportJob.Status.VALIDATING, processed=0)
    from bianmin.accounts.principals import principal_for_user

    actor = principal_for_user(job.created_by) if job.created_by else None
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        cleaned = validate_file(job.filename, data, job.area, on_row=lambda n: save(total=n))
    except ImportRefused as exc:
        save(status=ImportJob.Status.REFUSED, total=exc.total, errors=[e.as_dict() for e in exc.errors[:MAX_REPORTED_ERRORS]],
             finished_at=timezone.now())
        _discard_file(job)
        return job
    except Invalid as exc:
        save(status=ImportJob.Status.REFUSED, errors=[{"row": 0, "column": "", "message": exc.message}], finished_at=timezone.now())
        _discard_file(job)
        return job
    save(status=ImportJob.Status.IMPORTING, total=len(cleaned))
    try:
        created, updated, unmapped = upsert(cleaned, actor=actor,
                                            on_progress=lambda n, c, u: save(processed=n, created_count=c, updated_count=u))
    except Exception:
        save(status=ImportJob.Status.FAILED, finished_at=timezone.now())
        raise
    with transaction.atomic():
        save(status=ImportJob.Status.DONE, processed=len(cleaned), created_count=created, updated_count=updated,
             unmapped_codes=[{"code": k, "count": v} for k, v in sorted(unmapped.items())], finished_at=timezone.now())
        audit(actor=actor, action=AuditEntry.Action.IMPORT, target=job, area_code=job.area.code,
              changes={"file": job.filename, "created": created, "updated": updated, "unmapped": len(unmapped)})
    return job


def _discard_file(job: ImportJob) -> None:
    """A refused file is not kept: the job row keeps its errors (a 40 MB CSV stayed on disk)."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def import_job_create(*, actor: Principal, upload, area, run_now: bool = False) -> ImportJob:
    """Store the uploaded file and queue its import (or run it at once: the CLI does)."""
    from bianmin.core.capabilities import Cap
    from bianmin.core.scoping import require

    require(actor, Cap.APPEAL_MANAGE, area)
    name = getattr(upload, "name", "") or ""
    if not name.lower().endswith((".xlsx", ".csv")):
        raise Invalid("只支持 .xlsx 或 .csv 文件", field="file", code="unsupported_file")
    # Size, an xlsx's unpacked size and declared rows, a CSV's lines: before the file is stored.
    check_file(name, upload, limits_for(IMPORT_KIND))
    with transaction.atomic():
        job = ImportJob(filename=name.rsplit("/", 1)[-1][:200], area=area, created_by=getattr(actor, "user", None))
        job.file.save(job.filename, upload, save=False)
        job.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=job, area_code=area.code, changes={"file": job.filename})
        if not run_now:
            from .tasks import run_import_job

            transaction.on_commit(lambda: run_import_job.enqueue(job.pk))
    return job
