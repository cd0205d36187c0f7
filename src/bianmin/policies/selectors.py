"""Every read of the policy library.

Public (no log-in): the published and expired versions, one per code. Staff reads go through
the scope rule (policy.edit at the policy's area)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bianmin.catalog.models import Department, Item, StandardItem, split_aliases
from bianmin.core import search
from bianmin.core.capabilities import Cap
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.models import AuditEntry
from bianmin.core.prepared import PreparedQuery
from bianmin.core.principal import Principal
from bianmin.core.scoping import get_scoped, scoped
from bianmin.regions.models import Area

from . import matching
from .indexing import INDEX, Filters, filter_groups
from .models import (
    PUBLIC_STATES,
    EnterpriseProfile,
    FeedCounter,
    Policy,
    PolicyChange,
    PolicyFacet,
    State,
    Subscription,
)

MAX_QUERY_LENGTH = 100
CANDIDATE_LIMIT = 500
MAX_PER_PAGE = 100


def public_policies() -> QuerySet[Policy]:
    return Policy.objects.filter(state__in=PUBLIC_STATES)


def in_force_q(today: dt.date) -> Q:
    return Q(state=State.PUBLISHED, valid_from__lte=today) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def feed_position() -> int:
    """The last number given in the changes feed (0 before the first publication): what every
    public answer depends on, so it keys the ETags of lists and searches."""
    return FeedCounter.objects.filter(pk=1).values_list("value", flat=True).first() or 0


# ---------------------------------------------------------------------------------------------
# The segmenter's words (aliases of public policies)

_words_lock = threading.Lock()
_words_seq = -1


def _ensure_words(position: int | None = None) -> None:
    """Teach this process's segmenter the aliases of every public version, so a query is cut the
    way the index was. Incremental: only versions made public since the last look (a policy
    published through another server is known here from the next query on)."""
    global _words_seq
    position = feed_position() if position is None else position
    if position == _words_seq:
        return
    with _words_lock:
        since = max(_words_seq, 0)
        rows = public_policies().filter(feed_seq__gt=since).exclude(aliases="").values_list("aliases", flat=True)
        search.add_words(w for aliases in rows for w in split_aliases(aliases))
        _words_seq = position


def warm_search() -> None:
    """Load the segmenter and the aliases now (gunicorn's master, before it forks)."""
    from django.db import connections

    search.segment("惠企政策")
    try:
        _ensure_words()
    finally:
        connections.close_all()


# ---------------------------------------------------------------------------------------------
# Search and browse


@dataclass
class SearchPage:
    q: str
    results: list[Policy]
    total: int
    page: int
    per_page: int
    fuzzy: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _check_paging(page: int, per_page: int) -> None:
    if page < 1 or page > 10000:
        raise Invalid("页码 page 应在 1 至 10000 之间", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"每页条数 per_page 应在 1 至 {MAX_PER_PAGE} 之间", field="per_page")


def _faceted(qs: QuerySet, groups: Sequence[frozenset[str]]) -> QuerySet:
    for group in groups:
        qs = qs.filter(Exists(PolicyFacet.objects.filter(policy=OuterRef("pk"), token__in=sorted(group))))
    return qs


LIST_FIELDS = ("id", "code", "version", "state", "title", "aliases", "category", "lead_department__name",
               "lead_department__code", "area__name", "valid_from", "valid_until", "benefits", "tags", "no_application",
               "published_at", "feed_seq", "handling_office", "handling_phone")


def _rows(ids: Sequence[int]) -> list[Policy]:
    by_id = (Policy.objects.select_related("lead_department", "area").only(*LIST_FIELDS).in_bulk(list(ids)))
    return [by_id[i] for i in ids if i in by_id]


NO_FILTERS = Filters()


def policy_search(*, q: str = "", filters: Filters = NO_FILTERS, page: int = 1, per_page: int = 20,
                  today: dt.date | None = None) -> SearchPage:
    """Public search: Chinese full text over titles, colloquial names (俗称), document numbers,
    departments, benefits and conditions, the filters applied in the index; the same results on
    both engines. Without a query: the public policies matching the filters, newest first."""
    _check_paging(page, per_page)
    q = (q or "").strip()
    today = today or timezone.localdate()
    if len(q) > MAX_QUERY_LENGTH:
        raise Invalid(f"关键词不能超过{MAX_QUERY_LENGTH}个字", field="q")
    if not q:
        return _browse(filters=filters, page=page, per_page=per_page, today=today)
    _ensure_words()
    query = search.parse_query(q)
    groups = filter_groups(filters)
    ranked: list[search.Candidate] = []
    fuzzy: list[search.Candidate] = []
    if query.groups:
        ids = INDEX.match([*query.groups, *groups], require_all=True, limit=CANDIDATE_LIMIT)
        ranked = search.rank(query, _candidates(ids, query.phrases, filters, today))
    elif query.phrases:
        ranked = search.rank(query, _candidates([], query.phrases, filters, today))
    if not ranked:
        # Nothing holds every word: first what looks like a mistyped name, then policies having
        # some of the words (the filters still hold for both).
        grams = search.query_grams(query)
        ids = INDEX.match([[g] for g in grams], column="grams", require_all=False, limit=CANDIDATE_LIMIT)
        fuzzy = search.fuzzy_rank(query, _candidates(ids, frozenset(), filters, today, faceted=True))
        if len(query.groups) > 1:
            ids = INDEX.match(query.groups, require_all=False, limit=CANDIDATE_LIMIT)
            seen = {c.id for c in fuzzy}
            ranked = [c for c in search.rank(query, _candidates(ids, frozenset(), filters, today, faceted=True))
                      if c.id not in seen]
    ordered = fuzzy + ranked
    start = (page - 1) * per_page
    return SearchPage(q=q, results=_rows([c.id for c in ordered[start:start + per_page]]), total=len(ordered),
                      page=page, per_page=per_page, fuzzy=bool(fuzzy))


class _AllTerms:
    """The full text of a candidate that the index matched on every term group: every term is in
    it, so it need not be read (hundreds of long texts per query) to rank."""

    def __contains__(self, token: str) -> bool:
        return True


_ALL_TERMS = _AllTerms()


def _candidates(ids: Sequence[int], phrases: frozenset[str], filters: Filters, today: dt.date, *,
                faceted: bool = False) -> list[search.Candidate]:
    """The rows to rank: the index's candidates (`faceted` when the filters still have to be
    applied; otherwise the index matched the filter tokens and every term group, and their text
    is not read) plus a policy titled exactly as the query, so an exact title is never lost to the
    candidate limit (checked against the filters on its own: usually none or one row)."""
    groups = filter_groups(filters)
    ids = set(ids)
    extra: set[int] = set()
    if phrases:
        exact = set(public_policies().filter(title__in=sorted(phrases)).values_list("id", flat=True)) - ids
        if exact:
            extra = set(_faceted(Policy.objects.filter(pk__in=exact), groups).values_list("id", flat=True))
    if not ids and not extra:
        return []
    qs = public_policies().filter(pk__in=sorted(ids | extra))
    if faceted:
        qs = _faceted(qs, groups)
    if filters.in_force:
        qs = qs.filter(in_force_q(today))
    if faceted or extra:
        return [search.Candidate(id=i, code=code, name=title, aliases=tuple(split_aliases(aliases)) if aliases else (),
                                 text_tokens=search.TokenText(text))
                for i, code, title, aliases, text in qs.values_list("id", "code", "title", "aliases", "search_text")]
    return [search.Candidate(id=i, code=code, name=title, aliases=tuple(split_aliases(aliases)) if aliases else (),
                             text_tokens=_ALL_TERMS)
            for i, code, title, aliases in qs.values_list("id", "code", "title", "aliases")]


def _browse(*, filters: Filters, page: int, per_page: int, today: dt.date) -> SearchPage:
    qs = _faceted(public_policies(), filter_groups(filters))
    if filters.in_force:
        qs = qs.filter(in_force_q(today))
    total = qs.count()
    start = (page - 1) * per_page
    ids = list(qs.order_by("-published_at", "-id").values_list("id", flat=True)[start:start + per_page])
    return SearchPage(q="", results=_rows(ids), total=total, page=page, per_page=per_page)


# ---------------------------------------------------------------------------------------------
# One policy


def public_get(*, code: str) -> Policy:
    policy = (public_policies().select_related("lead_department", "area")
              .prefetch_related("co_departments", "areas", "items", "attachments__file")
              .filter(code=(code or "").strip()).first())
    if policy is None:
        raise NotFound(f"政策“{code}”不存在或已撤回", field="code")
    return policy


# The API's hot read: one prepared statement (core/prepared.py), only the columns the answer needs.
_HEAD = PreparedQuery(
    lambda code: Policy.objects.filter(code=code, state__in=list(PUBLIC_STATES))
    .only("id", "state", "valid_from", "valid_until", "feed_seq", "public_body")[:1])


def public_head(*, code: str) -> Policy:
    """The served body and what its ETag is made of; NotFound for a code with no public version."""
    code = (code or "").strip()
    found = _HEAD(code=code) if code and len(code) <= 40 else []
    if not found:
        raise NotFound(f"政策“{code}”不存在或已撤回", field="code")
    return found[0]


def public_attachment(*, code: str, attachment_id: int):
    policy = public_policies().filter(code=(code or "").strip()).first()
    attachment = policy.attachments.select_related("file").filter(pk=attachment_id).first() if policy else None
    if attachment is None:
        raise NotFound("未找到该附件")
    return attachment


# ---------------------------------------------------------------------------------------------
# Items and policies


def standard_item_of(*, code: str) -> StandardItem:
    """A standard item by its code, or by the implementation code of an item (a guide's code)."""
    code = (code or "").strip()
    si = StandardItem.objects.filter(code=code, active=True, is_classified=False).first()
    if si is None:
        item = Item.objects.select_related("standard_item").filter(implementation_code=code).first()
        si = item.standard_item if item and item.standard_item.active and not item.standard_item.is_classified else None
    if si is None:
        raise NotFound(f"事项“{code}”不存在", field="code")
    return si


def policies_for_item(*, standard_item: StandardItem, in_force_only: bool = False, area: Area | None = None,
                      today: dt.date | None = None) -> list[Policy]:
    """Public policies to which this item leads: related to it or to an item above it (a handling
    sub-item such as 个体工商户设立登记（新设） inherits its main item's policies). With `area`, only
    those that apply there (a 鼓楼 guide does not list 台江's own policies)."""
    chain, si = [], standard_item
    while si is not None and len(chain) < 5:
        chain.append(si.pk)
        si = si.parent
    qs = public_policies().filter(items__in=chain).distinct()
    if area is not None:
        qs = _faceted(qs, filter_groups(Filters(area_path=area.path)))
    if in_force_only:
        qs = qs.filter(in_force_q(today or timezone.localdate()))
    return list(qs.select_related("lead_department").only(*LIST_FIELDS)
                .order_by("state", "-published_at", "code"))


def related_guide_section(standard_item, area):
    """For the catalog's guide pages (registered in apps.py): the policies in force this item
    leads to, applying where the guide's item is. None when there are none: no section shown."""
    from bianmin.catalog.extensions import GuideSection

    rows = policies_for_item(standard_item=standard_item, in_force_only=True, area=area)
    if not rows:
        return None
    return GuideSection("policies/_guide_section.html", {"policies": rows[:20], "more": len(rows) > 20})


# ---------------------------------------------------------------------------------------------
# The changes feed


@dataclass
class FeedPage:
    changes: list[PolicyChange]
    cursor: int  # pass it back as `since`
    has_more: bool


def changes_since(*, since: int, limit: int = 100) -> FeedPage:
    """Changes after `since`, each code once at its latest change (a copy-keeping system that
    applies them in order ends with the same library: upserts carry the version to store,
    deletes say the code is gone)."""
    if since < 0:
        raise Invalid("since 不能为负数", field="since")
    if not 1 <= limit <= 500:
        raise Invalid("limit 应在 1 至 500 之间", field="limit")
    newer = PolicyChange.objects.filter(code=OuterRef("code"), seq__gt=OuterRef("seq"))
    rows = list(PolicyChange.objects.filter(seq__gt=since).filter(~Exists(newer))
                .select_related("policy").order_by("seq")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1].seq if rows else max(since, 0)
    if not has_more and cursor < (position := feed_position()):
        cursor = position  # later numbers were all compacted into the rows returned
    return FeedPage(changes=rows, cursor=cursor, has_more=has_more)


# ---------------------------------------------------------------------------------------------
# Matching


def match_facts(policies: Sequence[Policy]) -> dict[int, matching.Facts]:
    """The areas each policy applies to (its own area when none is listed), in one query."""
    ids = [p.pk for p in policies]
    listed: dict[int, list[Area]] = defaultdict(list)
    for link in Policy.areas.through.objects.filter(policy_id__in=ids).select_related("area"):
        listed[link.policy_id].append(link.area)
    out = {}
    for p in policies:
        areas = listed.get(p.pk) or [p.area]
        out[p.pk] = matching.Facts(area_paths=tuple(a.path for a in areas), area_names=tuple(a.name for a in areas))
    return out


def match_policies(*, profile: matching.Profile, today: dt.date | None = None, limit: int = 200) -> list[matching.Match]:
    """The policies in force the profile is or may be eligible for, best first. The filter tokens
    narrow the rows first (only on what the profile says, so unknowns stay), then every
    condition is checked with its reason."""
    today = today or timezone.localdate()
    groups = filter_groups(Filters(size=profile.size, industry=profile.industry, area_path=profile.area_path))
    qs = _faceted(public_policies().filter(in_force_q(today)), groups).select_related("area", "lead_department")
    policies = list(qs.order_by("-published_at")[:5000])
    facts = match_facts(policies)
    matches = [matching.evaluate(p, profile, facts=facts[p.pk], today=today) for p in policies]
    return matching.rank(matches)[:limit]


# ---------------------------------------------------------------------------------------------
# Filters offered on the public pages


def filter_choices() -> dict:
    from . import industries
    from .models import Category, Size

    city = Area.objects.filter(level=Area.Level.CITY).order_by("code").first()
    districts = list(Area.objects.filter(parent=city, level=Area.Level.DISTRICT).order_by("is_functional_zone", "code")) if city else []
    lead_ids = public_policies().values("lead_department_id")
    departments = list(Department.objects.filter(pk__in=lead_ids).select_related("area").order_by("area__code", "code"))
    return {"categories": Category.choices, "sizes": Size.choices, "sections": industries.sections(),
            "industries": industries.choices(), "areas": ([city] if city else []) + districts,
            "departments": departments}


# ---------------------------------------------------------------------------------------------
# Staff (scoped)


def policies_scoped(*, principal: Principal, state: str = "", q: str = "", category: str = "",
                    department: int | None = None) -> QuerySet[Policy]:
    """One line per policy code: its latest version, within the principal's scope."""
    newer = Policy.objects.filter(code=OuterRef("code"), version__gt=OuterRef("version"))
    qs = scoped(Policy.objects.filter(~Exists(newer)), principal, Cap.POLICY_EDIT)
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(code__icontains=q) | Q(aliases__icontains=q)
                       | Q(document_number__icontains=q))
    if category:
        qs = qs.filter(category=category)
    if department:
        qs = qs.filter(lead_department_id=department)
    return qs.select_related("lead_department", "area").order_by("-updated_at", "-id")


def policy_get_scoped(*, principal: Principal, pk: int) -> Policy:
    return get_scoped(Policy.objects.select_related("lead_department__area", "area", "previous")
                      .prefetch_related("co_departments", "areas", "items", "attachments__file"),
                      principal, Cap.POLICY_EDIT, pk=pk)


def policy_versions(*, policy: Policy) -> list[Policy]:
    return list(Policy.objects.filter(code=policy.code).order_by("-version")
                .only("id", "code", "version", "state", "title", "published_at", "ended_at", "updated_at"))


def policy_history(*, policy: Policy) -> list[AuditEntry]:
    """Every audited change of every version of the code, newest first."""
    ids = [str(i) for i in Policy.objects.filter(code=policy.code).values_list("id", flat=True)]
    return list(AuditEntry.objects.filter(target_type="policies.policy", target_id__in=ids).select_related("actor")
                .order_by("-at", "-id")[:500])


def departments_for(*, principal: Principal) -> QuerySet[Department]:
    """Departments an editor may name as lead: those of the areas where they hold policy.edit."""
    from bianmin.core.scoping import scope_filter

    return Department.objects.filter(scope_filter(principal, Cap.POLICY_EDIT), active=True).select_related("area").order_by(
        "area__code", "code")


def expiring_scoped(*, principal: Principal, today: dt.date | None = None, days: int = 30) -> QuerySet[Policy]:
    today = today or timezone.localdate()
    return scoped(Policy.objects.filter(state=State.PUBLISHED, valid_until__gte=today,
                                        valid_until__lte=today + dt.timedelta(days=days)),
                  principal, Cap.POLICY_EDIT).select_related("lead_department").order_by("valid_until", "code")


def profiles_scoped(*, principal: Principal) -> QuerySet[EnterpriseProfile]:
    return scoped(EnterpriseProfile.objects.select_related("area"), principal, Cap.POLICY_EDIT).prefetch_related(
        "subscriptions")


def profile_get_scoped(*, principal: Principal, pk: int) -> EnterpriseProfile:
    return get_scoped(EnterpriseProfile.objects.select_related("area"), principal, Cap.POLICY_EDIT, pk=pk)


def subscriptions_scoped(*, principal: Principal, status: str = "") -> QuerySet[Subscription]:
    qs = scoped(Subscription.objects.select_related("profile__area"), principal, Cap.POLICY_EDIT,
                area_field="profile__area")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")
