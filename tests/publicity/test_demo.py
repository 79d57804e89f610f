"""The demo's media reports (wenming/demo/publicity.py): about 200 at every level over a few years,
valid as the service would have them, linked to demo activities and brands, loaded once."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests import factories as f
from wenming.activities.models import Activity, Brand
from wenming.core.models import AuditEntry, OrgNode
from wenming.demo.publicity import load_media_reports
from wenming.publicity import queries, services
from wenming.publicity.models import MediaReport

from .conftest import make_activity

LEVELS = {"district", "city", "province", "central"}


def check_valid(reports, today: date) -> None:
    """Every report is one the service would have accepted."""
    seen = set()
    for r in reports:
        assert r.is_demo_data
        assert r.title == services.clean_text(r.title) and 0 < len(r.title) <= services.TITLE_MAX
        assert 0 < len(r.outlet) <= services.OUTLET_MAX
        assert r.level in LEVELS
        assert date(2000, 1, 1) <= r.published_on <= today
        assert services._url(r.url) == r.url and (not r.url or ".example/" in r.url)
        key = (r.node_id, r.title, r.published_on)
        assert key not in seen, key
        seen.add(key)
        if r.activity_id:
            assert services.same_line(r.node, r.activity.node)
            assert r.activity.status != Activity.Status.DRAFT
            assert timezone.localtime(r.activity.ends_at).date() <= r.published_on
        if r.brand_id:
            assert services.same_line(r.node, r.brand.node)
        assert r.created_at <= timezone.now()


@pytest.mark.django_db
def test_the_demo_district_gets_its_media_reports():
    from wenming.demo.district import DistrictBuilder

    district = DistrictBuilder(volunteers=20)
    district.load()
    summary = load_media_reports(district)
    today = timezone.localdate()
    reports = list(MediaReport.objects.select_related("node", "activity", "brand"))
    assert 190 <= len(reports) <= 210 and summary["media_reports"] == len(reports)
    levels = Counter(r.level for r in reports)
    assert set(levels) == LEVELS and summary["levels"] == dict(levels)
    # Seed 000: 区级120余篇, 市级50余篇, 中央省级30余篇.
    assert levels["district"] >= 110 and levels["city"] >= 45 and levels["province"] + levels["central"] >= 27
    assert levels["central"] >= 8
    check_valid(reports, today)
    # Every level this year and this month, so a dashboard of any period is full.
    for level in LEVELS:
        assert any(r.level == level and r.published_on.year == today.year for r in reports), level
        assert any(r.level == level and r.published_on >= today.replace(day=1) for r in reports), level
    # Over a few years, not one.
    assert min(r.published_on for r in reports) < date(today.year - 1, 1, 1)
    # Linked to the demo's own activities and brands; the organisations of every rank.
    assert summary["with_activity"] >= 40 and summary["with_brand"] >= 60
    assert {r.node.kind for r in reports} == {OrgNode.Kind.CENTRE, OrgNode.Kind.INSTITUTE, OrgNode.Kind.STATION}
    assert len({r.outlet for r in reports}) >= 12
    # The demo accounts have something to look at, within their reach.
    from wenming.core.models import User

    station = User.objects.get(username="demo-station")
    assert queries.reports_for(station).count() >= 4
    centre_counts = queries.counts_for(User.objects.get(username="demo-centre"))
    assert centre_counts["total"] == len(reports) and all(centre_counts[level] for level in LEVELS)
    mine = queries.reports_for(station).filter(created_by=station)
    assert mine.exists()
    # Each as the service records it.
    assert AuditEntry.objects.filter(action="media_report.create").count() == len(reports)
    # Loaded once.
    assert load_media_reports(district) == summary
    assert MediaReport.objects.count() == len(reports)


class SmallDemo:
    """The world's tree marked as a demo district, with a few finished activities and brands."""

    def __init__(self, world):
        OrgNode.objects.update(is_demo_data=True)
        for key in world.NODE_KEYS:
            for days in (3, 40, 200, 350):
                a = make_activity(world.nodes[key], f"{key}学雷锋志愿服务{days}", days_ago=days)
                Activity.objects.filter(pk=a.pk).update(is_demo_data=True)
        make_activity(world.S11, "草稿活动", status=Activity.Status.DRAFT, days_ago=5)
        for key in ("C", "I1", "S21"):
            Brand.objects.create(node=world.nodes[key], name=f"{key}品牌", is_demo_data=True)
        self.station = f.make_user("demo-station", "station_admin", [world.S11], is_demo_data=True)
        self.centre = f.make_user("demo-centre", "district_admin", [world.C], is_demo_data=True)


def rows() -> list[tuple]:
    return list(MediaReport.objects.order_by("published_on", "node_id", "title")
                .values_list("published_on", "node_id", "title", "level", "outlet", "url", "activity_id", "brand_id"))


def test_the_same_seed_and_day_give_the_same_reports(world):
    SmallDemo(world)
    day = timezone.localdate()
    load_media_reports(seed=7, today=day)
    first = rows()
    assert len(first) >= 190
    MediaReport.objects.all().delete()
    load_media_reports(seed=7, today=day)
    assert rows() == first
    MediaReport.objects.all().delete()
    load_media_reports(seed=8, today=day)
    assert rows() != first


def test_loaded_on_new_years_day_every_level_is_still_in_the_month(world):
    demo = SmallDemo(world)
    day = date(timezone.localdate().year, 1, 1)
    summary = load_media_reports(seed=1, today=day, count=60)
    reports = list(MediaReport.objects.select_related("node", "activity", "brand"))
    assert summary["media_reports"] == len(reports) and 55 <= len(reports) <= 65
    check_valid(reports, day)
    for level in LEVELS:
        assert any(r.level == level and r.published_on == day for r in reports), level
    assert not MediaReport.objects.filter(activity__status=Activity.Status.DRAFT).exists()
    assert MediaReport.objects.filter(node=world.S11, created_by=demo.station).exists()
    assert not MediaReport.objects.filter(published_on__gt=day).exists()
    assert not MediaReport.objects.filter(published_on__lt=day - timedelta(days=3 * 366)).exists()


def test_without_a_demo_district_nothing_is_loaded(world):
    assert load_media_reports(seed=1) == {}
    assert not MediaReport.objects.exists()
