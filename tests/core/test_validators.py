from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.testing import TestClient

from bianmin.core.validators import (
    CREDIT_CHARSET,
    ID_PROVINCE_CODES,
    CreditCode,
    CreditCodePilotAllowed,
    IdNumber,
    Mobile,
    credit_code_check_char,
    credit_code_checksum_ok,
    id_number_birth_date,
    make_credit_code,
    make_id_number,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
)


def error_code(func, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value.code


# --- 身份证号码 --------------------------------------------------------------------------------

area_codes = st.builds(lambda p, rest: p + rest, st.sampled_from(sorted(ID_PROVINCE_CODES)),
                       st.from_regex(r"\A[0-9]{4}\Z"))
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
id_numbers = st.builds(make_id_number, area_codes, births, st.integers(0, 999))


@given(id_numbers)
def test_every_generated_id_number_is_valid(number):
    assert validate_id_number(number) == number


@given(id_numbers, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_of_an_id_number_fails(number, position, char):
    changed = number[:position] + char + number[position + 1:]
    if changed == number:
        return
    with pytest.raises(ValidationError):
        validate_id_number(changed)


def test_id_number_known_example_and_check_character():
    assert validate_id_number("350102199001011238") == "350102199001011238"
    assert error_code(validate_id_number, "350102199001011239") == "id_number_checksum"
    with pytest.raises(ValidationError, match="身份证号码校验位错误"):
        validate_id_number("350102199001011239")


def test_lowercase_x_is_accepted_and_stored_upper_case():
    number = make_id_number("350102", date(1990, 1, 1), 18)
    assert number.endswith("X")
    assert validate_id_number(number.lower()) == number
    assert validate_id_number(f"  {number.lower()} ") == number


def test_id_number_birth_date_must_be_a_real_date():
    first17 = "35010219900230123"  # 30 February
    number = first17 + "0"
    assert error_code(validate_id_number, number) == "id_number_birth_date"
    assert error_code(validate_id_number, "350102189912311230") == "id_number_birth_date"  # before 1900


def test_id_number_birth_date_may_not_be_in_the_future():
    tomorrow = timezone.localdate() + timedelta(days=1)
    number = make_id_number("350102", tomorrow, 1)
    with pytest.raises(ValidationError, match="出生日期不能晚于今天") as info:
        validate_id_number(number)
    assert info.value.code == "id_number_birth_future"
    today = make_id_number("350102", timezone.localdate(), 1)
    assert validate_id_number(today) == today


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "id_number_required"),
        ("35010219900101018", "id_number_length"),
        ("350102900101123", "id_number_length"),  # old 15-digit numbers are not taken
        ("35010219900101018XX", "id_number_length"),
        ("3501021990010101A4", "id_number_format"),
        ("X50102199001010184", "id_number_format"),
        ("000102199001010184", "id_number_area"),
    ],
)
def test_id_number_shape_errors(value, code):
    assert error_code(validate_id_number, value) == code


def test_id_number_birth_date_helper():
    assert id_number_birth_date(make_id_number("350102", date(1985, 7, 9), 3)) == date(1985, 7, 9)


# --- 统一社会信用代码 ----------------------------------------------------------------------------

credit_prefixes = st.builds(
    lambda head, area, body: head + area + body,
    st.text(CREDIT_CHARSET, min_size=2, max_size=2),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(CREDIT_CHARSET, min_size=9, max_size=9),
)
credit_codes = credit_prefixes.map(lambda p: p + credit_code_check_char(p))


@given(credit_codes)
def test_every_generated_credit_code_is_valid(code):
    assert validate_credit_code(code) == code


@given(credit_codes, st.integers(0, 17), st.sampled_from(CREDIT_CHARSET))
def test_any_single_character_change_of_a_credit_code_fails(code, position, char):
    changed = code[:position] + char + code[position + 1:]
    if changed == code:
        return
    with pytest.raises(ValidationError):
        validate_credit_code(changed)


@pytest.mark.parametrize("code", ["914403001922038216", "91330100799655058B", "91350100M000100Y43"])
def test_real_credit_codes_pass(code):
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code


def test_make_credit_code_gives_valid_codes():
    code = make_credit_code("350102", 42)
    assert code.startswith("91350102")
    assert validate_credit_code(code) == code
    assert validate_credit_code(make_credit_code(authority="5", category="2")) .startswith("52")


def test_checksum_only_failure_is_a_distinct_overridable_error():
    good = make_credit_code("350100", 7)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValidationError, match="校验位错误") as info:
        validate_credit_code(wrong)
    assert info.value.code == "credit_code_checksum"
    assert validate_credit_code(wrong, allow_pilot_override=True) == wrong
    assert not credit_code_checksum_ok(wrong)
    assert credit_code_checksum_ok(good)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "credit_code_required"),
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100YI3", "credit_code_format"),  # I is not in the character set
        ("913501O0M000100Y43", "credit_code_format"),  # letter in the area code
    ],
)
def test_credit_code_shape_errors_cannot_be_overridden(value, code):
    assert error_code(validate_credit_code, value) == code
    assert error_code(validate_credit_code, value, allow_pilot_override=True) == code


# --- mobile ------------------------------------------------------------------------------------


@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z"))
def test_every_mainland_mobile_is_valid(number):
    assert validate_mobile(number) == number


def test_mobile_normalises_spaces_and_dashes():
    assert validate_mobile(" 138 1234-5678 ") == "13812345678"


@pytest.mark.parametrize("value", ["", "12812345678", "1381234567", "138123456789", "+8613812345678", "1381234567a"])
def test_bad_mobiles(value):
    with pytest.raises(ValidationError) as info:
        validate_mobile(value)
    assert "手机号码" in info.value.messages[0]


# --- in ninja schemas -----------------------------------------------------------------------


class PersonIn(Schema):
    id_number: IdNumber
    mobile: Mobile
    credit_code: CreditCode | None = None
    pilot_code: CreditCodePilotAllowed | None = None


def _client() -> TestClient:
    from bianmin.api import on_validation_error

    api = NinjaAPI(urls_namespace="validators-test")
    api.add_exception_handler(NinjaValidationError, on_validation_error)

    @api.post("/people")
    def create(request, payload: PersonIn):
        return {"id_number": payload.id_number, "pilot_code": payload.pilot_code}

    return TestClient(api)


def test_schema_types_normalise_valid_values():
    number = make_id_number("350102", date(1990, 1, 1), 18)
    bad_check = make_credit_code()[:17] + "0"
    response = _client().post("/people", json={"id_number": number.lower(), "mobile": "13812345678",
                                               "pilot_code": bad_check})
    assert response.status_code == 200
    assert response.json() == {"id_number": number, "pilot_code": bad_check}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"id_number": "350102199001011239", "mobile": "13812345678"}, "id_number", "id_number：身份证号码校验位错误"),
        ({"id_number": "350102199001011238", "mobile": "1381234"}, "mobile", "mobile：手机号码格式错误"),
        ({"id_number": "350102199001011238", "mobile": "13812345678", "credit_code": "91350100M000100Y44"},
         "credit_code", "credit_code：统一社会信用代码校验位错误"),
    ],
)
def test_schema_types_give_422_naming_the_field_in_chinese(body, field, message):
    response = _client().post("/people", json=body)
    assert response.status_code == 422
    data = response.json()
    assert data["field"] == field
    assert data["message"].startswith(message)


def test_full_width_input_is_normalised_but_other_scripts_digits_are_refused():
    number = make_id_number("350102", date(1990, 1, 1), 18)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number.lower())  # ３５０…ｘ
    assert validate_id_number(full_width) == number
    assert validate_mobile("１３８１２３４５６７８") == "13812345678"
    brahmi_one = "\U00011067"  # a digit to Python's \d and int(), not to GB 11643
    with pytest.raises(ValidationError):
        validate_id_number(brahmi_one + number[1:])
    with pytest.raises(ValidationError):
        validate_mobile("1381234567" + brahmi_one)
