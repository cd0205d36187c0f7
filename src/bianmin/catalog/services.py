"""Every write to the catalog: one function per use case, one transaction, validation, audit.

`actor=None` is the system itself (demo loader, command line); a person or key needs the
capability at the record's area: catalog.edit for standard items (shared elements, city level),
stationing.edit for departments, implementation lists and stationing at sites."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from bianmin.core import search
from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.pagecache import CATALOG, bump
from bianmin.core.principal import Principal, actor_name
from bianmin.core.scoping import require
from bianmin.regions.models import Area, ServiceSite, Window

from .conf import ELEMENT_LABELS, LOCALLY_OVERRIDABLE, shared_elements
from .models import (
    Department,
    GuideVersion,
    Item,
    ItemMapping,
    Material,
    StandardItem,
    Stationing,
    UnmappedCode,
)

INDEX = search.FtsIndex("catalog_search")

STANDARD_FIELDS = ("name", "aliases", "item_type", "tier", "parent", "handling_kind", "competent_department",
                   "implementing_body", "legal_basis", "service_object", "acceptance_conditions", "flow",
                   "special_steps", "legal_limit_days", "fee", "result_name", "is_classified", "is_public_service",
                   "levels", "active")
LOCAL_FIELDS = ("implementing_body_name", "implementing_body_credit_code", "address", "window", "phone",
                "complaint_phone", "hours", "promised_limit_days", "visits_needed", "notes", "promise_kind", "mode",
                "authorized_by", "transfer_to_site", "stationed", "active")
MATERIAL_FIELDS = ("name", "trust_level", "required", "original_copies", "copies", "source", "notes")
STATIONING_FIELDS = ("window", "staff_count", "staff_names", "since", "keeps_separate_office", "active", "notes")



def require_catalog_edit(actor: Principal) -> None:
    """Editing the standard catalog as a whole (imports) is the city's: CATALOG_EDIT at the top area."""
    from bianmin.regions.selectors import area_top_city

    city = area_top_city()
    if city is None:
        raise NotFound("未找到该记录")
    require(actor, Cap.CATALOG_EDIT, city)


def _check(actor: Principal | None, capability: str, area: Area) -> None:
    if actor is not None:
        require(actor, capability, area)


def _label(model, name: str) -> str:
    if name == "__all__":
        return ""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a non-field key; show it as is
        return ELEMENT_LABELS.get(name, name)


def _validated(obj, *, exclude: Iterable[str] | None = None) -> None:
    """full_clean() with the error turned into one Chinese 422 naming the field."""
    try:
        obj.full_clean(exclude=list(exclude or []))
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            name, errs = next(iter(exc.error_dict.items()))
            label = _label(type(obj), name)
            text = "；".join(m for e in errs for m in e.messages)
            raise Invalid(f"{label}：{text}" if label else text, field=None if name == "__all__" else name) from None
        raise Invalid("；".join(exc.messages)) from None


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def _apply(obj, changes: dict[str, Any], allowed: Iterable[str]) -> dict[str, list]:
    """Set the allowed fields; return {field: [old, new]} for those that changed."""
    diff: dict[str, list] = {}
    for name, value in changes.items():
        if name not in allowed:
            raise Invalid(f"不能修改“{_label(type(obj), name)}”", field=name)
        old = getattr(obj, name)
        if _plain(old) != _plain(value):
            setattr(obj, name, value)
            diff[name] = [_plain(old), _plain(value)]
    return diff


# ---------------------------------------------------------------------------------------------
# Search index upkeep


def _search_rows(items: Iterable[StandardItem]) -> list[tuple[int, str, str]]:
    rows = []
    for si in items:
        rows.append((si.pk, si.search_text, search.grams_text(si.name, *si.alias_list)))
    return rows


def _refresh_search_fields(si: StandardItem, materials: Iterable[str] | None = None) -> None:
    if materials is None:
        materials = [m.name for m in si.materials.all()] if si.pk else []
    search.add_words([si.name, *si.alias_list])
    si.search_names = " ".join([si.name, *si.alias_list])
    si.search_text = search.doc_text(si.name, " ".join(si.alias_list), si.acceptance_conditions,
                                     " ".join(materials), si.competent_department.name if si.competent_department_id else "")


def search_reindex(*, standard_items: Iterable[StandardItem] | None = None) -> int:
    """Rebuild search fields and the index (all items when none given). Used after bulk loads."""
    qs = StandardItem.objects.select_related("competent_department").prefetch_related("materials")
    items = list(standard_items) if standard_items is not None else list(qs)
    if standard_items is None:
        search.add_words(w for si in items for w in [si.name, *si.alias_list])
    with transaction.atomic():
        for si in items:
            _refresh_search_fields(si, [m.name for m in si.materials.all()])
        StandardItem.objects.bulk_update(items, ["search_names", "search_text"], batch_size=500)
        if standard_items is None:
            INDEX.clear()
        INDEX.upsert(_search_rows(items))
        bump(CATALOG)
    return len(items)


# ---------------------------------------------------------------------------------------------
# Departments


@transaction.atomic
def department_create(*, actor: Principal | None, code: str, name: str, category: str, area: Area,
                      short_name: str = "", credit_code: str = "", phone: str = "") -> Department:
    _check(actor, Cap.STATIONING_EDIT, area)
    if Department.objects.filter(code=code).exists():
        raise Conflict(f"部门编码“{code}”已存在", field="code")
    dept = Department(code=code, name=name, category=category, area=area, short_name=short_name,
                      credit_code=credit_code, phone=phone)
    _validated(dept)
    dept.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=dept, area_code=area.code,
          changes={"code": code, "name": name, "category": category})
    bump(CATALOG)
    return dept


@transaction.atomic
def department_update(*, actor: Principal | None, department: Department, changes: dict[str, Any]) -> Department:
    _check(actor, Cap.STATIONING_EDIT, department.area)
    diff = _apply(department, changes, ("name", "short_name", "category", "credit_code", "phone", "active"))
    if diff:
        _validated(department)
        department.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=department, area_code=department.area.code,
              changes=diff)
        bump(CATALOG)
    return department


# ---------------------------------------------------------------------------------------------
# Standard items (shared elements)


@dataclass
class MaterialIn:
    name: str
    trust_level: str = "C"
    required: bool = True
    original_copies: int = 1
    copies: int = 0
    source: str = ""
    notes: str = ""


def _material_objects(si: StandardItem, materials: Iterable[MaterialIn | dict]) -> list[Material]:
    out = []
    for pos, m in enumerate(materials, start=1):
        data = m if isinstance(m, dict) else m.__dict__
        unknown = set(data) - set(MATERIAL_FIELDS)
        if unknown:
            raise Invalid(f"申请材料含未知字段：{'、'.join(sorted(unknown))}", field="materials")
        mat = Material(standard_item=si, position=pos, **data)
        try:
            mat.full_clean(exclude=["standard_item"])
        except ValidationError as exc:
            name, errs = next(iter(exc.error_dict.items()))
            raise Invalid(f"第{pos}项申请材料的{_label(Material, name)}："
                          + "；".join(m for e in errs for m in e.messages), field="materials") from None
        out.append(mat)
    return out


@transaction.atomic
def standard_item_create(*, actor: Principal | None, code: str, name: str, item_type: str,
                         competent_department: Department, implementing_body: str, legal_limit_days: int,
                         materials: Iterable[MaterialIn | dict] = (), index: bool = True,
                         **elements: Any) -> StandardItem:
    """Create a standard item with its shared elements and materials. A duplicate code is a 409."""
    _check(actor, Cap.CATALOG_EDIT, competent_department.area)
    unknown = set(elements) - set(STANDARD_FIELDS)
    if unknown:
        raise Invalid(f"未知的事项要素：{'、'.join(sorted(unknown))}")
    code = (code or "").strip()
    if StandardItem.objects.filter(code=code).exists():
        raise Conflict(f"事项编码“{code}”已存在", field="code")
    si = StandardItem(code=code, name=(name or "").strip(), item_type=item_type,
                      competent_department=competent_department, implementing_body=implementing_body,
                      legal_limit_days=legal_limit_days, **elements)
    _validated(si)
    mats = _material_objects(si, materials)
    if index:
        _refresh_search_fields(si, [m.name for m in mats])
    try:
        with transaction.atomic():
            si.save()
    except IntegrityError:
        raise Conflict(f"事项编码“{code}”已存在", field="code") from None
    for m in mats:
        m.standard_item = si
    Material.objects.bulk_create(mats)
    if index:
        INDEX.upsert(_search_rows([si]))
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=si, area_code=competent_department.area.code,
          changes={"code": code, "name": si.name, "materials": [m.name for m in mats]})
    bump(CATALOG)
    return si


@transaction.atomic
def standard_item_update(*, actor: Principal | None, standard_item: StandardItem, changes: dict[str, Any],
                         materials: Iterable[MaterialIn | dict] | None = None) -> StandardItem:
    """Edit shared elements: they show at every level at once. The version goes up by one."""
    si = StandardItem.objects.select_for_update(of=("self",)).select_related("competent_department__area").get(pk=standard_item.pk)
    _check(actor, Cap.CATALOG_EDIT, si.competent_department.area)
    if "code" in changes:
        raise Invalid("事项编码由省级统一赋予，不能修改", field="code")
    diff = _apply(si, changes, STANDARD_FIELDS)
    if "competent_department" in diff and actor is not None:
        require(actor, Cap.CATALOG_EDIT, si.competent_department.area)
    new_mats = None
    if materials is not None:
        new_mats = _material_objects(si, materials)
        old_names = [(m.name, m.trust_level, m.required, m.original_copies, m.copies, m.source, m.notes)
                     for m in si.materials.all()]
        new_names = [(m.name, m.trust_level, m.required, m.original_copies, m.copies, m.source, m.notes)
                     for m in new_mats]
        if old_names != new_names:
            diff["materials"] = [[m[0] for m in old_names], [m[0] for m in new_names]]
        else:
            new_mats = None
    if not diff:
        return si
    _validated(si)
    if "legal_limit_days" in diff:
        over = si.items.filter(promised_limit_days__gt=si.legal_limit_days).count()
        if over:
            raise Invalid(f"有 {over} 个实施清单事项的承诺时限超过新的法定时限，请先调整承诺时限",
                          field="legal_limit_days")
    if new_mats is not None:
        si.materials.all().delete()
        Material.objects.bulk_create(new_mats)
    si.version = F("version") + 1
    _refresh_search_fields(si, [m.name for m in new_mats] if new_mats is not None else None)
    si.save()
    si.refresh_from_db()
    INDEX.upsert(_search_rows([si]))
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=si, area_code=si.competent_department.area.code,
          changes=diff)
    bump(CATALOG)
    return si


# ---------------------------------------------------------------------------------------------
# Implementation lists (local elements)


def _shared_element_refusal(name: str) -> Invalid:
    label = ELEMENT_LABELS.get(name, name)
    return Invalid(f"“{label}”是各级共享要素（五级十五同），只能在标准化事项中统一修改，不能在实施清单中单独修改",
                   field=name, code="shared_element")


def _split_local(changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split changes into local fields and locally overridden guide elements; refuse shared ones."""
    shared = shared_elements()
    local, overrides = {}, {}
    for name, value in changes.items():
        if name in LOCAL_FIELDS:
            local[name] = value
        elif name in LOCALLY_OVERRIDABLE and name not in shared:
            overrides[name] = value
        elif name in ELEMENT_LABELS or name in STANDARD_FIELDS:
            raise _shared_element_refusal(name)
        else:
            raise Invalid(f"未知的要素“{name}”", field=name)
    return local, overrides


@transaction.atomic
def item_create(*, actor: Principal | None, standard_item: StandardItem, area: Area, site: ServiceSite | None = None,
                promised_limit_days: int | None = None, **local: Any) -> Item:
    """Implement a standard item at an area (and site). One item per standard item and site."""
    _check(actor, Cap.STATIONING_EDIT, area)
    local_fields, overrides = _split_local(local)
    if site is not None and Item.objects.filter(standard_item=standard_item, site=site).exists():
        raise Conflict(f"“{site.name}”已有事项“{standard_item.name}”", field="standard_item")
    if site is None and Item.objects.filter(standard_item=standard_item, area=area, site__isnull=True).exists():
        raise Conflict(f"“{area.name}”已有事项“{standard_item.name}”", field="standard_item")
    if promised_limit_days is None:
        promised_limit_days = 0 if local_fields.get("promise_kind") == Item.PromiseKind.IMMEDIATE else standard_item.legal_limit_days
    item = Item(standard_item=standard_item, area=area, site=site, promised_limit_days=promised_limit_days,
                local_elements=overrides, **local_fields)
    item.implementation_code = item.make_implementation_code()
    _validated(item, exclude=["implementation_code"])
    if Item.objects.filter(implementation_code=item.implementation_code).exists():
        raise Conflict(f"实施编码“{item.implementation_code}”已存在", field="implementation_code")
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise Conflict("该事项在此处已有实施清单") from None
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=item, area_code=area.code,
          changes={"standard_item": standard_item.code, "site": site.code if site else None,
                   "implementation_code": item.implementation_code})
    bump(CATALOG)
    return item


@transaction.atomic
def item_update(*, actor: Principal | None, item: Item, changes: dict[str, Any]) -> Item:
    """Edit local elements only. A shared element is refused (422) with the reason."""
    item = Item.objects.select_for_update(of=("self",)).select_related("standard_item", "area", "site").get(pk=item.pk)
    _check(actor, Cap.STATIONING_EDIT, item.area)
    local_fields, overrides = _split_local(changes)
    diff = _apply(item, local_fields, LOCAL_FIELDS)
    if overrides:
        merged = {**item.local_elements, **{k: v for k, v in overrides.items()}}
        merged = {k: v for k, v in merged.items() if v not in (None, "")}
        if merged != item.local_elements:
            diff["local_elements"] = [item.local_elements, merged]
            item.local_elements = merged
    if not diff:
        return item
    if "implementing_body_credit_code" in diff:
        item.implementation_code = item.make_implementation_code()
        if Item.objects.exclude(pk=item.pk).filter(implementation_code=item.implementation_code).exists():
            raise Conflict(f"实施编码“{item.implementation_code}”已存在", field="implementing_body_credit_code")
    _validated(item, exclude=["implementation_code"])
    item.save()
    audit(actor=actor, action=AuditEntry.Action.UPDATE, target=item, area_code=item.area.code, changes=diff)
    bump(CATALOG)
    return item


@transaction.atomic
def item_publish(*, actor: Principal | None, item: Item, note: str = "") -> GuideVersion:
    """Publish the item's guide: a snapshot of every element, kept as a numbered version. An
    unchanged guide is not published again."""
    from .selectors import guide_elements

    item = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
    _check(actor, Cap.STATIONING_EDIT, item.area)
    elements = guide_elements(item)
    last = item.guide_versions.order_by("-number").first()
    if last is not None and last.elements == elements:
        raise Conflict("指南内容与上一版相同，无需重新发布")
    number = (last.number if last else 0) + 1
    version = GuideVersion(item=item, number=number, elements=elements, note=note,
                           published_by=actor_name(actor))
    _validated(version, exclude=["item"])
    version.save()
    Item.objects.filter(pk=item.pk).update(published_version=number)
    audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=item, area_code=item.area.code,
          changes={"published_version": number, "note": note})
    bump(CATALOG)
    return version


# ---------------------------------------------------------------------------------------------
# Mappings to outside systems


@transaction.atomic
def mapping_create(*, actor: Principal | None, system: str, external_code: str, standard_item: StandardItem | None = None,
                   item: Item | None = None, external_name: str = "") -> ItemMapping:
    if (standard_item is None) == (item is None):
        raise Invalid("映射须指向一个标准化事项或一个实施清单事项（二选一）")
    if item is not None:
        _check(actor, Cap.STATIONING_EDIT, item.area)
    else:
        _check(actor, Cap.CATALOG_EDIT, standard_item.competent_department.area)
    external_code = (external_code or "").strip()
    if ItemMapping.objects.filter(system=system, external_code=external_code).exists():
        raise Conflict(f"外部编码“{external_code}”在该系统中已映射", field="external_code")
    mapping = ItemMapping(system=system, external_code=external_code, standard_item=standard_item, item=item,
                          external_name=external_name)
    _validated(mapping)
    mapping.save()
    UnmappedCode.objects.filter(system=system, external_code=external_code).update(resolved=True)
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=mapping,
          area_code=item.area.code if item else "",
          changes={"system": system, "external_code": external_code,
                   "target": item.implementation_code if item else standard_item.code})
    return mapping


def mapping_report_unmapped(*, system: str, external_code: str, external_name: str = "") -> UnmappedCode:
    """Record an outside code that matched nothing, so someone maps it (never guessed). Runs in its
    own transaction, so the report survives the caller rolling back its own work."""
    with transaction.atomic():
        row, created = UnmappedCode.objects.get_or_create(
            system=system, external_code=external_code, defaults={"external_name": external_name[:200]})
        if not created:
            UnmappedCode.objects.filter(pk=row.pk).update(seen_count=F("seen_count") + 1, resolved=False)
    return row


# ---------------------------------------------------------------------------------------------
# Stationing


@transaction.atomic
def stationing_create(*, actor: Principal | None, department: Department, site: ServiceSite,
                      window: Window | None = None, staff_count: int = 1, staff_names: str = "",
                      since: datetime.date | None = None, keeps_separate_office: bool = False,
                      notes: str = "") -> Stationing:
    _check(actor, Cap.STATIONING_EDIT, site.area)
    if Stationing.objects.filter(department=department, site=site).exists():
        raise Conflict(f"“{department.name}”已进驻“{site.name}”", field="department")
    st = Stationing(department=department, site=site, window=window, staff_count=staff_count,
                    staff_names=staff_names, since=since, keeps_separate_office=keeps_separate_office, notes=notes)
    _validated(st)
    st.save()
    audit(actor=actor, action=AuditEntry.Action.CREATE, target=st, area_code=site.area.code,
          changes={"department": department.code, "site": site.code})
    bump(CATALOG)
    return st


@transaction.atomic
def stationing_update(*, actor: Principal | None, stationing: Stationing, changes: dict[str, Any]) -> Stationing:
    st = Stationing.objects.select_for_update(of=("self",)).select_related("site__area", "department").get(pk=stationing.pk)
    _check(actor, Cap.STATIONING_EDIT, st.site.area)
    diff = _apply(st, changes, STATIONING_FIELDS)
    if diff:
        _validated(st)
        st.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=st, area_code=st.site.area.code, changes=diff)
        bump(CATALOG)
    return st


__all__ = [
    "INDEX", "MaterialIn", "department_create", "department_update", "item_create", "item_publish",
    "item_update", "mapping_create", "mapping_report_unmapped", "search_reindex", "standard_item_create",
    "standard_item_update", "stationing_create", "stationing_update",
]
