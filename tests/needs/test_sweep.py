"""The deadline sweep, on SQLite and PostgreSQL: every branch (review and dispatch missed → escalated one
level up, or overdue at the centre; accept missed → back for another dispatch; service late → overdue,
told once; unrated → closed), exactly once per missed deadline, and a second run at the same time
changes nothing at all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import make_user
from tests.needs.conftest import accepted, approved, completed, dispatched, raise_need
from wenming.core.models import AuditEntry
from wenming.needs import services
from wenming.needs.models import Need, NeedEvent
from wenming.notices.models import Notice

S = Need.State
DAY = timedelta(days=1)


def everything():
    """All that a sweep may write: the needs' rows, their timelines, the audit trail, the notices."""
    return (list(Need.objects.order_by("pk").values()), NeedEvent.objects.count(), AuditEntry.objects.count(),
            Notice.objects.count())


def fresh(need) -> Need:
    return Need.objects.get(pk=need.pk)


def actions(need) -> list[str]:
    return list(NeedEvent.objects.filter(need=need).order_by("id").values_list("action", flat=True))


def assert_second_run_changes_nothing(now):
    before = everything()
    assert services.sweep(now).total() == 0
    assert everything() == before


@pytest.fixture
def every_state(loop):
    """One need in every state of the loop (the team ends at its capacity of three)."""
    t = loop.tree
    needs = {}
    needs["closed"] = services.rate_need(completed(loop), stars=5)
    needs["completed"] = completed(loop)
    needs["accepted"] = accepted(loop)
    needs["in_service"] = services.start_service(t.team_leader, accepted(loop))
    needs["to_team"] = dispatched(loop)
    needs["to_volunteer"] = services.dispatch_need(t.admin, approved(loop), volunteer=t.li)
    needs["to_department"] = services.dispatch_need(t.admin, approved(loop), department=loop.department)
    needs["in_pool"] = services.publish_need(t.admin, approved(loop))
    passed = raise_need(loop)
    Need.objects.filter(pk=passed.pk).update(node=t.institute)  # e.g. escalated there
    passed = services.review_need(t.inst_admin, passed, approve=True)
    needs["passed_down"] = services.dispatch_need(t.inst_admin, passed, node=t.station)
    needs["approved"] = approved(loop)
    needs["wish"] = approved(loop, is_wish=True)
    needs["submitted"] = raise_need(loop)
    needs["rejected"] = services.review_need(t.admin, raise_need(loop), approve=False, reason="不属于志愿服务范围")
    needs["cancelled"] = services.cancel_need(raise_need(loop), reason="已自行解决")
    assert {k: n.state for k, n in needs.items()} == {
        "closed": S.CLOSED, "completed": S.COMPLETED, "accepted": S.ACCEPTED, "in_service": S.IN_SERVICE,
        "to_team": S.DISPATCHED, "to_volunteer": S.DISPATCHED, "to_department": S.DISPATCHED,
        "in_pool": S.DISPATCHED, "passed_down": S.DISPATCHED, "approved": S.APPROVED, "wish": S.APPROVED,
        "submitted": S.SUBMITTED, "rejected": S.REJECTED, "cancelled": S.CANCELLED,
    }
    return needs


def test_one_sweep_acts_once_on_every_missed_deadline_and_a_second_run_changes_nothing(loop, every_state):
    t, n = loop.tree, every_state
    centre_admin = make_user("centre_only", "district_admin", [t.centre])
    before = {k: fresh(v) for k, v in n.items()}
    timelines = {k: actions(v) for k, v in n.items()}
    now = timezone.now() + 8 * DAY  # past every deadline but the wish's (14 days on the wall)

    result = services.sweep(now)
    assert (result.escalated, result.reassigned, result.overdue, result.closed_unrated) == (2, 5, 2, 1)
    after = {k: fresh(v) for k, v in n.items()}

    for key in ("submitted", "approved"):  # missed review / dispatch: one level up, a fresh day there
        need = after[key]
        assert need.state == before[key].state and need.node == t.institute and need.overdue
        assert need.escalations == 1 and need.deadline == now + DAY
        assert actions(need)[-1] == "escalated"
    for key in ("to_team", "to_volunteer", "to_department", "in_pool", "passed_down"):  # missed accept: 改派
        need = after[key]
        assert need.state == S.APPROVED and need.assignee is None and not need.in_pool and need.overdue
        assert need.node == before[key].node and need.deadline == now + DAY and need.escalations == 0
        assert actions(need)[-1] == "accept_missed"
    assert after["passed_down"].node == t.institute  # back with the node that passed it down
    assert Notice.objects.filter(user=centre_admin, title__startswith="部门接单超时").count() == 1
    for key in ("accepted", "in_service"):  # late service: overdue, the deadline cleared so it is told once
        need = after[key]
        assert need.state == before[key].state and need.team == loop.team and need.overdue
        assert need.deadline is None and actions(need)[-1] == "overdue"
    closed = after["completed"]
    assert closed.state == S.CLOSED and closed.stars is None and closed.closed_at == now
    assert closed.deadline is None and actions(closed)[-1] == "closed_unrated"
    for key in ("wish", "closed", "rejected", "cancelled"):  # not due, or done with
        assert after[key].deadline == before[key].deadline and actions(after[key]) == actions(before[key])
    for key, need in after.items():  # one timeline entry and one audit entry per missed deadline
        swept = key not in ("wish", "closed", "rejected", "cancelled")
        assert len(actions(need)) == len(timelines[key]) + swept
        assert AuditEntry.objects.filter(object_type="needs.need", object_id=str(need.pk)).count() == len(
            actions(need))
    assert all(e.actor is None and e.actor_label == services.SYSTEM
               for e in NeedEvent.objects.filter(action__in=["escalated", "accept_missed", "overdue", "closed_unrated"]))

    assert_second_run_changes_nothing(now)
    assert_second_run_changes_nothing(now - DAY)  # an earlier clock finds nothing either


def test_every_later_deadline_is_missed_once_more_and_the_centre_keeps_what_it_misses(loop, every_state):
    t, n = loop.tree, every_state
    now = timezone.now() + 8 * DAY
    services.sweep(now)
    # A day later: the two escalated needs go on to the centre; the five sent back escalate from their
    # node (station → institute, institute → centre).
    result = services.sweep(now + DAY)
    assert (result.escalated, result.reassigned, result.overdue, result.closed_unrated) == (7, 0, 0, 0)
    assert_second_run_changes_nothing(now + DAY)
    assert fresh(n["submitted"]).node == t.centre and fresh(n["passed_down"]).node == t.centre
    assert fresh(n["to_team"]).node == t.institute
    # At the centre the top has nowhere to escalate to: the need stays overdue there, marked once.
    result = services.sweep(now + 2 * DAY)
    assert (result.escalated, result.overdue) == (4, 3)
    result = services.sweep(now + 3 * DAY)
    assert (result.escalated, result.overdue) == (0, 4)
    assert_second_run_changes_nothing(now + 3 * DAY)
    assert services.sweep(now + 365 * DAY).total() == 1  # only the wish, whose 14 days have passed
    for key in ("submitted", "approved", "to_team", "passed_down"):
        need = fresh(n[key])
        assert need.node == t.centre and need.overdue and need.deadline is None
        assert need.escalations == actions(need).count("escalated")
    assert actions(n["submitted"])[1:] == ["escalated", "escalated", "overdue"]
    assert actions(n["to_team"])[-4:] == ["accept_missed", "escalated", "escalated", "overdue"]
    assert services.sweep(now + 365 * DAY).total() == 0


def test_a_deadline_is_missed_at_its_very_moment_not_before(loop):
    need = dispatched(loop)
    deadline = need.deadline
    assert services.sweep(deadline - timedelta(microseconds=1)).total() == 0
    assert fresh(need).state == S.DISPATCHED
    assert services.sweep(deadline).reassigned == 1
    assert fresh(need).state == S.APPROVED and fresh(need).deadline == deadline + DAY
    assert_second_run_changes_nothing(deadline)


def test_a_wish_escalates_after_its_days_on_the_wall(loop):
    t = loop.tree
    wish = approved(loop, is_wish=True)
    missed = wish.deadline
    assert missed >= timezone.now() + 13 * DAY
    assert services.sweep(missed - timedelta(seconds=1)).total() == 0
    assert services.sweep(missed).escalated == 1
    wish = fresh(wish)
    assert wish.node == t.institute and wish.state == S.APPROVED and wish.escalations == 1
    assert wish.deadline == missed + 14 * DAY  # a fresh 14 days on the wall, at the institute
    assert_second_run_changes_nothing(wish.deadline - DAY)


@pytest.mark.parametrize("how", ["declined", "accept_missed", "taken_over"])
def test_a_wish_sent_back_to_be_dispatched_waits_on_the_wall_again(loop, how):
    """Declined, missed or taken over by a lower node, a wish is 待派单 on the wall again: its days, not 24 h."""
    t = loop.tree
    wish = approved(loop, is_wish=True)
    if how == "taken_over":
        Need.objects.filter(pk=wish.pk).update(node=t.institute)
        wish = services.dispatch_need(t.inst_admin, wish, node=t.station)
        wish, at = services.accept_need(t.admin, wish), timezone.now()
    else:
        wish = services.dispatch_need(t.admin, wish, team=loop.team)
        if how == "declined":
            wish, at = services.decline_need(t.team_leader, wish, reason="本周人手不足"), timezone.now()
        else:
            at = wish.deadline
            services.sweep(at)
            wish = fresh(wish)
    assert wish.state == S.APPROVED and wish.is_wish
    assert wish.deadline >= at + 13 * DAY


def test_terminal_needs_are_never_swept(loop):
    t = loop.tree
    done = [services.rate_need(completed(loop), stars=4),
            services.review_need(t.admin, raise_need(loop), approve=False, reason="重复提交"),
            services.cancel_need(approved(loop), reason="已自行解决")]
    Need.objects.filter(pk__in=[d.pk for d in done]).update(deadline=timezone.now())  # even with a stale deadline
    assert_second_run_changes_nothing(timezone.now() + 1000 * DAY)
