"""Reporting periods: this month, this year, since a date, or any range of calendar days (Asia/Shanghai)."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from wenming.core.errors import InvalidInput

KINDS = ("month", "year", "since", "custom")
EARLIEST = date(2000, 1, 1)
LONGEST_DAYS = 366 * 30


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    kind: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("%(year)d年") % {"year": self.start.year}
        if self.kind == "month":
            return _("%(year)d年%(month)d月") % {"year": self.start.year, "month": self.start.month}
        return _("%(start)s至%(end)s") % {"start": self.start.isoformat(), "end": self.end.isoformat()}


def month_of(day: date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last), "month")


def year_of(day: date) -> Period:
    return Period(date(day.year, 1, 1), date(day.year, 12, 31), "year")


def checked(start: date, end: date, kind: str = "custom") -> Period:
    if start is None or end is None:
        raise InvalidInput(_("请给出统计时段的开始和结束日期。"), code="period_missing")
    if end < start:
        raise InvalidInput(_("结束日期不能早于开始日期。"), code="period_invalid")
    if start < EARLIEST or (end - start).days > LONGEST_DAYS:
        raise InvalidInput(_("统计时段超出范围（2000年以后，不超过30年）。"), code="period_invalid")
    return Period(start, end, kind)


def resolve(kind: str, today: date, *, since: date | None = None, start: date | None = None,
            end: date | None = None) -> Period:
    """The period a user chose on the dashboard."""
    if kind == "month":
        return month_of(today)
    if kind == "year":
        return year_of(today)
    if kind == "since":
        return checked(since, today, "since") if since and since <= today else checked(since, since or today)
    if kind == "custom":
        return checked(start, end)
    raise InvalidInput(_("未知的统计时段。"), code="period_invalid")


def previous(period: Period, today: date | None = None) -> Period:
    """The period to compare with: the month or year before, or as many days just before. A period
    still running on `today` is compared like for like — this month so far with the same days of the
    month before (1–6 December with 1–6 November), not with a whole month that had time to fill up."""
    if period.kind == "month":
        before = month_of(period.start - timedelta(days=1))
    elif period.kind == "year":
        before = year_of(period.start - timedelta(days=1))
    else:
        end = period.start - timedelta(days=1)
        before = Period(end - timedelta(days=period.days - 1), end, "custom")
    if today is None or not period.start <= today < period.end:
        return before
    if period.kind in ("month", "year"):
        month = before.start.month if period.kind == "month" else today.month
        last = calendar.monthrange(before.start.year, month)[1]
        so_far = date(before.start.year, month, min(today.day, last))
    else:
        so_far = before.start + (today - period.start)
    return Period(before.start, min(so_far, before.end), "custom")


def calendar_unit(start: date, end: date, today: date) -> str | None:
    """'year' or 'month' when [start, end] is one calendar year or month — or its part up to today,
    which holds the same figures, since nothing is counted on a day still to come."""
    for unit, whole in (("year", year_of(start)), ("month", month_of(start))):
        if start == whole.start and (end == whole.end or (whole.start <= today <= end < whole.end)):
            return unit
    return None
