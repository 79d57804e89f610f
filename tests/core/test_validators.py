"""ID numbers (GB 11643), division codes (统计用区划代码), phones and credit codes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from tests.factories import birth_for_age, id_check_digit, make_id_number, wrong_checksum
from wenming.core.errors import InvalidInput
from wenming.core.validators import (
    birth_date_and_gender,
    division_level,
    validate_division_code,
    validate_id_number,
    validate_phone,
    validate_uscc,
)


def code_of(value, fn, *args, **kwargs) -> str:
    with pytest.raises(InvalidInput) as exc:
        fn(value, *args, **kwargs)
    assert exc.value.message and any("\u4e00" <= c <= "\u9fff" for c in exc.value.message), "message in Chinese"
    return exc.value.code


# --- ID numbers -------------------------------------------------------------------------------


def test_the_synthetic_check_digit_agrees_with_python_stdnum():
    for n in range(200):
        number = make_id_number(date(1950, 1, 1) + timedelta(days=137 * n))
        assert ric.calc_check_digit(number) == number[-1]


def test_a_known_published_example_is_valid():
    # The example number of GB 11643-1999's annex (Beijing 东城区, born 1949-12-31).
    assert validate_id_number("11010519491231002X") == "11010519491231002X"


def test_valid_number_is_normalised():
    number = make_id_number(date(1990, 3, 4))
    assert validate_id_number(f"  {number[:6]} {number[6:]} ") == number


def test_lower_case_x_check_digit_is_accepted_and_upper_cased():
    first17 = next(n[:17] for n in (make_id_number(date(1991, 1, 1), seq=s) for s in range(1, 999))
                   if n.endswith("X"))
    assert validate_id_number(first17 + "x") == first17 + "X"


@pytest.mark.parametrize("birth", [date(1936, 7, 1), date(1950, 1, 1), date(1982, 12, 31)])
def test_an_older_persons_number_from_a_county_code_created_after_their_birth_is_valid(birth):
    # 430502 (双清区) dates from 1983, yet it is on the cards of people born long before:
    # the code is where the card was first issued, not where the holder was born.
    number = make_id_number(birth, region="430502")
    assert validate_id_number(number) == number


def test_wrong_checksum():
    assert code_of(wrong_checksum(make_id_number()), validate_id_number) == "id_number_checksum"


@pytest.mark.parametrize("length", [15, 17, 19, 20])
def test_wrong_length(length):
    number = (make_id_number() * 2)[:length]
    assert code_of(number, validate_id_number) == "id_number_format"


@pytest.mark.parametrize("value", ["43050219900101ABCD", "4305021990010112X3", "X30502199001011234",
                                   "43050219900101123٤", "430502199001011一三"])
def test_letters_or_other_digits(value):
    assert code_of(value, validate_id_number) == "id_number_format"


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_full_width_digits_from_chinese_input_methods_are_the_same_number():
    number = make_id_number()
    assert validate_id_number(number.translate(FULL_WIDTH)) == number
    assert validate_phone("１３８１２３４１２３４") == "13812341234"
    assert validate_division_code("４３０５０２００１００１", "station") == "430502001001"


def test_missing():
    assert code_of("", validate_id_number) == "id_number_missing"
    assert code_of(None, validate_id_number) == "id_number_missing"
    assert code_of("   ", validate_id_number) == "id_number_missing"


def test_future_birth_date():
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert code_of(make_id_number(tomorrow), validate_id_number) == "id_number_future_birth"


def test_birth_today_is_not_in_the_future():
    today = date(2024, 5, 1)
    assert validate_id_number(make_id_number(today), today=today)


@pytest.mark.parametrize("birth", ["19901301", "19900230", "19900000", "20230229"])
def test_impossible_birth_date(birth):
    first17 = f"430502{birth}123"
    assert code_of(first17 + id_check_digit(first17), validate_id_number) == "id_number_component"


@pytest.mark.parametrize("region", ["000000", "999999", "990101"])
def test_unknown_region(region):
    first17 = f"{region}19900101123"
    assert code_of(first17 + id_check_digit(first17), validate_id_number) == "id_number_component"


def test_birth_date_and_gender_come_from_the_number():
    assert birth_date_and_gender(make_id_number(date(1990, 3, 4), gender="male")) == (date(1990, 3, 4), "male")
    assert birth_date_and_gender(make_id_number(date(2001, 12, 31), gender="female")) == (date(2001, 12, 31), "female")


@given(birth=st.dates(min_value=date(1900, 1, 1), max_value=date.today()), seq=st.integers(1, 999))
def test_every_synthetic_number_is_valid(birth, seq):
    number = make_id_number(birth, seq=seq)
    assert validate_id_number(number) == number
    assert birth_date_and_gender(number)[0] == birth


@given(birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2010, 1, 1)), pos=st.integers(0, 17),
       digit=st.sampled_from("0123456789"))
def test_any_single_digit_error_is_caught(birth, pos, digit):
    number = make_id_number(birth, seq=123)
    if number[pos] == digit:
        return
    with pytest.raises(InvalidInput):
        validate_id_number(number[:pos] + digit + number[pos + 1:])


def test_birth_for_age_helper():
    today = date(2024, 3, 1)
    assert birth_for_age(14, today=today) == date(2010, 3, 1)
    assert birth_for_age(18, days=1, today=today) == date(2006, 3, 2)


# --- Division codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "level"), [
    ("430502000000", "centre"), ("430502001000", "institute"), ("430502001001", "station"),
    ("430502100200", "station"),
])
def test_division_level(code, level):
    assert division_level(code) == level


def test_valid_division_codes():
    assert validate_division_code(" 430502000000 ", "centre") == "430502000000"
    assert validate_division_code("430502001000", "institute", "430502000000") == "430502001000"
    assert validate_division_code("430502001201", "station", "430502001000") == "430502001201"


@pytest.mark.parametrize("code", ["43050200100", "4305020010010", "", None, "43050200100a", "43050200100٤",
                                  "430502-01001"])
def test_division_code_format(code):
    assert code_of(code, validate_division_code, "station") == "division_code_format"


@pytest.mark.parametrize("code", ["000502001001", "430002001001", "430500001001"])
def test_division_code_with_a_zero_level(code):
    assert code_of(code, validate_division_code, "station") == "division_code_format"


@pytest.mark.parametrize(("code", "kind"), [
    ("430502001000", "station"), ("430502001001", "institute"), ("430502000000", "institute"),
    ("430502001001", "centre"),
])
def test_division_code_level_must_match_the_node_kind(code, kind):
    assert code_of(code, validate_division_code, kind) == "division_code_level"


def test_division_code_must_lie_under_the_parent():
    assert code_of("430502002001", validate_division_code, "station", "430502001000") == "division_code_parent"
    assert code_of("430503001000", validate_division_code, "institute", "430502000000") == "division_code_parent"


# --- Phones and credit codes ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "normal"), [
    ("13812341234", "13812341234"), ("138 1234 1234", "13812341234"), ("138-1234-1234", "13812341234"),
    ("+8613812341234", "13812341234"), ("19912341234", "19912341234"),
])
def test_valid_phones(value, normal):
    assert validate_phone(value) == normal


@pytest.mark.parametrize("value", ["", None, "1381234123", "138123412345", "12812341234", "23812341234",
                                   "1381234123a", "010-12345678", "+1 2025550123"])
def test_invalid_phones(value):
    assert code_of(value, validate_phone) == "phone_format"


def test_credit_code():
    assert validate_uscc("91110000600037341L") == "91110000600037341L"
    assert code_of("91110000600037341X", validate_uscc) == "uscc_invalid"
    assert code_of("", validate_uscc) == "uscc_invalid"


@given(first17=st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_agrees_with_python_stdnum(first17):
    from wenming.core.validators import id_check_digit

    assert id_check_digit(first17) == ric.calc_check_digit(first17 + "0")  # stdnum drops the last character
