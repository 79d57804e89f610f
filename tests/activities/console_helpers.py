"""Helpers of the console page tests (tests/activities/test_console_*.py): accounts logged in
through the test client, and an activity that has run (sign-ups, check-ins and check-outs)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tests.ledger.helpers import make_user, make_volunteer
from wenming.activities import checkin, services
from wenming.core.models import User

from .conftest import make_activity, shift


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def station_admin(tree) -> User:
    """The station's own admin (the tree has none): made once, then found again."""
    return User.objects.filter(username="console_station_admin").first() or make_user(
        "console_station_admin", User.Role.STATION_ADMIN, [tree.station])


def volunteer_with_account(tree, name: str, username: str):
    user = make_user(username, User.Role.VOLUNTEER)
    return make_volunteer(tree.admin, tree.station, name, user=user)


def scan(volunteer, activity, kind: str, at, scan_id: str):
    fn = checkin.check_in if kind == "in" else checkin.check_out
    return fn(volunteer.user, activity.pk, token=checkin.token_for(activity.pk, kind, at), scan_id=scan_id, now=at)


def ran_activity(tree, site=None, *, hours=2):
    """An activity that ran from three hours ago for `hours` hours: 张三 checked in before the start
    and out after the end (full hours), 赵六 left after a third (below 60%: no hours), 李四 checked
    in and never out (awaiting a decision)."""
    activity = make_activity(tree.admin, tree.station, site=site, hours=hours, capacity=10,
                             title="敬老院助浴服务")
    li_user = make_user("console_li", User.Role.VOLUNTEER)
    tree.li.user = li_user
    tree.li.save(update_fields=["user"])
    zhao = volunteer_with_account(tree, "赵六", "console_zhao")
    for v in (tree.zhang, tree.li, zhao):
        services.sign_up(tree.admin, activity, v)
    activity = shift(activity, (timezone.now() - timedelta(hours=3)) - activity.starts_at)
    start, end = activity.starts_at, activity.ends_at
    scan(tree.zhang, activity, "in", start - timedelta(minutes=5), "zhang-in-0001")
    scan(tree.zhang, activity, "out", end + timedelta(minutes=5), "zhang-out-001")
    scan(tree.li, activity, "in", start, "li-in-000001")
    scan(zhao, activity, "in", start, "zhao-in-00001")
    scan(zhao, activity, "out", start + (end - start) / 3, "zhao-out-0001")
    return activity, zhao
