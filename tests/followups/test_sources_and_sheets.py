"""followups for the apps after it: engagement's sources in the ledger (and its 问题来源 filter),
answer sheets without an SMS invitation (QR, staff entry)."""

from __future__ import annotations

import pytest
from conftest import GUDONG

from bianmin.core.errors import Invalid, NotFound
from bianmin.followups import services
from bianmin.followups.models import Rectification, SurveyInvitation


def _principal(user):
    from bianmin.accounts.principals import principal_for_user

    return principal_for_user(user)


@pytest.fixture
def agent(make_user):
    return make_user("followup_agent", GUDONG)


@pytest.fixture
def questionnaire(agent, areas):
    return services.questionnaire_create(actor=_principal(agent), area=areas[GUDONG], title="问卷",
                                         questions=[{"kind": "single", "text": "满意吗", "options": ["满意", "不满意"]}])


def test_sheets_without_a_phone_are_many_and_staff_sheets_need_the_capability(agent, questionnaire, make_user):
    a = services.survey_record(actor=None, questionnaire_id=questionnaire.pk, answers={"1": "满意"}, channel="qr")
    b = services.survey_record(actor=_principal(agent), questionnaire_id=questionnaire.pk, answers={"1": "不满意"},
                               channel="visit")
    assert [a.invitation.channel, b.invitation.channel] == ["qr", "visit"]
    assert SurveyInvitation.objects.filter(phone="").count() == 2
    with pytest.raises(Invalid):
        services.survey_record(actor=None, questionnaire_id=questionnaire.pk, answers={"1": "还行"}, channel="qr")
    with pytest.raises(Invalid):
        services.survey_record(actor=None, questionnaire_id=questionnaire.pk, answers={"1": "满意"}, channel="sms")
    with pytest.raises(NotFound):
        services.survey_record(actor=_principal(make_user("followup_agent", "350102002000")),
                               questionnaire_id=questionnaire.pk, answers={"1": "满意"}, channel="call")
    assert SurveyInvitation.objects.count() == 2
    # an SMS invitation is still once per phone
    assert services.survey_send(actor=_principal(agent), questionnaire_id=questionnaire.pk,
                                phones=["13900000001", "13900000001"]) == 1
    assert services.survey_send(actor=_principal(agent), questionnaire_id=questionnaire.pk, phones=["13900000001"]) == 0


def test_the_ledgers_filter_by_source(agent, areas, client, login, make_user):
    principal = _principal(agent)
    for source in ("symposium", "campaign", "proposal"):
        services.rectification_open(actor=principal, source=source, area=areas[GUDONG], problem=f"{source} 问题")
    c = login(make_user("district_admin", "350102000000"))
    r = c.get("/followups/ledgers/rectifications/?source=campaign")
    assert r.status_code == 200 and [x.source for x in r.context["page"]] == ["campaign"]
    assert "民意征集" in r.content.decode()
    assert {label for _v, label in Rectification.Source.choices} >= {"座谈会意见", "民意征集", "提案办理"}
