"""Trainings: registration by 统一社会信用代码 (the pilot-code rule), capacity, attendance,
materials through the shared upload checks, the feedback questionnaire and the figures."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import GULOU
from django.utils import timezone

from bianmin.core.errors import Conflict, Forbidden, Invalid, UnsupportedType
from bianmin.core.validators import make_credit_code
from bianmin.engagement import selectors, services
from bianmin.engagement.models import TrainingMaterial, TrainingRegistration


@pytest.fixture
def training(people, areas):
    return services.training_create(actor=people["gulou"], area=areas[GULOU], title="工程建设项目审批管理系统切换培训",
                                    starts_at=timezone.make_aware(datetime(2026, 12, 20, 14, 30)), capacity=5)


def _pilot() -> str:
    code = make_credit_code("350100", 404)
    return code[:17] + ("0" if code[17] != "0" else "1")


def _reg(training, actor=None, **kw):
    fields = dict(enterprise_name="榕城建设", credit_code=make_credit_code("350102", 1), contact_name="王建国",
                  contact_phone="13905910005", attendees=1)
    fields.update(kw)
    if actor is None:
        return services.training_register(actor=None, token=training.token, **fields)
    return services.training_register(actor=actor, training_id=training.pk, **fields)


def test_a_pilot_code_is_refused_online_and_taken_by_permitted_staff(people, training):
    with pytest.raises(Invalid) as exc:
        _reg(training, credit_code=_pilot())
    assert "如为早期试点代码，请由有权限的人员确认后录入" in exc.value.message and exc.value.field == "credit_code"
    with pytest.raises(Forbidden):
        _reg(training, credit_code=_pilot(), pilot_override=True)
    reg = _reg(training, people["gulou"], credit_code=_pilot(), pilot_override=True)
    assert reg.pilot_code and reg.pilot_confirmed_by == people["users"]["gulou"]
    with pytest.raises(Invalid):  # a malformed code is never overridden
        _reg(training, people["gulou"], credit_code="91350100ABCDEFGHI", pilot_override=True)


def test_registration_once_per_enterprise_and_within_capacity(training):
    _reg(training, attendees=3)
    with pytest.raises(Conflict) as exc:
        _reg(training, attendees=1)
    assert exc.value.message == "该企业已报名本次培训"
    with pytest.raises(Conflict) as exc:
        _reg(training, credit_code=make_credit_code("350102", 2), attendees=3)
    assert exc.value.message == "名额不足：剩余 2 人"
    assert TrainingRegistration.objects.count() == 1


def test_public_registration_page(training, client):
    r = client.post(f"/engagement/t/{training.token}/", {"enterprise_name": "闽江数字", "credit_code": "123",
                                                        "contact_name": "刘芳", "contact_phone": "13905910006"})
    assert r.status_code == 422 and "统一社会信用代码应为18位" in r.content.decode()
    r = client.post(f"/engagement/t/{training.token}/", {"enterprise_name": "闽江数字",
                                                        "credit_code": make_credit_code("350103", 2),
                                                        "contact_name": "刘芳", "contact_phone": "13905910006"})
    assert r.status_code == 200 and "报名成功" in r.content.decode()
    assert client.get("/engagement/t/nope/").status_code == 404


def test_feedback_goes_to_those_who_came_and_the_figures_count_it(people, training):
    from bianmin.followups import services as followups

    came = _reg(training, attendees=2)
    _reg(training, credit_code=make_credit_code("350102", 2), contact_phone="13905910006")
    services.training_attendance(actor=people["gulou"], training_id=training.pk, attended_ids=[came.pk])
    assert services.training_feedback_send(actor=people["gulou"], training_id=training.pk) == 1
    assert services.training_feedback_send(actor=people["gulou"], training_id=training.pk) == 0
    training.refresh_from_db()
    inv = training.questionnaire.invitations.get()
    assert inv.phone == "13905910005"
    followups.survey_answer(token=inv.token, answers={"1": 5, "2": 4, "3": "满意", "4": ""})
    f = selectors.training_figures(training)
    assert (f.enterprises, f.people, f.attended_enterprises, f.attended_people) == (2, 3, 1, 2)
    assert (f.attendance_rate, f.feedback_sent, f.feedback_answered, f.response_rate) == ("50.0%", 1, 1, "100.0%")
    assert f.scores[0][1] == "平均 5.00 分（1 人）" and f.scores[2][1] == "满意 1，基本满意 0，不满意 0"


def test_materials_pass_the_shared_upload_checks(people, training, tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    with pytest.raises(UnsupportedType):
        services.training_material_add(actor=people["gulou"], training_id=training.pk, file_name="讲义.exe",
                                       data=b"MZ\x90\x00rest")
    assert not TrainingMaterial.objects.exists()
    m = services.training_material_add(actor=people["gulou"], training_id=training.pk, file_name="讲义.pdf",
                                       data=b"%PDF-1.4 handout")
    assert m.file.content_type == "application/pdf"


def test_training_api_registration_and_figures(people, training, client, login):
    import json

    r = client.post(f"/api/v1/engagement/trainings/register/{training.token}",
                    data=json.dumps({"enterprise_name": "茶业", "credit_code": _pilot(), "contact_name": "林",
                                     "contact_phone": "13905910010"}), content_type="application/json")
    assert r.status_code == 422 and r.json()["field"] == "credit_code"
    c = login(people["users"]["gulou"])
    r = c.post(f"/api/v1/engagement/trainings/{training.pk}/registrations",
               data=json.dumps({"enterprise_name": "茶业", "credit_code": _pilot(), "contact_name": "林",
                                "contact_phone": "13905910010", "pilot_override": True}), content_type="application/json")
    assert r.status_code == 201 and r.json()["pilot_code"] is True and r.json()["contact_phone"] == "139****0010"
    body = c.get(f"/api/v1/engagement/trainings/{training.pk}").json()
    assert body["figures"]["enterprises"] == 1 and body["figures"]["pilot_codes"] == 1
