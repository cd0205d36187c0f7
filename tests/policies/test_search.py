"""Public search: colloquial names find policies, filters work in the index and without a query
alike, results are the same on both engines (the suite runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import GUDONG, GULOU, GUXI, TAIJIANG

from bianmin.core.errors import Invalid
from bianmin.policies.indexing import Filters
from bianmin.policies.selectors import policy_search


@pytest.fixture
def library(content, publish, pdepts, areas):
    return {
        "wengang": publish(content()),
        "jigai": publish(content(
            title="2026年度福州市工业企业技术改造项目设备购置补助", aliases="技改补助、设备补助", category="funding",
            lead_department=pdepts["gxj"], industries=["C"], sizes=["large", "medium", "small"], tags=["技术改造"],
            required_tags=["规模以上工业企业"], no_application=False,
            benefits="按设备投资额的10%给予补助，单个项目最高300万元。", conditions="规模以上工业企业，项目已竣工投产。")),
        "gaoqi": publish(content(
            title="2026年福州市高新技术企业认定奖励", aliases="高企奖励", category="innovation",
            lead_department=pdepts["gxj"], industries=[], sizes=[], tags=["高新技术企业"],
            benefits="首次认定的国家高新技术企业一次性奖励30万元。", conditions="上年度首次认定为国家高新技术企业。")),
        "gudong": publish(content(
            title="鼓东街道小店经济扶持", aliases="小店补贴", category="market", lead_department=pdepts["gulou_gxj"],
            areas=[areas[GUDONG]], sizes=["micro"], industries=["52", "62"], tags=["小店经济"], no_application=False,
            benefits="对新开业的零售、餐饮小店给予5000元开业补助。", conditions="在鼓东街道新开业的零售、餐饮小店。")),
        "old": publish(content(title="2025年福州市失业保险稳岗返还", valid_from=dt.date(2025, 1, 1),
                               valid_until=dt.date(2099, 1, 1))),
    }


def _codes(page):
    return [p.code for p in page.results]


@pytest.mark.parametrize("q, key", [
    ("稳岗返还", "wengang"), ("稳岗补贴怎么申请", "wengang"), ("技改补助", "jigai"), ("技改", "jigai"),
    ("高企", "gaoqi"), ("高新技术企业奖励", "gaoqi"), ("小店补贴", "gudong"), ("设备投资补助", "jigai"),
    ("榕人社规〔2026〕5号", "wengang"),
])
def test_colloquial_and_official_names_find_the_policy(library, q, key):
    page = policy_search(q=q)
    assert library[key].code in _codes(page)[:2], (q, _codes(page))


def test_an_exact_title_comes_first(library):
    assert _codes(policy_search(q="2026年福州市高新技术企业认定奖励"))[0] == library["gaoqi"].code


def test_a_typo_still_finds_by_similarity(library):
    page = policy_search(q="稳岗返换")
    assert page.fuzzy and library["wengang"].code in _codes(page)


@pytest.mark.parametrize("filters, expected", [
    (Filters(category="funding"), {"jigai"}),
    (Filters(industry="C"), {"wengang", "old", "jigai", "gaoqi"}),  # a section: its policies and unrestricted ones
    (Filters(industry="34"), {"wengang", "old", "jigai", "gaoqi"}),  # a division of C is covered by C
    (Filters(industry="H"), {"wengang", "old", "gaoqi", "gudong"}),  # 62 餐饮业 is in H
    (Filters(industry="A"), {"wengang", "old", "gaoqi"}),
    (Filters(size="micro"), {"wengang", "old", "gaoqi", "gudong"}),
    (Filters(size="large"), {"wengang", "old", "jigai", "gaoqi"}),
    (Filters(no_application=True), {"wengang", "old", "gaoqi"}),
    (Filters(tag="技术改造"), {"jigai"}),
])
def test_filters_match_in_the_index_and_in_browsing(library, filters, expected):
    browsed = {k for k, p in library.items() if p.code in _codes(policy_search(filters=filters))}
    assert browsed == expected
    # the same filters inside a search ("补" is in every benefit text)
    searched = {k for k, p in library.items() if p.code in _codes(policy_search(q="补助 奖励 返还", filters=filters))}
    assert searched <= expected


def test_area_filter_includes_wider_and_narrower_policies(library, areas):
    # 鼓楼区: city-wide ones and the one for 鼓东街道 (inside 鼓楼)
    in_gulou = set(_codes(policy_search(filters=Filters(area_path=areas[GULOU].path))))
    assert library["gudong"].code in in_gulou and library["wengang"].code in in_gulou
    # 鼓西街道: city-wide ones, not 鼓东's
    in_guxi = set(_codes(policy_search(filters=Filters(area_path=areas[GUXI].path))))
    assert library["gudong"].code not in in_guxi and library["wengang"].code in in_guxi
    in_taijiang = set(_codes(policy_search(q="小店补贴", filters=Filters(area_path=areas[TAIJIANG].path))))
    assert library["gudong"].code not in in_taijiang


def test_in_force_leaves_out_expired_and_not_yet_started(library, content, publish):
    from bianmin.policies import services

    future = publish(content(title="2027年福州市失业保险稳岗返还", valid_from=dt.date(2099, 1, 1), valid_until=None))
    services.policies_expire_due(today=dt.date(2100, 1, 1))  # expires "old" (until 2099-01-01)
    everything = _codes(policy_search(q="稳岗返还"))
    in_force = _codes(policy_search(q="稳岗返还", filters=Filters(in_force=True), today=dt.date(2100, 1, 2)))
    assert library["old"].code in everything and future.code in everything
    assert library["old"].code not in in_force and future.code in in_force
    assert future.code not in _codes(policy_search(q="稳岗返还", filters=Filters(in_force=True)))


def test_paging(library):
    first = policy_search(per_page=2, page=1)
    second = policy_search(per_page=2, page=2)
    assert first.total == 5 and first.pages == 3 and first.has_next and not first.has_previous
    assert not set(_codes(first)) & set(_codes(second))


@pytest.mark.parametrize("kwargs, field", [
    ({"q": "政" * 101}, "q"), ({"page": 0}, "page"), ({"per_page": 101}, "per_page"),
])
def test_bad_search_input_is_refused_in_chinese(kwargs, field, db):
    with pytest.raises(Invalid) as exc:
        policy_search(**kwargs)
    assert exc.value.field == field


def test_a_new_alias_published_elsewhere_is_learnt_before_the_next_query(library, content, publish):
    """Another server published a policy with an alias this process's segmenter never saw: the
    feed position moved, so the next query teaches it first."""
    from bianmin.policies import selectors

    publish(content(title="福州市新型学徒制培训补贴", aliases="学徒补贴、企业新型学徒", category="talent",
                    benefits="企业新型学徒制培训每人每年补贴5000元。"))
    selectors._words_seq = 0  # as if this process had loaded the words before that publication
    assert policy_search(q="企业新型学徒").total >= 1
