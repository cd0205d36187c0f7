"""The demo city's library: 558 guides across the departments, the districts' own editions,
in force and expired, forms, item links, subscribers; a second load changes nothing."""

from __future__ import annotations

import pytest
from conftest import CITY

from bianmin.policies.models import Policy, PolicyChange, Subscription

DISTRICTS = [("350104000000", "仓山区"), ("350105000000", "马尾区"), ("350111000000", "晋安区"), ("350112000000", "长乐区"),
             ("350121000000", "闽侯县"), ("350122000000", "连江县"), ("350123000000", "罗源县"), ("350124000000", "闽清县"),
             ("350125000000", "永泰县"), ("350128000000", "平潭县"), ("350181000000", "福清市")]


@pytest.fixture
def city(areas):
    from bianmin.regions.models import Area

    for code, name in DISTRICTS:
        Area.objects.create(code=code, name=name, level=Area.Level.DISTRICT, parent=areas[CITY])
    return areas[CITY]


def test_the_demo_library(city):
    from bianmin.policies.demo import load_demo_policies
    from bianmin.policies.indexing import Filters
    from bianmin.policies.selectors import policy_search

    counts = load_demo_policies()
    assert counts["policies"] == 558 == Policy.objects.count() == PolicyChange.objects.count()
    assert counts["in_force"] > 200 and counts["expired"] > 100 and counts["subscriptions"] == 3
    leads = set(Policy.objects.values_list("lead_department__name", flat=True))
    assert {"福州市工业和信息化局", "福州市人力资源和社会保障局", "国家税务总局福州市税务局", "鼓楼区工业和信息化局"} <= leads
    assert Policy.objects.filter(area__code="350181000000").exists()  # a county's own editions
    assert Policy.objects.filter(no_application=True).count() > 50
    assert Policy.objects.filter(attachments__isnull=False).distinct().count() > 10
    assert Subscription.objects.filter(status="active").count() == 3
    wengang = policy_search(q="稳岗返还", filters=Filters(in_force=True))
    assert wengang.total >= 1 and "稳岗返还" in wengang.results[0].title
    assert load_demo_policies()["skipped"] == 1
