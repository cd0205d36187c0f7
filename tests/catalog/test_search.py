"""Search over the demo catalog: colloquial names, how citizens ask, typos, ranking, area filter."""

import pytest

from bianmin.catalog.selectors import catalog_search
from bianmin.core.errors import Invalid

# (query as a citizen types it, the item that must come first)
QUERIES = [
    # the colloquial names the issue names
    ("无房证明", "无住房证明开具"),
    ("无住房证明", "无住房证明开具"),
    ("准生证", "生育登记"),
    ("生育登记", "生育登记"),
    ("低保", "最低生活保障对象认定"),
    ("最低生活保障", "最低生活保障对象认定"),
    ("残疾证", "残疾人证申领"),
    ("残疾人证", "残疾人证申领"),
    # the seed's high-frequency items
    ("社保缴交证明", "社保缴交证明开具"),
    ("临时身份证明", "临时身份证明开具"),
    # how citizens ask
    ("我想开个无房证明", "无住房证明开具"),
    ("怎么办准生证", "生育登记"),
    ("申请低保要什么材料", "最低生活保障对象认定"),
    ("残疾证怎么办理", "残疾人证申领"),
    ("砍树要办什么证", "林木采伐许可证核发"),
    ("家里老人80岁有补贴吗", "高龄津贴发放"),
    ("高龄补贴", "高龄津贴发放"),
    ("新生儿上户口", "出生登记"),
    ("怎么迁户口", "户口迁移"),
    ("开个体户营业执照", "个体工商户设立登记"),
    ("失业金怎么领", "失业保险金申领"),
    ("社保卡丢了", "社会保障卡挂失和补换"),
    ("异地看病备案", "异地就医备案"),
    ("请律师", "法律援助申请受理"),
    ("邻居吵架调解", "人民调解申请受理"),
    ("盖房子审批", "农村村民宅基地申请审核"),
    ("捕鱼证", "渔业捕捞许可证核发（初审）"),
    ("渔船油补", "渔船燃油补贴申请"),
    ("种粮补贴", "耕地地力保护补贴申报"),
    ("五保户", "特困人员救助供养认定"),
    ("临时困难补助", "临时救助申请"),
    ("单身证明", "婚姻状况证明（婚姻登记记录查询）"),
    ("无犯罪证明", "无犯罪记录证明开具"),
    ("公租房", "公共租赁住房申请初审"),
    ("讨薪", "劳动保障监察投诉受理"),
    ("暂住证", "居住证申领"),
    ("死亡销户", "死亡人员户口注销"),
    ("火化补贴", "殡葬补贴申领"),
    ("社保证明", "社保缴交证明开具"),
    ("身份证丢了", "居民身份证挂失补领"),
    ("领养老金", "城乡居民基本养老保险待遇申领"),
    ("交医保", "城乡居民基本医疗保险参保登记"),
]


@pytest.mark.django_db
def test_citizen_queries_find_the_right_item_first(demo_standard_items):
    wrong = []
    for q, expected in QUERIES:
        results = catalog_search(q=q, limit=3)
        first = results[0].standard_item.name if results else None
        if first != expected:
            wrong.append(f"{q} → {first}（应为 {expected}）")
    assert not wrong, "\n".join(wrong)
    assert len(QUERIES) - 10 >= 20


@pytest.mark.django_db
def test_typo_falls_back_to_similar_names(demo_standard_items):
    results = catalog_search(q="无房证名")
    assert results[0].standard_item.name == "无住房证明开具"
    assert results[0].fuzzy is True
    results = catalog_search(q="林木采伐许可正")
    assert results[0].standard_item.name == "林木采伐许可证核发"


@pytest.mark.django_db
def test_exact_match_is_not_marked_fuzzy_and_nonsense_finds_nothing(demo_standard_items):
    assert catalog_search(q="低保")[0].fuzzy is False
    assert catalog_search(q="火星移民签证") == []


@pytest.mark.django_db
def test_materials_and_conditions_are_searched(demo_standard_items):
    names = [r.standard_item.name for r in catalog_search(q="伐区调查设计", limit=5)]
    assert "林木采伐许可证核发" in names
    names = [r.standard_item.name for r in catalog_search(q="年满80周岁", limit=5)]
    assert "高龄津贴发放" in names


@pytest.mark.django_db
def test_an_edit_is_searchable_at_once(demo_standard_items):
    from bianmin.catalog.services import standard_item_update

    si = demo_standard_items["光荣牌悬挂申请"]
    assert all(r.standard_item.pk != si.pk for r in catalog_search(q="红星门牌"))
    standard_item_update(actor=None, standard_item=si, changes={"aliases": "光荣牌、军属光荣牌、红星门牌"})
    first = catalog_search(q="红星门牌")[0]
    assert first.standard_item.pk == si.pk and not first.fuzzy


@pytest.mark.django_db
def test_classified_items_are_not_found(demo_standard_items):
    from bianmin.catalog.services import standard_item_update

    si = demo_standard_items["社区矫正对象报到"]
    standard_item_update(actor=None, standard_item=si, changes={"is_classified": True})
    assert all(r.standard_item.pk != si.pk for r in catalog_search(q="社区矫正报到"))


@pytest.mark.django_db
def test_area_limits_results_to_items_implemented_there(demo_standard_items, sites, item_at, areas):
    from conftest import GUDONG, TAIJIANG

    item_at(demo_standard_items["生育登记"])
    assert [r.standard_item.name for r in catalog_search(q="准生证", area=areas[GUDONG])] == ["生育登记"]
    assert catalog_search(q="准生证", area=areas[TAIJIANG]) == []


@pytest.mark.django_db
def test_bad_queries_are_refused(demo_standard_items):
    with pytest.raises(Invalid):
        catalog_search(q="   ")
    with pytest.raises(Invalid):
        catalog_search(q="证" * 101)
    with pytest.raises(Invalid):
        catalog_search(q="低保", limit=0)


def test_warm_search_teaches_the_words_then_closes_the_connections(demo_standard_items, monkeypatch):
    """gunicorn's master warms the search before forking (wsgi.py): the words are known after it
    and no database connection is left for the workers to inherit."""
    from django.db import connections

    from bianmin.catalog import selectors
    from bianmin.core import search

    closed = []
    monkeypatch.setattr(selectors, "_words_loaded", False)
    monkeypatch.setattr(connections, "close_all", lambda: closed.append(True))
    selectors.warm_search()
    assert selectors._words_loaded and search._tokenizer is not None and closed == [True]
