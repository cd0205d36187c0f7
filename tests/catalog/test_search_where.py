"""Where a found item can be handled: a bounded number of implementations per item, read in the
database (a demo item has 200+ implementations), in the same order on every engine."""

import pytest
from conftest import GULOU, GUXI, TAIJIANG

from bianmin.catalog.selectors import catalog_search, items_count_of, items_of


@pytest.fixture
def many_sites(sites, areas):
    """Seven more stations in 鼓楼区's villages (after 鼓东's center in code order)."""
    from bianmin.regions.models import Area, ServiceSite

    villages = list(Area.objects.filter(path__startswith=areas[GULOU].path, level="village")
                    .exclude(pk=sites["village"].pk).order_by("code")[:7])
    assert len(villages) == 7
    made = []
    for n, village in enumerate(villages):
        made.append(ServiceSite.objects.create(code=f"S-EXTRA-{n}", name=f"{village.name}代办点{n}", kind="station",
                                               area=village, parent_site=sites["gudong"]))
    return made


def _codes(where, si):
    return [it.implementation_code for it in where.get(si.pk, [])]


@pytest.mark.django_db
def test_each_found_item_gets_its_own_quota_in_code_order(dibao, make_standard, item_at, sites, areas):
    from bianmin.catalog.services import item_create

    other = make_standard("临时救助申请", aliases="临时困难补助")
    at_district = item_create(actor=None, standard_item=dibao, area=areas[GULOU])  # no site
    at_gudong = item_at(dibao)
    at_station = item_at(dibao, "station")
    at_guxi = item_at(dibao, "guxi")
    other_at_guxi = item_at(other, "guxi")

    where = items_of(standard_items=[dibao, other], area=None, per_item=3)
    # area code first (鼓楼区 < 鼓东 < its village < 鼓西), the item without a site before sites
    assert _codes(where, dibao) == [at_district.implementation_code, at_gudong.implementation_code,
                                    at_station.implementation_code]
    # the first item's implementations do not use up the second's
    assert _codes(where, other) == [other_at_guxi.implementation_code]
    assert items_count_of(standard_items=[dibao, other], area=None) == {dibao.pk: 4, other.pk: 1}

    where = items_of(standard_items=[dibao, other], area=areas[GUXI])
    assert _codes(where, dibao) == [at_guxi.implementation_code] and _codes(where, other) == [
        other_at_guxi.implementation_code]
    assert items_count_of(standard_items=[dibao], area=areas[TAIJIANG]) == {}
    assert items_of(standard_items=[], area=None) == {}


@pytest.mark.django_db
def test_inactive_items_and_sites_are_not_shown(dibao, item_at, sites):
    from bianmin.catalog.models import Item

    it = item_at(dibao)
    item_at(dibao, "guxi")
    Item.objects.filter(pk=it.pk).update(active=False)  # fixture set-up, not the feature under test
    sites["guxi"].__class__.objects.filter(pk=sites["guxi"].pk).update(active=False)
    assert items_of(standard_items=[dibao], area=None) == {}
    assert items_count_of(standard_items=[dibao], area=None) == {}


@pytest.mark.django_db
def test_api_lists_every_place_up_to_twenty(client, dibao, item_at, many_sites):
    from bianmin.catalog.services import item_create

    item_at(dibao)
    for site in many_sites:
        item_create(actor=None, standard_item=dibao, area=site.area, site=site)
    body = client.get("/api/v1/guides/search", {"q": "低保"}).json()
    assert body["items"][0]["name"] == "最低生活保障对象认定"
    assert len(body["items"][0]["where"]) == 8
    assert body["items"][0]["where"][0]["site_code"] == "C-GUDONG"


@pytest.mark.django_db
def test_search_page_shows_six_places_and_the_true_total(client, dibao, item_at, many_sites):
    from bianmin.catalog.services import item_create

    item_at(dibao)
    for site in many_sites:
        item_create(actor=None, standard_item=dibao, area=site.area, site=site)
    assert [r.standard_item.pk for r in catalog_search(q="低保")] == [dibao.pk]
    page = client.get("/catalog/", {"q": "低保"}).content.decode()
    assert "等 8 处" in page
    assert page.count("代办点") == 5  # the center and five stations are listed, two are not
