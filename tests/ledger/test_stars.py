"""Stars from cumulative approved hours (verified + recorded, net of corrections); reaching a
new star is an event the volunteer is told about."""

from datetime import timedelta

import pytest

from wenming.ledger import rules, signals
from wenming.ledger.queries import volunteer_summary
from wenming.ledger.services import approve_hours_request, request_adjustment

from .helpers import at, recorded, settle


@pytest.mark.parametrize(
    ("hours", "stars", "next_hours"),
    [
        (0, 0, 100),
        (99.5, 0, 100),
        (100, 1, 300),
        (299, 1, 300),
        (300, 2, 600),
        (600, 3, 1000),
        (1000, 4, 1500),
        (1499, 4, 1500),
        (1500, 5, None),
        (9000, 5, None),
    ],
)
def test_default_thresholds(hours, stars, next_hours):
    minutes = int(hours * 60)
    assert rules.star_level(minutes) == stars
    assert rules.next_threshold(minutes) == next_hours


def test_thresholds_are_configurable(settings):
    settings.WENMING_STAR_THRESHOLDS = [10, 20, 30]
    assert rules.star_level(20 * 60) == 2
    assert rules.next_threshold(20 * 60) == 30


@pytest.fixture
def stars_seen():
    seen = []

    def listener(sender, volunteer, level, previous_level, total_minutes, **kwargs):
        seen.append((volunteer.pk, previous_level, level, total_minutes))

    signals.star_reached.connect(listener)
    yield seen
    signals.star_reached.disconnect(listener)


def test_reaching_a_star_sends_star_reached(tree, settings, stars_seen, django_capture_on_commit_callbacks):
    settings.WENMING_STAR_THRESHOLDS = [3, 5]  # hours
    with django_capture_on_commit_callbacks(execute=True):
        settle(tree.admin, tree.zhang, tree.station, 1)  # 2 h: no star
    assert stars_seen == []
    with django_capture_on_commit_callbacks(execute=True):
        recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 60)  # 3 h: one star
    assert stars_seen == [(tree.zhang.pk, 0, 1, 180)]
    with django_capture_on_commit_callbacks(execute=True):
        settle(tree.admin, tree.zhang, tree.station, 2, day=7, hours=3)  # 6 h: past 5, the second star
    assert stars_seen[-1] == (tree.zhang.pk, 1, 2, 360)
    summary = volunteer_summary(tree.zhang)
    assert (summary.stars, summary.next_star_hours, summary.verified_minutes, summary.recorded_minutes) == (
        2,
        None,
        300,
        60,
    )


def test_no_event_when_the_transaction_rolls_back(
    tree, settings, stars_seen, django_capture_on_commit_callbacks
):
    from django.db import transaction

    settings.WENMING_STAR_THRESHOLDS = [1]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            settle(tree.admin, tree.zhang, tree.station, 1)
            transaction.set_rollback(True)
    assert stars_seen == []
    assert callbacks == []


def test_stars_count_corrections_and_losing_a_star_sends_nothing(
    tree, settings, stars_seen, django_capture_on_commit_callbacks
):
    settings.WENMING_STAR_THRESHOLDS = [2]
    with django_capture_on_commit_callbacks(execute=True):
        record = settle(tree.admin, tree.zhang, tree.station, 1)  # exactly 2 h
        approve_hours_request(
            tree.admin2, request_adjustment(tree.admin, record, minutes=-30, reason="提前离场")
        )
    assert [s[2] for s in stars_seen] == [1]
    assert volunteer_summary(tree.zhang).stars == 0
    with django_capture_on_commit_callbacks(execute=True):
        settle(
            tree.admin,
            tree.zhang,
            tree.station,
            2,
            check_in=at(9, 9),
            check_out=at(9, 9) + timedelta(hours=2),
            day=9,
        )
    assert [s[2] for s in stars_seen] == [1, 1]  # reached again
