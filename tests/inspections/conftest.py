"""Inspections fixtures: the calendar as published, centers in 鼓东, 鼓西 and a 台江 township, a
station under 鼓东, a catalog item, finished cases made with the ORM (test setup), the people of
an inspection (the city's inspector, 鼓楼's and 台江's district admins, 鼓东's center manager),
the recommended checklist, and a helper that runs a cycle up to its notices."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI, TAIJIANG
from django.core.management import call_command

TZ = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n" + b"0" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), tzinfo=TZ)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture
def calendar(db):
    from bianmin.core import calendar as cal

    cal.invalidate()
    cal.seed_years(years=[2024, 2025, 2026])
    yield cal
    cal.invalidate()


@pytest.fixture
def principal():
    from bianmin.accounts.principals import principal_for_user

    return lambda user: principal_for_user(user, ip="127.0.0.1")


@pytest.fixture
def sites(areas):
    from bianmin.regions.models import Area, ServiceSite

    taijiang_town = Area.objects.filter(parent=areas[TAIJIANG], level="township").order_by("code").first()
    village = Area.objects.filter(parent=areas[GUDONG], level="village").order_by("code").first()
    gudong = ServiceSite.objects.create(code="C-GUDONG", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG],
                                        phone="0591-87000001", complaint_phone="0591-87000002")
    guxi = ServiceSite.objects.create(code="C-GUXI", name="鼓西街道便民服务中心", kind="center", area=areas[GUXI])
    taijiang = ServiceSite.objects.create(code="C-TJ", name=f"{taijiang_town.name}便民服务中心", kind="center",
                                          area=taijiang_town)
    station = ServiceSite.objects.create(code="S-ZS", name=f"{village.name}便民服务站", kind="station", area=village,
                                         parent_site=gudong)
    return {"gudong": gudong, "guxi": guxi, "taijiang": taijiang, "station": station, "village": village,
            "taijiang_town": taijiang_town}


@pytest.fixture
def item(areas, sites):
    from bianmin.catalog.models import Department, Item, Material, StandardItem

    mz = Department.objects.create(code="D-MZ", name="福州市民政局", category="民政", area=areas[CITY])
    si = StandardItem.objects.create(code="350100000001", name="最低生活保障对象认定", item_type="benefit",
                                     competent_department=mz, implementing_body="乡镇人民政府（街道办事处）",
                                     legal_limit_days=20, levels="township,village")
    Material.objects.create(standard_item=si, name="居民身份证", trust_level="A", position=0)
    made = {}
    for key in ("gudong", "guxi", "taijiang", "station"):
        site = sites[key]
        made[key] = Item.objects.create(standard_item=si, area=site.area, site=site, promised_limit_days=15,
                                        implementation_code=f"{si.code}-{site.code}", published_version=1)
    return made


@pytest.fixture
def make_cases(item):
    """make_cases(site_key, n, completed=day) → n cases finished on ``day`` at that site (ORM)."""
    from bianmin.cases.models import Case

    counter = {"n": 0}

    def _make(key: str, n: int, *, completed: date, state: str = "completed"):
        it = item[key]
        rows = []
        for _ in range(n):
            counter["n"] += 1
            i = counter["n"]
            done = at(completed, 9 + i % 8)
            rows.append(Case(item=it, site=it.site, received_site=it.site, state=state, applicant_kind="person",
                             applicant_name=f"申请人{i}", mobile="13800000000", legal_limit_days=20,
                             promised_limit_days=15, submitted_at=done - timedelta(days=3),
                             accepted_at=done - timedelta(days=3), accepted_on=completed - timedelta(days=3),
                             acceptance_number=f"{it.site.code}-{completed:%Y%m%d}-{i:05d}",
                             promised_due_on=completed + timedelta(days=10),
                             completed_at=done if state == "completed" else None,
                             completed_on=completed if state == "completed" else None,
                             result="approved" if state == "completed" else ""))
        return Case.objects.bulk_create(rows)

    return _make


@pytest.fixture
def make_user(areas):
    """As the shared make_user, without a password: Argon2 hashing costs half a second a user and
    these tests log in with force_login."""
    from bianmin.accounts.models import RoleAssignment, User

    counter = {"n": 0}

    def _make(role: str, area_code: str, *, display_name: str = "测试用户", username: str | None = None):
        counter["n"] += 1
        user = User(username=username or f"i_{role}_{area_code}_{counter['n']}", display_name=display_name)
        user.set_unusable_password()
        user.save()
        RoleAssignment.objects.create(user=user, role=role, area=areas[area_code])
        return user

    return _make


@pytest.fixture
def people(make_user, sites):
    return {
        "inspector": make_user("inspector", CITY, display_name="市督查员"),
        "city": make_user("city_admin", CITY, display_name="市管理员"),
        "gulou": make_user("district_admin", GULOU, display_name="鼓楼区管理员"),
        "taijiang": make_user("district_admin", TAIJIANG, display_name="台江区管理员"),
        "gudong": make_user("center_manager", GUDONG, display_name="鼓东中心负责人"),
        "guxi": make_user("center_manager", GUXI, display_name="鼓西中心负责人"),
        "clerk": make_user("window_clerk", GUDONG, display_name="鼓东窗口"),
        "gulou_inspector": make_user("inspector", GULOU, display_name="鼓楼督查员"),
    }


@pytest.fixture
def template(areas, people, principal):
    from bianmin.inspections.defaults import DEFAULT_CODE, DEFAULT_ITEMS, DEFAULT_NAME
    from bianmin.inspections.services import template_version_create

    return template_version_create(actor=principal(people["inspector"]), area=areas[CITY], code=DEFAULT_CODE,
                                   name=DEFAULT_NAME, items=DEFAULT_ITEMS)


START = date(2026, 3, 1)
END = date(2026, 4, 30)


@pytest.fixture
def cycle_factory(areas, template, people, principal):
    from bianmin.inspections.services import cycle_create

    def _make(*, organiser=CITY, districts=(GULOU, TAIJIANG), kinds=("center",), sites=1, cases=2, seed=42,
              start=START, end=END, notice_days=10, by="inspector"):
        return cycle_create(actor=principal(people[by]), area=areas[organiser], title="测试督查", period_start=start,
                            period_end=end, template_id=template.pk, district_codes=list(districts), site_kinds=list(kinds),
                            sites_per_district=sites, cases_per_site=cases, seed=seed, notice_days=notice_days)

    return _make


def full_scores(template, *, deduct: dict[int, tuple[str, str]] | None = None) -> list[dict]:
    """Every item at full marks except positions in ``deduct`` {position: (score, remark)}."""
    deduct = deduct or {}
    out = []
    for it in template.items.all():
        if it.position in deduct:
            score, remark = deduct[it.position]
            out.append({"item_id": it.pk, "score": score, "remark": remark})
        else:
            out.append({"item_id": it.pk, "score": str(it.max_score), "remark": ""})
    return out


@pytest.fixture
def running(cycle_factory, make_cases, people, principal, calendar, sites):
    """A city cycle over 鼓楼 and 台江 (one center each), drawn: the sampled 鼓楼 site and its
    SampledSite, with finished cases in the window before the cycle."""
    from bianmin.inspections.services import cycle_sample

    make_cases("gudong", 4, completed=date(2026, 2, 10))
    make_cases("guxi", 4, completed=date(2026, 2, 11))
    make_cases("taijiang", 3, completed=date(2026, 1, 20))
    cycle = cycle_factory()
    cycle = cycle_sample(actor=principal(people["inspector"]), cycle_id=cycle.pk, now=at(date(2026, 3, 2)))
    gulou_site = cycle.sites.select_related("site").get(district__code=GULOU)
    return cycle, gulou_site


@pytest.fixture
def notice(running, people, principal, template):
    """A notice issued on 2026-03-05 for the sampled 鼓楼 site (one deduction), 10 working days."""
    from bianmin.inspections import services

    cycle, ss = running
    services.sampled_site_submit(actor=principal(people["gulou"]), sampled_site_id=ss.pk)
    services.review_score(actor=principal(people["inspector"]), sampled_site_id=ss.pk,
                          scores=full_scores(template, deduct={1: ("7", "功能分区标识不清")}))
    services.review_finish(actor=principal(people["inspector"]), sampled_site_id=ss.pk, now=at(date(2026, 3, 5)))
    return ss.findings.get().notice
