"""Fixtures for 好差评 and the follow-up desk: sites in two sibling townships (鼓东, 鼓西) and
one in 台江, a catalog item at each, and a factory of completed cases made through the cases
services (the real completion path, which also issues the evaluation link)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI
from django.core.management import call_command

TZ = ZoneInfo("Asia/Shanghai")


def at(d: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=TZ)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture
def calendar(db):
    from bianmin.core import calendar as cal

    cal.invalidate()
    cal.seed_years(years=[2025, 2026])
    yield cal
    cal.invalidate()


@pytest.fixture
def sites(areas):
    from bianmin.regions.models import Area, ServiceSite, Window

    taijiang_town = Area.objects.filter(parent__code="350103000000", level="township").order_by("code").first()
    gudong = ServiceSite.objects.create(code="C-GUDONG", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG])
    guxi = ServiceSite.objects.create(code="C-GUXI", name="鼓西街道便民服务中心", kind="center", area=areas[GUXI])
    tj = ServiceSite.objects.create(code="C-TJ", name=f"{taijiang_town.name}便民服务中心", kind="center", area=taijiang_town)
    return {
        "gudong": gudong, "guxi": guxi, "taijiang": tj,
        "w1": Window.objects.create(site=gudong, number="1", name="综合受理"),
        "w2": Window.objects.create(site=gudong, number="2", name="社会事务"),
        "gx1": Window.objects.create(site=guxi, number="1", name="综合受理"),
        "tj1": Window.objects.create(site=tj, number="1", name="综合受理"),
    }


@pytest.fixture
def items(areas, sites):
    from bianmin.catalog.models import Department, Item, StandardItem

    mz = Department.objects.create(code="D-MZ", name="福州市民政局", category="民政", area=areas[CITY])
    si = StandardItem.objects.create(code="350100000001", name="最低生活保障对象认定", item_type="benefit",
                                     competent_department=mz, implementing_body="乡镇人民政府（街道办事处）",
                                     legal_limit_days=20, levels="township,village")
    out = {}
    for i, key in enumerate(["gudong", "guxi", "taijiang"]):
        site = sites[key]
        out[key] = Item.objects.create(standard_item=si, area=site.area, site=site, promised_limit_days=15,
                                       implementation_code=f"{si.code}-{site.code}-{i}")
    return out


@pytest.fixture
def clerks(make_user, sites, areas):
    return {
        "gudong": make_user("window_clerk", GUDONG, username="gd_clerk"),
        "guxi": make_user("window_clerk", GUXI, username="gx_clerk"),
        "taijiang": make_user("window_clerk", sites["taijiang"].area.code, username="tj_clerk"),
    }


def principal(user):
    from bianmin.accounts.principals import principal_for_user

    return principal_for_user(user)


@pytest.fixture
def completed_case(calendar, sites, items, clerks, django_capture_on_commit_callbacks):
    """completed_case(site="gudong", window="w1", day=..., mobile=..., visits=1) → a completed Case.
    On-commit callbacks run (the link and SMS invitation are issued as in production)."""
    from bianmin.cases.services import Applicant, case_accept, case_complete, case_submit, case_visit_record
    from bianmin.core.validators import make_id_number

    counter = {"n": 0}

    def _make(site="gudong", window="w1", day=None, mobile=None, visits=1, name="张三", complete_hour=15,
              finished_at=None):
        """``finished_at``: complete at that moment (taken in and accepted shortly before)."""
        from django.utils import timezone

        # Yesterday by default: the evaluation link is valid for 7 days after completion.
        day = day or timezone.localdate() - timedelta(days=1)
        if finished_at is None:
            times = [at(day, 9), at(day, 9, 10), at(day, complete_hour)]
            visit_times = [at(day, 10 + v) for v in range(visits - 1)]
        else:
            times = [finished_at - timedelta(minutes=30), finished_at - timedelta(minutes=20), finished_at]
            visit_times = [finished_at - timedelta(minutes=10)] * (visits - 1)
        counter["n"] += 1
        n = counter["n"]
        applicant = Applicant(kind="person", name=name, id_number=make_id_number("350102", date(1980, 5, 1), 100 + n),
                              mobile=mobile or f"1381234{n:04d}")
        clerk = principal(clerks[site])
        with django_capture_on_commit_callbacks(execute=True):
            case = case_submit(actor=clerk, site=sites[site], item=items[site], applicant=applicant,
                               window=sites[window] if window else None, now=times[0])
            case_accept(actor=clerk, case_id=case.pk, now=times[1])
            for when in visit_times:
                case_visit_record(actor=clerk, case_id=case.pk, purpose="补交材料", now=when)
            case = case_complete(actor=clerk, case_id=case.pk, result="approved", now=times[2])
        case.refresh_from_db()
        return case

    return _make


@pytest.fixture
def device_key(sites, areas):
    """device_key(window="w1") → (ApiKey, raw) bound to that window."""
    from bianmin.accounts.models import ApiKey

    made = {"n": 0}

    def _make(window="w1", scopes=("evaluations.device",), bind=True):
        import secrets

        made["n"] += 1
        w = sites[window]
        raw = f"dev{made['n']}_" + secrets.token_urlsafe(24)
        key = ApiKey.objects.create(name=f"评价器{made['n']}", kind="device", prefix=raw[:8], digest=ApiKey.digest_of(raw),
                                    area=w.site.area, site=w.site, window=w if bind else None, scopes=list(scopes))
        return key, raw

    return _make


@pytest.fixture
def system_key(areas):
    from bianmin.accounts.models import ApiKey

    def _make(scope, area_code=CITY, site=None):
        import secrets

        raw = "sys_" + secrets.token_urlsafe(24)
        key = ApiKey.objects.create(name=f"系统{scope}", kind="system", prefix=raw[:8], digest=ApiKey.digest_of(raw),
                                    area=areas[area_code], site=site, scopes=[scope])
        return key, raw

    return _make


GRADES = {"very_satisfied": 5, "satisfied": 4, "basic": 3, "unsatisfied": 2, "very_unsatisfied": 1}
__all__ = ["at", "principal", "GULOU", "GUDONG", "GUXI"]
