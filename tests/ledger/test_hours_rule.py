"""Served minutes: the overlap of check-in…check-out with the window, rounded down to the
step, nothing below the minimum share, never negative, never above the window."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wenming.ledger.rules import served_minutes

BASE = datetime(2025, 3, 5, 1, 0, tzinfo=UTC)
seconds = st.integers(min_value=-6 * 3600, max_value=18 * 3600)
window_len = st.integers(min_value=0, max_value=12 * 3600)
steps = st.sampled_from([1, 5, 15, 30, 60])
shares = st.sampled_from([0, 0.5, 0.6, 0.75, 1])


def t(s: int) -> datetime:
    return BASE + timedelta(seconds=s)


@given(seconds, seconds, window_len, steps, shares)
def test_never_negative_never_above_the_window(a, b, length, step, share):
    minutes = served_minutes(t(a), t(b), t(0), t(length), step, share)
    assert 0 <= minutes <= length // 60


@given(seconds, seconds, window_len, steps, shares)
def test_rounded_down_to_the_step_and_never_more_than_the_overlap(a, b, length, step, share):
    minutes = served_minutes(t(a), t(b), t(0), t(length), step, share)
    overlap = max(0, min(b, length) - max(a, 0))
    assert minutes % step == 0
    assert minutes * 60 <= overlap
    if minutes:
        # Rounded DOWN: one more step would be more than was served.
        assert (minutes + step) * 60 > overlap


@given(seconds, seconds, window_len, steps)
def test_sixty_percent_rule(a, b, length, step):
    minutes = served_minutes(t(a), t(b), t(0), t(length), step, 0.6)
    overlap = max(0, min(b, length) - max(a, 0))
    if overlap * 10 < length * 6:
        assert minutes == 0
    else:
        whole = overlap // 60
        assert minutes == whole - whole % step


@given(seconds, seconds, st.integers(min_value=0, max_value=3 * 3600), window_len)
def test_travel_outside_the_window_never_counts(a, b, extra, length):
    """Arriving earlier or leaving later than the window earns nothing more."""
    inside = served_minutes(t(max(a, 0)), t(min(b, length)), t(0), t(length))
    assert served_minutes(t(min(a, 0) - extra), t(b), t(0), t(length)) == served_minutes(
        t(0), t(b), t(0), t(length)
    )
    assert served_minutes(t(a), t(b), t(0), t(length)) == inside


@given(seconds, seconds, seconds, window_len)
def test_staying_longer_never_earns_less(a, b, more, length):
    b2 = b + abs(more)
    assert served_minutes(t(a), t(b2), t(0), t(length)) >= served_minutes(t(a), t(b), t(0), t(length))


@pytest.mark.parametrize(
    ("check_in", "check_out", "expected"),
    [
        ((9, 0), (11, 0), 120),  # the whole 2-hour window
        ((8, 0), (12, 0), 120),  # travel before and after does not count
        ((9, 0), (10, 12), 60),  # 72 min = 60% of 120: credited, rounded down to 60
        ((9, 0), (10, 11), 0),  # 71 min < 60%: nothing
        ((9, 10), (11, 0), 90),  # 110 min → 90
        ((11, 0), (12, 0), 0),  # after the window
        ((10, 0), (9, 30), 0),  # check-out before check-in
    ],
)
def test_examples(check_in, check_out, expected):
    day = datetime(2025, 3, 5, tzinfo=UTC)
    ws, we = day.replace(hour=9), day.replace(hour=11)
    ci, co = (
        day.replace(hour=check_in[0], minute=check_in[1]),
        day.replace(hour=check_out[0], minute=check_out[1]),
    )
    assert served_minutes(ci, co, ws, we) == expected


def test_missing_check_out_earns_nothing():
    day = datetime(2025, 3, 5, 9, tzinfo=UTC)
    assert served_minutes(day, None, day, day + timedelta(hours=2)) == 0


def test_empty_window_earns_nothing():
    day = datetime(2025, 3, 5, 9, tzinfo=UTC)
    assert served_minutes(day, day + timedelta(hours=1), day, day) == 0
