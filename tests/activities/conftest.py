"""Fixtures of the activities tests: the ledger's small tree (tests/ledger/helpers.py) plus
a site with coordinates at the first station and helpers to build activities at given times."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import Tree, build_tree
from wenming.activities import services
from wenming.activities.models import Activity
from wenming.org.models import Site

SITE_LAT, SITE_LNG = 27.2389, 111.4677


@pytest.fixture
def tree(db) -> Tree:
    return build_tree()


@pytest.fixture
def site(tree) -> Site:
    return Site.objects.create(name="东风社区道德讲堂", kind=Site.Kind.MORAL_HALL, node=tree.station,
                               lat=SITE_LAT, lng=SITE_LNG, radius_m=300)


def make_activity(by, node, *, start=None, hours=2, capacity=10, site=None, publish=True, **extra) -> Activity:
    start = start or timezone.now() + timedelta(days=1)
    data = services.ActivityData(title=extra.pop("title", "学雷锋志愿服务"), starts_at=start,
                                 ends_at=start + timedelta(hours=hours), capacity=capacity, node=node, site=site,
                                 **extra)
    activity = services.create_activity(by, data)
    if publish:
        activity = services.publish_activity(by, activity, confirm_overserving=True)
    return activity


def shift(activity: Activity, delta: timedelta) -> Activity:
    """Move an activity in time (tests travel the clock by moving the activity instead)."""
    Activity.objects.filter(pk=activity.pk).update(starts_at=activity.starts_at + delta,
                                                   ends_at=activity.ends_at + delta)
    activity.refresh_from_db()
    return activity
