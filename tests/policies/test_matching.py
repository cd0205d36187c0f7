"""Enterprise matching: each condition with its reason, what is missing, the founding-age rules."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import GUDONG, GULOU, GUXI

from bianmin.policies import matching, selectors
from bianmin.policies.matching import MET, OPEN, UNKNOWN, Profile


@pytest.fixture
def startup(content, publish, pdepts, areas):
    """A policy with every kind of condition: manufacturing (C) or software (65), small or micro,
    in 鼓东街道, founded 1 to 3 years ago, a 科技型中小企业 or 高新技术企业."""
    return publish(content(
        title="鼓东街道科技初创企业扶持", aliases="初创补贴", category="innovation", lead_department=pdepts["gulou_gxj"],
        industries=["C", "65"], sizes=["small", "micro"], areas=[areas[GUDONG]], min_age_years=1, max_age_years=3,
        required_tags=["科技型中小企业", "高新技术企业"], no_application=False))


def _match(policy, profile, today=dt.date(2026, 6, 1)):
    facts = selectors.match_facts([policy])[policy.pk]
    return matching.evaluate(policy, profile, facts=facts, today=today)


def _status(m):
    return {c.key: c.status for c in m.conditions}


def test_an_eligible_enterprise_gets_a_reason_for_every_condition(startup, areas):
    profile = Profile(industry="34", size="small", area_path=areas[GUDONG].path, area_name="鼓东街道",
                      founded_on=dt.date(2024, 3, 1), tags=("科技型中小企业",))
    m = _match(startup, profile)
    assert m.eligible and _status(m) == {"industry": MET, "size": MET, "area": MET, "age": MET, "tags": MET}
    texts = {c.key: c.text for c in m.conditions}
    assert "34 通用设备制造业" in texts["industry"] and "C 制造业" in texts["industry"]
    assert "鼓东街道" in texts["area"] and "成立于2024年03月01日（2年）" in texts["age"]
    assert texts["tags"] == "具备科技型中小企业"


def test_what_is_missing_is_named(startup):
    m = _match(startup, Profile())
    assert not m.eligible and m.possible
    assert m.missing == ["所属行业", "企业规模", "注册地", "成立时间", "资质要求"]


@pytest.mark.parametrize("profile, key", [
    (dict(industry="01"), "industry"),
    (dict(size="large"), "size"),
    (dict(area=GUXI), "area"),
    (dict(founded_on=dt.date(2026, 1, 1)), "age"),  # not yet 1 year
    (dict(founded_on=dt.date(2020, 1, 1)), "age"),  # more than 3 years
    (dict(tags=("专精特新中小企业",)), "tags"),
])
def test_an_unmet_condition_says_why(startup, areas, profile, key):
    base = dict(industry="65", size="micro", area=GUDONG, founded_on=dt.date(2024, 6, 1), tags=("高新技术企业",))
    base.update(profile)
    area = areas[base.pop("area")]
    m = _match(startup, Profile(area_path=area.path, area_name=area.name, **base))
    assert not m.possible and [c.key for c in m.unmet] == [key]
    assert m.unmet[0].text.startswith(("限", "仅适用于", "要求", "须具备"))


def test_founding_age_boundaries_are_calendar_days():
    assert matching.years_between(dt.date(2023, 3, 10), dt.date(2024, 3, 9)) == 0
    assert matching.years_between(dt.date(2023, 3, 10), dt.date(2024, 3, 10)) == 1
    assert matching.years_before(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)


def test_age_limits_include_the_anniversary(startup, areas):
    area = areas[GUDONG]
    day = dt.date(2026, 6, 1)
    for founded, ok in ((dt.date(2025, 6, 1), True), (dt.date(2025, 6, 2), False), (dt.date(2023, 6, 1), True),
                        (dt.date(2023, 5, 31), False)):
        m = _match(startup, Profile(industry="65", size="micro", area_path=area.path, area_name=area.name,
                                    founded_on=founded, tags=("高新技术企业",)), today=day)
        assert m.eligible is ok, founded


def test_a_district_profile_for_a_township_policy_is_unknown_not_unmet(startup, areas):
    m = _match(startup, Profile(area_path=areas[GULOU].path, area_name="鼓楼区"))
    cond = next(c for c in m.conditions if c.key == "area")
    assert cond.status == UNKNOWN and "乡镇（街道）" in cond.text


def test_open_conditions_are_shown_as_no_restriction(content, publish):
    policy = publish(content())
    m = _match(policy, Profile(industry="65", size="micro"))
    assert _status(m)["industry"] == OPEN and _status(m)["size"] == OPEN and _status(m)["tags"] == OPEN


def test_match_policies_lists_eligible_first_and_leaves_out_unmet(startup, content, publish, areas):
    city_wide = publish(content())
    area = areas[GUDONG]
    found = selectors.match_policies(profile=Profile(industry="65", size="micro", area_path=area.path,
                                                     area_name=area.name), today=dt.date(2026, 6, 1))
    codes = [(m.policy.code, m.eligible) for m in found]
    assert codes[0] == (city_wide.code, True)
    assert (startup.code, False) in codes  # founding date and qualifications missing
    large = selectors.match_policies(profile=Profile(size="large"), today=dt.date(2026, 6, 1))
    assert startup.code not in [m.policy.code for m in large]
