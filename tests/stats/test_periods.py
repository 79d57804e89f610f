"""Reporting periods: this month, this year, since a date, custom; the period compared with; which periods
the yearly and monthly tallies hold exactly."""

from datetime import date

import pytest

from wenming.core.errors import InvalidInput
from wenming.stats.periods import Period, calendar_unit, checked, previous, resolve

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize("kind, kw, expected", [
    ("month", {}, Period(date(2026, 3, 1), date(2026, 3, 31), "month")),
    ("year", {}, Period(date(2026, 1, 1), date(2026, 12, 31), "year")),
    ("since", {"since": date(2020, 1, 1)}, Period(date(2020, 1, 1), TODAY, "since")),
    ("custom", {"start": date(2025, 2, 1), "end": date(2025, 2, 28)}, Period(date(2025, 2, 1), date(2025, 2, 28))),
])
def test_resolve(kind, kw, expected):
    assert resolve(kind, TODAY, **kw) == expected


@pytest.mark.parametrize("kind, kw", [
    ("custom", {"start": date(2025, 3, 1), "end": date(2025, 2, 1)}),
    ("custom", {"start": None, "end": date(2025, 2, 1)}),
    ("custom", {"start": date(1999, 1, 1), "end": date(2025, 2, 1)}),
    ("since", {"since": None}),
    ("week", {}),
])
def test_bad_periods_are_refused_in_chinese(kind, kw):
    with pytest.raises(InvalidInput) as exc:
        resolve(kind, TODAY, **kw)
    assert exc.value.code in ("period_invalid", "period_missing")


def test_a_date_in_the_future_for_since_is_its_own_day():
    assert resolve("since", TODAY, since=date(2026, 4, 1)) == Period(date(2026, 4, 1), date(2026, 4, 1))


@pytest.mark.parametrize("period, expected", [
    (Period(date(2026, 3, 1), date(2026, 3, 31), "month"), Period(date(2026, 2, 1), date(2026, 2, 28), "month")),
    (Period(date(2024, 3, 1), date(2024, 3, 31), "month"), Period(date(2024, 2, 1), date(2024, 2, 29), "month")),
    (Period(date(2026, 1, 1), date(2026, 1, 31), "month"), Period(date(2025, 12, 1), date(2025, 12, 31), "month")),
    (Period(date(2026, 1, 1), date(2026, 12, 31), "year"), Period(date(2025, 1, 1), date(2025, 12, 31), "year")),
    (Period(date(2026, 3, 1), date(2026, 3, 10)), Period(date(2026, 2, 19), date(2026, 2, 28))),
])
def test_previous(period, expected):
    assert previous(period) == expected


@pytest.mark.parametrize("start, end, unit", [
    (date(2025, 1, 1), date(2025, 12, 31), "year"),
    (date(2026, 1, 1), date(2026, 12, 31), "year"),
    (date(2026, 1, 1), TODAY, "year"),  # the year so far holds what the whole year holds
    (date(2026, 1, 1), date(2026, 3, 14), None),  # stops before today: days are missing
    (date(2026, 3, 1), date(2026, 3, 31), "month"),
    (date(2026, 3, 1), TODAY, "month"),
    (date(2025, 2, 1), date(2025, 2, 28), "month"),
    (date(2025, 2, 2), date(2025, 2, 28), None),
    (date(2025, 1, 1), date(2026, 12, 31), None),
])
def test_calendar_unit(start, end, unit):
    assert calendar_unit(start, end, TODAY) == unit


def test_checked_limits():
    assert checked(date(2000, 1, 1), date(2029, 12, 31)).days == 10958
    with pytest.raises(InvalidInput):
        checked(date(2000, 1, 1), date(2031, 1, 1))
