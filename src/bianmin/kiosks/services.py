"""Every write of the kiosks: one function per use case, keyword-only typed arguments, one
transaction, ``full_clean()``, an audit row, news on commit.

Two kinds of actor: staff (the terminal register, maintenance, item lists, revocation: the
capability ``kiosk.manage`` at the terminal's area) and the terminal itself (its device key,
capability ``kiosk.device``: heartbeats, certificates, usage). Heartbeats and uses are not audited
row by row — they are the terminal's own log, written at a rate an audit row per write would
double; what they change (a terminal back online, a late day re-counted) is.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from bianmin.accounts import services as account_services
from bianmin.accounts.models import ApiKey
from bianmin.core.audit import audit
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Conflict, DomainError, Invalid, NotFound, clean_text, full_clean
from bianmin.core.masking import mask_id_number, mask_name
from bianmin.core.models import AuditEntry
from bianmin.core.outbox import enqueue
from bianmin.core.principal import Grant, Principal
from bianmin.core.ratelimit import check_rate
from bianmin.core.scoping import require
from bianmin.core.validators import validate_id_number, validate_mobile
from bianmin.regions.models import Area, ServiceSite

from . import conf, documents, sources
from .models import (
    Certificate,
    ItemOverride,
    KioskItem,
    LocationKind,
    Maintenance,
    Outage,
    RegistryRecord,
    Terminal,
    UsageItemMonth,
    UsageLog,
    UsageMonthCover,
    UsageRolledDay,
    UsageTerminalDay,
)

log = logging.getLogger(__name__)

KIOSK_SCOPE = "kiosks.terminal"  # the key scope of a terminal (accounts.principals)
DEVICE = Cap.KIOSK_DEVICE  # what that scope grants
TERMINAL_SCOPES = [KIOSK_SCOPE, "evaluations.kiosk"]  # a terminal also takes evaluations (kiosk channel)

VENUE_KINDS = {
    ServiceSite.Venue.HALL: LocationKind.TOWNSHIP, ServiceSite.Venue.COMMUNITY: LocationKind.COMMUNITY,
    ServiceSite.Venue.BUS_STATION: LocationKind.STATION, ServiceSite.Venue.TRAIN_STATION: LocationKind.STATION,
    ServiceSite.Venue.CONVENIENCE_STORE: LocationKind.CONVENIENCE_STORE, ServiceSite.Venue.PHARMACY: LocationKind.PHARMACY,
}


class SourceFailed(DomainError):
    """The registry behind a certificate could not be asked: nothing was issued."""

    status = 503
    code = "source_unavailable"


class SourceTimedOut(SourceFailed):
    status = 504
    code = "source_timeout"


def _text(value: str | None, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    return clean_text(value, field, label, required=required, limit=max_length)


def township_of(site: ServiceSite) -> Area:
    """The township (乡镇/街道) a kiosk site belongs to: its center's area, else its own area or
    that area's parent when the site stands in a village or community."""
    if site.parent_site_id:
        return site.parent_site.area
    area = site.area
    if area.level == Area.Level.VILLAGE and area.parent_id:
        return area.parent
    return area


def center_of(site: ServiceSite) -> ServiceSite | None:
    if site.parent_site_id:
        return site.parent_site
    return (ServiceSite.objects.select_related("area")
            .filter(kind=ServiceSite.Kind.CENTER, active=True, area=township_of(site)).order_by("code").first())


# --- terminal register ---------------------------------------------------------------------------


def terminal_register(
    *,
    actor: Principal | None,
    site: ServiceSite,
    code: str,
    serial: str,
    model: str,
    operator: str,
    installed_on: date,
    location_kind: str | None = None,
) -> tuple[Terminal, str]:
    """Register a terminal at a kiosk site with a new device key (scopes kiosks.terminal and
    evaluations.kiosk, bound to the site's township so the kiosk takes evaluations of that
    township's cases). Returns the terminal and the raw key, shown once."""
    if actor is not None:
        require(actor, Cap.KIOSK_MANAGE, site.area)
    if site.kind != ServiceSite.Kind.KIOSK:
        raise Invalid("终端只能安放在自助服务终端点", field="site")
    code = _text(code, field="code", label="终端编号", max_length=32).upper()
    serial = _text(serial, field="serial", label="设备序列号", max_length=64)
    model = _text(model, field="model", label="设备型号", max_length=100)
    operator = _text(operator, field="operator", label="运维单位", max_length=100)
    location_kind = location_kind or VENUE_KINDS.get(site.venue, LocationKind.OTHER)
    if location_kind not in LocationKind.values:
        raise Invalid("场所类别无效", field="location_kind")
    if installed_on > timezone.localdate():
        raise Invalid("安装日期不能晚于今天", field="installed_on")
    if Terminal.objects.filter(code=code).exists():
        raise Conflict("终端编号已存在", field="code")
    if Terminal.objects.filter(serial=serial).exists():
        raise Conflict("设备序列号已登记", field="serial")
    try:
        with transaction.atomic():
            key, raw = account_services.apikey_create(
                actor=actor, name=f"自助终端 {code}", kind=ApiKey.Kind.DEVICE, area=township_of(site),
                scopes=TERMINAL_SCOPES)
            terminal = Terminal(code=code, site=site, area=site.area, location_kind=location_kind, model=model,
                                serial=serial, operator=operator, installed_on=installed_on, api_key=key)
            full_clean(terminal)
            terminal.save()
            audit(actor=actor, action=AuditEntry.Action.CREATE, target=terminal, area_code=site.area.code,
                  changes={"site": site.code, "serial": serial, "model": model, "operator": operator,
                           "installed_on": installed_on.isoformat(), "location_kind": location_kind,
                           "key": key.prefix})
    except IntegrityError:
        raise Conflict("终端编号或设备序列号已存在", field="code") from None
    return terminal, raw


def _locked(terminal: Terminal) -> Terminal:
    return Terminal.objects.select_for_update(of=("self",)).select_related("site", "area").get(pk=terminal.pk)


def terminal_update(*, actor: Principal, terminal: Terminal, model: str, operator: str, location_kind: str,
                    installed_on: date) -> Terminal:
    require(actor, Cap.KIOSK_MANAGE, terminal.area)
    model = _text(model, field="model", label="设备型号", max_length=100)
    operator = _text(operator, field="operator", label="运维单位", max_length=100)
    if location_kind not in LocationKind.values:
        raise Invalid("场所类别无效", field="location_kind")
    if installed_on > timezone.localdate():
        raise Invalid("安装日期不能晚于今天", field="installed_on")
    with transaction.atomic():
        terminal = _locked(terminal)
        changes = {}
        for field, value in (("model", model), ("operator", operator), ("location_kind", location_kind),
                             ("installed_on", installed_on)):
            if getattr(terminal, field) != value:
                changes[field] = [str(getattr(terminal, field)), str(value)]
                setattr(terminal, field, value)
        if changes:
            full_clean(terminal)
            terminal.save()
            audit(actor=actor, action=AuditEntry.Action.UPDATE, target=terminal, area_code=terminal.area.code,
                  changes=changes)
    return terminal


def terminal_key_rotate(*, actor: Principal, terminal: Terminal) -> tuple[Terminal, str]:
    """A new device key (the old one stops at once): after a leak or a replaced machine."""
    require(actor, Cap.KIOSK_MANAGE, terminal.area)
    with transaction.atomic():
        terminal = _locked(terminal)
        if terminal.state == Terminal.State.RETIRED:
            raise Conflict("终端已停用")
        old = terminal.api_key
        key, raw = account_services.apikey_create(
            actor=actor, name=f"自助终端 {terminal.code}", kind=ApiKey.Kind.DEVICE, area=township_of(terminal.site),
            scopes=TERMINAL_SCOPES)
        account_services.apikey_revoke(actor=actor, key=old)
        terminal.api_key = key
        terminal.save(update_fields=["api_key", "updated_at"])
        audit(actor=actor, action=AuditEntry.Action.KEY, target=terminal, area_code=terminal.area.code,
              changes={"op": "rotate", "old": old.prefix, "new": key.prefix})
    return terminal, raw


def terminal_retire(*, actor: Principal, terminal: Terminal, reason: str) -> Terminal:
    require(actor, Cap.KIOSK_MANAGE, terminal.area)
    reason = _text(reason, field="reason", label="停用原因", max_length=200)
    now = timezone.now()
    with transaction.atomic():
        terminal = _locked(terminal)
        if terminal.state == Terminal.State.RETIRED:
            raise Conflict("终端已停用")
        for key in (terminal.api_key, terminal.browser_key):
            if key is not None and key.revoked_at is None:
                account_services.apikey_revoke(actor=actor, key=key)
        Outage.objects.filter(terminal=terminal, ended_at__isnull=True).update(ended_at=now)
        terminal.state, terminal.retired_at, terminal.state_changed_at = Terminal.State.RETIRED, now, now
        terminal.save(update_fields=["state", "retired_at", "state_changed_at", "updated_at"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=terminal, area_code=terminal.area.code,
              changes={"to": "retired", "reason": reason})
    return terminal


# --- pairing a terminal's browser -------------------------------------------------------------

_PAIRING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a screen and typed


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def terminal_pairing_issue(*, actor: Principal, terminal: Terminal) -> str:
    """A one-time pairing code for the terminal's browser, valid for a short while. Shown once to
    the staff member, who types it on the terminal's screen (/kiosk/pair/)."""
    require(actor, Cap.KIOSK_MANAGE, terminal.area)
    code = "".join(secrets.choice(_PAIRING_ALPHABET) for _ in range(8))
    with transaction.atomic():
        terminal = _locked(terminal)
        if terminal.state == Terminal.State.RETIRED:
            raise Conflict("终端已停用")
        terminal.pairing_digest = _digest(code)
        terminal.pairing_expires_at = timezone.now() + timedelta(minutes=conf.pairing_minutes())
        terminal.save(update_fields=["pairing_digest", "pairing_expires_at", "updated_at"])
        audit(actor=actor, action=AuditEntry.Action.KEY, target=terminal, area_code=terminal.area.code,
              changes={"op": "pairing_issued", "expires_at": terminal.pairing_expires_at.isoformat()})
    return code


def terminal_pair(*, terminal_code: str, pairing_code: str, ip: str | None = None) -> tuple[Terminal, str]:
    """Pair a browser with its terminal: the code is used up, the browser's previous key (if any)
    revoked, and a new device key made for the browser's HttpOnly cookie. Attempts are limited
    per terminal and per address (the code is short enough to type)."""
    terminal_code = (terminal_code or "").strip().upper()[:32]
    pairing_code = (pairing_code or "").strip().upper().replace(" ", "")[:16]
    check_rate(f"kiosk-pair:{terminal_code}", 10, 600, message="配对尝试过于频繁，请10分钟后再试")
    if ip:
        check_rate(f"kiosk-pair-ip:{ip}", 30, 600, message="配对尝试过于频繁，请10分钟后再试")
    wrong = Invalid("终端编号或配对码不正确，或配对码已过期", field="pairing_code")
    if not terminal_code or not pairing_code:
        raise wrong
    with transaction.atomic():
        terminal = (Terminal.objects.select_for_update(of=("self",)).select_related("site__parent_site__area", "area")
                    .filter(code=terminal_code).first())
        if (terminal is None or terminal.state == Terminal.State.RETIRED or not terminal.pairing_digest
                or terminal.pairing_expires_at is None or terminal.pairing_expires_at < timezone.now()
                or not secrets.compare_digest(terminal.pairing_digest, _digest(pairing_code))):
            raise wrong
        system = Principal(label=f"kiosk-pairing:{terminal.code}", ip=ip)
        if terminal.browser_key is not None and terminal.browser_key.revoked_at is None:
            account_services.apikey_revoke(actor=None, key=terminal.browser_key)
        key, raw = account_services.apikey_create(
            actor=None, name=f"自助终端 {terminal.code} 浏览器", kind=ApiKey.Kind.DEVICE,
            area=township_of(terminal.site), scopes=TERMINAL_SCOPES)
        terminal.browser_key = key
        terminal.pairing_digest, terminal.pairing_expires_at = "", None
        terminal.save(update_fields=["browser_key", "pairing_digest", "pairing_expires_at", "updated_at"])
        audit(actor=system, action=AuditEntry.Action.KEY, target=terminal, area_code=terminal.area.code,
              changes={"op": "paired", "key": key.prefix})
    return terminal, raw


# --- health ----------------------------------------------------------------------------------------


@dataclass
class Heartbeat:
    status: str = Terminal.Status.NORMAL
    paper: str = Terminal.Paper.OK
    printer: str = Terminal.Part.OK
    card_reader: str = Terminal.Part.OK
    software_version: str = ""


OUTAGE_OF_STATUS = {Terminal.Status.FAULT: Outage.Kind.FAULT, Terminal.Status.MAINTENANCE: Outage.Kind.MAINTENANCE}


def _switch_outage(terminal: Terminal, kind: str | None, at: datetime, detail: str = "") -> None:
    """Close the open outage unless it is of `kind`; open one of `kind` (None: available)."""
    current = Outage.objects.filter(terminal=terminal, ended_at__isnull=True).first()
    if current is not None and current.kind == kind:
        return
    if current is not None:
        current.ended_at = max(at, current.started_at)
        current.save(update_fields=["ended_at"])
    if kind is not None:
        Outage.objects.create(terminal=terminal, kind=kind, started_at=at, detail=detail[:200])


def terminal_heartbeat(*, actor: Principal, terminal: Terminal, beat: Heartbeat, now: datetime | None = None) -> Terminal:
    """A terminal says it is alive and how its parts are. The first heartbeat after a silence
    brings it back online (closing the offline spell); a reported fault or maintenance opens a
    spell of its own until a normal heartbeat."""
    for field, choices in (("status", Terminal.Status), ("paper", Terminal.Paper), ("printer", Terminal.Part),
                           ("card_reader", Terminal.Part)):
        if getattr(beat, field) not in choices.values:
            raise Invalid(f"{field} 取值无效：应为 {'、'.join(choices.values)}", field=field)
    version = (beat.software_version or "").strip()[:40]
    now = now or timezone.now()
    with transaction.atomic():
        terminal = _locked(terminal)
        if terminal.state == Terminal.State.RETIRED:
            raise Conflict("终端已停用")
        was = terminal.state
        changed = {}
        for field, value in (("status", beat.status), ("paper", beat.paper), ("printer", beat.printer),
                             ("card_reader", beat.card_reader), ("software_version", version)):
            if getattr(terminal, field) != value:
                changed[field] = [getattr(terminal, field), value]
                setattr(terminal, field, value)
        fields = ["last_seen_at", "updated_at", *changed]
        terminal.last_seen_at = now
        if was != Terminal.State.ONLINE:
            terminal.state, terminal.state_changed_at = Terminal.State.ONLINE, now
            fields += ["state", "state_changed_at"]
            if terminal.activated_at is None:
                terminal.activated_at = now
                fields.append("activated_at")
        if was != Terminal.State.ONLINE or "status" in changed:
            _switch_outage(terminal, OUTAGE_OF_STATUS.get(terminal.status), now,
                           detail="终端上报故障" if terminal.status == Terminal.Status.FAULT else "")
        terminal.save(update_fields=fields)
        if was != Terminal.State.ONLINE:
            # Back online (or new): make sure the offline check is running in the worker.
            transaction.on_commit(_ensure_offline_check)
        if was != Terminal.State.ONLINE or changed.keys() & {"status", "printer", "card_reader", "paper"}:
            audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=terminal, area_code=terminal.area.code,
                  changes={"state": [was, terminal.state], **{k: v for k, v in changed.items() if k != "software_version"}})
    return terminal


def _ensure_offline_check() -> None:
    from .tasks import ensure_offline_check

    try:
        ensure_offline_check()
    except Exception:  # the heartbeat has committed; the check's own cycle or cron covers it
        log.exception("kiosks: could not queue the offline check")


def terminals_mark_offline(*, now: datetime | None = None) -> list[Terminal]:
    """Mark offline the online terminals silent for longer than the configured time, each spell
    starting at its last heartbeat, and tell each district which of its terminals went silent
    (one outbox message per district and run). Idempotent: a terminal already offline is left."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=conf.offline_after_minutes())
    silent = list(Terminal.objects.filter(state=Terminal.State.ONLINE, last_seen_at__lt=cutoff).values_list("pk", flat=True))
    marked: list[Terminal] = []
    if not silent:
        return marked
    with transaction.atomic():
        for terminal in (Terminal.objects.select_for_update(of=("self",)).select_related("site", "area")
                         .filter(pk__in=silent, state=Terminal.State.ONLINE, last_seen_at__lt=cutoff)):
            terminal.state, terminal.state_changed_at = Terminal.State.OFFLINE, now
            terminal.save(update_fields=["state", "state_changed_at", "updated_at"])
            _switch_outage(terminal, Outage.Kind.OFFLINE, terminal.last_seen_at,
                           detail=f"超过{conf.offline_after_minutes()}分钟无心跳")
            audit(actor=None, action=AuditEntry.Action.TRANSITION, target=terminal, area_code=terminal.area.code,
                  changes={"state": [Terminal.State.ONLINE, Terminal.State.OFFLINE],
                           "last_seen_at": terminal.last_seen_at.isoformat()})
            marked.append(terminal)
        by_district: dict[str, list[Terminal]] = {}
        for terminal in marked:
            district = terminal.area.path.split("/")[1] if terminal.area.path.count("/") > 2 else terminal.area.code
            by_district.setdefault(district, []).append(terminal)
        for district, terminals in by_district.items():
            codes = sorted(t.code for t in terminals)
            names = "；".join(f"{t.code}（{t.site.name}，最近心跳 {timezone.localtime(t.last_seen_at):%m-%d %H:%M}）"
                             for t in sorted(terminals, key=lambda t: t.code))
            enqueue(channel="notify", recipient=f"area:{district}",
                    payload={"kind": "kiosk_offline", "district": district, "terminals": codes,
                             "text": f"以下 {len(codes)} 台自助终端已离线，请安排运维检查：{names}"},
                    dedupe_key=f"kiosk-offline-{district}-{_digest(','.join(codes) + now.isoformat())[:24]}",
                    ordering_key=f"kiosk-offline-{district}")
    return marked


def maintenance_record(*, actor: Principal, terminal: Terminal, kind: str, performed_on: date, performed_by: str,
                       description: str) -> Maintenance:
    require(actor, Cap.KIOSK_MANAGE, terminal.area)
    if kind not in Maintenance.Kind.values:
        raise Invalid("维护类型无效", field="kind")
    if performed_on > timezone.localdate():
        raise Invalid("维护日期不能晚于今天", field="performed_on")
    if performed_on < terminal.installed_on:
        raise Invalid("维护日期不能早于安装日期", field="performed_on")
    record = Maintenance(terminal=terminal, kind=kind, performed_on=performed_on,
                         performed_by=_text(performed_by, field="performed_by", label="维护人员", max_length=50),
                         description=_text(description, field="description", label="维护内容", max_length=500),
                         recorded_by=getattr(actor, "user", None))
    with transaction.atomic():
        full_clean(record)
        record.save()
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=record, label=f"{terminal.code} {record.get_kind_display()}",
              area_code=terminal.area.code, changes={"terminal": terminal.code, "kind": kind,
                                                     "performed_on": performed_on.isoformat()})
    return record


# --- the item list -------------------------------------------------------------------------------


def _city_area() -> Area:
    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    if city is None:
        raise NotFound("未找到市级区划")
    return city


def kiosk_item_update(*, actor: Principal, item: KioskItem, default_offered: bool | None = None,
                      active: bool | None = None, position: int | None = None) -> KioskItem:
    """The city list is the city's: changed by those who manage kiosks at the city level."""
    require(actor, Cap.KIOSK_MANAGE, _city_area())
    with transaction.atomic():
        item = KioskItem.objects.select_for_update().select_related("standard_item").get(pk=item.pk)
        changes = {}
        for field, value in (("default_offered", default_offered), ("active", active), ("position", position)):
            if value is not None and getattr(item, field) != value:
                changes[field] = [getattr(item, field), value]
                setattr(item, field, value)
        if changes:
            full_clean(item)
            item.save()
            audit(actor=actor, action=AuditEntry.Action.UPDATE, target=item, changes=changes)
    return item


def item_override_set(*, actor: Principal, item: KioskItem, offered: bool, area: Area | None = None,
                      terminal: Terminal | None = None, note: str = "") -> ItemOverride:
    """An area (and everything below it) or one terminal offers or withdraws an item of the city list."""
    if (area is None) == (terminal is None):
        raise Invalid("请指定区划或终端之一", field="area")
    where = terminal.area if terminal is not None else area
    require(actor, Cap.KIOSK_MANAGE, where)
    if not item.active:
        raise Conflict("该事项已从全市清单撤下", field="item")
    note = _text(note, field="note", label="说明", max_length=200, required=False)
    with transaction.atomic():
        override, created = ItemOverride.objects.select_for_update().get_or_create(
            item=item, area=area, terminal=terminal,
            defaults={"offered": offered, "note": note, "updated_by": getattr(actor, "user", None)})
        before = None if created else override.offered
        if not created:
            override.offered, override.note, override.updated_by = offered, note, getattr(actor, "user", None)
            override.save()
        audit(actor=actor, action=AuditEntry.Action.UPDATE, target=item, area_code=where.code,
              changes={"override": terminal.code if terminal else area.code, "offered": [before, offered], "note": note})
    return override


def item_override_clear(*, actor: Principal, item: KioskItem, area: Area | None = None,
                        terminal: Terminal | None = None) -> None:
    if (area is None) == (terminal is None):
        raise Invalid("请指定区划或终端之一", field="area")
    where = terminal.area if terminal is not None else area
    require(actor, Cap.KIOSK_MANAGE, where)
    with transaction.atomic():
        deleted, _ = ItemOverride.objects.filter(item=item, area=area, terminal=terminal).delete()
        if not deleted:
            raise NotFound("未找到该调整")
        audit(actor=actor, action=AuditEntry.Action.DELETE, target=item, area_code=where.code,
              changes={"override": terminal.code if terminal else area.code})


# --- certificates ----------------------------------------------------------------------------------

_NUMBER_DIGITS = 8
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _new_number(day: date) -> str:
    return f"ZM{day:%Y%m%d}{secrets.randbelow(10 ** _NUMBER_DIGITS):0{_NUMBER_DIGITS}d}"


def terminal_principal(terminal: Terminal, capabilities: frozenset[str], area: Area, *, ip: str | None = None) -> Principal:
    """The terminal acting at `area` with `capabilities` only: how a certificate's case is recorded
    at the township center that the kiosk serves (a self-service window of that center)."""
    return Principal(label=f"kiosk:{terminal.code}", grants=[Grant(area.path, capabilities)],
                     api_key=terminal.api_key, ip=ip)


def _record_case(*, terminal: Terminal, item: KioskItem, certificate: Certificate, mobile: str, ip: str | None):
    """The certificate as a case (即办件) of the township center the kiosk belongs to, accepted and
    finished at once, so that it counts as a 办件 and can be evaluated on the kiosk channel.
    Returns None when that center does not implement the item (the certificate stands alone)."""
    from bianmin.cases import services as case_services
    from bianmin.cases.models import Case
    from bianmin.catalog.models import Item

    center = center_of(terminal.site)
    if center is None:
        return None
    catalog_item = (Item.objects.select_related("standard_item", "window", "site")
                    .filter(standard_item_id=item.standard_item_id, active=True)
                    .filter(Q(site=center) | Q(site__isnull=True, area=center.area)).order_by("site_id").first())
    if catalog_item is None:
        return None
    actor = terminal_principal(terminal, frozenset({Cap.CASE_HANDLE}), center.area, ip=ip)
    applicant = case_services.Applicant(kind="person", name=certificate.holder_name,
                                        id_number=certificate.holder_id_number, mobile=mobile)
    try:
        with transaction.atomic():
            case = case_services.case_submit(
                actor=actor, site=center, item=catalog_item, applicant=applicant, channel=Case.Channel.API,
                summary=f"“e福州”自助终端 {terminal.code} 自助打印{certificate.title}（{certificate.number}）",
                record_visit=False, external_source="kiosk", external_id=certificate.number,
                now=certificate.issued_at)
            case_services.case_accept(actor=actor, case_id=case.pk, now=certificate.issued_at)
            return case_services.case_complete(actor=actor, case_id=case.pk, result="approved",
                                               now=certificate.issued_at)
    except DomainError as exc:
        log.warning("kiosks: certificate %s issued without a case: %s", certificate.number, exc.message)
        return None


def offered_item(*, terminal: Terminal, item_code: str) -> KioskItem:
    from .selectors import offered_items

    for item in offered_items(terminal=terminal):
        if item.code == (item_code or "").strip():
            return item
    raise NotFound("本终端未提供该事项", field="item_code")


def certificate_issue(*, actor: Principal, terminal: Terminal, item_code: str, id_number: str, name: str,
                      mobile: str, now: datetime | None = None) -> Certificate:
    """Ask the item's data source about the person and, if it certifies something, issue the
    certificate: a PDF with a unique number and a QR code to the verification page, kept with its
    SHA-256; recorded as a finished case of the kiosk's township center. A refusal, a failing or
    late source issues nothing and says why in Chinese."""
    from bianmin.cases.services import store_file
    from bianmin.cases.uploads import atomic_with_uploads

    if terminal.state == Terminal.State.RETIRED:
        raise Conflict("终端已停用")
    item = offered_item(terminal=terminal, item_code=item_code)
    if item.service != KioskItem.Service.CERTIFICATE:
        raise Invalid("该事项不出具证明", field="item_code")
    try:
        id_number = validate_id_number(id_number)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field="id_number") from None
    name = _text(name, field="name", label="姓名", max_length=50)
    try:
        mobile = validate_mobile(mobile)
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field="mobile") from None
    # Asked outside any transaction: a slow registry must not hold the database's write lock.
    try:
        found = sources.ask(item.source, sources.Query(id_number=id_number, name=name),
                            timeout=conf.source_timeout_seconds())
    except sources.Refused as exc:
        raise Invalid(exc.message, field="id_number", code="refused") from None
    except sources.TimedOut as exc:
        raise SourceTimedOut(exc.message) from None
    except sources.Unavailable as exc:
        raise SourceFailed(exc.message) from None
    now = now or timezone.now()
    today = timezone.localdate(now)
    valid_until = today + timedelta(days=found.validity_days or item.validity_days)
    title = item.certificate_title or item.name
    verify_code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    for _attempt in range(5):
        number = _new_number(today)
        if not Certificate.objects.filter(number=number).exists():
            break
    else:  # pragma: no cover - 10^8 numbers a day
        raise Conflict("证明编号生成失败，请重试")
    document = documents.render(number=number, verify_code=verify_code, title=title, holder_name=name,
                                holder_id_number=id_number, found=found, issued_at=now, valid_until=valid_until,
                                terminal_label=terminal.code)
    with atomic_with_uploads():
        stored = store_file(data=document, name=f"{number}.pdf")
        certificate = Certificate(
            number=number, verify_code=verify_code, item=item, title=title, source=item.source, terminal=terminal,
            area=terminal.area, holder_name=name, holder_id_number=id_number,
            facts=[[str(k), str(v)] for k, v in found.facts], issued_at=now, valid_until=valid_until,
            sha256=stored.sha256, file=stored)
        full_clean(certificate)
        certificate.save()
        certificate.case = _record_case(terminal=terminal, item=item, certificate=certificate, mobile=mobile,
                                        ip=actor.ip)
        if certificate.case is not None:
            certificate.save(update_fields=["case"])
        audit(actor=actor, action=AuditEntry.Action.CREATE, target=certificate, area_code=terminal.area.code,
              changes={"item": item.code, "holder": mask_name(name), "id_number": mask_id_number(id_number),
                       "sha256": stored.sha256, "valid_until": valid_until.isoformat(),
                       "case": certificate.case.acceptance_number if certificate.case else None})
    return certificate


def certificate_revoke(*, actor: Principal, certificate: Certificate, reason: str) -> Certificate:
    """Revoke (e.g. issued on wrong data, or the registry corrected since): the verification page
    says so from now on. Audited with the reason."""
    require(actor, Cap.KIOSK_MANAGE, certificate.area)
    reason = _text(reason, field="reason", label="撤销原因", max_length=300)
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update(of=("self",)).select_related("area").get(pk=certificate.pk)
        if certificate.revoked_at is not None:
            raise Conflict("该证明已撤销")
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason
        certificate.revoked_by = getattr(actor, "user", None)
        certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
        audit(actor=actor, action=AuditEntry.Action.TRANSITION, target=certificate, area_code=certificate.area.code,
              changes={"to": "revoked", "reason": reason})
    return certificate


def certificate_unmask(*, actor: Principal, certificate: Certificate, purpose: str = "view") -> Certificate:
    """The holder's full data and the PDF are personal data: showing them is a capability, audited."""
    require(actor, Cap.UNMASK, certificate.area)
    with transaction.atomic():
        audit(actor=actor, action=AuditEntry.Action.UNMASK, target=certificate, area_code=certificate.area.code,
              changes={"purpose": purpose})
    return certificate


# --- usage -------------------------------------------------------------------------------------------


@dataclass
class Use:
    item_code: str | None
    outcome: str
    duration_ms: int
    started_at: datetime
    ref: str = ""


def _item_ids(codes: set[str]) -> dict[str, int]:
    """The kiosk items of a batch's codes, in one query. Not kept per process: an id remembered
    across a change of the list (or a test database's rollback) points at no row, and the
    insert then fails at commit instead of a 422 here."""
    found = dict(KioskItem.objects.filter(standard_item__code__in=codes).values_list("standard_item__code", "id"))
    missing = sorted(codes - found.keys())
    if missing:
        raise Invalid(f"未知的事项编码：{missing[0][:64]}", field="item_code")
    return found


def usage_log(*, terminal: Terminal, uses: list[Use], now: datetime | None = None) -> tuple[int, int]:
    """Log uses of a terminal; returns (saved, repeated). A use sent again with the same ``ref``
    is saved once. Uses of a past day that is already rolled up send that day back to be counted
    again. Validated in full before anything is written: one bad use rejects the batch."""
    now = now or timezone.now()
    if not uses:
        raise Invalid("至少包含一条使用记录", field="uses")
    if len(uses) > conf.max_uses_per_request():
        raise Invalid(f"每次最多提交{conf.max_uses_per_request()}条使用记录", field="uses")
    earliest = max(now - timedelta(days=60), timezone.make_aware(datetime.combine(terminal.installed_on, datetime.min.time())))
    rows, refs = [], []
    item_ids = _item_ids({use.item_code for use in uses if use.item_code})
    for i, use in enumerate(uses):
        if use.outcome not in UsageLog.Outcome.values:
            raise Invalid(f"第{i + 1}条：结果应为 success、failed 或 abandoned", field="outcome")
        if not 0 <= use.duration_ms <= 24 * 3600 * 1000:
            raise Invalid(f"第{i + 1}条：用时应在0至24小时之间", field="duration_ms")
        if use.started_at.tzinfo is None:
            raise Invalid(f"第{i + 1}条：开始时间须带时区", field="started_at")
        if use.started_at > now + timedelta(minutes=5) or use.started_at < earliest:
            raise Invalid(f"第{i + 1}条：开始时间超出允许范围（安装日期起、最近60天内、不晚于当前时间）", field="started_at")
        ref = (use.ref or "").strip()
        if len(ref) > 40:
            raise Invalid(f"第{i + 1}条：流水号不能超过40个字符", field="ref")
        item_id = item_ids[use.item_code] if use.item_code else None
        rows.append(UsageLog(terminal_id=terminal.pk, area_id=terminal.area_id, item_id=item_id, outcome=use.outcome,
                             duration_ms=use.duration_ms, started_at=use.started_at,
                             day=timezone.localdate(use.started_at), ref=ref))
        if ref:
            refs.append(ref)
    repeated = set()
    if refs:
        if len(set(refs)) != len(refs):
            raise Invalid("同一批次中流水号重复", field="ref")
        repeated = set(UsageLog.objects.filter(terminal_id=terminal.pk, ref__in=refs).values_list("ref", flat=True))
        rows = [r for r in rows if r.ref not in repeated]
    if not rows:
        return 0, len(repeated)
    today = timezone.localdate(now)
    late_days = {r.day for r in rows if r.day < today}
    with transaction.atomic():
        if len(rows) == 1 and not rows[0].ref:
            rows[0].save(force_insert=True)
        else:
            UsageLog.objects.bulk_create(rows, ignore_conflicts=bool(refs))
        if late_days:
            _unroll(late_days)
    return len(rows), len(repeated)


def _unroll(days: set[date]) -> None:
    """Days whose counts changed after they were rolled up: read raw until rolled up again."""
    removed, _ = UsageRolledDay.objects.filter(day__in=days).delete()
    if removed:
        months = {d.replace(day=1) for d in days}
        UsageMonthCover.objects.filter(month__in=months).delete()
        UsageItemMonth.objects.filter(month__in=months).delete()


def _sums(qs):
    return qs.annotate(
        n=Count("id"), ok=Count("id", filter=Q(outcome="success")), bad=Count("id", filter=Q(outcome="failed")),
        gone=Count("id", filter=Q(outcome="abandoned")), ms=Sum("duration_ms"))


def usage_rollup(*, today: date | None = None) -> dict:
    """Roll up every past day not rolled up yet (per terminal and day), then bring the item
    figures of each month touched up to date (per area, item and month, over the month's days
    rolled up so far). Idempotent: a day is recounted from the raw log, never added to."""
    today = today or timezone.localdate()
    rolled = set(UsageRolledDay.objects.values_list("day", flat=True))
    first = UsageLog.objects.filter(day__lt=today).order_by("day").values_list("day", flat=True).first()
    if first is None:
        return {"days": 0, "months": 0}
    # Every past day from the first use's month on, days without uses too: a month's item
    # figures need its days rolled up from its first day without a gap.
    span = (today - first.replace(day=1)).days
    pending = [d for d in (first.replace(day=1) + timedelta(days=n) for n in range(span)) if d not in rolled]
    for day in pending:
        with transaction.atomic():
            UsageTerminalDay.objects.filter(day=day).delete()
            UsageTerminalDay.objects.bulk_create([
                UsageTerminalDay(day=day, terminal_id=r["terminal_id"], area_id=r["area_id"], uses=r["n"], success=r["ok"],
                                 failed=r["bad"], abandoned=r["gone"], duration_ms=r["ms"] or 0)
                for r in _sums(UsageLog.objects.filter(day=day).values("terminal_id", "area_id").order_by())])
            UsageRolledDay.objects.update_or_create(day=day)
    months = {d.replace(day=1) for d in pending}
    covers = dict(UsageMonthCover.objects.values_list("month", "through"))
    rolled |= set(pending)
    # Months with rolled days that no cover counts yet (e.g. after a late use removed the cover).
    months |= {d.replace(day=1) for d in rolled if d.replace(day=1) not in covers}
    for month in sorted(months):
        through = month
        while through in rolled and through.month == month.month:
            through += timedelta(days=1)
        through -= timedelta(days=1)
        if through < month:
            continue  # the month's first day is not rolled up: read raw
        with transaction.atomic():
            UsageItemMonth.objects.filter(month=month).delete()
            UsageItemMonth.objects.bulk_create([
                UsageItemMonth(month=month, area_id=r["area_id"], item_id=r["item_id"], uses=r["n"], success=r["ok"],
                               failed=r["bad"], abandoned=r["gone"], duration_ms=r["ms"] or 0)
                for r in _sums(UsageLog.objects.filter(day__gte=month, day__lte=through)
                               .values("area_id", "item_id").order_by())])
            UsageMonthCover.objects.update_or_create(month=month, defaults={"through": through})
    return {"days": len(pending), "months": len(months)}


# --- demo registries -----------------------------------------------------------------------------


def registry_put(*, registry: str, id_number: str, name: str, data: dict) -> RegistryRecord:
    """A row of a synthetic registry (demo data and tests only)."""
    with transaction.atomic():
        record, _ = RegistryRecord.objects.update_or_create(
            registry=registry, id_digest=sources.id_digest(id_number), defaults={"name": name, "data": data})
    return record
