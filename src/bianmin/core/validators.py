"""Validators for the identifiers the platform takes in (see domain/STANDARDS.md).

Each ``validate_*`` function returns the normalised value (stripped, upper-case check
character) and raises ``django.core.exceptions.ValidationError`` with a Chinese message and a
stable ``code`` otherwise, so it serves model fields, forms and services alike. For ninja
schemas use the ``Annotated`` types at the bottom (``IdNumber``, ``CreditCode``, ``Mobile``): a
bad value becomes a 422 naming the field, with the same Chinese message.

The ``make_*`` helpers build valid numbers for tests and demo data.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils import timezone
from pydantic import AfterValidator


def _normalise(value: str | None) -> str:
    """Full-width characters typed with a Chinese input method (１２３ｘ) become ASCII; the
    patterns below then accept ASCII only (Python's \\d would take any script's digits)."""
    return unicodedata.normalize("NFKC", value or "").strip().upper()


# --- 居民身份证号码 (GB 11643-1999) -----------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# First two digits of the area code: the province-level units of GB/T 2260, plus 81/82/83 used
# by the residence permits of Hong Kong, Macao and Taiwan residents.
ID_PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82", "83",
    }
)
# Nobody alive was born before this; older dates are typing mistakes.
ID_EARLIEST_BIRTH = date(1900, 1, 1)

_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # not \d: that matches any script's digits


def id_number_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def validate_id_number(value: str) -> str:
    """A valid 18-character 居民身份证号码, returned with an upper-case X."""
    number = _normalise(value)
    if not number:
        raise ValidationError("请填写身份证号码", code="id_number_required")
    if len(number) != 18:
        raise ValidationError("身份证号码应为18位", code="id_number_length")
    if not _ID_SHAPE.fullmatch(number):
        raise ValidationError("身份证号码格式错误：前17位应为数字，最后一位为数字或X", code="id_number_format")
    if number[:2] not in ID_PROVINCE_CODES:
        raise ValidationError("身份证号码中的地区码无效", code="id_number_area")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("身份证号码中的出生日期无效", code="id_number_birth_date") from None
    if birth > timezone.localdate():
        raise ValidationError("身份证号码中的出生日期不能晚于今天", code="id_number_birth_future")
    if birth < ID_EARLIEST_BIRTH:
        raise ValidationError("身份证号码中的出生日期无效", code="id_number_birth_date")
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError("身份证号码校验位错误", code="id_number_checksum")
    return number


def make_id_number(area_code: str, birth: date, seq: int) -> str:
    """A valid ID number: area code (6 digits), birth date, sequence 0–999 (odd = male)."""
    if not (len(area_code) == 6 and area_code.isdigit()):
        raise ValueError("area_code must be 6 digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be within 0..999")
    first17 = f"{area_code}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def id_number_birth_date(number: str) -> date:
    """The birth date in a validated ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


# --- 统一社会信用代码 (GB 32100-2015) -----------------------------------------------------------

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CHARSET}]{{2}}[0-9]{{6}}[{CREDIT_CHARSET}]{{10}}$")
CREDIT_CHECKSUM_CODE = "credit_code_checksum"

# GB 11714 organisation code (the entity identifier inside a credit code); only used to make
# realistic demo codes: the platform does not reject codes whose entity identifier fails it,
# because individual businesses (92…) carry identifiers that do not follow GB 11714.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str, *, allow_pilot_override: bool = False) -> str:
    """A valid 统一社会信用代码, upper-cased.

    A code whose only fault is its check character raises a ValidationError with code
    ``credit_code_checksum``: some early Fujian pilot codes were legally issued that way. A
    caller whose user may override (and who records that they did) passes
    ``allow_pilot_override=True`` and gets the code back; every other fault is always an error.
    """
    code = _normalise(value)
    if not code:
        raise ValidationError("请填写统一社会信用代码", code="credit_code_required")
    if len(code) != 18:
        raise ValidationError("统一社会信用代码应为18位", code="credit_code_length")
    if not _CREDIT_SHAPE.fullmatch(code):
        raise ValidationError(
            "统一社会信用代码格式错误：只能包含数字和除 I、O、S、V、Z 以外的大写字母，第3至8位为行政区划码",
            code="credit_code_format",
        )
    if credit_code_check_char(code[:17]) != code[17] and not allow_pilot_override:
        raise ValidationError(
            "统一社会信用代码校验位错误（如为早期试点代码，请由有权限的人员确认后录入）",
            code=CREDIT_CHECKSUM_CODE,
        )
    return code


def credit_code_checksum_ok(code: str) -> bool:
    """Whether a format-valid code also passes the check (for recording a pilot override)."""
    return credit_code_check_char(code[:17]) == code[17]


def _org_code(serial8: str) -> str:
    total = sum(_ORG_VALUES.index(c) * w for c, w in zip(serial8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return serial8 + {10: "X", 11: "0"}.get(check, str(check))


def make_credit_code(area_code: str = "350100", serial: int = 1, *, authority: str = "9", category: str = "1") -> str:
    """A valid credit code: registering authority, entity category, area code, a GB 11714
    organisation code built from ``serial``, and the check character. Defaults give an
    enterprise (91…) registered in Fuzhou."""
    if not (len(area_code) == 6 and area_code.isdigit()):
        raise ValueError("area_code must be 6 digits")
    if authority not in CREDIT_CHARSET or category not in CREDIT_CHARSET:
        raise ValueError("authority and category must come from the GB 32100 character set")
    first17 = f"{authority}{category}{area_code}{_org_code(f'{serial:08d}'[-8:])}"
    return first17 + credit_code_check_char(first17)


# --- mobile -----------------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def validate_mobile(value: str) -> str:
    """An 11-digit mainland mobile number. Spaces and dashes people type are removed; the
    carrier is not inferred (numbers move between carriers)."""
    number = re.sub(r"[\s-]", "", _normalise(value))
    if not number:
        raise ValidationError("请填写手机号码", code="mobile_required")
    if not _MOBILE.fullmatch(number):
        raise ValidationError("手机号码格式错误：应为1开头的11位数字", code="mobile_format")
    return number


# --- dates the platform takes in ---------------------------------------------------------------

# A day a filter, a form or a system sends: the platform's records lie far inside this range, and
# a day outside it (9999-12-31, 0001-01-01) overflows the first "+ 1 day" or timezone shift made
# from it (a 500). Refused with a Chinese message instead.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)
DAY_RANGE_MESSAGE = f"日期应在 {EARLIEST_DAY:%Y-%m-%d} 至 {LATEST_DAY:%Y-%m-%d} 之间"


def validate_day(value: date) -> date:
    """``value`` (a date or a datetime) when it lies within the platform's range of days."""
    if value is None:  # an optional day left out
        return value
    day = value.date() if hasattr(value, "hour") else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(DAY_RANGE_MESSAGE, code="day_range")
    return value


def parse_day(raw: str | None, *, field: str, default: date | None = None) -> date | None:
    """A day typed as YYYY-MM-DD into a page's filter or an export's parameters: ``default``
    when empty; a 422 (``Invalid``) naming ``field`` when malformed or out of range."""
    from bianmin.core.errors import Invalid

    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        return validate_day(date.fromisoformat(raw))
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD", field=field) from None
    except ValidationError as exc:
        raise Invalid(exc.messages[0], field=field) from None


# --- pydantic / ninja types ----------------------------------------------------------------------


def _as_pydantic(validator):
    """Turn a Django validator into a pydantic one: pydantic reports ValueError as a
    ``value_error`` whose text the API's error handler passes on as the message."""

    def run(value: str) -> str:
        try:
            return validator(value)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None

    run.__name__ = validator.__name__
    return run


def _credit_code_format_only(value: str) -> str:
    return validate_credit_code(value, allow_pilot_override=True)


IdNumber = Annotated[str, AfterValidator(_as_pydantic(validate_id_number))]
Mobile = Annotated[str, AfterValidator(_as_pydantic(validate_mobile))]
CreditCode = Annotated[str, AfterValidator(_as_pydantic(validate_credit_code))]
# Accepts a code that fails only its check character: for schemas whose service decides, with
# the caller's permission, whether to take it as a pilot code (and records the override).
CreditCodePilotAllowed = Annotated[str, AfterValidator(_as_pydantic(_credit_code_format_only))]
Day = Annotated[date, AfterValidator(_as_pydantic(validate_day))]
