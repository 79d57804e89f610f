"""Roll-ups under real concurrency on PostgreSQL: many settlements and need saves at the same node on the
same day at once (all upserting the same rows), and the activities clock moving while activities change."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests import factories as f
from tests.concurrency import run_at_once
from tests.stats import builders as b
from wenming.activities.models import Activity
from wenming.core.models import User
from wenming.needs.models import Need
from wenming.stats import queries, rebuild, recount, rollups

pytestmark = [
    pytest.mark.pg_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

N = 12


@pytest.fixture
def tree():
    centre = f.make_centre()
    institute = f.make_child(centre, "所", "430502001000")
    station = f.make_child(institute, "站", "430502001001")
    admin = f.make_user("admin", User.Role.DISTRICT_ADMIN, [centre])
    volunteers = [f.make_volunteer(station, f"志愿者{i}") for i in range(N)]
    return centre, station, admin, volunteers


def test_simultaneous_settlements_lose_no_update(tree):
    centre, station, admin, volunteers = tree
    day = timezone.localdate() - timedelta(days=1)
    activity = b.activity(station, b.at(day, 11), team=f.make_team(station, "队"))

    def settle(i):
        return b.verified(admin, volunteers[i], station, day, 60, ("activity", str(activity.pk)))

    _, errors = run_at_once(N, settle)
    assert errors == {}
    figures = queries.summary(centre, day, day)
    assert figures["minutes_verified"] == N * 60
    assert figures["participations"] == N
    assert figures["volunteers"] == recount.volunteers(centre, day, day) == N
    assert rebuild.verify(limit=0) == []


def test_simultaneous_needs_and_the_clock(tree):
    centre, station, admin, volunteers = tree
    now = timezone.now()
    activities = [b.activity(station, now - timedelta(minutes=5 + i)) for i in range(N)]
    # Pretend the clock is behind: the activities above ended since it last moved.
    from wenming.stats.models import StatsClock

    StatsClock.objects.update_or_create(pk=1, defaults={"activities_through": now - timedelta(hours=1)})
    rebuild.rebuild(now - timedelta(hours=1))

    def work(i):
        if i % 3 == 0:
            return rollups.advance_clock()
        with transaction.atomic():
            if i % 3 == 1:
                a = Activity.objects.select_for_update().get(pk=activities[i].pk)
                a.beneficiaries = 10
                a.save(update_fields=["beneficiaries"])
            else:
                b.need(station, now - timedelta(minutes=i))

    _, errors = run_at_once(N, work)
    assert errors == {}
    rollups.advance_clock()
    assert rebuild.verify(limit=0) == []
    today = timezone.localdate()
    got = queries.summary(centre, today - timedelta(days=1), today)
    assert got["activities"] == N
    assert got["needs_collected"] == Need.objects.count()
    assert got == recount.summary(centre, today - timedelta(days=1), today)
