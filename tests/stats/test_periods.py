"""Reporting periods: this month, this year, since a date, custom; the period compared with; which periods
the yearly and monthly tallies hold exactly."""

from calendar import monthrange
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wenming.core.errors import InvalidInput
from wenming.stats.periods import Period, calendar_unit, checked, previous, resolve
from wenming.stats.queries import split

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


@pytest.mark.parametrize("period, today, expected", [
    # this month so far against the same days of the month before
    (Period(date(2026, 12, 1), date(2026, 12, 31), "month"), date(2026, 12, 6),
     Period(date(2026, 11, 1), date(2026, 11, 6))),
    # 30 March so far: February has no 30th, so the whole of February
    (Period(date(2026, 3, 1), date(2026, 3, 31), "month"), date(2026, 3, 30),
     Period(date(2026, 2, 1), date(2026, 2, 28))),
    # this year so far against the same dates a year before (29 Feb → 28 Feb)
    (Period(date(2024, 1, 1), date(2024, 12, 31), "year"), date(2024, 2, 29),
     Period(date(2023, 1, 1), date(2023, 2, 28))),
    (Period(date(2026, 1, 1), date(2026, 12, 31), "year"), date(2026, 12, 6),
     Period(date(2025, 1, 1), date(2025, 12, 6))),
    # a custom range still running: as many elapsed days just before it
    (Period(date(2026, 3, 1), date(2026, 3, 10)), date(2026, 3, 3), Period(date(2026, 2, 19), date(2026, 2, 21))),
    # the last day, or a period already over, compares whole with whole
    (Period(date(2026, 3, 1), date(2026, 3, 31), "month"), date(2026, 3, 31),
     Period(date(2026, 2, 1), date(2026, 2, 28), "month")),
    (Period(date(2025, 1, 1), date(2025, 12, 31), "year"), date(2026, 12, 6),
     Period(date(2024, 1, 1), date(2024, 12, 31), "year")),
])
def test_a_running_period_is_compared_like_for_like(period, today, expected):
    assert previous(period, today) == expected


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


def _days(start, end):
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)), st.integers(0, 800))
def test_split_covers_each_day_of_the_period_once(start, length):
    """Whole months are read from the month roll-ups, the rest day by day: together exactly the period."""
    end = min(start + timedelta(days=min(length, (date(9999, 12, 31) - start).days)), date(9999, 12, 31))
    days, months = split(start, end)
    covered = [d for a, b in days for d in _days(a, b)]
    if months:
        first, last = months
        assert first.day == last.day == 1
        month = first
        while month <= last:
            covered += _days(month, month.replace(day=monthrange(month.year, month.month)[1]))
            month = (month.replace(day=28) + timedelta(days=4)).replace(day=1) if month.year < 9999 or \
                month.month < 12 else date.max
    assert sorted(covered) == _days(start, end)


@pytest.mark.parametrize("start, end, days, months", [
    (date(2025, 1, 1), date(2025, 12, 31), [], (date(2025, 1, 1), date(2025, 12, 1))),
    (date(2025, 1, 3), date(2025, 3, 20), [(date(2025, 1, 3), date(2025, 1, 31)), (date(2025, 3, 1), date(2025, 3, 20))],
     (date(2025, 2, 1), date(2025, 2, 1))),
    (date(2024, 2, 1), date(2024, 2, 29), [], (date(2024, 2, 1), date(2024, 2, 1))),
    (date(2025, 2, 2), date(2025, 2, 27), [(date(2025, 2, 2), date(2025, 2, 27))], None),
    (date(2025, 1, 31), date(2025, 2, 1), [(date(2025, 1, 31), date(2025, 2, 1))], None),
])
def test_split_cases(start, end, days, months):
    assert split(start, end) == (days, months)
