"""The ledger's pure rules: served minutes, points for minutes, star levels.

No database here: these functions are the arithmetic that services apply and
that property tests check (tests/ledger/test_hours_rule.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from django.conf import settings

DEFAULT_STEP_MINUTES = 30
DEFAULT_MIN_SHARE = 0.6
DEFAULT_POINTS_PER_HOUR = 10
DEFAULT_STAR_THRESHOLDS = (100, 300, 600, 1000, 1500)  # hours, for one to five stars
# Bonus name → (label, points). A district can override with WENMING_POINTS_BONUSES
# (name → points, or name → (label, points)).
DEFAULT_BONUSES = {
    "need_rated": ("群众评单好评", 5),
    "festival_activity": ("我们的节日主题活动", 10),
}

_MICRO = timedelta(microseconds=1)


def configured_step_minutes() -> int:
    return int(getattr(settings, "WENMING_HOURS_STEP_MINUTES", DEFAULT_STEP_MINUTES))


def configured_min_share() -> float:
    return float(getattr(settings, "WENMING_HOURS_MIN_SHARE", DEFAULT_MIN_SHARE))


def points_per_hour() -> Fraction:
    return Fraction(str(getattr(settings, "WENMING_POINTS_PER_HOUR", DEFAULT_POINTS_PER_HOUR)))


def star_thresholds() -> tuple[int, ...]:
    return tuple(
        sorted(int(h) for h in getattr(settings, "WENMING_STAR_THRESHOLDS", DEFAULT_STAR_THRESHOLDS))
    )


def bonuses() -> dict[str, tuple[str, int]]:
    configured = getattr(settings, "WENMING_POINTS_BONUSES", None)
    if configured is None:
        return dict(DEFAULT_BONUSES)
    out = {}
    for name, value in configured.items():
        if isinstance(value, list | tuple):
            out[name] = (str(value[0]), int(value[1]))
        else:
            out[name] = (DEFAULT_BONUSES.get(name, (name, 0))[0], int(value))
    return out


def window_minutes(window_start: datetime, window_end: datetime) -> int:
    """The length of a window in whole minutes (0 when it is empty or reversed)."""
    if window_start is None or window_end is None or window_end <= window_start:
        return 0
    return (window_end - window_start) // timedelta(minutes=1)


def served_minutes(
    check_in: datetime | None,
    check_out: datetime | None,
    window_start: datetime,
    window_end: datetime,
    step_minutes: int = DEFAULT_STEP_MINUTES,
    min_share: float = DEFAULT_MIN_SHARE,
) -> int:
    """Minutes served: the overlap of check-in…check-out with the activity window
    (travel before or after the window does not count), rounded DOWN to `step_minutes`.

    Less than `min_share` of the window served (judged on the exact overlap, before
    rounding) earns nothing. Never negative, never above the window. A missing
    check-in or check-out earns nothing (a forgotten check-out waits for a decision).
    """
    if check_in is None or check_out is None or window_start is None or window_end is None:
        return 0
    step = max(1, int(step_minutes))
    share = Fraction(str(min_share))
    if share < 0 or share > 1:
        raise ValueError("min_share must be between 0 and 1")
    window = (window_end - window_start) // _MICRO
    if window <= 0:
        return 0
    overlap = (min(check_out, window_end) - max(check_in, window_start)) // _MICRO
    if overlap <= 0:
        return 0
    if overlap < share * window:
        return 0
    minutes = overlap // 60_000_000
    return minutes - minutes % step


def points_for_minutes(minutes: int, rate: Fraction | int | str | None = None) -> int:
    """Points earned by `minutes` (≥ 0) of service at `rate` points per hour, rounded down."""
    rate = points_per_hour() if rate is None else Fraction(str(rate))
    if minutes <= 0:
        return 0
    return int(Fraction(minutes) * rate / 60)


def star_level(total_minutes: int, thresholds: tuple[int, ...] | None = None) -> int:
    """0 to 5 stars: the number of hour thresholds reached."""
    thresholds = star_thresholds() if thresholds is None else tuple(sorted(thresholds))
    return sum(1 for hours in thresholds if total_minutes >= hours * 60)


def next_threshold(total_minutes: int, thresholds: tuple[int, ...] | None = None) -> int | None:
    """Hours needed for the next star, or None at the top."""
    thresholds = star_thresholds() if thresholds is None else tuple(sorted(thresholds))
    return next((hours for hours in thresholds if total_minutes < hours * 60), None)
