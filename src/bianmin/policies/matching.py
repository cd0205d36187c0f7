"""Which policies an enterprise is eligible for, and why: each condition of a policy checked
against the enterprise's profile, with a sentence for each.

A condition is *met*, *unmet*, *unknown* (the profile does not say: what is missing is named), or
*open* (the policy sets no such condition). A policy is eligible when no condition is unmet or
unknown; a policy with unknown conditions only is shown as "may be eligible", with what to add.
Pure functions: the caller reads the rows (selectors.match_policies) and the day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import industries
from .models import EnterpriseProfile, Policy, Size

MET, UNMET, UNKNOWN, OPEN = "met", "unmet", "unknown", "open"


@dataclass(frozen=True)
class Profile:
    industry: str = ""  # a division code ("13")
    size: str = ""
    area_path: str = ""
    area_name: str = ""
    founded_on: dt.date | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def of(cls, profile: EnterpriseProfile) -> Profile:
        return cls(industry=profile.industry, size=profile.size, area_path=profile.area.path if profile.area_id else "",
                   area_name=profile.area.name if profile.area_id else "", founded_on=profile.founded_on,
                   tags=tuple(profile.tags))


@dataclass(frozen=True)
class Facts:
    """What a policy's conditions need beyond its own columns: the areas it applies to."""

    area_paths: tuple[str, ...]
    area_names: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    status: str
    text: str


@dataclass
class Match:
    policy: Policy
    conditions: list[Condition] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return all(c.status in (MET, OPEN) for c in self.conditions)

    @property
    def possible(self) -> bool:
        return not any(c.status == UNMET for c in self.conditions)

    @property
    def missing(self) -> list[str]:
        return [c.label for c in self.conditions if c.status == UNKNOWN]

    @property
    def unmet(self) -> list[Condition]:
        return [c for c in self.conditions if c.status == UNMET]


def years_between(start: dt.date, end: dt.date) -> int:
    """Full years from start to end (a company founded 2023-03-10 is 1 year old on 2024-03-10)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _industry(policy: Policy, p: Profile) -> Condition:
    label = "所属行业"
    if not policy.industries:
        return Condition("industry", label, OPEN, "不限行业")
    listed = "、".join(industries.label(c) for c in policy.industries)
    if not p.industry:
        return Condition("industry", label, UNKNOWN, f"限 {listed}；请补充企业所属行业")
    mine = industries.label(p.industry)
    if any(industries.covers(c, p.industry) for c in policy.industries):
        return Condition("industry", label, MET, f"企业所属行业 {mine} 在适用范围（{listed}）内")
    return Condition("industry", label, UNMET, f"限 {listed}，企业所属行业为 {mine}")


def _size(policy: Policy, p: Profile) -> Condition:
    label = "企业规模"
    if not policy.sizes:
        return Condition("size", label, OPEN, "不限企业规模")
    listed = "、".join(str(Size(s).label) for s in policy.sizes if s in Size.values)
    if not p.size:
        return Condition("size", label, UNKNOWN, f"限{listed}企业；请补充企业规模")
    mine = str(Size(p.size).label) if p.size in Size.values else p.size
    if p.size in policy.sizes:
        return Condition("size", label, MET, f"{mine}企业，符合（限{listed}企业）")
    return Condition("size", label, UNMET, f"限{listed}企业，本企业为{mine}企业")


def _area(facts: Facts, p: Profile) -> Condition:
    label = "注册地"
    where = "、".join(facts.area_names)
    if not p.area_path:
        return Condition("area", label, UNKNOWN, f"适用于{where}；请补充企业注册地")
    if any(p.area_path.startswith(path) for path in facts.area_paths):
        return Condition("area", label, MET, f"注册地{p.area_name}在适用区域（{where}）内")
    if any(path.startswith(p.area_path) for path in facts.area_paths):
        # The enterprise gave its district; the policy applies to a part of it only.
        return Condition("area", label, UNKNOWN, f"仅适用于{where}；请补充企业所在的乡镇（街道）")
    return Condition("area", label, UNMET, f"仅适用于{where}，企业注册地为{p.area_name}")


def _age(policy: Policy, p: Profile, today: dt.date) -> Condition:
    label = "成立时间"
    lo, hi = policy.min_age_years, policy.max_age_years
    if lo is None and hi is None:
        return Condition("age", label, OPEN, "不限成立时间")
    wanted = (f"成立满{lo}年" if lo is not None else "") + ("、" if lo is not None and hi is not None else "") + (
        f"成立不超过{hi}年" if hi is not None else "")
    if p.founded_on is None:
        return Condition("age", label, UNKNOWN, f"要求{wanted}；请补充成立日期")
    age = years_between(p.founded_on, today)
    # 满 lo 年: founded on or before the day lo years ago; 不超过 hi 年: on or after the day hi years ago.
    ok = (lo is None or p.founded_on <= years_before(today, lo)) and (hi is None or p.founded_on >= years_before(today, hi))
    said = f"成立于{p.founded_on:%Y年%m月%d日}（{age}年）"
    if ok:
        return Condition("age", label, MET, f"{said}，符合“{wanted}”")
    return Condition("age", label, UNMET, f"要求{wanted}，企业{said}")


def _tags(policy: Policy, p: Profile) -> Condition:
    label = "资质要求"
    if not policy.required_tags:
        return Condition("tags", label, OPEN, "无特定资质要求")
    listed = "、".join(policy.required_tags)
    held = [t for t in policy.required_tags if t in p.tags]
    if held:
        return Condition("tags", label, MET, f"具备{'、'.join(held)}")
    if not p.tags:
        return Condition("tags", label, UNKNOWN, f"须具备其一：{listed}；请补充企业资质")
    return Condition("tags", label, UNMET, f"须具备其一：{listed}，企业未填报此类资质")


def evaluate(policy: Policy, profile: Profile, *, facts: Facts, today: dt.date) -> Match:
    return Match(policy=policy, conditions=[
        _industry(policy, profile), _size(policy, profile), _area(facts, profile), _age(policy, profile, today),
        _tags(policy, profile)])


def rank(matches: Sequence[Match]) -> list[Match]:
    """Eligible first, then those only missing information (fewest missing first); within each,
    granted without application (免申即享) first, then the newest."""
    def key(m: Match):
        published = m.policy.published_at.timestamp() if m.policy.published_at else 0
        return (not m.eligible, len(m.missing), not m.policy.no_application, -published, m.policy.code)

    return sorted((m for m in matches if m.possible), key=key)
