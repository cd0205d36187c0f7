"""Catalog fixtures: sites in two sibling townships, departments, a few standard items."""

import pytest
from conftest import CITY, GUDONG, GULOU, GUXI


@pytest.fixture
def sites(areas):
    """A center in 鼓东 and one in 鼓西, a village station under 鼓东's center, windows."""
    from bianmin.regions.models import Area, ServiceSite, Window

    village = Area.objects.filter(parent=areas[GUDONG], level="village").order_by("code").first()
    gudong = ServiceSite.objects.create(code="C-GUDONG", name="鼓东街道便民服务中心", kind="center", area=areas[GUDONG],
                                        address="鼓东路1号", phone="0591-11111111", hours="周一至周五 8:30-17:30")
    guxi = ServiceSite.objects.create(code="C-GUXI", name="鼓西街道便民服务中心", kind="center", area=areas[GUXI],
                                      address="鼓西路2号", phone="0591-22222222")
    station = ServiceSite.objects.create(code="S-ZHONGSHAN", name=f"{village.name}便民服务站", kind="station",
                                         area=village, parent_site=gudong)
    Window.objects.create(site=gudong, number="1", name="综合受理")
    Window.objects.create(site=gudong, number="2", name="社会事务")
    Window.objects.create(site=guxi, number="1", name="综合受理")
    return {"gudong": gudong, "guxi": guxi, "station": station, "village": village}


@pytest.fixture
def depts(areas):
    from bianmin.catalog.services import department_create

    made = {}
    for cat, name in [("民政", "福州市民政局"), ("残联", "福州市残疾人联合会"), ("劳动保障", "福州市人力资源和社会保障局"),
                      ("户籍", "福州市公安局")]:
        made[cat] = department_create(actor=None, code=f"D-{cat}", name=name, category=cat, area=areas[CITY])
    made["gulou_minzheng"] = department_create(actor=None, code="D-GL-MZ", name="鼓楼区民政局", category="民政",
                                               area=areas[GULOU])
    return made


@pytest.fixture
def make_standard(depts):
    from bianmin.catalog.services import standard_item_create

    counter = {"n": 0}

    def _make(name="最低生活保障对象认定", *, dept="民政", code=None, legal_limit_days=20, materials=None, **kw):
        counter["n"] += 1
        kw.setdefault("implementing_body", "乡镇人民政府（街道办事处）")
        kw.setdefault("item_type", "benefit")
        kw.setdefault("levels", "township,village")
        return standard_item_create(
            actor=None, code=code or f"3501000{counter['n']:05d}", name=name, competent_department=depts[dept],
            legal_limit_days=legal_limit_days,
            materials=materials if materials is not None else [{"name": "居民身份证", "trust_level": "A"}],
            **kw,
        )

    return _make


@pytest.fixture
def dibao(make_standard):
    return make_standard("最低生活保障对象认定", code="350100000001", aliases="低保申请、低保",
                         legal_limit_days=30, acceptance_conditions="共同生活的家庭成员人均收入低于当地最低生活保障标准",
                         legal_basis="《社会救助暂行办法》第九条",
                         materials=[{"name": "居民身份证", "trust_level": "A"},
                                    {"name": "家庭收入情况声明", "trust_level": "D"}])


@pytest.fixture
def item_at(sites):
    from bianmin.catalog.services import item_create

    def _make(si, site_key="gudong", **kw):
        site = sites[site_key]
        kw.setdefault("implementing_body_credit_code", "11350102MB0000001X"[:18])
        return item_create(actor=None, standard_item=si, area=site.area, site=site, **kw)

    return _make


@pytest.fixture
def demo_standard_items(areas):
    """All the demo catalog's standard items (through the service), indexed, without sites."""
    from bianmin.catalog.demo_data import DEPARTMENTS, parse_blocks
    from bianmin.catalog.services import department_create, search_reindex, standard_item_create

    depts = {cat: department_create(actor=None, code=code, name=name, category=cat, area=areas[CITY])
             for cat, code, name, _ in DEPARTMENTS}
    made = {}
    for n, spec in enumerate(parse_blocks(), start=1):
        cat = spec.pop("category")
        made[spec["name"]] = standard_item_create(actor=None, code=f"T{n:05d}", competent_department=depts[cat],
                                                  implementing_body="乡镇人民政府（街道办事处）", index=False, **spec)
    search_reindex()
    return made
