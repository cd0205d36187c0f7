"""Every read of cases, already scoped to the caller's areas.

A case is seen by the sites on both sides of a transfer: the handling site (`site`) and the site
that received the application (`received_site`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from bianmin.core.calendar import add_working_days
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Forbidden, NotFound
from bianmin.core.masking import mask_mobile, mask_name
from bianmin.core.principal import Principal
from bianmin.core.scoping import scope_filter

from .models import CLOCK_STATES, OPEN_STATES, Case, State

DEADLINE_FILTERS = ("overdue", "due_soon", "on_time", "paused")


def case_scope(principal: Principal, capability: str = Cap.VIEW) -> Q:
    """Cases handled or received at a site within the principal's areas. The scope rule is applied
    to the (small) sites table and the cases are matched by site id, so the million-row cases
    table is read through its site indexes instead of joining areas for a path prefix per row."""
    from bianmin.regions.models import ServiceSite

    sites = ServiceSite.objects.filter(scope_filter(principal, capability, area_field="area")).values("pk")
    return Q(site__in=sites) | Q(received_site__in=sites)


def cases_visible(principal: Principal, capability: str = Cap.VIEW) -> QuerySet[Case]:
    return Case.objects.filter(case_scope(principal, capability))


def case_get(*, principal: Principal, case_id: int) -> Case:
    case = (
        cases_visible(principal)
        .select_related("item__standard_item", "site__area", "received_site__area", "window", "owner", "authorized_by")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("未找到该办件")
    return case


def cases_queue(
    *,
    principal: Principal,
    state: str | None = None,
    deadline: str | None = None,
    item_id: int | None = None,
    window_id: int | None = None,
    site_id: int | None = None,
    mine: bool = False,
    open_only: bool = True,
    q: str | None = None,
    today: date | None = None,
) -> QuerySet[Case]:
    """The clerk's queue: open cases of the caller's sites, most urgent first, with filters."""
    today = today or timezone.localdate()
    qs = cases_visible(principal, Cap.VIEW).select_related("item__standard_item", "site", "window", "owner")
    if state:
        qs = qs.filter(state=state)
    elif open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    if deadline == "overdue":
        qs = qs.filter(state__in=CLOCK_STATES, promised_due_on__lt=today)
    elif deadline == "due_soon":
        # One working day or less left: due today or on the next working day.
        qs = qs.filter(state__in=CLOCK_STATES, promised_due_on__gte=today,
                       promised_due_on__lte=add_working_days(today, 1))
    elif deadline == "on_time":
        qs = qs.filter(state__in=CLOCK_STATES, promised_due_on__gt=add_working_days(today, 1))
    elif deadline == "paused":
        qs = qs.filter(state=State.CORRECTION)
    if item_id:
        qs = qs.filter(item_id=item_id)
    if window_id:
        qs = qs.filter(window_id=window_id)
    if site_id:
        qs = qs.filter(site_id=site_id)
    if mine and getattr(principal, "user", None) is not None:
        qs = qs.filter(owner=principal.user)
    if q:
        q = q.strip()
        qs = qs.filter(Q(acceptance_number__icontains=q) | Q(item__standard_item__name__icontains=q)
                       | Q(external_id=q))
    # Overdue first, then by due date; cases without a due date (not yet accepted) after those on
    # the clock, oldest first (NULLS LAST spelled out: SQLite and PostgreSQL sort NULLs differently).
    due = F("promised_due_on").asc(nulls_last=True)
    return qs.order_by(due, "submitted_at", "id") if deadline else qs.order_by(
        "-overdue", due, "submitted_at", "id")


def cases_overdue(*, principal: Principal, today: date | None = None) -> QuerySet[Case]:
    today = today or timezone.localdate()
    return (cases_visible(principal).filter(state__in=CLOCK_STATES, promised_due_on__lt=today)
            .select_related("item__standard_item", "site", "owner").order_by("promised_due_on", "id"))


def cases_multi_trip(since: datetime | date, until: datetime | date, scope: Principal) -> QuerySet[Case]:
    """跑多趟: cases submitted in [since, until) whose applicant came more than once (the
    follow-up desk calls them). `scope` is the caller's principal. Dates mean local midnight."""
    since, until = _moment(since), _moment(until)
    return (cases_visible(scope).filter(visit_count__gt=1, submitted_at__gte=since, submitted_at__lt=until)
            .select_related("item__standard_item", "site").order_by("submitted_at", "id"))


def _moment(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime(value.year, value.month, value.day))


def site_summary(*, principal: Principal, today: date | None = None) -> list[dict]:
    """The manager's view: per site, open cases, overdue, due soon, completed this month."""
    from django.db.models import Count

    today = today or timezone.localdate()
    soon = add_working_days(today, 1)
    month_start = today.replace(day=1)
    rows = (
        cases_visible(principal).values("site_id", "site__name")
        .annotate(
            open=Count("id", filter=Q(state__in=OPEN_STATES)),
            overdue=Count("id", filter=Q(state__in=CLOCK_STATES, promised_due_on__lt=today)),
            due_soon=Count("id", filter=Q(state__in=CLOCK_STATES, promised_due_on__gte=today,
                                          promised_due_on__lte=soon)),
            correction=Count("id", filter=Q(state=State.CORRECTION)),
            completed_month=Count("id", filter=Q(state=State.COMPLETED, completed_on__gte=month_start)),
            multi_trip=Count("id", filter=Q(visit_count__gt=1, submitted_at__date__gte=month_start)),
        )
        .order_by("site__name")
    )
    return list(rows)


@dataclass(frozen=True)
class TrackResult:
    number: str
    item: str
    site: str
    state: str
    submitted_on: date
    accepted_on: date | None
    completed_on: date | None
    applicant: str
    steps: list[tuple[str, str]]
    promise: str  # where the case stands against its promise, in words (never a past date as current)
    missing_materials: list[str]  # what a correction waits for
    correction_due_on: date | None  # the date the materials were asked for by


def _promise(case: Case, clock) -> str:
    """The promise as the citizen reads it today: a date still ahead, or what became of it."""
    if case.state == State.COMPLETED:
        return "已按时办结" if clock.status == "done_on_time" else ("已办结" if clock.promised_due_on is None
                                                                 else "已办结（超过承诺办结日）")
    if case.state in (State.NOT_ACCEPTED, State.WITHDRAWN):
        return "—"
    if clock.promised_due_on is None:
        return "受理后开始计算办理时限" if case.state != State.CORRECTION else "补正材料收齐、受理后开始计算办理时限"
    if case.state == State.CORRECTION:
        return f"补正中，计时暂停；材料收齐后还有 {max(clock.remaining or 0, 0)} 个工作日办结"
    if clock.status == "overdue":
        return f"已超过承诺办结日（{clock.promised_due_on:%Y-%m-%d}），正在加紧办理"
    note = f"（{clock.estimated_note}）" if clock.estimated else ""
    return f"{clock.promised_due_on:%Y-%m-%d} 前办结{note}"


def case_track(*, number: str, mobile_last4: str) -> TrackResult | None:
    """The citizen's progress check: the acceptance number and the last four digits of the phone.
    A mismatch reveals nothing (not even whether the number exists): the caller shows one message."""
    from .deadlines import case_clock

    number = (number or "").strip()
    last4 = (mobile_last4 or "").strip()
    if not number or len(last4) != 4 or not last4.isdigit():
        return None
    case = (Case.objects.select_related("item__standard_item", "site").filter(acceptance_number=number).first())
    if case is None or not case.mobile.endswith(last4):
        return None
    steps = [(timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"), str(e.get_type_display()))
             for e in case.events.exclude(type__in=["visit", "material", "assigned", "updated"]).order_by("at", "id")]
    pause = case.suspensions.filter(ended_on__isnull=True).order_by("-id").first() \
        if case.state == State.CORRECTION else None
    return TrackResult(
        number=case.acceptance_number, item=case.item.standard_item.name, site=case.site.name,
        state=case.get_state_display(), submitted_on=timezone.localtime(case.submitted_at).date(),
        accepted_on=case.accepted_on, completed_on=case.completed_on,
        applicant=mask_name(case.applicant_name) if case.applicant_kind == Case.ApplicantKind.PERSON
        else case.applicant_name, steps=steps, promise=_promise(case, case_clock(case, today=timezone.localdate())),
        missing_materials=list(pause.missing_materials) if pause else [],
        correction_due_on=getattr(pause, "due_on", None) if pause else None,
    )


def masked_applicant(case: Case) -> dict:
    """The applicant as lists and exports show it (PIPL: masked by default)."""
    from bianmin.core.masking import mask_credit_code, mask_id_number

    person = case.applicant_kind == Case.ApplicantKind.PERSON
    return {
        "kind": case.applicant_kind,
        "name": mask_name(case.applicant_name) if person else case.applicant_name,
        "id_number": mask_id_number(case.id_number) if person else "",
        "credit_code": "" if person else mask_credit_code(case.credit_code),
        "contact_name": mask_name(case.contact_name),
        "mobile": mask_mobile(case.mobile),
    }


def sites_for_intake(*, principal: Principal) -> QuerySet:
    """Active service sites (not kiosks) where the caller may take in cases."""
    from bianmin.regions.models import ServiceSite

    return (ServiceSite.objects.filter(active=True).exclude(kind=ServiceSite.Kind.KIOSK)
            .filter(scope_filter(principal, Cap.CASE_HANDLE, area_field="area"))
            .select_related("area").order_by("area__path", "code"))


def items_for_intake(*, site, q: str = "") -> QuerySet:
    """The items a site offers that the platform handles (never classified ones); ``q`` narrows
    them by a part of the item's name or code (a center offers a hundred and more)."""
    from bianmin.catalog.models import Item

    items = (Item.objects.filter(active=True, standard_item__active=True, standard_item__is_classified=False)
             .filter(Q(site=site) | Q(site__isnull=True, area=site.area))
             .select_related("standard_item").order_by("standard_item__name"))
    q = (q or "").strip()[:50]
    if q:
        items = items.filter(Q(standard_item__name__icontains=q) | Q(standard_item__code__icontains=q)
                             | Q(implementation_code__icontains=q))
    return items


def items_seen(*, principal: Principal) -> QuerySet:
    """Items of the caller's sites, for the queue's item filter."""
    from bianmin.catalog.models import Item

    return (Item.objects.filter(scope_filter(principal, Cap.VIEW, area_field="area"), active=True)
            .select_related("standard_item").order_by("standard_item__name")[:300])


def windows_seen(*, principal: Principal) -> QuerySet:
    from bianmin.regions.models import Window

    return (Window.objects.filter(scope_filter(principal, Cap.VIEW, area_field="site__area"), active=True)
            .select_related("site").order_by("site__name", "number")[:200])


def clerks_of_site(*, site) -> list:
    """Users who may handle cases at `site` (for the manager's assignment)."""
    from bianmin.accounts.models import RoleAssignment
    from bianmin.accounts.roles import CAPABILITIES

    roles = [r for r, caps in CAPABILITIES.items() if Cap.CASE_HANDLE in caps]
    paths = [p for p in _ancestor_paths(site.area.path)]
    assignments = (RoleAssignment.objects.filter(active=True, role__in=roles, area__path__in=paths)
                   .select_related("user").order_by("user__username"))
    seen, users = set(), []
    for a in assignments:
        if a.user_id not in seen and a.user.is_active:
            seen.add(a.user_id)
            users.append(a.user)
    return users


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["".join(f"{p}/" for p in parts[:i]) for i in range(1, len(parts) + 1)]


# --- outside systems' external ids --------------------------------------------------------------

def intake_identity(actor: Principal) -> tuple[str, int]:
    """(source system, area id) of an outside system's external ids: fixed by the key the request
    came with — its system and its area (its site's area when bound to a site) — never by what
    the request says. External ids are unique within that pair."""
    key = getattr(actor, "api_key", None)
    if key is None:
        raise Forbidden("外部编号只能由外部系统的接口密钥推送")
    from bianmin.regions.models import ServiceSite

    area_id = ServiceSite.objects.filter(pk=key.site_id).values_list("area_id", flat=True).first() \
        if key.site_id else key.area_id
    return key.source_system, area_id


def external_case_get(actor: Principal, external_id: str) -> Case | None:
    """The case the calling key's system pushed under ``external_id`` in the key's area, or None.
    Another area's case under the same number is another case (and never revealed)."""
    source, area_id = intake_identity(actor)
    return (Case.objects.select_related("item__standard_item", "site__area", "received_site__area")
            .filter(external_source=source, external_area_id=area_id, external_id=(external_id or "").strip()).first())
