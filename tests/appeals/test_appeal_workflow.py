import pytest
from conftest import GUDONG

from bianmin.appeals import services
from bianmin.appeals.models import AppealEvent, Satisfaction, Status
from bianmin.core.errors import Conflict, Forbidden, Invalid, NotFound
from bianmin.core.models import AuditEntry, OutboxMessage

from .conftest import CREDIT_CODE


@pytest.fixture
def citizen_appeal(register):
    return register(None, channel="web")


def test_manager_assigns_one_owner_with_co_departments(citizen_appeal, manager, clerk, department, as_principal):
    appeal = services.appeal_assign(actor=as_principal(manager), appeal=citizen_appeal, owner=clerk,
                                    co_departments=[department])
    assert appeal.status == Status.ASSIGNED and appeal.owner == clerk
    assert list(appeal.co_handlings.values_list("department__name", flat=True)) == ["鼓东街道民政办"]
    event = appeal.events.get(kind=AppealEvent.Kind.ASSIGNED)
    assert "鼓东街道民政办" in event.text
    assert AuditEntry.objects.filter(target_id=str(appeal.pk), action="transition").exists()


def test_clerk_who_is_not_first_receiver_cannot_assign(citizen_appeal, clerk, as_principal):
    with pytest.raises(Forbidden):
        services.appeal_assign(actor=as_principal(clerk), appeal=citizen_appeal, owner=clerk)


def test_first_receiver_may_pass_it_on(register, clerk, make_user, as_principal):
    appeal = register(clerk)
    colleague = make_user("window_clerk", GUDONG)
    appeal = services.appeal_assign(actor=as_principal(clerk), appeal=appeal, owner=colleague)
    assert appeal.owner == colleague and appeal.first_receiver == clerk


def test_assigning_checks_the_locked_row_not_the_callers_copy(register, clerk, manager, areas, as_principal):
    """The row moved to 鼓西 after the 鼓东 manager loaded it (the page's copy still says 鼓东): the
    service checks permission on the row it locked, so the assignment is refused as out of scope."""
    from conftest import GUXI

    from bianmin.appeals.models import Appeal

    stale = register(None, channel="web")
    Appeal.objects.filter(pk=stale.pk).update(area=areas[GUXI])
    with pytest.raises(NotFound):
        services.appeal_assign(actor=as_principal(manager), appeal=stale, owner=clerk)
    fresh = Appeal.objects.get(pk=stale.pk)
    assert fresh.owner_id is None and fresh.status == Status.REGISTERED
    assert not fresh.events.filter(kind=AppealEvent.Kind.ASSIGNED).exists()


def test_replying_checks_the_locked_row_not_the_callers_copy(register, clerk, make_user, as_principal):
    """The owner changed after the clerk loaded the appeal: the former owner may no longer reply."""
    from bianmin.appeals.models import Appeal

    appeal = register(clerk)
    other = make_user("window_clerk", GUDONG)
    Appeal.objects.filter(pk=appeal.pk).update(owner=other)
    with pytest.raises(Forbidden):
        services.appeal_reply(actor=as_principal(clerk), appeal=appeal, reply="已处理")
    assert Appeal.objects.get(pk=appeal.pk).reply == ""


def test_owner_must_work_in_the_area(citizen_appeal, manager, guxi_clerk, as_principal):
    with pytest.raises(Invalid) as exc:
        services.appeal_assign(actor=as_principal(manager), appeal=citizen_appeal, owner=guxi_clerk)
    assert exc.value.field == "owner"


def test_only_people_who_can_handle_the_appeal_are_offered_or_accepted_as_owner(citizen_appeal, manager, clerk,
                                                                                make_user, as_principal):
    """Issue 22.7: an appeal could be assigned to a 政策编辑, who then got 404 on it."""
    from conftest import CITY

    from bianmin.appeals.selectors import appeal_owner_candidates

    editor = make_user("policy_editor", CITY, display_name="政策编辑甲")
    inspector = make_user("inspector", CITY, display_name="督查员乙")
    city = make_user("city_admin", CITY, display_name="市管理员丙")
    choices = appeal_owner_candidates(citizen_appeal)
    ids = {c.user_id for c in choices}
    assert {clerk.pk, manager.pk, city.pk} <= ids and not ids & {editor.pk, inspector.pk}
    label = next(c.label for c in choices if c.user_id == clerk.pk)
    assert label.startswith("鼓东窗口（窗口人员") and clerk.username not in label  # a name, not a log-in name
    for outsider in (editor, inspector):
        with pytest.raises(Invalid) as exc:
            services.appeal_assign(actor=as_principal(manager), appeal=citizen_appeal, owner=outsider)
        assert exc.value.field == "owner"


def test_the_appeal_page_offers_only_the_viewers_actions(client, login, citizen_appeal, manager, clerk, make_user,
                                                         as_principal):
    import re

    def forms():
        html = client.get(f"/appeals/{citizen_appeal.number}/").content.decode()
        return set(re.findall(r'name="action" value="([a-z_]+)"', html)) - {"unmask"}

    colleague = make_user("window_clerk", GUDONG, display_name="另一窗口")
    login(colleague)
    assert forms() == set()  # neither its first receiver nor a manager: no 分派 form that fails
    login(manager)
    assert "assign" in forms()
    services.appeal_assign(actor=as_principal(manager), appeal=citizen_appeal, owner=clerk)
    login(colleague)
    assert forms() == set()
    login(clerk)
    assert {"contact", "note", "reply"} <= forms() and "assign" not in forms()


def test_other_township_cannot_see_or_touch(register, clerk, guxi_clerk, as_principal):
    from bianmin.appeals.selectors import appeal_get

    appeal = register(clerk)
    with pytest.raises(NotFound):
        appeal_get(as_principal(guxi_clerk), number=appeal.number)
    with pytest.raises(NotFound):
        services.appeal_reply(actor=as_principal(guxi_clerk), appeal=appeal, reply="越权答复")


def test_only_owner_or_manager_handles(register, clerk, make_user, manager, as_principal):
    appeal = register(clerk)
    other = make_user("window_clerk", GUDONG)
    with pytest.raises(Forbidden):
        services.appeal_add_note(actor=as_principal(other), appeal=appeal, text="不是我的")
    services.appeal_add_note(actor=as_principal(manager), appeal=appeal, text="负责人代为协调")


def test_enterprise_appeal_needs_the_call_first(register, clerk, department, as_principal):
    appeal = register(clerk, party_type="enterprise", enterprise_name="福州某某科技有限公司", credit_code=CREDIT_CODE)
    me = as_principal(clerk)
    with pytest.raises(Conflict) as exc:
        services.appeal_add_note(actor=me, appeal=appeal, text="联系市场监管所", department=department)
    assert exc.value.code == "pre_contact_required"
    with pytest.raises(Conflict):
        services.appeal_reply(actor=me, appeal=appeal, reply="答复")
    appeal = services.appeal_log_contact(actor=me, appeal=appeal, text="已电话联系企业负责人，了解诉求")
    assert appeal.status == Status.CONTACTED and appeal.contacted_at
    appeal = services.appeal_add_note(actor=me, appeal=appeal, text="联系民政办核实", department=department)
    assert appeal.status == Status.IN_PROGRESS
    coordination = appeal.events.get(kind=AppealEvent.Kind.COORDINATION)
    assert coordination.department == department


def test_full_loop_with_reopen_when_unsatisfied(register, clerk, make_user, as_principal):
    agent = make_user("followup_agent", GUDONG)
    me = as_principal(clerk)
    appeal = register(clerk)
    appeal = services.appeal_add_note(actor=me, appeal=appeal, text="核实排队情况")
    appeal = services.appeal_reply(actor=me, appeal=appeal, reply="已增开窗口")
    assert appeal.status == Status.REPLIED and appeal.replied_on_time is True
    first_due = appeal.due_date
    appeal = services.appeal_follow_up(actor=as_principal(agent), appeal=appeal,
                                       satisfaction=Satisfaction.UNSATISFIED, resolved=False, text="仍然排队")
    assert appeal.status == Status.REOPENED and appeal.reopen_count == 1 and appeal.due_date >= first_due
    appeal = services.appeal_reply(actor=me, appeal=appeal, reply="已调整取号规则")
    appeal = services.appeal_follow_up(actor=as_principal(agent), appeal=appeal,
                                       satisfaction=Satisfaction.SATISFIED, resolved=True)
    assert appeal.status == Status.FOLLOWED_UP
    appeal = services.appeal_close(actor=me, appeal=appeal)
    assert appeal.status == Status.CLOSED and appeal.closed_at
    kinds = list(appeal.events.values_list("kind", flat=True))
    assert kinds == ["registered", "assigned", "note", "replied", "followed_up", "reopened", "replied",
                     "followed_up", "closed"]
    with pytest.raises(Conflict) as exc:
        services.appeal_add_note(actor=me, appeal=appeal, text="再补充")
    assert "已办结" in exc.value.message


def test_reply_needs_text_and_close_needs_follow_up(register, clerk, as_principal):
    me = as_principal(clerk)
    appeal = register(clerk)
    with pytest.raises(Invalid):
        services.appeal_reply(actor=me, appeal=appeal, reply="   ")
    appeal = services.appeal_reply(actor=me, appeal=appeal, reply="答复内容")
    with pytest.raises(Conflict) as exc:
        services.appeal_close(actor=me, appeal=appeal)
    assert exc.value.code == "followup_required"


def test_anonymous_suggestion_closes_without_follow_up(register, clerk, as_principal):
    me = as_principal(clerk)
    appeal = register(clerk, kind="suggestion", party_type="anonymous")
    appeal = services.appeal_reply(actor=me, appeal=appeal, reply="感谢建议")
    with pytest.raises(Conflict):
        services.appeal_follow_up(actor=me, appeal=appeal, satisfaction="satisfied", resolved=True)
    assert services.appeal_close(actor=me, appeal=appeal).status == Status.CLOSED


def test_transition_table_refuses_skipping(citizen_appeal, manager, as_principal):
    with pytest.raises(Conflict) as exc:
        services.appeal_reply(actor=as_principal(manager), appeal=citizen_appeal, reply="未分派就答复")
    assert exc.value.code == "invalid_transition"


def test_work_order_steps_go_back_to_12345_through_the_outbox(register, clerk, as_principal):
    me = as_principal(clerk)
    appeal = register(clerk)
    appeal.work_order_no = "GD2026000001"
    appeal.save()
    services.appeal_log_contact(actor=me, appeal=appeal, text="已联系")
    services.appeal_reply(actor=me, appeal=appeal, reply="已处理完毕")
    messages = OutboxMessage.objects.filter(channel="hotline12345").order_by("id")
    assert [m.payload["event"] for m in messages] == ["contacted", "replied"]
    assert {m.ordering_key for m in messages} == {"12345:GD2026000001"}
    assert messages.last().payload["text"] == "已处理完毕"


def test_unmasking_is_audited(register, clerk, manager, as_principal):
    from bianmin.appeals.selectors import masked_party

    appeal = register(clerk)
    assert masked_party(appeal)["mobile"] == "138****5678"
    with pytest.raises(Forbidden):
        services.appeal_unmask(actor=as_principal(clerk), appeal=appeal)
    full = services.appeal_unmask(actor=as_principal(manager), appeal=appeal, reason="回电")
    assert full["mobile"] == "13812345678"
    assert AuditEntry.objects.filter(action="unmask", target_id=str(appeal.pk)).count() == 2


def test_every_offered_owner_can_open_the_appeal_and_others_are_refused_on_the_page(
        client, login, citizen_appeal, manager, clerk, make_user):
    """Issue 22.7: the 负责人 list holds no one who would get 404 on the appeal, for every demo role
    at the appeal's township, its district and the city; choosing anyone else is a 422 naming why."""
    import re

    from conftest import CITY, GULOU

    from bianmin.accounts.roles import Role

    people = [make_user(role, area, display_name=f"{role}@{area}")
              for role in Role.values for area in (GUDONG, GULOU, CITY)]
    url = f"/appeals/{citizen_appeal.number}/"
    login(manager)
    html = client.get(url).content.decode()
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', html.split('name="owner"')[1].split("</select>")[0])}
    assert manager.pk in offered and clerk.pk in offered
    everyone = [*people, manager, clerk]
    for user in everyone:
        login(manager)
        resp = client.post(url, {"action": "assign", "owner": user.pk})
        if user.pk in offered:
            assert resp.status_code == 302, user.display_name
            login(user)  # the new owner opens the appeal and is offered its handling steps
            assert client.get(url).status_code == 200, user.display_name
        else:
            assert resp.status_code == 422, user.display_name
            assert (f"{user.display_name}不能负责此诉求：负责人须为有权办理鼓东街道诉求的在岗工作人员"
                    in resp.content.decode())
    not_offered = {u.display_name for u in everyone if u.pk not in offered}
    # Only the roles without APPEAL_HANDLE, wherever they sit.
    assert {n.split("@")[0] for n in not_offered} == {"inspector", "policy_editor", "leader"}
