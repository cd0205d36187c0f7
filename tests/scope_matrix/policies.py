"""Routes of the policy library in the scope matrix. The library, its search, a policy, its forms,
matching and subscribing are public (the API with or without a key); the staff pages are for
policy.edit holders, and a policy or an enterprise profile of 鼓东 is reached only by the editors
of 鼓东 and the areas above it (district admins hold no policy.edit: 404)."""

from __future__ import annotations

import datetime as dt
import itertools

from bianmin.accounts.roles import Role
from bianmin.core.capabilities import Cap

from . import GUDONG, Capability, Public, Req, Scoped

_n = itertools.count(1)
EDITOR = Role.POLICY_EDITOR


def _dept(w):
    from bianmin.catalog.models import Department

    dept, _ = Department.objects.get_or_create(code="M-POL-GD", defaults={
        "name": "矩阵鼓东经济服务中心", "category": "工信", "area": w.areas[GUDONG]})
    return dept


def _data(w, **changes):
    from bianmin.policies.services import PolicyData

    n = next(_n)
    values = dict(title=f"矩阵政策{n}", category="funding", lead_department=_dept(w), handling_office="经济服务科",
                  handling_phone="0591-1", valid_from=dt.date(2026, 1, 1), benefits="补助", conditions="本街道企业",
                  materials="申请表", procedure="申请、审核、兑现", aliases=f"矩阵补贴{n}")
    values.update(changes)
    return PolicyData(**values)


def _draft(w):
    from bianmin.policies.services import policy_create

    return policy_create(actor=None, data=_data(w))


def _published(w):
    from bianmin.policies import services

    draft = _draft(w)
    services.policy_submit(actor=None, policy_id=draft.pk)
    return services.policy_approve(actor=None, policy_id=draft.pk)


def _with_form(w):
    from bianmin.policies import services

    draft = _draft(w)
    attachment = services.attachment_add(actor=None, policy_id=draft.pk, name="申请表.pdf", data=b"%PDF-1.4 matrix\n")
    services.policy_submit(actor=None, policy_id=draft.pk)
    services.policy_approve(actor=None, policy_id=draft.pk)
    return f"/policies/{draft.code}/files/{attachment.pk}/"


def _profile(w):
    from bianmin.policies.services import ProfileData, profile_save

    return profile_save(actor=w.principal("city"), data=ProfileData(
        credit_code=_credit(), name="矩阵企业", industry="65", size="micro", area=w.areas[GUDONG]))


def _credit() -> str:
    from bianmin.core.validators import make_credit_code

    return make_credit_code("350102", next(_n))


def _subscription_url(w):
    from bianmin.policies.services import ProfileData, subscription_create, subscription_token

    sub = subscription_create(data=ProfileData(credit_code=_credit(), name="矩阵订阅企业", area=w.areas[GUDONG]),
                              channel="sms", contact="13905910009")
    return f"/policies/subscriptions/{subscription_token(sub)}/"


def _subscribe_req(w):
    return Req("/policies/subscribe/", method="post", data={
        "credit_code": _credit(), "name": "矩阵企业", "area": GUDONG, "channel": "sms", "contact": "13905910008"})


def _item_code(w):
    from bianmin.catalog.services import standard_item_create

    n = next(_n)
    si = standard_item_create(actor=None, code=f"M-POL-SI-{n}", name=f"矩阵事项{n}", item_type="benefit",
                              competent_department=_dept(w), implementing_body="街道", legal_limit_days=5)
    from bianmin.policies.services import policy_approve, policy_create, policy_submit

    draft = policy_create(actor=None, data=_data(w, items=[si]))
    policy_submit(actor=None, policy_id=draft.pk)
    policy_approve(actor=None, policy_id=draft.pk)
    return si.code


ROUTES = [
    # public pages
    Public("policies:search", make=lambda w: f"/policies/?q={_published(w).alias_list[0]}"),
    Public("policies:detail", make=lambda w: f"/policies/{_published(w).code}/"),
    Public("policies:attachment", make=_with_form),
    Public("policies:match", make=lambda w: f"/policies/match/?industry=65&size=micro&area={GUDONG}"),
    Public("policies:subscribe", make=_subscribe_req),
    Public("policies:subscription", make=_subscription_url),
    # the open API (a key raises the limit; it never narrows what is public)
    Public("api:policies_search", make=lambda w: f"/api/v1/policies?q={_published(w).alias_list[0]}"),
    Public("api:policy_detail", make=lambda w: f"/api/v1/policies/{_published(w).code}"),
    Public("api:policies_changes", make=lambda w: "/api/v1/policies/changes?since=0"),
    Public("api:policies_filters"),
    Public("api:policies_for_item", make=lambda w: f"/api/v1/policies/by-item/{_item_code(w)}"),
    Public("api:policies_match", make=lambda w: Req("/api/v1/policies/match", method="post", json=True,
                                                    data={"industry": "65", "size": "micro"})),
    # staff pages for policy.edit holders
    Capability("policies:staff", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-new", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-expiring", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-import", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-export", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-profiles", cap=Cap.POLICY_EDIT),
    Capability("policies:staff-profile-new", cap=Cap.POLICY_EDIT),
    # a policy and a profile of 鼓东
    Scoped("policies:staff-detail", role=EDITOR, ok_for=("owner",), denied=(404,),
           make=lambda w: f"/policies/staff/{_published(w).pk}/"),
    Scoped("policies:staff-edit", role=EDITOR, ok_for=("owner",), denied=(404,),
           make=lambda w: f"/policies/staff/{_draft(w).pk}/edit/"),
    Scoped("policies:staff-action", role=EDITOR, ok_for=("owner",), denied=(404,), ok=(302,),
           make=lambda w: Req(f"/policies/staff/{_draft(w).pk}/action/", method="post", data={"action": "submit"})),
    Scoped("policies:staff-attachments", role=EDITOR, ok_for=("owner",), denied=(404,), ok=(302,),
           make=lambda w: Req(f"/policies/staff/{_draft(w).pk}/attachments/", method="post", data={"remove": "0"})),
    Scoped("policies:staff-profile", role=EDITOR, ok_for=("owner",), denied=(404,),
           make=lambda w: f"/policies/staff/profiles/{_profile(w).pk}/"),
]
