"""The work summary's number rules (wenming/stats/templatetags/stats_cn.py), as tables of cases.

cn_count: exact below 100; from 100 two significant digits kept, the rest cut (never rounded up) and
marked "余"; approximate figures from 1万 in 万 (from 1亿 in 亿); exact figures in 万 only when a
whole number of 万. cn_rate: "达100%" from 1; from 50% down to a multiple of 5 ("达…%以上" when cut);
below 50% "为…%" to the whole percent. Zero, negative, None and non-numbers: "" (the clause is left out).
"""

from decimal import Decimal

import pytest
from django.template import Context, Template

from wenming.stats.templatetags.stats_cn import (
    count_text,
    date_text,
    exact_text,
    hours_text,
    join_text,
    rate_text,
    rating_text,
    suffix_text,
)

COUNTS = [
    # left out
    (None, ""), (0, ""), (-1, ""), (-2043, ""), (0.4, ""), (True, ""), (False, ""), ("", ""), ("abc", ""),
    (float("nan"), ""), (float("inf"), ""), (10**40, ""), ([1], ""), ({"a": 1}, ""),
    # exact below 100
    (1, "1"), (7, "7"), (9, "9"), (10, "10"), (50, "50"), (57, "57"), (99, "99"),
    # from 100: two significant digits, the rest cut and marked 余
    (100, "100"), (105, "100余"), (120, "120"), (123, "120余"), (199, "190余"), (500, "500"), (820, "820"),
    (999, "990余"), (1000, "1000"), (2000, "2000"), (2043, "2000余"), (2300, "2300"), (2500, "2500"),
    (2800, "2800"), (2899, "2800余"), (4000, "4000"), (4012, "4000余"), (6245, "6200余"), (9999, "9900余"),
    # 万 and 亿
    (10000, "1万"), (10001, "1万余"), (16000, "16000"), (16500, "1.6万余"), (60000, "6万"),
    (60400, "6万余"), (68000, "68000"), (76412, "7.6万余"), (99999, "9.9万余"), (100000, "10万"),
    (123456, "12万余"), (1200000, "120万"), (1234567, "120万余"), (99999999, "9900万余"),
    (100000000, "1亿"), (123456789, "1.2亿余"), (5 * 10**9, "50亿"),
    # other number types
    (2043.0, "2000余"), (2500.5, "2500余"), (99.5, "99余"), (Decimal("76412"), "7.6万余"), ("2043", "2000余"),
]

RATES = [
    (None, ""), (0, ""), (0.0, ""), (-0.5, ""), ("x", ""), (True, ""),
    (0.004, "不足1%"), (0.01, "为1%"), (0.123, "为12%以上"), (0.3, "为30%"), (0.4999, "为49%以上"),
    (0.5, "达50%"), (0.55, "达55%"), (0.6667, "达65%以上"), (0.8, "达80%"), (0.85, "达85%"),
    (0.899, "达85%以上"), (0.9, "达90%"), (0.9001, "达90%以上"), (0.92, "达90%以上"), (0.95, "达95%"),
    (0.957, "达95%以上"), (0.999, "达95%以上"), (1.0, "达100%"), (1, "达100%"), (1.25, "达100%"),
    (Decimal("0.92"), "达90%以上"), ("0.92", "达90%以上"),
]

HOURS = [
    (None, ""), (0, ""), (0.0, ""), (-60.0, ""), (0.04, ""), (0.1, "0.1"), (1.5, "1.5"), (8.0, "8"),
    (12.5, "12.5"), (99.9, "99.9"), (100.0, "100"), (100.5, "100余"), (123.4, "120余"), (2500.0, "2500"),
    (2500.5, "2500余"), (32000.5, "3.2万余"), (76412.3, "7.6万余"), (120000.0, "12万"),
]


@pytest.mark.parametrize(("value", "expected"), COUNTS)
def test_cn_count(value, expected):
    assert count_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), RATES)
def test_cn_rate(value, expected):
    assert rate_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), HOURS)
def test_cn_hours(value, expected):
    assert hours_text(value) == expected


def test_the_table_covers_what_the_issue_asks():
    values = {v for v, _e in COUNTS if isinstance(v, int) and not isinstance(v, bool)}
    assert {0, 1, 9, 10, 99, 100, 120, 123, 999, 1000, 2043, 9999, 10000, 16000, 60000, 76412, 100000,
            123456789} <= values
    rates = {v for v, _e in RATES if not isinstance(v, str | bool | Decimal)}
    assert {None, 0, 0.5, 0.899, 0.9, 0.92, 0.999, 1.0} <= rates
    assert len(COUNTS) + len(RATES) >= 30


def test_approximation_never_claims_more_than_was_done():
    for n in [101, 149, 151, 999, 1999, 2043, 9999, 10999, 76412, 99999, 123456, 987654321]:
        text = count_text(n)
        assert text.endswith("余")
        shown = text.removesuffix("余")
        value = (float(shown[:-1]) * (10**8 if shown.endswith("亿") else 10**4)
                 if shown[-1] in "万亿" else float(shown))
        assert value < n
        assert value >= n * 0.9 - 1  # two significant digits: within 10% below


@pytest.mark.parametrize(("value", "expected"), [
    (None, ""), (0, ""), (4.83, "4.8"), (4.85, "4.9"), (5, "5"), (3.0, "3"), (-1, "")])
def test_cn_rating(value, expected):
    assert rating_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), [(None, ""), (0, ""), (6245, "6245"), (76412, "76412"), (2.5, "2.5")])
def test_cn_exact(value, expected):
    assert exact_text(value) == expected


def test_join_suffix_date():
    assert join_text([{"name": "理论宣讲"}, {"name": ""}, "文化惠民", None]) == "理论宣讲、文化惠民"
    assert join_text("not a list") == "" and join_text(None) == "" and join_text([]) == ""
    assert join_text(["甲", "乙"], "，") == "甲，乙"
    assert suffix_text("传思想习理论", "平台") == "传思想习理论平台"
    assert suffix_text("六大平台", "平台") == "六大平台"
    assert suffix_text(None, "平台") == "" and suffix_text("", "平台") == ""
    assert date_text("2026-03-05") == "2026年3月5日"
    assert date_text("2026-02-30") == "" and date_text(None) == "" and date_text(7) == ""


def test_filters_load_in_any_django_template():
    t = Template("{% load stats_cn %}{{ a|cn_count }}|{{ r|cn_rate }}|{{ z|cn_count }}|{{ h|cn_hours }}")
    assert t.render(Context({"a": 76412, "r": 0.92, "z": 0, "h": 2500.5})) == "7.6万余|达90%以上||2500余"
