"""Every read of appeals, already scoped to the caller's areas (Cap.VIEW on ``area``)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from bianmin.core import masking
from bianmin.core.capabilities import Cap
from bianmin.core.errors import NotFound
from bianmin.core.principal import Principal
from bianmin.core.scoping import area_in_scope, areas_in_scope, get_scoped, home_area, require, scoped

from .models import (
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    ImportJob,
    PartyType,
    RectificationRequest,
    Satisfaction,
)


def appeals_visible(principal: Principal) -> QuerySet[Appeal]:
    return scoped(Appeal.objects.select_related("area", "site", "owner", "item__standard_item", "department",
                                                "escalated_to", "topic"), principal, Cap.VIEW)


def appeal_list(
    principal: Principal,
    *,
    owner=None,
    status: str | None = None,
    site_id: int | None = None,
    area=None,
    overdue: bool = False,
    escalated: bool = False,
    q: str = "",
    today: dt.date | None = None,
) -> QuerySet[Appeal]:
    today = today or timezone.localdate()
    qs = appeals_visible(principal)
    if owner is not None:
        qs = qs.filter(owner=owner)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if site_id:
        qs = qs.filter(site_id=site_id)
    if area is not None:
        qs = qs.filter(area__path__startswith=area.path)
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, due_date__lt=today)
    if escalated:
        qs = qs.filter(escalated_to__isnull=False, status__in=OPEN_STATUSES)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(work_order_no__icontains=q) | Q(title__icontains=q))
    return qs


def appeal_get(principal: Principal, *, number: str) -> Appeal:
    return get_scoped(appeals_visible(principal), principal, Cap.VIEW, number=number)


def appeal_events(appeal: Appeal) -> QuerySet[AppealEvent]:
    return appeal.events.select_related("actor", "department").order_by("at", "id")


def appeal_track(*, number: str, phone_last4: str) -> Appeal:
    """The citizen's view: the number and the last four digits of the phone given. Any mismatch
    is 'not found', so a number alone reveals nothing. Anonymous appeals have no phone to match."""
    number, phone_last4 = (number or "").strip().upper(), (phone_last4 or "").strip()
    if not number or len(phone_last4) != 4 or not phone_last4.isdigit():
        raise NotFound("未找到该诉求，请核对诉求编号和手机号后四位")
    appeal = Appeal.objects.select_related("area").filter(number=number).exclude(mobile="").first()
    if appeal is None or not appeal.mobile.endswith(phone_last4):
        raise NotFound("未找到该诉求，请核对诉求编号和手机号后四位")
    return appeal


def public_events(appeal: Appeal) -> list[AppealEvent]:
    """What the appellant sees: steps and replies, never internal notes or staff names."""
    shown = {AppealEvent.Kind.REGISTERED, AppealEvent.Kind.ASSIGNED, AppealEvent.Kind.CONTACTED,
             AppealEvent.Kind.STARTED, AppealEvent.Kind.REPLIED, AppealEvent.Kind.FOLLOWED_UP,
             AppealEvent.Kind.CLOSED, AppealEvent.Kind.REOPENED}
    return [e for e in appeal.events.order_by("at", "id") if e.kind in shown]


def masked_party(appeal: Appeal) -> dict:
    """The appellant as lists show them: masked by default (unmasking is an audited service)."""
    if appeal.party_type == PartyType.ANONYMOUS:
        return {"name": "匿名", "mobile": "", "id_number": "", "enterprise_name": "", "credit_code": ""}
    return {
        "name": masking.mask_name(appeal.name),
        "mobile": masking.mask_mobile(appeal.mobile),
        "id_number": masking.mask_id_number(appeal.id_number),
        "enterprise_name": appeal.enterprise_name,
        "credit_code": masking.mask_credit_code(appeal.credit_code),
    }


def submit_area_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The citizen form's choice of where: townships grouped by their district (about 230 in one
    list otherwise), each district first as "不确定具体乡镇（街道）"."""
    from bianmin.regions.models import Area

    districts = list(Area.objects.filter(level="district").order_by("code").values_list("pk", "code", "name"))
    towns: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for parent_id, code, name in (Area.objects.filter(level="township").order_by("code")
                                  .values_list("parent_id", "code", "name")):
        towns[parent_id].append((code, name))
    return [(name, [(code, f"{name}（不确定具体乡镇、街道）"), *towns[pk]]) for pk, code, name in districts]


def submit_area(code: str):
    """The area a citizen chose (a township or a district), or None."""
    return public_areas().filter(code=(code or "").strip()).first()


def appeal_actions(principal: Principal, appeal: Appeal) -> set[str]:
    """What this viewer may do on an appeal (the page shows only these): 分派 by its first
    receiver or a manager, the handling steps by its owner or a manager, 回访 by anyone who
    handles appeals there (the services check the same)."""
    if not appeal.is_open or not principal.can(Cap.APPEAL_HANDLE, appeal.area):
        return set()
    user = principal.user
    manages = principal.can(Cap.APPEAL_MANAGE, appeal.area)
    actions = {"follow_up"}
    if manages or (user is not None and appeal.first_receiver_id == user.pk):
        actions.add("assign")
    if manages or (user is not None and appeal.owner_id == user.pk):
        actions |= {"contact", "note", "reply", "close"}
    return actions


@dataclass(frozen=True)
class OwnerChoice:
    user_id: int
    label: str  # the person's name, role and area: never a log-in name


def appeal_owner_candidates(appeal: Appeal, *, limit: int = 200) -> list[OwnerChoice]:
    """Who may be made an appeal's owner: active staff holding APPEAL_HANDLE over its area (an
    assignment at the area or above it). Anyone else would get a 404 on the appeal they own
    (issue 22.7: a 政策编辑 could be chosen)."""
    from bianmin.accounts.models import RoleAssignment
    from bianmin.accounts.roles import CAPABILITIES, Role

    roles = [r for r, caps in CAPABILITIES.items() if Cap.APPEAL_HANDLE in caps]
    parts = [p for p in appeal.area.path.split("/") if p]
    chain = ["".join(f"{p}/" for p in parts[:i]) for i in range(1, len(parts) + 1)]
    rows = list(RoleAssignment.objects.filter(active=True, user__is_active=True, role__in=roles, area__path__in=chain)
                .select_related("user", "area").order_by("-area__path", "role", "user__display_name", "user__username"))
    # Each candidate is then put to the service's own test (workflow.may_own): the query above
    # only narrows the field. Their assignments are read in one query, not one per person.
    from . import workflow

    held = defaultdict(list)
    for a in RoleAssignment.objects.filter(active=True, user_id__in={a.user_id for a in rows}).select_related("area"):
        held[a.user_id].append(a)
    for a in rows:
        a.user._assignments_cache = held[a.user_id]
    seen, out = set(), []
    for a in rows:
        if a.user_id in seen or not workflow.may_own(a.user, appeal.area):  # the service's own test
            continue
        seen.add(a.user_id)
        out.append(OwnerChoice(a.user_id, f"{a.user}（{Role(a.role).label} · {a.area.name}）"))
        if len(out) >= limit:
            break
    return out


def import_job_get(principal: Principal, *, job_id: int) -> ImportJob:
    return get_scoped(ImportJob.objects.all(), principal, Cap.VIEW, pk=job_id)


def import_jobs(principal: Principal) -> QuerySet[ImportJob]:
    return scoped(ImportJob.objects.all(), principal, Cap.VIEW)


# --- what the pages offer: areas, sites, owners and departments within the caller's scope -------

STAFF_LEVELS = ("township", "village", "district")
FIGURE_LEVELS = ("city", "district", "township")


def areas_for(principal: Principal, capability: str, *, levels=STAFF_LEVELS):
    from bianmin.regions.models import Area

    return areas_in_scope(Area.objects.filter(level__in=levels), principal, capability).order_by("code")


def area_for(principal: Principal, capability: str, *, code: str):
    """The area chosen on a form, within the caller's scope for `capability` (404 otherwise)."""
    from bianmin.regions.models import Area

    return area_in_scope(Area.objects.all(), principal, capability, code=code, message="请选择所属区划")


def figures_area(principal: Principal, *, code: str = ""):
    """The area an analysis or KPI page shows: the one asked for, else the caller's widest (404
    when neither is in scope)."""
    from bianmin.regions.models import Area

    areas = Area.objects.filter(level__in=FIGURE_LEVELS)
    if code:
        return area_in_scope(areas, principal, Cap.VIEW, code=code, message="无可查看的区划")
    return home_area(areas, principal, Cap.VIEW, message="无可查看的区划")


def sites_for(principal: Principal):
    from bianmin.regions.models import ServiceSite

    return scoped(ServiceSite.objects.all(), principal, Cap.VIEW).order_by("code")


def site_in_area(area, *, site_id) -> object | None:
    """The site chosen on a form, when it lies in the appeal's area."""
    from bianmin.regions.models import ServiceSite

    if not str(site_id or "").isdigit():
        return None
    return ServiceSite.objects.filter(pk=int(site_id), area__path__startswith=area.path).first()


def public_areas():
    """The areas a citizen files an appeal under (every township and district: a public form)."""
    from bianmin.regions.models import Area

    return Area.objects.filter(level__in=("township", "district")).order_by("code")


def _path_chain(area) -> list[str]:
    """The paths of an area and the areas above it (staff there may own its appeals)."""
    parts = area.path.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def owner_get(owner_id) -> object | None:
    """The user named owner on a form (the service checks that they work within the appeal's area)."""
    from bianmin.accounts.models import User

    if not str(owner_id or "").isdigit():
        return None
    return User.objects.filter(pk=int(owner_id), is_active=True).first()


def departments_for(appeal: Appeal):
    """Departments at the appeal's area and above, which may co-handle it."""
    from bianmin.catalog.models import Department

    return Department.objects.filter(area__path__in=_path_chain(appeal.area), active=True).order_by("code")[:200]


def departments_get(ids) -> list:
    from bianmin.catalog.models import Department

    return list(Department.objects.filter(pk__in=[int(i) for i in ids if str(i).isdigit()]))


def department_get(department_id):
    from bianmin.catalog.models import Department

    if not str(department_id or "").isdigit():
        return None
    return Department.objects.filter(pk=int(department_id)).first()


def rectification_requests(principal: Principal) -> QuerySet[RectificationRequest]:
    return scoped(RectificationRequest.objects.select_related("area"), principal, Cap.VIEW)


# --- high-frequency analysis ---------------------------------------------------------------

@dataclass
class Group:
    key: str
    label: str
    count: int
    previous: int
    appeal_ids: list[int] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def change_pct(self) -> int | None:
        return None if not self.previous else round((self.count - self.previous) * 100 / self.previous)


GROUPINGS = {
    "class": ("topic__code", "topic__name"),  # the content class (level 2, topics.py)
    "class1": ("topic__parent__code", "topic__parent__name"),  # its level-1 class
    "item": ("item_id", "item__standard_item__name"),
    "department": ("department_id", "department__name"),
    "area": (None, None),  # the township (or the child of the chosen area) the appeal falls in
}


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before [start, end]."""
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def _period_qs(principal: Principal, area, start: dt.date, end: dt.date) -> QuerySet[Appeal]:
    begin = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    finish = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return appeals_visible(principal).filter(area__path__startswith=area.path,
                                             registered_at__gte=begin, registered_at__lt=finish)


def _child_of(area, path: str) -> str | None:
    """The code of `area`'s child that `path` runs through (None when the appeal sits at `area`)."""
    rest = path[len(area.path):]
    return rest.split("/", 1)[0] if rest else None


def appeal_groups(principal: Principal, *, area, by: str, start: dt.date, end: dt.date, limit: int = 10) -> list[Group]:
    """The top groups of appeals in [start, end] within `area`, with the previous period's count."""
    require(principal, Cap.VIEW, area)
    if by not in GROUPINGS:
        raise NotFound("分组方式无效", field="by")
    prev_start, prev_end = previous_period(start, end)
    cur = _period_qs(principal, area, start, end)
    prev = _period_qs(principal, area, prev_start, prev_end)
    groups: list[Group] = []
    if by in ("item", "department", "class", "class1"):
        key_field, label_field = GROUPINGS[by]
        rows = cur.exclude(**{f"{key_field}__isnull": True}).values(key_field, label_field).annotate(n=Count("id")).order_by("-n")[:limit]
        keys = [r[key_field] for r in rows]
        before = dict(prev.filter(**{f"{key_field}__in": keys}).values_list(key_field).annotate(n=Count("id")))
        for r in rows:
            ids = list(cur.filter(**{key_field: r[key_field]}).values_list("id", flat=True)[:1000])
            groups.append(Group(str(r[key_field]), r[label_field] or "", r["n"], before.get(r[key_field], 0), ids))
    else:
        from bianmin.regions.models import Area

        def by_child(qs):
            counts: Counter = Counter()
            ids: dict[str, list[int]] = defaultdict(list)
            for pk, path in qs.values_list("id", "area__path").iterator():
                child = _child_of(area, path) or area.code
                counts[child] += 1
                if len(ids[child]) < 1000:
                    ids[child].append(pk)
            return counts, ids

        counts, ids = by_child(cur)
        before, _ = by_child(prev)
        names = dict(Area.objects.filter(code__in=list(counts)).values_list("code", "name"))
        for code, n in counts.most_common(limit):
            groups.append(Group(code, names.get(code, code), n, before.get(code, 0), ids[code]))
    return groups


# --- classes over time -------------------------------------------------------------------------

TREND_PERIODS = 12
TREND_UNITS = {"month": "月", "week": "周"}


@dataclass
class Trend:
    key: str
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def last_change(self) -> int:
        return self.counts[-1] - self.counts[-2] if len(self.counts) > 1 else 0


def trend_periods(end: dt.date, unit: str, n: int = TREND_PERIODS) -> list[tuple[dt.date, dt.date]]:
    """The ``n`` calendar months (or Monday-to-Sunday weeks) up to the one holding ``end``, oldest first."""
    periods = []
    if unit == "week":
        monday = end - dt.timedelta(days=end.weekday())
        for i in range(n - 1, -1, -1):
            first = monday - dt.timedelta(weeks=i)
            periods.append((first, first + dt.timedelta(days=6)))
        return periods
    year, month = end.year, end.month
    for _ in range(n):
        first = dt.date(year, month, 1)
        following = dt.date(year + (month == 12), month % 12 + 1, 1)
        periods.append((first, following - dt.timedelta(days=1)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return periods[::-1]


def appeal_class_trends(principal: Principal, *, area, end: dt.date, unit: str = "month", level: int = 2,
                        limit: int = 12) -> tuple[list[tuple[dt.date, dt.date]], list[Trend]]:
    """Appeals per content class in each of the twelve periods up to ``end`` within ``area``: the
    ``limit`` classes with the most appeals over the twelve, level 2 (classes) or 1 (their groups).
    One grouped query: (class, period start) counts."""
    from django.db.models.functions import TruncMonth, TruncWeek

    require(principal, Cap.VIEW, area)
    if unit not in TREND_UNITS:
        raise NotFound("统计周期无效", field="unit")
    if level not in (1, 2):
        raise NotFound("分类层级无效", field="level")
    periods = trend_periods(end, unit)
    qs = _period_qs(principal, area, periods[0][0], periods[-1][1])
    key, label = GROUPINGS["class" if level == 2 else "class1"]
    trunc = TruncMonth if unit == "month" else TruncWeek
    rows = (qs.exclude(topic__isnull=True).annotate(p=trunc("registered_at")).values(key, label, "p")
            .annotate(n=Count("id")).order_by())
    index = {start: i for i, (start, _e) in enumerate(periods)}
    found: dict[str, Trend] = {}
    for r in rows:
        i = index.get(timezone.localtime(r["p"]).date() if isinstance(r["p"], dt.datetime) else r["p"])
        if i is None:
            continue
        t = found.setdefault(r[key], Trend(r[key], r[label], [0] * len(periods)))
        t.counts[i] += r["n"]
    trends = sorted(found.values(), key=lambda t: (-t.total, t.key))[:limit]
    return periods, trends


def topic_classes():
    """The classification as the pages and the API show it: level-1 classes with their level-2 ones."""
    from .models import TopicClass

    return TopicClass.objects.filter(parent__isnull=True, active=True).prefetch_related(
        Prefetch("children", queryset=TopicClass.objects.filter(active=True).order_by("code"))).order_by("code")


# --- KPIs ------------------------------------------------------------------------------------

@dataclass
class Kpi:
    code: str
    name: str
    total: int
    responded: int
    replied: int
    replied_on_time: int
    due: int
    followed_up: int
    resolved: int
    satisfied: int

    @staticmethod
    def _rate(a: int, b: int) -> float | None:
        return round(a * 100 / b, 1) if b else None

    @property
    def response_rate(self):  # 响应率: appeals answered by a call or a reply
        return self._rate(self.responded, self.total)

    @property
    def on_time_rate(self):  # 按时答复率: of appeals due in the period (or replied), replied by the due date
        return self._rate(self.replied_on_time, self.due)

    @property
    def resolution_rate(self):  # 解决率: of appeals followed up, those the citizen says are solved
        return self._rate(self.resolved, self.followed_up)

    @property
    def satisfaction_rate(self):  # 满意率: 满意 + 基本满意 among those followed up
        return self._rate(self.satisfied, self.followed_up)


def appeal_kpis(principal: Principal, *, area, start: dt.date, end: dt.date, today: dt.date | None = None) -> list[Kpi]:
    """KPIs of appeals registered in [start, end], per child area of `area`, plus a total row."""
    from bianmin.regions.models import Area

    require(principal, Cap.VIEW, area)
    today = today or timezone.localdate()
    rows = _period_qs(principal, area, start, end).values_list(
        "area__path", "contacted_at", "replied_at", "replied_on_time", "due_date", "satisfaction", "resolved")
    per: dict[str, list[int]] = defaultdict(lambda: [0] * 8)
    for path, contacted, replied, on_time, due, sat, resolved in rows.iterator():
        child = _child_of(area, path) or area.code
        for key in (child, "__all__"):
            k = per[key]
            k[0] += 1
            k[1] += bool(contacted or replied)
            k[2] += bool(replied)
            k[3] += bool(on_time)
            # An appeal counts towards the on-time rate once it is replied or its due date passed.
            k[4] += bool(replied or due < today)
            k[5] += bool(sat)
            k[6] += bool(resolved)
            k[7] += sat in (Satisfaction.SATISFIED, Satisfaction.BASIC)
    names = dict(Area.objects.filter(code__in=[c for c in per if c != "__all__"]).values_list("code", "name"))
    result = [Kpi(code, names.get(code, code), *per[code]) for code in sorted(c for c in per if c != "__all__")]
    if "__all__" in per:
        result.append(Kpi(area.code, f"{area.name}合计", *per["__all__"]))
    return result
