"""Filters for writing figures the way Chinese work reports do (工作总结的数字写法).

Used by the work summary's templates (`stats/summary_default.txt` and a district's own wording,
rendered in the sandbox of `wenming.stats.narrative`) and by any page: `{% load stats_cn %}`.

Every filter returns "" for a figure that is zero, negative, missing or not a number, so that a
template's `{% if %}` — or the empty text itself — leaves the clause out: a report never says
"开展活动0场" and never makes a figure up. No filter ever raises.

The rules (the table of cases is in tests/stats/test_narrative_rounding.py):

`cn_count` — counts of 场次/人次/人/条/篇/支:
  * below 100: exact ("7", "99");
  * from 100: the first two significant digits are kept and the rest cut off (never rounded up,
    so the report never claims more than was done); when something was cut off, "余" follows
    ("2043" → "2000余", "123" → "120余", "4012" → "4000余", "9999" → "9900余"); when nothing
    was cut off the number is exact ("2500", "2300", "120", "16000");
  * 万 and 亿: an approximate figure from 10,000 is written in 万 ("76412" → "7.6万余",
    "123456" → "12万余"), from 100,000,000 in 亿 ("1.2亿余"); an exact figure is written in 万
    only when it is a whole number of 万 ("60000" → "6万", "100000" → "10万") and otherwise in
    digits ("16000" → "16000") — the two forms the seed reports use.
`cn_rate` — a rate between 0 and 1 (完成率):
  * 100% or more: "达100%";
  * from 50%: down to a multiple of 5%, "达…%" when exact and "达…%以上" otherwise
    (0.92 → "达90%以上", 0.957 → "达95%以上", 0.9 → "达90%", 0.999 → "达95%以上");
  * below 50% a report does not boast: "为…%" to the whole percent below, "以上" when cut
    (0.3 → "为30%", 0.123 → "为12%以上"), and "不足1%" under one percent.
`cn_hours` — hours (one decimal in the figures): below 100 to one decimal ("12.5", "8"); from 100
  like `cn_count` on the whole hours, with "余" when a fraction was cut ("2500.5" → "2500余").
`cn_rating` — mean stars, one decimal ("4.83" → "4.8").
`cn_exact` — a count without rounding ("6245").
`cn_join` — names joined with "、" (or the given separator); dicts give their "name".
`cn_suffix` — adds a suffix unless the text already ends with it ("传思想习理论" → "传思想习理论平台").
`cn_date` — "2026年3月5日" from a date or an ISO date text.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

WAN = 10_000
YI = 100_000_000
EXACT_BELOW = 100
LIMIT = Decimal(10) ** 30  # beyond any real figure: treated as not a number


def _number(value) -> Decimal | None:
    """A finite Decimal, or None for anything that is not a number (bools included)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, float):
            number = Decimal(repr(value))
        elif isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, str) and 0 < len(value.strip()) <= 40:
            number = Decimal(value.strip())
        else:
            return None
    except (InvalidOperation, ValueError, TypeError):
        return None
    if not number.is_finite() or abs(number) >= LIMIT:
        return None
    return number


def _plain(number: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 7.60 → "7.6", 6E+0 → "6"."""
    text = f"{number.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _in_units(kept: int, approximate: bool) -> str:
    if kept >= YI:
        return _plain(Decimal(kept) / YI) + "亿"
    if kept >= WAN and (approximate or kept % WAN == 0):
        return _plain(Decimal(kept) / WAN) + "万"
    return str(kept)


def count_text(value) -> str:
    number = _number(value)
    if number is None or number <= 0:
        return ""
    whole = int(number.to_integral_value(rounding=ROUND_FLOOR))
    cut = number != whole
    if whole <= 0:
        return ""
    if whole < EXACT_BELOW:
        return f"{whole}余" if cut else str(whole)
    unit = 10 ** (len(str(whole)) - 2)
    kept = whole // unit * unit
    approximate = cut or kept != whole
    return _in_units(kept, approximate) + ("余" if approximate else "")


def rate_text(value) -> str:
    number = _number(value)
    if number is None or number <= 0:
        return ""
    if number >= 1:
        return "达100%"
    percent = number * 100
    if percent >= 50:
        step = int(percent // 5) * 5
        return f"达{step}%" if percent == step else f"达{step}%以上"
    if percent < 1:
        return "不足1%"
    whole = int(percent.to_integral_value(rounding=ROUND_FLOOR))
    return f"为{whole}%" if percent == whole else f"为{whole}%以上"


def hours_text(value) -> str:
    number = _number(value)
    if number is None or number <= 0:
        return ""
    if number < EXACT_BELOW:
        tenth = number.quantize(Decimal("0.1"), rounding=ROUND_FLOOR)
        return _plain(tenth) if tenth > 0 else ""
    return count_text(number)


def rating_text(value) -> str:
    number = _number(value)
    if number is None or number <= 0:
        return ""
    return _plain(number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def exact_text(value) -> str:
    number = _number(value)
    if number is None or number <= 0:
        return ""
    return _plain(number)


def join_text(items, separator="、") -> str:
    if isinstance(items, str) or not hasattr(items, "__iter__"):
        return ""
    names = []
    for item in list(items)[:100]:
        name = item.get("name") if hasattr(item, "get") else item
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
    return str(separator).join(names)


def suffix_text(value, suffix="") -> str:
    text = "" if value is None else str(value)
    suffix = "" if suffix is None else str(suffix)
    return text if not text or text.endswith(suffix) else text + suffix


def date_text(value) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return ""
    if not isinstance(value, date):
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


register.filter("cn_count", count_text)
register.filter("cn_rate", rate_text)
register.filter("cn_hours", hours_text)
register.filter("cn_rating", rating_text)
register.filter("cn_exact", exact_text)
register.filter("cn_join", join_text)
register.filter("cn_suffix", suffix_text)
register.filter("cn_date", date_text)
