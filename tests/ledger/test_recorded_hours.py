"""Recorded hours (补录): entered with a reason, approved by a second person, never above the
activity's length, marked as recorded."""

from datetime import timedelta

import pytest

from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import AuditEntry
from wenming.ledger.models import HoursRequest, ServiceRecord
from wenming.ledger.queries import volunteer_summary
from wenming.ledger.services import approve_hours_request, reject_hours_request, request_recorded_hours

from .helpers import at, settle


def enter(
    tree, by=None, *, minutes=120, hours=2, source_id="", volunteer=None, node=None, reason="纸质签到表补录"
):
    ws = at(8, 9)
    return request_recorded_hours(
        by or tree.admin,
        volunteer=volunteer or tree.zhang,
        node=node or tree.station,
        title="学雷锋义诊",
        window_start=ws,
        window_end=ws + timedelta(hours=hours),
        minutes=minutes,
        reason=reason,
        source_type="activity" if source_id else "",
        source_id=source_id,
    )


def test_entry_waits_for_approval_then_becomes_a_recorded_record(tree):
    req = enter(tree)
    assert req.status == HoursRequest.Status.PENDING
    assert not ServiceRecord.objects.exists()
    assert volunteer_summary(tree.zhang).total_minutes == 0
    record = approve_hours_request(tree.admin2, req, note="核对签到表无误")
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.APPROVED and req.record == record
    assert record.kind == ServiceRecord.Kind.RECORDED
    assert record.recorded_by == tree.admin and record.approved_by == tree.admin2
    assert record.reason == "纸质签到表补录" and record.minutes == 120
    summary = volunteer_summary(tree.zhang)
    assert (summary.verified_minutes, summary.recorded_minutes) == (0, 120)


def test_the_one_who_entered_cannot_approve(tree):
    req = enter(tree)
    with pytest.raises(Forbidden) as e:
        approve_hours_request(tree.admin, req)
    assert e.value.code == "same_approver"
    assert "另一名管理员" in e.value.message
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.PENDING
    assert not ServiceRecord.objects.exists()


def test_the_database_refuses_a_recorded_record_approved_by_its_recorder(tree):
    """Even a bypass of the service cannot store recorded hours without a second person."""
    from django.db import IntegrityError, transaction

    from wenming.ledger.models import ServiceRecord as SR

    with pytest.raises(IntegrityError), transaction.atomic():
        SR.objects.create(
            volunteer=tree.zhang,
            sequence=1,
            kind="recorded",
            title="x",
            service_date=at(8, 9).date(),
            minutes=60,
            node=tree.station,
            recorded_by=tree.admin,
            approved_by=tree.admin,
            approved_at=at(8, 12),
            prev_hash="0" * 64,
            hash="f" * 64,
        )


def test_above_the_window_is_refused(tree):
    with pytest.raises(InvalidInput) as e:
        enter(tree, minutes=121, hours=2)
    assert e.value.code == "over_window"
    assert "不能超过活动时长" in e.value.message
    assert not HoursRequest.objects.exists()


def test_verified_plus_recorded_for_one_source_stays_within_the_window(tree):
    settle(tree.admin, tree.zhang, tree.station, 42, check_in=at(5, 9), check_out=at(5, 10, 30))  # 90 of 120
    with pytest.raises(InvalidInput) as e:
        enter(tree, minutes=60, source_id="42")
    assert e.value.code == "over_window"
    req = enter(tree, minutes=30, source_id="42")
    approve_hours_request(tree.admin2, req)
    assert volunteer_summary(tree.zhang).total_minutes == 120


def test_entry_checks_approved_and_pending_entries(tree):
    """Two entries that each fit, for the same source: the second approval would overflow."""
    first = enter(tree, minutes=90, source_id="9")
    approve_hours_request(tree.admin2, first)
    # A second request for the same source is refused at entry already …
    with pytest.raises(InvalidInput):
        enter(tree, minutes=60, source_id="9")
    # … and a pending duplicate is refused too.
    enter(tree, by=tree.admin, minutes=30, source_id="9")
    with pytest.raises(Conflict) as e:
        enter(tree, by=tree.admin, minutes=30, source_id="9")
    assert e.value.code == "request_pending"


def test_approval_rechecks_the_window(tree):
    req = enter(tree, minutes=90, source_id="5")
    settle(tree.admin, tree.zhang, tree.station, 5, check_in=at(5, 9), check_out=at(5, 10, 30))  # 90 verified
    with pytest.raises(InvalidInput) as e:
        approve_hours_request(tree.admin2, req)
    assert e.value.code == "over_window"
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.PENDING


def test_reason_is_required(tree):
    with pytest.raises(InvalidInput) as e:
        enter(tree, reason="  ")
    assert e.value.code == "reason_required"


@pytest.mark.parametrize("minutes", [0, -30, "abc", 1.5, True, None])
def test_minutes_must_be_a_positive_whole_number(tree, minutes):
    with pytest.raises(InvalidInput) as e:
        enter(tree, minutes=minutes)
    assert e.value.code == "minutes_invalid"


def test_reject_needs_a_reason_and_creates_nothing(tree):
    req = enter(tree)
    with pytest.raises(InvalidInput):
        reject_hours_request(tree.admin2, req, reason="")
    reject_hours_request(tree.admin2, req, reason="签到表无负责人签字")
    req.refresh_from_db()
    assert req.status == HoursRequest.Status.REJECTED and req.decision_note == "签到表无负责人签字"
    assert not ServiceRecord.objects.exists()
    with pytest.raises(Conflict) as e:
        approve_hours_request(tree.admin2, req)
    assert e.value.code == "already_decided"


def test_approving_twice_is_refused(tree):
    req = enter(tree)
    approve_hours_request(tree.admin2, req)
    with pytest.raises(Conflict) as e:
        approve_hours_request(tree.inst_admin, req)
    assert e.value.code == "already_decided"
    assert ServiceRecord.objects.count() == 1


def test_only_managers_in_reach_enter_and_approve(tree):
    with pytest.raises(Forbidden) as e:
        enter(tree, by=tree.far_admin)
    assert e.value.code == "out_of_scope"
    with pytest.raises(Forbidden) as e:
        enter(tree, by=tree.team_leader)
    assert e.value.code == "role_forbidden"
    req = enter(tree, by=tree.inst_admin)
    with pytest.raises(Forbidden):
        approve_hours_request(tree.far_admin, req)
    with pytest.raises(Forbidden):
        approve_hours_request(tree.vol_user, req)
    assert approve_hours_request(tree.admin, req).approved_by == tree.admin


def test_nobody_enters_or_approves_their_own_hours(tree):
    from wenming.core.models import User

    # The institute admin is also the volunteer 李四.
    tree.li.user = tree.inst_admin
    tree.li.save(update_fields=["user"])
    with pytest.raises(Forbidden) as e:
        enter(tree, by=tree.inst_admin, volunteer=tree.li)
    assert e.value.code == "self_entry"
    req = enter(tree, by=tree.admin, volunteer=tree.li)
    with pytest.raises(Forbidden) as e:
        approve_hours_request(User.objects.get(pk=tree.inst_admin.pk), req)
    assert e.value.code == "self_entry"


def test_entry_approval_and_rejection_are_audited(tree):
    req = enter(tree)
    approve_hours_request(tree.admin2, req)
    rejected = enter(tree, volunteer=tree.li)
    reject_hours_request(tree.admin2, rejected, reason="重复录入")
    actions = list(
        AuditEntry.objects.filter(action__startswith="ledger.recorded").values_list("action", "actor_id")
    )
    assert ("ledger.recorded.request", tree.admin.pk) in actions
    assert ("ledger.recorded.approve", tree.admin2.pk) in actions
    assert ("ledger.recorded.reject", tree.admin2.pk) in actions
    entry = AuditEntry.objects.get(action="ledger.recorded.request", object_id=str(req.pk))
    assert entry.note == "纸质签到表补录" and entry.after["minutes"] == 120
