"""Fixtures for the kiosks: a township center and a kiosk site in 鼓东 and in 鼓西, the catalog
rows behind a certificate item and a guide item, the kiosk list, terminals registered through
the service, and people in the synthetic registries."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import CITY, GUDONG, GUXI

# Real-format ID numbers (check digit valid) for the synthetic registries.
INSURED = ("350102198501011236", "林建华")
UNINSURED = ("350102199002021233", "陈丽清")
OWNER = ("350103197703031236", "黄志强")


def _fix_check(number17: str) -> str:
    from bianmin.core.validators import id_number_check_char

    return number17 + id_number_check_char(number17)


INSURED = (_fix_check(INSURED[0][:17]), INSURED[1])
UNINSURED = (_fix_check(UNINSURED[0][:17]), UNINSURED[1])
OWNER = (_fix_check(OWNER[0][:17]), OWNER[1])


@pytest.fixture
def kiosk_sites(areas):
    from bianmin.regions.models import ServiceSite

    def pair(code, area, n):
        center = ServiceSite.objects.create(code=f"C-{code}", name=f"{area.name}便民服务中心", kind="center", area=area)
        kiosk = ServiceSite.objects.create(code=f"K-{code}", name=f"e福州自助服务终端（{area.name}中心）", kind="kiosk",
                                           area=area, parent_site=center, venue="hall")
        return center, kiosk

    gd_center, gd_kiosk = pair("GD", areas[GUDONG], 1)
    gx_center, gx_kiosk = pair("GX", areas[GUXI], 2)
    return {"gudong_center": gd_center, "gudong": gd_kiosk, "guxi_center": gx_center, "guxi": gx_kiosk}


@pytest.fixture
def kiosk_items(areas, kiosk_sites):
    """社保缴交证明 (certificate, implemented at both centers), 无房证明 (certificate, no catalog
    item at any center: issued without a case), and a guide item."""
    from bianmin.catalog.models import Department, Item, StandardItem
    from bianmin.kiosks.models import KioskItem

    rs = Department.objects.create(code="D-RS", name="福州市人力资源和社会保障局", category="劳动保障", area=areas[CITY])
    fg = Department.objects.create(code="D-FG", name="福州市住房保障和房产管理局", category="住房", area=areas[CITY])
    mz = Department.objects.create(code="D-MZ", name="福州市民政局", category="民政", area=areas[CITY])
    social = StandardItem.objects.create(code="350108001000", name="社保缴交证明开具", item_type="public_service",
                                         competent_department=rs, implementing_body="街道", legal_limit_days=0,
                                         levels="township,village")
    house = StandardItem.objects.create(code="350115001000", name="无住房证明开具", item_type="public_service",
                                        competent_department=fg, implementing_body="街道", legal_limit_days=3)
    guide = StandardItem.objects.create(code="350102005000", name="高龄津贴发放", item_type="benefit",
                                        competent_department=mz, implementing_body="街道", legal_limit_days=15,
                                        acceptance_conditions="具有本市户籍、年满80周岁的老年人")
    for n, key in enumerate(["gudong_center", "guxi_center"]):
        site = kiosk_sites[key]
        Item.objects.create(standard_item=social, area=site.area, site=site, promised_limit_days=0,
                            promise_kind="immediate", implementation_code=f"{social.code}-{site.code}-{n}")
    return {
        "social": KioskItem.objects.create(standard_item=social, service="certificate", source="social_insurance",
                                           certificate_title="社会保险缴费证明", validity_days=90, position=1),
        "house": KioskItem.objects.create(standard_item=house, service="certificate", source="property",
                                          certificate_title="无房证明", validity_days=30, position=2),
        "guide": KioskItem.objects.create(standard_item=guide, service="guide", position=3),
    }


@pytest.fixture
def registries(db):
    from bianmin.kiosks.services import registry_put

    months = [{"month": f"2025-{m:02d}", "base": 5200, "personal": 546.0} for m in range(1, 13)]
    for id_number, name in (INSURED, UNINSURED, OWNER):
        registry_put(registry="household", id_number=id_number, name=name,
                     data={"sex": "男", "birth": "1985-01-01", "address": "福州市鼓楼区东街1号", "police": "东街派出所"})
    registry_put(registry="social_insurance", id_number=INSURED[0], name=INSURED[1], data={
        "unit": "福州某科技有限公司", "kinds": ["养老保险", "医疗保险"], "since": "2010-03", "paid_months": 180,
        "months": months})
    registry_put(registry="property", id_number=OWNER[0], name=OWNER[1], data={"properties": [{"certificate": "闽（2020）"}]})
    registry_put(registry="demo_card", id_number=INSURED[0], name=INSURED[1], data={"id_number": INSURED[0]})


@pytest.fixture
def manager(make_user):
    return make_user("center_manager", GUDONG, username="gd_manager")


@pytest.fixture
def city_admin(make_user):
    return make_user("city_admin", CITY, username="kiosk_city")


def principal(user):
    from bianmin.accounts.principals import principal_for_user

    return principal_for_user(user, ip="127.0.0.1")


@pytest.fixture
def make_terminal(kiosk_sites, kiosk_items, city_admin):
    """make_terminal("gudong") → (terminal, raw device key), registered through the service."""
    from bianmin.kiosks.services import terminal_register

    counter = {"n": 0}

    def _make(where: str = "gudong", **fields):
        counter["n"] += 1
        n = counter["n"]
        spec = {"code": f"T-{where.upper()}-{n}", "serial": f"SN{n:05d}{where}", "model": "ZZ-2000",
                "operator": "福州市大数据发展有限公司", "installed_on": date(2020, 1, 1), **fields}
        return terminal_register(actor=principal(city_admin), site=kiosk_sites[where], **spec)

    return _make


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data, default=str), content_type="application/json", **headers)


def heartbeat(client, terminal, raw, **fields):
    return post_json(client, f"/api/v1/kiosk/terminals/{terminal.code}/heartbeat", fields, **bearer(raw))
