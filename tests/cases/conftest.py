"""Cases fixtures: the calendar (2025–2026 as published), sites in two sibling townships and a
village station under 鼓东, catalog items in every handling mode, and clerks at each site.

Catalog rows are made with the ORM here (test setup, not the code under test)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from conftest import CITY, GUDONG, GUXI
from django.core.management import call_command

TZ = ZoneInfo("Asia/Shanghai")


def at(d: date, hour: int = 10) -> datetime:
    """A moment on day `d` in Asia/Shanghai (services take `now=` to place a step on a day)."""
    return datetime.combine(d, time(hour, 0), tzinfo=TZ)


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

    village = Area.objects.filter(parent=areas[GUDONG], level="village").order_by("code").first()
    gudong = ServiceSite.objects.create(code="C-GUDONG", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG])
    guxi = ServiceSite.objects.create(code="C-GUXI", name="鼓西街道便民服务中心", kind="center", area=areas[GUXI])
    station = ServiceSite.objects.create(code="S-ZS", name=f"{village.name}便民服务站", kind="station", area=village,
                                         parent_site=gudong)
    w1 = Window.objects.create(site=gudong, number="1", name="综合受理")
    w2 = Window.objects.create(site=gudong, number="2", name="社会事务")
    Window.objects.create(site=guxi, number="1", name="综合受理")
    return {"gudong": gudong, "guxi": guxi, "station": station, "village": village, "w1": w1, "w2": w2}


@pytest.fixture
def catalog(areas, sites):
    """Standard items and local items: 低保 (20/15 days) at both centers, a classified item, an
    on-the-spot item at the station, a 业务转办 item at the station (to 鼓东), an 授权办理 item."""
    from bianmin.catalog.models import Department, Item, Material, StandardItem

    mz = Department.objects.create(code="D-MZ", name="福州市民政局", category="民政", area=areas[CITY])
    cl = Department.objects.create(code="D-CL", name="福州市残疾人联合会", category="残联", area=areas[CITY])

    def standard(code, name, legal, classified=False, materials=("居民身份证", "家庭收入情况声明")):
        si = StandardItem.objects.create(code=code, name=name, item_type="benefit", competent_department=mz,
                                         implementing_body="乡镇人民政府（街道办事处）", legal_limit_days=legal,
                                         is_classified=classified, levels="township,village")
        for i, m in enumerate(materials):
            Material.objects.create(standard_item=si, name=m, trust_level="AD"[i % 2], position=i)
        return si

    n = {"i": 0}

    def item(si, site, promised, **kw):
        n["i"] += 1
        return Item.objects.create(standard_item=si, area=site.area, site=site, promised_limit_days=promised,
                                   implementation_code=f"{si.code}-{site.code}-{n['i']}", **kw)

    dibao = standard("350100000001", "最低生活保障对象认定", 20)
    secret = standard("350100000002", "涉密档案查询", 10, classified=True)
    proof = standard("350100000003", "居住证明开具", 1, materials=("居民身份证",))
    disabled = standard("350100000004", "残疾人证申领", 20)
    return {
        "dibao": item(dibao, sites["gudong"], 15, window=sites["w2"]),
        "dibao_guxi": item(dibao, sites["guxi"], 15),
        "secret": item(secret, sites["gudong"], 5),
        "proof_station": item(proof, sites["station"], 0, mode="on_the_spot", promise_kind="immediate"),
        "dibao_station": item(dibao, sites["station"], 15, mode="transfer", transfer_to_site=sites["gudong"]),
        "disabled_station": item(disabled, sites["station"], 10, mode="authorized", authorized_by=cl),
        "proof_standard": proof,
        "mz": mz, "cl": cl,
    }


@pytest.fixture
def clerk(make_user):
    return make_user("window_clerk", GUDONG, username="gd_clerk")


@pytest.fixture
def guxi_clerk(make_user):
    return make_user("window_clerk", GUXI, username="gx_clerk")


@pytest.fixture
def manager(make_user):
    return make_user("center_manager", GUDONG, username="gd_manager")


@pytest.fixture
def station_clerk(make_user, sites):
    return make_user("window_clerk", sites["village"].code, username="zs_clerk")


def principal(user):
    from bianmin.accounts.principals import principal_for_user

    return principal_for_user(user)


PERSON = {"kind": "person", "name": "张三", "id_number": "", "mobile": "13812345678"}


@pytest.fixture
def person():
    from bianmin.cases.services import Applicant
    from bianmin.core.validators import make_id_number

    return Applicant(kind="person", name="张三", id_number=make_id_number("350102", date(1980, 5, 1), 123),
                     mobile="13812345678")


@pytest.fixture
def submit(calendar, catalog, sites, clerk, person):
    """submit(day=..., item="dibao", site="gudong", user=clerk) → a submitted case."""
    from bianmin.cases.services import case_submit

    def _submit(day: date = date(2026, 3, 2), *, item="dibao", site="gudong", user=None, applicant=None, **kw):
        return case_submit(actor=principal(user or clerk), site=sites[site], item=catalog[item],
                           applicant=applicant or person, now=at(day), **kw)

    return _submit
