"""The demo catalog: enough realistic items, implemented at every center, with stationing gaps."""

import pytest
from conftest import CITY

from bianmin.catalog.demo import load_demo_catalog
from bianmin.catalog.demo_data import DEPARTMENTS, HIGH_FREQUENCY
from bianmin.catalog.models import GuideVersion, Item, StandardItem
from bianmin.catalog.selectors import catalog_search, compliance_report


@pytest.fixture
def loaded(sites):
    return load_demo_catalog()


def test_demo_catalog_covers_the_mandatory_departments(loaded):
    assert StandardItem.objects.count() >= 150
    categories = set(StandardItem.objects.values_list("competent_department__category", flat=True))
    assert {"计生", "民政", "国土", "村建", "农业", "林业", "渔业", "劳动保障", "司法", "工商", "残联"} <= categories
    assert {c for c, *_ in DEPARTMENTS} == categories
    for name in HIGH_FREQUENCY:
        si = StandardItem.objects.get(name=name)
        assert si.legal_basis.startswith("《") and si.materials.exists()
    assert StandardItem.objects.filter(tier="handling").exists()


def test_every_center_implements_every_township_item(loaded, sites):
    township_items = [si for si in StandardItem.objects.all() if "township" in si.level_list]
    for site in (sites["gudong"], sites["guxi"]):
        assert Item.objects.filter(site=site).count() == len(township_items)
    assert Item.objects.filter(site=sites["station"]).exclude(mode="on_the_spot").exists()
    for item in Item.objects.select_related("standard_item")[:500]:
        assert item.promised_limit_days <= item.standard_item.legal_limit_days
        assert item.implementation_code.startswith(item.standard_item.code + item.area.code)


def test_demo_leaves_gaps_for_the_compliance_report(loaded, areas):
    report = compliance_report(area=areas[CITY])
    assert report.total.sites == 3
    assert report.total.missing_items > 0 or report.total.missing_departments > 0


def test_demo_is_searchable_and_published(loaded, sites):
    assert catalog_search(q="无房证明")[0].standard_item.name == "无住房证明开具"
    assert GuideVersion.objects.filter(item__site=sites["gudong"]).count() == Item.objects.filter(site=sites["gudong"]).count()


def test_demo_load_is_idempotent(loaded):
    again = load_demo_catalog()
    assert again["skipped"] == 1 and again["standard_items"] == StandardItem.objects.count()
