"""Helpers of the media-reports tests: activities and brands to link, reports made directly
(fixtures, not the subject) and through the service, the refusal of a rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from wenming.activities.models import Activity, Brand
from wenming.core.errors import DomainError
from wenming.publicity.models import MediaReport
from wenming.publicity.services import ReportData

DAY = date(2025, 3, 5)


def make_activity(node, title: str = "学雷锋志愿服务", *, status: str = Activity.Status.PUBLISHED,
                  days_ago: int = 10) -> Activity:
    start = timezone.now() - timedelta(days=days_ago)
    return Activity.objects.create(title=title, node=node, starts_at=start, ends_at=start + timedelta(hours=2),
                                   capacity=10, status=status)


def make_brand(node, name: str) -> Brand:
    return Brand.objects.create(node=node, name=name)


def make_report(node, title: str = "双清区：志愿服务暖人心", **fields) -> MediaReport:
    values = {"outlet": "邵阳日报", "level": MediaReport.Level.CITY, "published_on": DAY} | fields
    return MediaReport.objects.create(node=node, title=title, **values)


def data(node, **fields) -> ReportData:
    values = {"title": "双清区：志愿服务暖人心", "outlet": "双清区融媒体中心", "level": MediaReport.Level.DISTRICT,
              "published_on": DAY} | fields
    return ReportData(node=node, **values)


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    """Call fn and expect the domain error with this stable code and a Chinese message."""
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    assert any("\u4e00" <= c <= "\u9fff" for c in caught.value.message), caught.value.message
    return caught.value


class Links:
    """Activities and brands around the world's tree."""

    def __init__(self, world):
        self.activity = {k: make_activity(world.nodes[k], f"{k}学雷锋志愿服务") for k in world.NODE_KEYS}
        self.draft = make_activity(world.S11, "S11草稿活动", status=Activity.Status.DRAFT)
        self.brand = {k: make_brand(world.nodes[k], f"{k}品牌") for k in ("C", "I1", "S11", "S12", "S21")}


@pytest.fixture
def links(world) -> Links:
    return Links(world)
