"""Rows for the statistics tests, made the way the platform makes them (ledger services for hours,
model saves for the rest — the saves the roll-ups listen to)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from wenming.activities.models import Activity, Theme
from wenming.ledger import services as ledger
from wenming.needs.models import Need, NeedCategory
from wenming.publicity.models import MediaReport
from wenming.stats.rollups import LOCAL


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL)


def verified(by, volunteer, node, day: date, minutes: int, source=("activity", "9001")):
    start = at(day)
    end = start + timedelta(minutes=minutes)
    return ledger.record_verified(by, volunteer=volunteer, node=node, title="服务", check_in=start, check_out=end,
                                  window_start=start, window_end=end, source_type=source[0], source_id=source[1])


def recorded(by, approver, volunteer, node, day: date, minutes: int, source=("", "")):
    start = at(day)
    req = ledger.request_recorded_hours(by, volunteer=volunteer, node=node, title="补录服务", window_start=start,
                                        window_end=start + timedelta(minutes=minutes), minutes=minutes,
                                        reason="纸质签到表", source_type=source[0], source_id=source[1])
    return ledger.approve_hours_request(approver, req)


def adjust(by, approver, record, minutes: int):
    req = ledger.request_adjustment(by, record, minutes=minutes, reason="更正")
    return ledger.approve_hours_request(approver, req)


def activity(node, ends: datetime, *, status=Activity.Status.PUBLISHED, platform=None, themes=(), team=None,
             beneficiaries=None, hours: int = 2) -> Activity:
    a = Activity.objects.create(title="活动", node=node, starts_at=ends - timedelta(hours=hours), ends_at=ends,
                                capacity=10, status=status, platform=platform, team=team,
                                beneficiaries=beneficiaries)
    if themes:
        a.themes.set(themes)
    return a


def theme(name: str) -> Theme:
    return Theme.objects.get_or_create(name=name)[0]


def category() -> NeedCategory:
    parent, _ = NeedCategory.objects.get_or_create(code="stats-p", defaults={"name": "统计测试"})
    return NeedCategory.objects.get_or_create(code="stats-c", defaults={"name": "统计测试子类", "parent": parent})[0]


_codes = itertools.count(1)


def need(station, created: datetime, **fields) -> Need:
    values = {"code": f"ST{next(_codes):08d}", "category": category(), "station": station, "node": station, "description": "需要帮助",
              "contact_name": "居民", "created_at": created, "state": Need.State.SUBMITTED}
    values.update(fields)
    return Need.objects.create(**values)


def report(node, day: date, level: str, title: str = "报道") -> MediaReport:
    return MediaReport.objects.create(title=title, outlet="邵阳日报", level=level, published_on=day, node=node)


def now_local() -> datetime:
    return timezone.localtime()
