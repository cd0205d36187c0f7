"""High-frequency analysis (by content class, item, department, area; change against the previous
period), the rectification request it raises, and KPIs per area."""

import datetime as dt

import pytest
from conftest import GUDONG, GULOU, GUXI
from django.utils import timezone

from bianmin.appeals import selectors, services, signals
from bianmin.appeals.models import Appeal, RectificationRequest
from bianmin.core.errors import Conflict, Forbidden


def at(days_ago):
    return timezone.now() - dt.timedelta(days=days_ago)


@pytest.fixture
def spread(register, clerk, make_user, department, areas):
    """Current period (last 10 days): 3 社保 queue complaints in 鼓东, 1 in 鼓西; previous period: 1."""
    guxi = make_user("window_clerk", GUXI)
    made = []
    for i in range(3):
        made.append(register(clerk, title="社保窗口排队时间长", content=f"社保窗口排队两个小时，第{i}次反映", department=department))
    made.append(register(guxi, area=areas[GUXI], title="社保窗口排队", content="鼓西社保窗口排队"))
    old = register(clerk, title="停车难", content="中心门口停车位不足", department=department)
    Appeal.objects.filter(pk=old.pk).update(registered_at=at(15))
    return made


def period():
    today = timezone.localdate()
    return today - dt.timedelta(days=9), today


def test_groups_by_area_topic_and_department_with_change(spread, district, as_principal, areas):
    me = as_principal(district)
    start, end = period()
    by_area = selectors.appeal_groups(me, area=areas[GULOU], by="area", start=start, end=end)
    assert [(g.label, g.count, g.previous) for g in by_area] == [("鼓东街道", 3, 1), ("鼓西街道", 1, 0)]
    assert by_area[0].change == 2 and by_area[0].change_pct == 200
    classes = selectors.appeal_groups(me, area=areas[GULOU], by="class", start=start, end=end)
    assert [(g.key, g.label, g.count, g.previous) for g in classes] == [("0103", "排队与等候", 4, 0)]
    groups = selectors.appeal_groups(me, area=areas[GULOU], by="class1", start=start, end=end)
    assert [(g.key, g.label, g.count) for g in groups] == [("01", "政务服务", 4)]
    by_dep = selectors.appeal_groups(me, area=areas[GULOU], by="department", start=start, end=end)
    assert [(g.label, g.count, g.previous) for g in by_dep] == [("鼓东街道民政办", 3, 1)]


def test_township_sees_only_its_own(spread, manager, as_principal, areas):
    start, end = period()
    groups = selectors.appeal_groups(as_principal(manager), area=areas[GUDONG], by="area", start=start, end=end)
    assert sum(g.count for g in groups) == 3
    from bianmin.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.appeal_groups(as_principal(manager), area=areas[GUXI], by="area", start=start, end=end)


def test_one_action_opens_a_rectification_request_and_signals_on_commit(spread, district, as_principal, areas,
                                                                      django_capture_on_commit_callbacks):
    me = as_principal(district)
    start, end = period()
    group = selectors.appeal_groups(me, area=areas[GULOU], by="area", start=start, end=end)[0]
    received = []
    handler = lambda **kw: received.append(kw)  # noqa: E731
    signals.rectification_requested.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            req = services.rectification_request_create(
                actor=me, area=areas[GULOU], group_by="area", group_key=group.key, group_label=group.label,
                period_start=start, period_end=end, appeal_ids=group.appeal_ids)
    finally:
        signals.rectification_requested.disconnect(handler)
    assert req.status == RectificationRequest.Status.PENDING and req.appeal_count == 3
    assert received and received[0]["source"] == "appeal_group" and received[0]["request_id"] == req.pk
    assert sorted(received[0]["appeal_ids"]) == sorted(a.pk for a in spread[:3])
    with pytest.raises(Conflict):
        services.rectification_request_create(
            actor=me, area=areas[GULOU], group_by="area", group_key=group.key, group_label=group.label,
            period_start=start, period_end=end, appeal_ids=group.appeal_ids)
    marked = services.rectification_request_mark(request_id=req.pk, accepted=True, ledger_ref="ZG-2026-001")
    assert marked.status == "accepted" and marked.ledger_ref == "ZG-2026-001"


def test_clerk_cannot_open_a_rectification(spread, clerk, as_principal, areas):
    start, end = period()
    with pytest.raises(Forbidden):
        services.rectification_request_create(actor=as_principal(clerk), area=areas[GUDONG], group_by="area",
                                              group_key=GUDONG, group_label="鼓东街道", period_start=start,
                                              period_end=end, appeal_ids=[1])


def test_rectify_button_on_the_analysis_page(client, login, spread, district):
    start, end = period()
    c = login(district)
    html = c.get(f"/appeals/analysis/?area={GULOU}&by=area&start={start}&end={end}").content.decode()
    assert "鼓东街道" in html and "发起整改" in html and "↑2" in html
    response = c.post("/appeals/analysis/rectify/", {"area": GULOU, "by": "area", "key": GUDONG,
                                                     "start": str(start), "end": str(end)}, follow=True)
    assert "已发起整改" in response.content.decode()
    assert RectificationRequest.objects.get().group_label == "鼓东街道"


def test_kpis_per_area(register, clerk, make_user, as_principal, areas, district):
    me = as_principal(clerk)
    agent = as_principal(make_user("followup_agent", GUDONG))
    a1 = register(clerk)  # replied on time, satisfied, resolved
    a1 = services.appeal_reply(actor=me, appeal=a1, reply="已处理")
    services.appeal_follow_up(actor=agent, appeal=a1, satisfaction="satisfied", resolved=True)
    a2 = register(clerk)  # replied late, unsatisfied (reopened), unresolved
    Appeal.objects.filter(pk=a2.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    a2 = services.appeal_reply(actor=me, appeal=Appeal.objects.get(pk=a2.pk), reply="已处理")
    services.appeal_follow_up(actor=agent, appeal=a2, satisfaction="unsatisfied", resolved=False)
    register(clerk)  # untouched, not yet due
    a4 = register(clerk)  # contacted only
    services.appeal_log_contact(actor=me, appeal=a4, text="已联系")
    today = timezone.localdate()
    rows = selectors.appeal_kpis(as_principal(district), area=areas[GULOU], start=today, end=today)
    gudong = next(r for r in rows if r.code == GUDONG)
    total = rows[-1]
    assert total.name == "鼓楼区合计" and total.total == 4
    assert gudong.response_rate == 75.0  # 3 of 4 answered by a call or a reply
    assert gudong.on_time_rate == 50.0  # of a1 and a2 (replied or due), only a1 in time
    assert gudong.resolution_rate == 50.0 and gudong.satisfaction_rate == 50.0
