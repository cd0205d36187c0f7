"""Every read of the kiosks, scoped through core.scoping (out of scope → 404)."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, scoped
from bianmin.regions.models import Area

from . import conf
from .models import (
    Certificate,
    ItemOverride,
    KioskItem,
    Maintenance,
    Outage,
    Terminal,
    UsageItemMonth,
    UsageLog,
    UsageMonthCover,
    UsageRolledDay,
    UsageTerminalDay,
)

# --- terminals -------------------------------------------------------------------------------------


def terminal_list(*, actor: Principal, area: Area | None = None, state: str = "", location_kind: str = "",
                  q: str = "") -> QuerySet[Terminal]:
    qs = scoped(Terminal.objects.select_related("site", "area"), actor, Cap.VIEW)
    if area is not None:
        qs = qs.filter(area__path__startswith=area.path)
    if state:
        if state not in Terminal.State.values and state != "fault":
            raise Invalid("在线状态无效", field="state")
        qs = qs.filter(status=Terminal.Status.FAULT).exclude(state=Terminal.State.RETIRED) if state == "fault" \
            else qs.filter(state=state)
    if location_kind:
        qs = qs.filter(location_kind=location_kind)
    if q:
        q = q.strip()[:50]
        qs = qs.filter(Q(code__icontains=q) | Q(serial__icontains=q) | Q(site__name__icontains=q))
    return qs.order_by("code")


def terminal_get(*, actor: Principal, code: str, capability: str = Cap.VIEW) -> Terminal:
    return get_scoped(Terminal.objects.select_related("site__area", "area", "api_key", "browser_key"), actor,
                      capability, code=(code or "").strip().upper()[:32])


def terminal_counts(*, actor: Principal, area: Area | None = None) -> dict:
    qs = terminal_list(actor=actor, area=area)
    counts = dict(qs.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    faults = qs.filter(status=Terminal.Status.FAULT).exclude(state=Terminal.State.RETIRED).count()
    return {"total": sum(counts.values()), "fault": faults, **{s: counts.get(s, 0) for s in Terminal.State.values}}


def device_terminal(*, actor: Principal, code: str) -> Terminal:
    """The terminal a device key speaks for: only its own (agent or paired browser key)."""
    key = actor.api_key
    if key is None or not any(Cap.KIOSK_DEVICE in g.capabilities for g in actor.grants):
        raise NotFound("未找到该终端")
    terminal = (Terminal.objects.select_related("site", "area")
                .filter(code=(code or "").strip().upper()[:32])
                .filter(Q(api_key_id=key.pk) | Q(browser_key_id=key.pk)).first())
    if terminal is None:
        raise NotFound("未找到该终端")
    return terminal


def terminal_of_key(key) -> Terminal | None:
    if key is None:
        return None
    return (Terminal.objects.select_related("site", "area")
            .filter(Q(api_key_id=key.pk) | Q(browser_key_id=key.pk)).exclude(state=Terminal.State.RETIRED).first())


def offline_terminals(*, actor: Principal, area: Area | None = None) -> QuerySet[Terminal]:
    return terminal_list(actor=actor, area=area, state=Terminal.State.OFFLINE).order_by("state_changed_at", "code")


def outages(*, terminal: Terminal, limit: int = 50) -> list[Outage]:
    return list(terminal.outages.order_by("-started_at")[:limit])


def maintenance_list(*, terminal: Terminal) -> QuerySet[Maintenance]:
    return terminal.maintenance.select_related("recorded_by").order_by("-performed_on", "-id")


# --- availability ------------------------------------------------------------------------------------


@dataclass
class Availability:
    seconds: float = 0.0  # time the terminal was expected to serve in the period
    down: float = 0.0  # of which unavailable
    by_kind: dict = field(default_factory=lambda: defaultdict(float))

    @property
    def ratio(self) -> float | None:
        return None if self.seconds <= 0 else max(0.0, 1 - self.down / self.seconds)

    def add(self, other: Availability) -> None:
        self.seconds += other.seconds
        self.down += other.down
        for k, v in other.by_kind.items():
            self.by_kind[k] += v


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise Invalid("结束日期不能早于开始日期", field="end")
    if (end - start).days > 366 * 3:
        raise Invalid("统计区间不能超过3年", field="start")
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(datetime.combine(start, time.min), tz),
            timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz))


def availability(*, terminals: list[Terminal], start: date, end: date, now: datetime | None = None) -> dict[int, Availability]:
    """Per terminal: the share of the period (from its first heartbeat, until now or its retirement)
    not covered by an outage. One query for all the terminals' outages in the period."""
    now = now or timezone.now()
    lo, hi = period_bounds(start, end)
    result: dict[int, Availability] = {}
    windows = {}
    for t in terminals:
        begin = max(lo, t.activated_at) if t.activated_at else None
        finish = min(hi, now, t.retired_at or hi)
        a = Availability()
        if begin is not None and finish > begin:
            a.seconds = (finish - begin).total_seconds()
            windows[t.pk] = (begin, finish)
        result[t.pk] = a
    if windows:
        for o in (Outage.objects.filter(terminal_id__in=list(windows), started_at__lt=hi)
                  .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=lo)).only("terminal_id", "kind", "started_at", "ended_at")):
            begin, finish = windows[o.terminal_id]
            s, e = max(o.started_at, begin), min(o.ended_at or finish, finish)
            if e > s:
                result[o.terminal_id].down += (e - s).total_seconds()
                result[o.terminal_id].by_kind[o.kind] += (e - s).total_seconds()
    return result


def availability_by_area(*, actor: Principal, area: Area, start: date, end: date) -> list[dict]:
    """Availability of the area's terminals, grouped by the area's children (districts of the city,
    townships of a district…), plus each terminal."""
    terminals = list(terminal_list(actor=actor, area=area).exclude(state=Terminal.State.PENDING))
    per = availability(terminals=terminals, start=start, end=end)
    children = {a.path: a for a in Area.objects.filter(parent=area)}
    groups: dict[str, Availability] = defaultdict(Availability)
    counts: dict[str, int] = defaultdict(int)
    for t in terminals:
        child = _child_path(t.area.path, area.path)
        groups[child].add(per[t.pk])
        counts[child] += 1
    rows = []
    for path, a in sorted(groups.items()):
        child = children.get(path)
        rows.append({"area": child or area, "terminals": counts[path], "availability": a.ratio})
    return rows


def _child_path(path: str, parent_path: str) -> str:
    rest = path[len(parent_path):]
    return parent_path + rest.split("/", 1)[0] + "/" if rest else parent_path


# --- the item list -----------------------------------------------------------------------------------


def kiosk_items(*, active_only: bool = True) -> QuerySet[KioskItem]:
    qs = KioskItem.objects.select_related("standard_item__competent_department")
    return qs.filter(active=True) if active_only else qs


def offered_items(*, terminal: Terminal) -> list[KioskItem]:
    """The terminal's list: the terminal's own override of an item wins, then the override of
    the nearest area above it, then the city default."""
    items = list(kiosk_items().order_by("position", "id"))
    ancestors = [p + "/" for p in _prefixes(terminal.area.path)]
    overrides = ItemOverride.objects.filter(Q(terminal=terminal) | Q(area__path__in=ancestors)).select_related("area")
    by_item: dict[int, tuple[int, bool]] = {}
    for o in overrides:
        rank = 100 if o.terminal_id else o.area.path.count("/")
        if o.item_id not in by_item or by_item[o.item_id][0] < rank:
            by_item[o.item_id] = (rank, o.offered)
    return [i for i in items if by_item.get(i.pk, (0, i.default_offered))[1]]


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]


def item_overrides(*, actor: Principal, item: KioskItem | None = None) -> QuerySet[ItemOverride]:
    """Overrides the caller sees: of areas within their scope and of their terminals."""
    paths = actor.area_paths_for(Cap.VIEW)
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(area__path__startswith=p) | Q(terminal__area__path__startswith=p)
    qs = ItemOverride.objects.select_related("item__standard_item", "area", "terminal").filter(q)
    return qs.filter(item=item) if item is not None else qs


def terminal_config(*, terminal: Terminal) -> tuple[dict, str]:
    """What a terminal runs with, and its ETag (a digest of exactly that content)."""
    items = offered_items(terminal=terminal)
    config = {
        "terminal": {"code": terminal.code, "site": terminal.site.name, "site_code": terminal.site.code},
        "heartbeat_seconds": conf.heartbeat_seconds(),
        "idle_timeout_seconds": conf.idle_timeout_seconds(),
        "reader": conf.reader(),
        "items": [{"code": i.code, "name": i.name, "service": i.service,
                   "certificate_title": i.certificate_title or None,
                   "category": i.standard_item.competent_department.category} for i in items],
    }
    body = json.dumps(config, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return config, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


# --- certificates ----------------------------------------------------------------------------------


def certificate_list(*, actor: Principal, area: Area | None = None, q: str = "", revoked: bool | None = None,
                     terminal: Terminal | None = None) -> QuerySet[Certificate]:
    qs = scoped(Certificate.objects.select_related("terminal__site", "item__standard_item", "area"), actor, Cap.VIEW)
    if area is not None:
        qs = qs.filter(area__path__startswith=area.path)
    if terminal is not None:
        qs = qs.filter(terminal=terminal)
    if revoked is not None:
        qs = qs.filter(revoked_at__isnull=not revoked)
    if q:
        qs = qs.filter(number__iexact=q.strip()[:24])
    return qs.order_by("-issued_at", "-id")


def certificate_get(*, actor: Principal, number: str, capability: str = Cap.VIEW) -> Certificate:
    return get_scoped(Certificate.objects.select_related("terminal__site", "item__standard_item", "area", "case",
                                                         "file", "revoked_by"),
                      actor, capability, number=(number or "").strip()[:24])


def certificate_for_device(*, terminal: Terminal, number: str) -> Certificate:
    """The PDF of a certificate the terminal issued, for printing, while it is fresh."""
    since = timezone.now() - timedelta(minutes=conf.print_minutes())
    found = (Certificate.objects.select_related("file")
             .filter(terminal=terminal, number=(number or "").strip()[:24], issued_at__gte=since).first())
    if found is None:
        raise NotFound("未找到该证明，或已超过打印时限")
    return found


def certificate_public(*, number: str, code: str) -> Certificate:
    """The public verification: the number and the code printed with it (the number alone finds
    nothing, so certificates cannot be listed by counting numbers)."""
    import secrets

    found = Certificate.objects.select_related("item__standard_item").filter(number=(number or "").strip()[:24]).first()
    if found is None or not secrets.compare_digest(found.verify_code, (code or "").strip().upper()[:12]):
        raise NotFound("未找到该证明，请核对证明编号和核验码")
    return found


def certificate_state(certificate: Certificate, *, today: date | None = None) -> str:
    today = today or timezone.localdate()
    if certificate.revoked_at is not None:
        return "revoked"
    if certificate.valid_until < today:
        return "expired"
    return "valid"


STATE_LABELS = {"valid": "有效", "expired": "已过有效期", "revoked": "已撤销"}


# --- usage ------------------------------------------------------------------------------------------


@dataclass
class Figures:
    start: date
    end: date
    area: Area
    totals: dict
    by_day: list[dict]
    by_terminal: list[dict]
    by_item: list[dict]
    by_area: list[dict]


def _zero() -> dict:
    return {"uses": 0, "success": 0, "failed": 0, "abandoned": 0, "duration_ms": 0}


def _add(target: dict, row: dict) -> None:
    for k in ("uses", "success", "failed", "abandoned", "duration_ms"):
        target[k] += row.get(k) or 0


def _finish(row: dict) -> dict:
    row["avg_seconds"] = round(row["duration_ms"] / row["uses"] / 1000, 1) if row["uses"] else None
    row["success_rate"] = round(row["success"] / row["uses"], 4) if row["uses"] else None
    return row


_RAW = {"uses": Count("id"), "success": Count("id", filter=Q(outcome="success")),
        "failed": Count("id", filter=Q(outcome="failed")), "abandoned": Count("id", filter=Q(outcome="abandoned")),
        "duration_ms": Sum("duration_ms")}
_ROLLED = {k: Sum(k) for k in ("uses", "success", "failed", "abandoned", "duration_ms")}


def usage_area(*, actor: Principal, code: str | None) -> Area:
    """The area whose figures are asked for: the given one if within the caller's scope, else
    the caller's own top area."""
    paths = actor.area_paths_for(Cap.VIEW)
    if not paths:
        raise NotFound("未找到该区划")
    if code:
        area = Area.objects.filter(code=code.strip()[:12]).first()
        if area is None or not any(area.path.startswith(p) for p in paths):
            raise NotFound("未找到该区划", field="area")
        return area
    if len(paths) == 1:
        return Area.objects.get(path=paths[0])
    # Several assignments: their lowest common area would reveal siblings; take the first.
    return Area.objects.get(path=sorted(paths)[0])


def usage_figures(*, actor: Principal, area: Area, start: date, end: date, terminal: Terminal | None = None) -> Figures:
    """Uses per day, terminal, item and area (the area's children) over [start, end] within the
    caller's scope. Rolled-up days come from the roll-ups (per terminal and day; per area, item and
    month for whole covered months), the rest from the raw log through its covering indexes."""
    period_bounds(start, end)
    if not any(area.path.startswith(p) for p in actor.area_paths_for(Cap.VIEW)):
        raise NotFound("未找到该区划")
    # The rows carry the terminal's area id: filter by the ids under `area` (a few hundred at most)
    # rather than joining areas; the whole tree needs no filter at all.
    area_ids = None
    if area.parent_id is not None or Area.objects.filter(parent__isnull=True).count() > 1:
        area_ids = list(Area.objects.filter(path__startswith=area.path).values_list("id", flat=True))

    def within(qs):
        if terminal is not None:
            qs = qs.filter(terminal_id=terminal.pk)
        return qs if area_ids is None else qs.filter(area_id__in=area_ids)

    rolled = set(UsageRolledDay.objects.filter(day__gte=start, day__lte=end).values_list("day", flat=True))
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    raw_days = [d for d in days if d not in rolled]

    by_day: dict[date, dict] = {d: _zero() for d in days}
    by_terminal: dict[int, dict] = defaultdict(_zero)
    if rolled:
        td = within(UsageTerminalDay.objects.filter(day__in=sorted(rolled)))
        for r in td.values("day").order_by().annotate(**_ROLLED):
            _add(by_day[r["day"]], r)
        for r in td.values("terminal_id").order_by().annotate(**_ROLLED):
            _add(by_terminal[r["terminal_id"]], r)
    if raw_days:
        raw = within(UsageLog.objects.filter(day__in=raw_days) if len(raw_days) < len(days)
                     else UsageLog.objects.filter(day__gte=start, day__lte=end))
        for r in raw.values("day", "terminal_id").order_by().annotate(**_RAW):
            _add(by_day[r["day"]], r)
            _add(by_terminal[r["terminal_id"]], r)

    # Items: whole months counted by a cover inside the period from the monthly roll-up, the
    # other days raw.
    by_item: dict[int | None, dict] = defaultdict(_zero)
    covers = dict(UsageMonthCover.objects.filter(month__gte=start.replace(day=1), month__lte=end).values_list("month", "through"))
    monthly, item_raw_days = [], []
    month = start.replace(day=1)
    while month <= end:
        next_month = (month + timedelta(days=32)).replace(day=1)
        first, last = max(month, start), min(next_month - timedelta(days=1), end)
        through = covers.get(month)
        if through is not None and first == month and through <= last:
            monthly.append(month)
            item_raw_days += [d for d in days if through < d <= last]
        else:
            item_raw_days += [d for d in days if first <= d <= last]
        month = next_month
    if monthly:
        for r in within(UsageItemMonth.objects.filter(month__in=monthly)).values("item_id").order_by().annotate(**_ROLLED):
            _add(by_item[r["item_id"]], r)
    if item_raw_days:
        raw = within(UsageLog.objects.filter(day__in=item_raw_days) if len(item_raw_days) < len(days)
                     else UsageLog.objects.filter(day__gte=start, day__lte=end))
        for r in raw.values("item_id").order_by().annotate(**_RAW):
            _add(by_item[r["item_id"]], r)

    terminals = {t.pk: t for t in Terminal.objects.select_related("site", "area").filter(pk__in=list(by_terminal))}
    by_area: dict[str, dict] = defaultdict(_zero)
    terminal_rows = []
    for pk, row in by_terminal.items():
        t = terminals[pk]
        _add(by_area[_child_path(t.area.path, area.path)], row)
        terminal_rows.append(_finish({"terminal": t, **row}))
    children = {a.path: a for a in Area.objects.filter(path__in=list(by_area))}
    items = {i.pk: i for i in KioskItem.objects.select_related("standard_item").filter(pk__in=[k for k in by_item if k])}
    totals = _zero()
    for row in by_day.values():
        _add(totals, row)
    return Figures(
        start=start, end=end, area=area, totals=_finish(totals),
        by_day=[_finish({"day": d, **row}) for d, row in sorted(by_day.items())],
        by_terminal=sorted(terminal_rows, key=lambda r: (-r["uses"], r["terminal"].code)),
        by_item=sorted((_finish({"item": items.get(k), **row}) for k, row in by_item.items()),
                       key=lambda r: (-r["uses"], r["item"].code if r["item"] else "")),
        by_area=sorted((_finish({"area": children.get(p, area), **row}) for p, row in by_area.items()),
                       key=lambda r: r["area"].code),
    )


def recent_uses(*, terminal: Terminal, limit: int = 20) -> list[UsageLog]:
    return list(UsageLog.objects.filter(terminal_id=terminal.pk).select_related("item__standard_item")
                .order_by("-started_at")[:limit])
