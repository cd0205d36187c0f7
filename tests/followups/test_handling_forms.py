"""Issue 22.7: the 差评处理 page shows each viewer exactly the forms their POST would accept. For
every demo role, at every stage of a handling, each shown form is posted and succeeds; each
hidden one is posted and refused with its exact status (403 not theirs, 409 not now)."""

from __future__ import annotations

import re

import pytest
from conftest import CITY, GUDONG, GULOU
from django.core.files.uploadedfile import SimpleUploadedFile
from evaluations.conftest import principal

pytestmark = pytest.mark.django_db

ACTIONS = ("verify", "rectified", "follow_up", "close", "appeal", "evidence", "decide")
_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# Whose step each is, restated from the business rule (not read from the code under test): the
# township center handles (核实/整改/办结/申诉), the 回访员 calls back, the district above decides
# an appeal and may not file it; clerks, inspectors, leaders only look; a 政策编辑 sees nothing.
ROLES = {
    "window_clerk": (GUDONG, set()),
    "followup_agent": (GUDONG, {"follow_up"}),
    "center_manager": (GUDONG, {"verify", "rectified", "close", "appeal", "evidence"}),
    "district_admin": (GULOU, {"verify", "rectified", "follow_up", "close", "decide"}),
    "city_admin": (CITY, {"verify", "rectified", "follow_up", "close", "decide"}),
    "inspector": (GUDONG, set()),
    "leader": (GUDONG, set()),
    "policy_editor": (GUDONG, None),  # no VIEW: the page itself is 404
}
# When each step is open: the handling's stage → the steps the table allows there.
STAGES = {
    "open": {"verify", "appeal"},
    "rectifying": {"rectified", "appeal"},
    "explained": {"follow_up", "appeal"},
    "followed_up": {"close", "follow_up", "appeal"},  # a further call is recorded too
    "appealed": {"evidence", "decide"},
}


def _forms(html: str) -> set[str]:
    return set(re.findall(r'name="action" value="([a-z_]+)"', html))


def _post_data(action: str) -> dict:
    return {
        "verify": {"verdict": "no_basis", "verification": "核实情况", "explanation": "已向群众解释"},
        "rectified": {"result": "已整改"},
        "follow_up": {"satisfied": "1", "result": "群众表示满意"},
        "close": {"note": "办结"},
        "appeal": {"reason": "误评", "evidence": "监控录像"},
        "evidence": {"files": SimpleUploadedFile("still.png", _PNG, content_type="image/png")},
        "decide": {"upheld": "0", "note": "证据不足"},
    }[action]


@pytest.fixture
def staged(bad_review, make_user):
    """staged(stage) → a handling of 鼓东 brought to that stage through the services."""
    from bianmin.followups import services

    district = principal(make_user("district_admin", GULOU, username="forms_district"))
    township = principal(make_user("center_manager", GUDONG, username="forms_township"))

    def _make(stage: str):
        h = bad_review().handling
        if stage == "rectifying":
            services.handling_verify(actor=district, handling_id=h.pk, verdict="confirmed", verification="属实",
                                     measure="加强培训", owner_name="王五", working_days=5)
        elif stage in ("explained", "followed_up"):
            services.handling_verify(actor=district, handling_id=h.pk, verdict="no_basis", verification="核实",
                                     explanation="已解释")
            if stage == "followed_up":
                services.handling_follow_up(actor=district, handling_id=h.pk, satisfied=True, result="回访")
        elif stage == "appealed":
            services.handling_appeal(actor=township, handling_id=h.pk, reason="误评", evidence="录像")
        h.refresh_from_db()
        assert h.status == stage
        return h

    return _make


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_sees_exactly_the_forms_its_post_accepts(role, client, login, make_user, staged):
    area, steps = ROLES[role]
    user = make_user(role, area, username=f"forms_{role}")
    login(user)
    for stage, open_steps in STAGES.items():
        h = staged(stage)
        url = f"/followups/handling/{h.pk}/"
        page = client.get(url)
        if steps is None:
            assert page.status_code == 404
            for action in ACTIONS:
                assert client.post(url, {"action": action, **_post_data(action)}).status_code == 404
            continue
        assert page.status_code == 200
        shown = _forms(page.content.decode())
        assert shown == steps & open_steps, (role, stage)
        for action in ACTIONS:
            if action in shown:
                continue
            resp = client.post(url, {"action": action, **_post_data(action)})
            expected = 403 if action not in steps else 409
            assert resp.status_code == expected, (role, stage, action, resp.content.decode()[:300])
            h.refresh_from_db()
            assert h.status == stage  # nothing half-written
        for action in shown:
            fresh = staged(stage)  # a shown form is posted on its own handling: success is recorded
            events = fresh.events.count()
            resp = client.post(f"/followups/handling/{fresh.pk}/", {"action": action, **_post_data(action)})
            assert resp.status_code == 302, (role, stage, action, resp.content.decode()[:300])
            assert fresh.events.count() > events, (role, stage, action)


def test_the_follow_up_agent_records_the_call_and_its_name_is_on_the_timeline(client, login, make_user, staged):
    from bianmin.followups.models import HandlingEvent

    agent = make_user("followup_agent", GUDONG, username="hf_agent", display_name="陈回访")
    h = staged("explained")
    login(agent)
    resp = client.post(f"/followups/handling/{h.pk}/", {"action": "follow_up", "satisfied": "1", "result": "群众满意"})
    assert resp.status_code == 302
    h.refresh_from_db()
    assert h.status == "followed_up" and h.citizen_satisfied is True
    assert h.events.filter(kind=HandlingEvent.Kind.FOLLOWED_UP).exists()


def test_a_hidden_step_is_refused_with_whose_step_it_is(client, login, make_user, staged):
    """The 回访员 posting 核实 and the township posting 回访 hear why, not "未找到该记录"."""
    agent = make_user("followup_agent", GUDONG, username="hf_agent2")
    manager = make_user("center_manager", GUDONG, username="hf_manager")
    h = staged("open")
    login(agent)
    resp = client.post(f"/api/v1/followups/handlings/{h.pk}/verify", {"verdict": "no_basis", "verification": "x",
                                                                        "explanation": "y"},
                       content_type="application/json")
    assert resp.status_code == 403
    assert resp.json()["message"] == "差评的核实、整改、申诉和办结由差评处理单位负责，您的角色无权办理"
    h2 = staged("explained")
    login(manager)
    resp = client.post(f"/api/v1/followups/handlings/{h2.pk}/follow-up", {"satisfied": True, "result": "自己回访"},
                       content_type="application/json")
    assert resp.status_code == 403
    assert resp.json()["message"] == "差评回访由回访员负责，您的角色无权记录回访"


def test_the_handling_page_names_who_acted_not_their_log_in(client, login, make_user, staged):
    """Issue 22.9: 差评处理's 操作人 showed log-in names."""
    agent = make_user("followup_agent", GUDONG, username="hf_agent3", display_name="陈回访")
    h = staged("explained")
    login(agent)
    assert client.post(f"/followups/handling/{h.pk}/", {"action": "follow_up", "satisfied": "1",
                                                        "result": "群众满意"}).status_code == 302
    html = client.get(f"/followups/handling/{h.pk}/").content.decode()
    timeline = html[html.rindex("<table"):]
    assert "陈回访" in timeline and "hf_agent3" not in timeline and "forms_district" not in timeline
    assert "系统" in timeline  # the handling was opened by the platform, not a person
