import pytest
from conftest import GUDONG

from bianmin.appeals.models import Appeal, AppealEvent, Status
from bianmin.core.errors import Invalid, NotFound
from bianmin.core.models import AuditEntry

from .conftest import CREDIT_CODE, ID_NUMBER


def test_staff_registration_makes_the_receiver_the_owner(register, clerk):
    appeal = register(clerk, id_number=ID_NUMBER.lower()[:-1] + ID_NUMBER[-1].lower())
    assert appeal.number.startswith("SQ") and len(appeal.number) == 18
    # 首接负责: whoever took it in owns it until it is reassigned
    assert appeal.first_receiver == clerk and appeal.owner == clerk
    assert appeal.status == Status.ASSIGNED
    assert appeal.id_number == ID_NUMBER
    kinds = list(appeal.events.values_list("kind", flat=True))
    assert kinds == [AppealEvent.Kind.REGISTERED, AppealEvent.Kind.ASSIGNED]
    assert AuditEntry.objects.filter(target_type="appeals.appeal", target_id=str(appeal.pk), action="create").exists()
    assert appeal.due_date > appeal.registered_at.date()


def test_citizen_submission_waits_for_assignment(register):
    appeal = register(None, channel="web")
    assert appeal.status == Status.REGISTERED and appeal.owner is None and appeal.first_receiver is None


@pytest.mark.parametrize("kind", ["report", "suggestion"])
def test_anonymous_allowed_for_reports_and_suggestions(register, clerk, kind):
    appeal = register(clerk, kind=kind, party_type="anonymous", name="张三", mobile="13812345678")
    assert appeal.name == "" and appeal.mobile == ""


@pytest.mark.parametrize("kind", ["consult", "help", "complaint"])
def test_anonymous_refused_for_other_kinds(register, clerk, kind):
    with pytest.raises(Invalid) as exc:
        register(clerk, kind=kind, party_type="anonymous")
    assert "匿名" in exc.value.message
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("field,value,needle", [
    ("mobile", "12345", "手机号码"),
    ("id_number", "350102198506011230", "校验位"),
    ("title", "  ", "标题"),
    ("content", "", "内容"),
])
def test_bad_person_fields_are_refused_in_chinese(register, clerk, field, value, needle):
    with pytest.raises(Invalid) as exc:
        register(clerk, **{field: value})
    assert needle in exc.value.message
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()


def test_enterprise_needs_a_valid_credit_code(register, clerk):
    with pytest.raises(Invalid) as exc:
        register(clerk, party_type="enterprise", enterprise_name="福州某某科技有限公司", credit_code="91350100M00010000X")
    assert exc.value.field == "credit_code"
    appeal = register(clerk, party_type="enterprise", enterprise_name="福州某某科技有限公司", credit_code=CREDIT_CODE.lower())
    assert appeal.credit_code == CREDIT_CODE and appeal.requires_pre_contact


def test_clerk_cannot_register_outside_their_area(register, guxi_clerk):
    with pytest.raises(NotFound):
        register(guxi_clerk)


def test_script_in_text_is_stored_as_text(register, clerk):
    appeal = register(clerk, title="<script>alert(1)</script>", content="<b>粗体</b>")
    appeal.refresh_from_db()
    assert appeal.title == "<script>alert(1)</script>"


def test_numbers_are_unique(register, clerk):
    numbers = {register(clerk).number for _ in range(5)}
    assert len(numbers) == 5


def test_area_fixture(areas):
    assert GUDONG in areas
