import pytest
from hypothesis import given
from hypothesis import strategies as st

from bianmin.core.masking import mask_credit_code, mask_id_number, mask_mobile, mask_name, mask_text


def test_examples_from_the_standards():
    assert mask_id_number("350102199001011234") == "350102********1234"
    assert mask_id_number("35010219900101123X") == "350102********123X"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_credit_code("91350100M000100Y43") == "91350100******0Y43"
    assert mask_text("6222020200112233") == "6**************3"


@pytest.mark.parametrize("func", [mask_id_number, mask_mobile, mask_name, mask_credit_code, mask_text])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_input_gives_empty_output(func, value):
    assert func(value) == ""


@pytest.mark.parametrize(
    ("func", "value"),
    [(mask_id_number, "3501021990"), (mask_mobile, "1381234"), (mask_name, "张"), (mask_credit_code, "913501001234"),
     (mask_text, "ab")],
)
def test_short_input_is_masked_entirely(func, value):
    assert func(value) == "*" * len(value)


@given(st.from_regex(r"\A[0-9]{17}[0-9X]\Z"))
def test_id_number_mask_hides_birth_date_and_sequence(number):
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == "********"


@given(st.text(min_size=2, max_size=6, alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)))
def test_name_mask_keeps_only_the_first_character(name):
    masked = mask_name(name)
    assert masked[0] == name[0] and set(masked[1:]) == {"*"} and len(masked) == len(name)
