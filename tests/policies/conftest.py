"""Policy fixtures: departments at the city and in 鼓楼, editors, a builder of policy content,
and a helper that takes a draft through review to publication."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import CITY, GUDONG, GULOU


@pytest.fixture
def pdepts(areas):
    from bianmin.catalog.services import department_create

    return {
        "rsj": department_create(actor=None, code="P-RSJ", name="福州市人力资源和社会保障局", category="劳动保障",
                                 area=areas[CITY], phone="0591-87113285"),
        "gxj": department_create(actor=None, code="P-GXJ", name="福州市工业和信息化局", category="工信", area=areas[CITY]),
        "gulou_gxj": department_create(actor=None, code="P-GL-GXJ", name="鼓楼区工业和信息化局", category="工信",
                                       area=areas[GULOU]),
        "gudong": department_create(actor=None, code="P-GD", name="鼓东街道经济服务中心", category="工信",
                                    area=areas[GUDONG]),
    }


@pytest.fixture
def editors(make_user):
    """Two city policy editors (one writes, the other reviews) and a 鼓楼 district editor."""
    from bianmin.accounts.principals import principal_for_user

    a = make_user("policy_editor", CITY, username="editor_a")
    b = make_user("policy_editor", CITY, username="editor_b")
    g = make_user("policy_editor", GULOU, username="editor_gulou")
    return {"a": principal_for_user(a), "b": principal_for_user(b), "gulou": principal_for_user(g),
            "users": {"a": a, "b": b, "gulou": g}}


@pytest.fixture
def content(pdepts):
    """content(**changes) → PolicyData for a realistic 稳岗返还 policy."""
    from bianmin.policies.services import PolicyData

    def _make(**changes):
        values = dict(
            title="2026年福州市失业保险稳岗返还", aliases="稳岗返还、稳岗补贴", category="employment",
            lead_department=pdepts["rsj"], handling_office="就业促进和失业保险处", handling_phone="0591-87113285",
            valid_from=dt.date(2026, 1, 1), valid_until=None,
            benefits="对不裁员或少裁员的参保企业，中小微企业按上年度实际缴纳失业保险费的60%返还。",
            conditions="1. 在本市依法参加失业保险并足额缴费满12个月；\n2. 上年度未裁员或裁员率不高于控制目标。",
            materials="无需申请，经办机构通过大数据比对直接返还", procedure="1. 大数据比对；\n2. 公示；\n3. 直接返还",
            document_number="榕人社规〔2026〕5号", issuing_body="福州市人力资源和社会保障局",
            source_url="https://zwgk.fuzhou.example/zcwj/1.htm", tags=["稳岗", "失业保险"], no_application=True,
        )
        values.update(changes)
        return PolicyData(**values)

    return _make


@pytest.fixture
def publish(editors):
    """publish(data) → a published policy: created and submitted by editor a, approved by b."""
    from bianmin.policies import services

    def _publish(data, *, code=""):
        draft = services.policy_create(actor=editors["a"], data=data, code=code)
        services.policy_submit(actor=editors["a"], policy_id=draft.pk)
        return services.policy_approve(actor=editors["b"], policy_id=draft.pk)

    return _publish
