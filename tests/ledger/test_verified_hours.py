"""Verified hours come only from a check-in and a check-out, computed by the ledger."""

from datetime import timedelta

import pytest

from wenming.core.errors import Conflict, InvalidInput
from wenming.core.models import AuditEntry
from wenming.ledger import signals
from wenming.ledger.models import ServiceRecord
from wenming.ledger.queries import volunteer_summary
from wenming.ledger.services import record_verified

from .helpers import at, recorded, settle


def test_verified_record_from_check_in_and_out(tree):
    record = settle(
        tree.team_leader, tree.zhang, tree.station, 1, check_in=at(5, 8, 40), check_out=at(5, 10, 50)
    )  # window 9:00–11:00, served 110 min
    assert record.kind == ServiceRecord.Kind.VERIFIED
    assert record.minutes == 90  # 110 rounded down to the half hour
    assert record.started_at == at(5, 8, 40) and record.ended_at == at(5, 10, 50)
    assert record.window_start == at(5, 9) and record.window_end == at(5, 11)
    assert record.sequence == 1 and record.prev_hash == "0" * 64 and len(record.hash) == 64
    assert record.recorded_by == tree.team_leader and record.approved_by == tree.team_leader
    assert record.service_date.isoformat() == "2025-03-05"
    assert AuditEntry.objects.filter(action="ledger.verified.record", object_id=str(record.pk)).exists()


def test_below_sixty_percent_gives_no_record(tree):
    assert settle(tree.admin, tree.zhang, tree.station, 1, check_in=at(5, 9), check_out=at(5, 10, 11)) is None
    assert not ServiceRecord.objects.exists()


def test_settling_twice_is_refused(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)
    with pytest.raises(Conflict) as e:
        settle(tree.admin, tree.zhang, tree.station, 1)
    assert e.value.code == "already_settled"
    assert ServiceRecord.objects.count() == 1


def test_verified_and_recorded_together_stay_within_the_window(tree):
    """A forgotten check-out was recorded (1.5 h of a 2 h window); the late check-out can't add 2 h more."""
    from wenming.ledger.services import request_recorded_hours

    ws = at(5, 9)
    req = request_recorded_hours(
        tree.admin,
        volunteer=tree.zhang,
        node=tree.station,
        title="敬老院志愿服务",
        window_start=ws,
        window_end=ws + timedelta(hours=2),
        minutes=90,
        reason="忘记签退",
        source_type="activity",
        source_id="1",
    )
    from wenming.ledger.services import approve_hours_request

    approve_hours_request(tree.admin2, req)
    with pytest.raises(InvalidInput) as e:
        settle(tree.admin, tree.zhang, tree.station, 1)
    assert e.value.code == "over_window"
    assert "不能超过活动时长" in e.value.message
    assert volunteer_summary(tree.zhang).total_minutes == 90


def test_check_out_before_check_in_is_refused(tree):
    with pytest.raises(InvalidInput) as e:
        settle(tree.admin, tree.zhang, tree.station, 1, check_in=at(5, 10), check_out=at(5, 9, 30))
    assert e.value.code == "checkout_before_checkin"


def test_anonymous_cannot_settle(tree):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(Exception) as e:
        settle(AnonymousUser(), tree.zhang, tree.station, 1)
    assert getattr(e.value, "code", "") == "not_authenticated"


def test_verified_hours_cannot_be_typed_in(tree):
    """There is no parameter for minutes: the ledger computes them from the times."""
    import inspect

    assert "minutes" not in inspect.signature(record_verified).parameters
    # and a recorded entry is always marked recorded, even when it fills a whole window
    record = recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 180)
    assert record.kind == ServiceRecord.Kind.RECORDED


def test_hours_settled_is_sent_after_commit(tree, django_capture_on_commit_callbacks):
    seen = []

    def listener(sender, record, volunteer, **kwargs):
        seen.append((record.pk, volunteer.pk))

    signals.hours_settled.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record = settle(tree.admin, tree.zhang, tree.station, 7)
        assert seen == [(record.pk, tree.zhang.pk)]
    finally:
        signals.hours_settled.disconnect(listener)


def test_records_chain_per_volunteer(tree):
    a1 = settle(tree.admin, tree.zhang, tree.station, 1)
    b1 = settle(tree.admin, tree.li, tree.station, 1)
    a2 = settle(tree.admin, tree.zhang, tree.station, 2, day=6)
    assert (a1.sequence, a2.sequence, b1.sequence) == (1, 2, 1)
    assert a2.prev_hash == a1.hash
    assert b1.prev_hash == "0" * 64
    tree.zhang.ledger_chain.refresh_from_db()
    assert tree.zhang.ledger_chain.length == 2 and tree.zhang.ledger_chain.head_hash == a2.hash
