"""A correction is a new, reasoned, approved record that refers to the original, never an edit;
its points follow it, and reversing a correction reverses its points."""

import pytest

from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import AuditEntry
from wenming.ledger.models import HoursRequest, PointMovement, ServiceRecord
from wenming.ledger.queries import volunteer_summary
from wenming.ledger.services import (
    account_for,
    approve_hours_request,
    balance,
    reject_hours_request,
    request_adjustment,
    request_reversal,
)

from .helpers import recorded, settle


def adjust(tree, record, minutes, reason="签退时间有误"):
    req = request_adjustment(tree.admin, record, minutes=minutes, reason=reason)
    return approve_hours_request(tree.admin2, req)


def test_a_correction_never_edits_the_original(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)  # 120 verified
    before = (original.minutes, original.hash)
    fix = adjust(tree, original, -60)
    original.refresh_from_db()
    assert (original.minutes, original.hash) == before
    assert fix.adjustment_of == original and fix.original == original
    assert fix.minutes == -60 and fix.kind == ServiceRecord.Kind.VERIFIED
    assert fix.reason == "签退时间有误" and fix.recorded_by == tree.admin and fix.approved_by == tree.admin2
    assert fix.sequence == 2 and fix.prev_hash == original.hash
    summary = volunteer_summary(tree.zhang)
    assert (summary.verified_minutes, summary.recorded_minutes, summary.total_minutes) == (60, 0, 60)
    assert summary.records == 1  # corrections are not services of their own
    assert balance(account_for(tree.zhang)) == 10


def test_a_correction_needs_a_second_person(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    req = request_adjustment(tree.admin, original, minutes=-30, reason="提前离场")
    with pytest.raises(Forbidden) as e:
        approve_hours_request(tree.admin, req)
    assert e.value.code == "same_approver"
    assert not ServiceRecord.objects.filter(adjustment_of=original).exists()


def test_a_correction_can_be_rejected(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    req = request_adjustment(tree.admin, original, minutes=-30, reason="提前离场")
    reject_hours_request(tree.admin2, req, reason="核实无误，不需更正")
    assert HoursRequest.objects.get(pk=req.pk).status == HoursRequest.Status.REJECTED
    assert volunteer_summary(tree.zhang).total_minutes == 120


def test_reason_is_required(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    with pytest.raises(InvalidInput) as e:
        request_adjustment(tree.admin, original, minutes=-30, reason="")
    assert e.value.code == "reason_required"


def test_cannot_take_away_more_than_there_is(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    adjust(tree, original, -90)
    with pytest.raises(InvalidInput) as e:
        request_adjustment(tree.admin, original, minutes=-60, reason="再次更正")
    assert e.value.code == "adjust_below_zero"


def test_an_addition_is_recorded_hours_and_stays_within_the_window(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1, check_in=None)  # 120 of 120
    with pytest.raises(InvalidInput) as e:
        request_adjustment(tree.admin, original, minutes=30, reason="多算")
    assert e.value.code == "over_window"
    cut = adjust(tree, original, -60)
    back = adjust(tree, original, 30, reason="实际服务到10:30")
    assert back.kind == ServiceRecord.Kind.RECORDED  # no one types in verified hours
    summary = volunteer_summary(tree.zhang)
    assert (summary.verified_minutes, summary.recorded_minutes) == (60, 30)
    assert cut.kind == ServiceRecord.Kind.VERIFIED


def test_reversing_a_correction_reverses_its_points(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1, hours=3)  # 180 verified → 30 points
    account = account_for(tree.zhang)
    assert balance(account) == 30
    cut = adjust(tree, original, -45)  # 135 min → 22 points (rounded down)
    assert balance(account) == 22
    cut_points = sum(e.amount for m in cut.point_movements.all() for e in m.entries.filter(account=account))
    assert cut_points == -8
    reversal = approve_hours_request(tree.admin2, request_reversal(tree.admin, cut, reason="更正有误，撤销"))
    assert reversal.adjustment_of == cut and reversal.minutes == 45
    assert reversal.kind == ServiceRecord.Kind.VERIFIED  # restores what the correction took
    assert balance(account) == 30
    back_points = sum(
        e.amount for m in reversal.point_movements.all() for e in m.entries.filter(account=account)
    )
    assert back_points == 8
    summary = volunteer_summary(tree.zhang)
    assert (summary.verified_minutes, summary.recorded_minutes) == (180, 0)
    with pytest.raises(Conflict) as e:
        request_reversal(tree.admin, cut, reason="再撤销")
    assert e.value.code == "already_reversed"


def test_points_follow_net_minutes_whatever_the_order(tree):
    """floor(net × rate / 60) after every step: 50 → 8, −10 → 40 → 6, −40 → 0 → 0."""
    original = recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 50)
    account = account_for(tree.zhang)
    assert balance(account) == 8
    adjust(tree, original, -10)
    assert balance(account) == 6
    adjust(tree, original, -40)
    assert balance(account) == 0
    assert volunteer_summary(tree.zhang).total_minutes == 0


def test_points_keep_the_rate_of_the_first_award(tree, settings):
    settings.WENMING_POINTS_PER_HOUR = 10
    original = settle(tree.admin, tree.zhang, tree.station, 1)  # 120 min → 20
    settings.WENMING_POINTS_PER_HOUR = 20
    adjust(tree, original, -120)
    assert balance(account_for(tree.zhang)) == 0
    assert PointMovement.objects.filter(record__original=original).get().rate == 10


def test_only_adjustments_can_be_reversed(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    with pytest.raises(InvalidInput) as e:
        request_reversal(tree.admin, original, reason="撤销")
    assert e.value.code == "not_an_adjustment"


def test_corrections_are_audited(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    fix = adjust(tree, original, -30, reason="提前离场半小时")
    request = AuditEntry.objects.get(action="ledger.adjustment.request")
    assert (
        request.actor == tree.admin and request.note == "提前离场半小时" and request.after["minutes"] == -30
    )
    approval = AuditEntry.objects.get(action="ledger.adjustment.approve")
    assert approval.actor == tree.admin2 and approval.after["record"] == fix.pk


def test_out_of_reach_cannot_correct(tree):
    original = settle(tree.admin, tree.zhang, tree.station, 1)
    with pytest.raises(Forbidden):
        request_adjustment(tree.far_admin, original, minutes=-30, reason="x")
