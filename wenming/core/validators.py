"""Validators for codes used across the platform (division codes, ID numbers, phones, USCC)."""

import re
import unicodedata
from datetime import date
from functools import lru_cache

from django.utils import timezone
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import uscc

from .errors import InvalidInput

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")

LEVEL_NAMES = {"centre": "中心（区县）", "institute": "所（乡镇/街道）", "station": "站（村/社区）"}


def ascii_form(value) -> str:
    """Full-width digits, letters and spaces (what Chinese input methods often type) as ASCII.

    Without this, `\\d` would accept "４３０５…" and the same number would be stored (and
    blind-indexed) twice, once per form."""
    return unicodedata.normalize("NFKC", value or "")


def division_level(code: str) -> str:
    """The level a 12-digit 统计用区划代码 denotes: centre (county), institute (township) or station."""
    if code[6:] == "000000":
        return "centre"
    if code[9:] == "000":
        return "institute"
    return "station"


def validate_division_code(code: str, kind: str, parent_code: str | None = None) -> str:
    code = ascii_form(code).strip()
    if not re.fullmatch(r"[0-9]{12}", code):
        raise InvalidInput("区划代码须为12位数字。", code="division_code_format")
    if code[:2] == "00" or code[2:4] == "00" or code[4:6] == "00":
        raise InvalidInput("区划代码的省、市、县三级不能为00。", code="division_code_format")
    level = division_level(code)
    if level != kind:
        raise InvalidInput(
            f"区划代码 {code} 属于“{LEVEL_NAMES[level]}”一级，与节点类型“{LEVEL_NAMES.get(kind, kind)}”不符。",
            code="division_code_level",
        )
    if parent_code:
        prefix = parent_code[:6] if kind == "institute" else parent_code[:9]
        if not code.startswith(prefix):
            raise InvalidInput(
                f"区划代码 {code} 不在上级节点（{parent_code}）的区划之下。", code="division_code_parent"
            )
    return code


def validate_id_number(value: str, today: date | None = None) -> str:
    """A mainland resident ID number (18 digits, GB 11643 checksum); returns it normalised."""
    number = ascii_form(value).strip().upper().replace(" ", "")
    if not number:
        raise InvalidInput("请填写身份证号码。", code="id_number_missing")
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise InvalidInput("身份证号码须为18位，前17位为数字，末位为数字或X。", code="id_number_format")
    # Not ric.validate(): it also refuses a region code created after the birth year, but the
    # code is the place of first issue (a 双清区 430502 number of someone born in 1950 is real).
    # The checksum and date are worked out here: stdnum's are 3× slower, felt in a 100,000-row import.
    if id_check_digit(number) != number[-1]:
        raise InvalidInput("身份证号码校验位不正确，请核对。", code="id_number_checksum")
    try:
        birth = _birth_date(number)
    except ValueError:
        raise InvalidInput("身份证号码中的出生日期无效。", code="id_number_component")
    if not _known_region(number[:6]):
        raise InvalidInput("身份证号码中的地区码无效。", code="id_number_component")
    if birth > (today or timezone.localdate()):
        raise InvalidInput("身份证号码中的出生日期晚于今天。", code="id_number_future_birth")
    return number


@lru_cache(maxsize=4096)  # a static table: an import of 100,000 rows asks about a handful of codes
def _known_region(code: str) -> bool:
    """Whether a 6-digit administrative code is (or was, at any time) a known county-level area."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    return bool(info.get("county"))


ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # GB 11643 (ISO 7064 MOD 11-2)


def id_check_digit(number: str) -> str:
    """The check digit of an ID number's first 17 digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11]


def _birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def birth_date_and_gender(number: str) -> tuple[date, str]:
    """Of a validated ID number."""
    return _birth_date(number), ("male" if int(number[16]) % 2 else "female")


def validate_phone(value: str) -> str:
    phone = re.sub(r"[\s-]", "", ascii_form(value))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.fullmatch(phone):
        raise InvalidInput("手机号码须为11位中国大陆手机号（如 13812345678）。", code="phone_format")
    return phone


def validate_uscc(value: str) -> str:
    code = ascii_form(value).strip().upper()
    try:
        return uscc.validate(code)
    except stdnum_errors.ValidationError:
        raise InvalidInput("统一社会信用代码无效，请核对（18位，含校验位）。", code="uscc_invalid")


def check_coordinates(lat, lng) -> None:
    """A position is both coordinates or neither, inside the valid ranges."""
    if (lat is None) != (lng is None):
        raise InvalidInput("经纬度须同时填写或同时留空。", code="coordinates_partial")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("经纬度超出范围。", code="coordinates_invalid")
