"""Reads: a volunteer's summary in a fixed number of queries; records seen only within reach."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wenming.ledger.queries import points_history, records_for, requests_for, volunteer_summary
from wenming.ledger.services import award_bonus, request_recorded_hours

from .helpers import at, recorded, settle


@pytest.fixture
def ledger(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)  # 120 verified, station of institute 1
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 45)  # 45 recorded
    settle(tree.admin, tree.wang, tree.other_station, 2)  # other branch
    award_bonus(None, tree.zhang, "need_rated", source_type="need", source_id="1")
    return tree


def test_summary(ledger):
    s = volunteer_summary(ledger.zhang)
    assert (s.verified_minutes, s.recorded_minutes, s.total_minutes, s.records) == (120, 45, 165, 2)
    assert s.points == 20 + 7 + 5  # 2 h, 45 min (7.5 rounded down), a bonus
    assert (s.stars, s.next_star_hours, s.hours_to_next_star) == (0, 100, 97.2)
    assert (s.verified_hours, s.recorded_hours, s.total_hours) == (2.0, 0.8, 2.8)


def test_summary_takes_two_queries_whatever_the_history(ledger):
    with CaptureQueriesContext(connection) as ctx:
        volunteer_summary(ledger.zhang)
    assert len(ctx) == 2
    for i in range(3, 8):
        settle(ledger.admin, ledger.zhang, ledger.station, i, day=i)
    with CaptureQueriesContext(connection) as ctx:
        volunteer_summary(ledger.zhang.pk)
    assert len(ctx) == 2


def test_summary_of_a_volunteer_without_records(tree):
    s = volunteer_summary(tree.li)
    assert (s.total_minutes, s.points, s.stars, s.next_star_hours) == (0, 0, 0, 100)


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", {"zhang", "wang"}),
        ("inst_admin", {"zhang"}),
        ("far_admin", {"wang"}),
        ("team_leader", {"zhang"}),
        ("vol_user", {"zhang"}),
    ],
)
def test_records_are_scoped(ledger, who, sees):
    user = getattr(ledger, who)
    names = {r.volunteer.name for r in records_for(user)}
    expected = {{"zhang": "张三", "wang": "王五"}[k] for k in sees}
    assert names == expected


def test_anonymous_sees_nothing(ledger):
    from django.contrib.auth.models import AnonymousUser

    assert not records_for(AnonymousUser()).exists()


def test_pending_requests_are_scoped(tree):
    request_recorded_hours(
        tree.far_admin,
        volunteer=tree.wang,
        node=tree.other_station,
        title="x",
        window_start=at(3, 9),
        window_end=at(3, 11),
        minutes=60,
        reason="补录",
    )
    assert requests_for(tree.admin).count() == 1
    assert requests_for(tree.inst_admin).count() == 0


def test_points_history(ledger):
    amounts = [e.amount for e in points_history(ledger.zhang)]
    assert amounts == [5, 7, 20]  # newest first
