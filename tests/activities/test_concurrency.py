"""Real concurrency on PostgreSQL: threads, each with its own connection, released together.

A hundred volunteers checking in to one activity at once; the phones of one volunteer
scanning at once (one activity, or two overlapping ones); the waiting list moving up
while several confirmed volunteers cancel at once; sign-ups racing for the last places."""

import os
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.concurrency import run_at_once
from tests.ledger.helpers import build_tree, make_volunteer
from wenming.activities import services
from wenming.activities.models import Attendance, Scan, SignUp
from wenming.core.errors import DomainError
from wenming.notices.models import Notice
from wenming.org.models import Site

from .conftest import SITE_LAT, SITE_LNG, make_activity
from .helpers import account, running, scan

pytestmark = [
    pytest.mark.pg_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def tree():
    return build_tree()


@pytest.fixture
def site(tree):
    return Site.objects.create(name="东风社区道德讲堂", kind=Site.Kind.MORAL_HALL, node=tree.station,
                               lat=SITE_LAT, lng=SITE_LNG, radius_m=300)


def volunteers(tree, n, prefix="志愿者"):
    return [make_volunteer(tree.admin, tree.station, f"{prefix}{i}") for i in range(n)]


def _enough_connections(needed: int) -> None:
    """A hundred threads need a hundred connections: PostgreSQL's default (100) is too few.
    `.ci/run` raises it to 200; elsewhere the test says so loudly and skips."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        available = int(cursor.fetchone()[0])
    if available < needed:
        message = (f"PostgreSQL max_connections={available} < {needed}: "
                   "ALTER SYSTEM SET max_connections = 200 and restart (as .ci/run does)")
        if os.environ.get("WENMING_CI") == "1":
            pytest.fail(message)
        pytest.skip(message)


def test_a_hundred_volunteers_check_in_to_one_activity_at_once(tree, site):
    _enough_connections(100 + 10)
    crowd = volunteers(tree, 100)
    activity = running(tree, site=site, capacity=100, signed_up=crowd)
    users = [v.user for v in crowd]

    results, errors = run_at_once(100, lambda i: scan(users[i], activity, lat=SITE_LAT, lng=SITE_LNG,
                                                      scan_id=f"crowd-{i:04d}-in"))
    assert errors == {}
    assert all(r is not None and not r.duplicate for r in results)
    assert Attendance.objects.filter(activity=activity, status=Attendance.Status.CHECKED_IN).count() == 100
    assert Scan.objects.filter(activity=activity).count() == 100
    assert set(Attendance.objects.values_list("volunteer_id", flat=True)) == {v.pk for v in crowd}


def test_phones_of_one_volunteer_checking_in_to_one_activity_at_once(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang])
    phones = 6
    results, errors = run_at_once(phones, lambda i: scan(tree.vol_user, activity, scan_id=f"phone-{i}-0000"))
    assert errors == {}
    assert sorted(r.duplicate for r in results) == [False] + [True] * (phones - 1)
    assert len({r.attendance.pk for r in results}) == 1
    assert Attendance.objects.filter(volunteer=tree.zhang).count() == 1
    assert Scan.objects.filter(volunteer=tree.zhang).count() == phones  # no scan lost


def test_one_scan_sent_twice_at_once_is_applied_once(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang])
    results, errors = run_at_once(4, lambda i: scan(tree.vol_user, activity, scan_id="same-scan-0001"))
    assert errors == {}
    assert sorted(r.duplicate for r in results) == [False, True, True, True]
    assert Scan.objects.count() == 1 and Attendance.objects.count() == 1


def test_two_phones_checking_in_to_two_overlapping_activities_at_once(tree, site):
    first = running(tree, site=site, signed_up=[tree.zhang], title="第一场")
    second = running(tree, site=site, allow_walk_ins=True, title="第二场")
    for round_ in range(3):  # a few rounds, so that each side gets its chance to win
        Scan.objects.all().delete()
        Attendance.objects.all().delete()
        pair = [first, second] if round_ % 2 == 0 else [second, first]
        results, errors = run_at_once(2, lambda i, pair=pair, r=round_: scan(
            tree.vol_user, pair[i], scan_id=f"two-{r}-{i}-0000"))
        assert len(errors) == 1, errors
        (refused,) = errors.values()
        assert isinstance(refused, DomainError) and refused.code == "checked_in_elsewhere"
        (accepted,) = [r for r in results if r is not None]
        assert not accepted.duplicate
        assert Attendance.objects.filter(volunteer=tree.zhang, status=Attendance.Status.CHECKED_IN).count() == 1
        assert Scan.objects.count() == 1


@pytest.mark.parametrize("cancels,waiting", [(4, 3), (2, 3), (3, 3)])
def test_waiting_list_moves_up_first_come_first_served_under_concurrent_cancels(tree, cancels, waiting):
    capacity = 5
    activity = make_activity(tree.admin, tree.station, capacity=capacity)
    confirmed = volunteers(tree, capacity, "正式")
    queue = volunteers(tree, waiting, "候补")
    for v in confirmed + queue:
        services.sign_up(account(v), activity)
    assert SignUp.objects.filter(activity=activity, status=SignUp.Status.WAITING).count() == waiting
    leaving = [SignUp.objects.get(activity=activity, volunteer=v) for v in confirmed[:cancels]]

    results, errors = run_at_once(cancels, lambda i: services.cancel_signup(leaving[i].volunteer.user, leaving[i]))
    assert errors == {}

    promoted = min(cancels, waiting)
    now_confirmed = SignUp.objects.filter(activity=activity, status=SignUp.Status.CONFIRMED)
    assert now_confirmed.count() == capacity - cancels + promoted <= capacity
    moved = {s.volunteer_id for s in now_confirmed.filter(promoted_at__isnull=False)}
    assert moved == {v.pk for v in queue[:promoted]}  # first come, first served
    still = SignUp.objects.filter(activity=activity, status=SignUp.Status.WAITING)
    assert {s.volunteer_id for s in still} == {v.pk for v in queue[promoted:]}
    assert Notice.objects.filter(kind="waitlist_promoted").count() == promoted
    assert set(Notice.objects.filter(kind="waitlist_promoted").values_list("volunteer_id", flat=True)) == moved


def test_sign_ups_racing_for_the_last_places(tree):
    activity = make_activity(tree.admin, tree.station, capacity=5)
    early = volunteers(tree, 3, "先到")
    for v in early:
        services.sign_up(account(v), activity)
    racers = volunteers(tree, 12, "抢报")
    users = [account(v) for v in racers]

    results, errors = run_at_once(len(racers), lambda i: services.sign_up(users[i], activity))
    assert errors == {}
    statuses = [r.status for r in results]
    assert statuses.count(SignUp.Status.CONFIRMED) == 2
    assert statuses.count(SignUp.Status.WAITING) == 10
    assert SignUp.objects.filter(activity=activity, status=SignUp.Status.CONFIRMED).count() == 5


def test_one_volunteer_signing_up_twice_at_once(tree):
    activity = make_activity(tree.admin, tree.station, capacity=5)
    results, errors = run_at_once(5, lambda i: services.sign_up(tree.vol_user, activity))
    assert len([r for r in results if r is not None]) == 1
    assert {e.code for e in errors.values()} == {"already_signed_up"}
    assert SignUp.objects.filter(activity=activity, volunteer=tree.zhang).count() == 1


def test_check_in_and_out_of_many_at_once_settle_to_whole_hours(tree, site):
    crowd = volunteers(tree, 30)
    activity = running(tree, site=site, capacity=30, signed_up=crowd, hours=2,
                       started_ago=timedelta(hours=2, minutes=5))
    t_in, t_out = activity.starts_at, activity.ends_at
    now = timezone.now()

    def both(i):
        user = crowd[i].user
        scan(user, activity, at=t_in, now=now, scan_id=f"off-{i:03d}-in")
        return scan(user, activity, "out", at=t_out, now=now, scan_id=f"off-{i:03d}-out")

    results, errors = run_at_once(30, both)
    assert errors == {}
    result = services.settle_activity(tree.admin, activity)
    assert result.settled == 30 and result.minutes == 30 * 120
