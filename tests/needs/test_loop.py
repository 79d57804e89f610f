"""The four-order loop, transition by transition: who may do what, from which state, and what each
step leaves behind (timeline, audit, notices, ledger requests)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import make_user
from tests.needs.conftest import PHONE, accepted, approved, completed, dispatched, raise_need
from wenming.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from wenming.core.models import AuditEntry
from wenming.ledger.models import HoursRequest
from wenming.needs import services
from wenming.needs.models import Need, NeedEvent, NeedHours

S = Need.State


def events(need):
    return list(need.events.values_list("action", flat=True))


def test_the_whole_loop_leaves_a_timeline_and_an_audit_trail(loop):
    t = loop.tree
    need = raise_need(loop)
    assert need.state == S.SUBMITTED and len(need.code) == 8 and need.phone_masked == "138****5678"
    assert need.node == t.station and need.deadline > timezone.now()
    need = services.review_need(t.admin, need, approve=True)
    need = services.dispatch_need(t.admin, need, team=loop.team, note="请本周内上门")
    assert need.state == S.DISPATCHED and need.assignee_label == loop.team.name
    need = services.accept_need(t.team_leader, need)
    need = services.start_service(t.team_leader, need)
    need = services.complete_need(t.team_leader, need, report="上门探访，陪聊1小时", people_served=1,
                                  hours=[services.ReportedHours(t.li, 1.5)])
    need = services.rate_need(need, stars=5, comment="非常满意")
    assert need.state == S.CLOSED and need.stars == 5 and need.closed_at
    assert events(need) == ["submitted", "approved", "dispatched", "accepted", "started", "completed", "rated"]
    assert AuditEntry.objects.filter(object_type="needs.need", object_id=str(need.pk)).count() == 7
    event = need.events.get(action="dispatched")
    assert event.actor == t.admin and "请本周内上门" in event.note and event.from_state == S.APPROVED


def test_direct_report_hours_wait_for_a_second_person_in_the_ledger(loop):
    t = loop.tree
    need = services.complete_need(t.team_leader, accepted(loop), report="上门维修", people_served=2,
                                  hours=[services.ReportedHours(t.li, 2), services.ReportedHours(t.zhang, 0.5)])
    rows = NeedHours.objects.filter(need=need).order_by("minutes")
    assert [r.minutes for r in rows] == [30, 120]
    requests = HoursRequest.objects.filter(source_type="need", source_id=need.code)
    assert requests.count() == 2 and all(r.status == HoursRequest.Status.PENDING for r in requests)
    assert {r.requested_by for r in requests} == {t.team_leader}


@pytest.mark.parametrize(("hours", "code"), [
    ([("li", 0)], "hours_invalid"), ([("li", 25)], "hours_invalid"), ([("li", "abc")], "hours_invalid"),
    ([("li", 1), ("li", 2)], "hours_duplicate"), ([("wang", 1)], "hours_not_member"),
])
def test_bad_hours_are_refused_and_nothing_is_written(loop, hours, code):
    t = loop.tree
    need = accepted(loop)
    with pytest.raises(InvalidInput) as exc:
        services.complete_need(t.team_leader, need, report="完成", hours=[
            services.ReportedHours(getattr(t, who), h) for who, h in hours])
    assert exc.value.code == code
    need.refresh_from_db()
    assert need.state == S.ACCEPTED and not NeedHours.objects.exists() and not HoursRequest.objects.exists()


def test_rejection_names_the_node_and_its_reason(loop):
    need = services.review_need(loop.tree.admin, raise_need(loop), approve=False, reason="不属于志愿服务范围")
    assert need.state == S.REJECTED
    note = need.events.get(action="rejected").note
    assert loop.tree.station.name in note and "不属于志愿服务范围" in note


def test_a_rejection_needs_a_reason(loop):
    need = raise_need(loop)
    with pytest.raises(InvalidInput) as exc:
        services.review_need(loop.tree.admin, need, approve=False, reason="  ")
    assert exc.value.code == "reason_required"
    assert Need.objects.get(pk=need.pk).state == S.SUBMITTED


@pytest.mark.parametrize("who", ["far_admin", "team_leader", "vol_user"])
def test_only_the_handling_node_or_above_reviews(loop, who):
    need = raise_need(loop)
    with pytest.raises(Forbidden) as exc:
        services.review_need(getattr(loop.tree, who), need, approve=True)
    assert exc.value.code == "not_handler"


def test_the_node_above_may_review(loop):
    assert services.review_need(loop.tree.inst_admin, raise_need(loop), approve=True).state == S.APPROVED


def test_a_transition_from_the_wrong_state_is_a_conflict_naming_the_state(loop):
    need = raise_need(loop)
    with pytest.raises(Conflict) as exc:
        services.dispatch_need(loop.tree.admin, need, team=loop.team)
    assert exc.value.code == "state_invalid" and "待审核" in exc.value.message
    with pytest.raises(Conflict):
        services.rate_need(need, stars=5)


def test_decline_returns_the_need_for_another_dispatch(loop):
    need = services.decline_need(loop.tree.team_leader, dispatched(loop), reason="本周人手不足")
    assert need.state == S.APPROVED and need.team is None and need.deadline > timezone.now()
    assert "本周人手不足" in need.events.get(action="declined").note
    need = services.dispatch_need(loop.tree.admin, need, team=loop.far_team)
    assert need.team == loop.far_team


def test_only_the_assignee_accepts(loop):
    need = dispatched(loop)
    with pytest.raises(Forbidden) as exc:
        services.accept_need(loop.other_leader_user, need)
    assert exc.value.code == "not_assignee"


def test_a_volunteer_accepts_what_is_dispatched_to_them(loop):
    t = loop.tree
    need = services.dispatch_need(t.admin, approved(loop), volunteer=t.zhang)
    with pytest.raises(Forbidden):
        services.accept_need(t.team_leader, need)
    assert services.accept_need(t.vol_user, need).state == S.ACCEPTED


def test_passing_down_to_a_lower_node_which_dispatches_further(loop):
    t = loop.tree
    need = raise_need(loop)
    need.node = t.institute  # e.g. escalated there
    need.save()
    need = services.review_need(t.inst_admin, need, approve=True)
    need = services.dispatch_need(t.inst_admin, need, node=t.station)
    assert need.state == S.DISPATCHED and need.to_node == t.station
    need = services.accept_need(t.admin, need)
    assert need.state == S.APPROVED and need.node == t.station and need.to_node is None
    need = services.dispatch_need(t.admin, need, team=loop.team)
    assert need.state == S.DISPATCHED


def test_only_lower_nodes_take_a_passed_need(loop):
    with pytest.raises(InvalidInput) as exc:
        services.dispatch_need(loop.tree.admin, approved(loop), node=loop.tree.other_station.get_parent())
    assert exc.value.code == "node_not_below"


def test_a_department_reports_for_duty(loop):
    need = services.dispatch_need(loop.tree.admin, approved(loop), department=loop.department)
    with pytest.raises(Forbidden):
        services.accept_need(loop.tree.team_leader, need)
    need = services.accept_need(loop.dept_user, need)
    need = services.complete_need(loop.dept_user, need, report="派出家庭医生上门", people_served=1)
    assert need.state == S.COMPLETED


def test_a_team_without_the_skills_or_out_of_area_cannot_take_it(loop):
    need = approved(loop, category=loop.repair)
    with pytest.raises(Conflict) as exc:
        services.dispatch_need(loop.tree.admin, need, team=loop.team)
    assert exc.value.code == "team_ineligible" and "专长" in exc.value.message
    need.node = loop.tree.station
    with pytest.raises(Conflict) as exc:  # the station's admin does not reach the other station's team
        services.dispatch_need(loop.tree.far_admin, approved(loop, station=loop.tree.other_station,
                                                              category=loop.care), team=loop.team)
    assert "区域" in exc.value.message


def test_a_full_team_takes_no_more(loop):
    for _ in range(loop.team.capacity):
        dispatched(loop)
    with pytest.raises(Conflict) as exc:
        dispatched(loop)
    assert "已满" in exc.value.message


def test_one_dispatch_target_only(loop):
    with pytest.raises(InvalidInput) as exc:
        services.dispatch_need(loop.tree.admin, approved(loop), team=loop.team, volunteer=loop.tree.li)
    assert exc.value.code == "assignee_missing"


def test_pool_grab_first_wins(loop):
    t = loop.tree
    need = services.publish_need(t.admin, approved(loop))
    assert need.in_pool and need.state == S.DISPATCHED
    need = services.grab_need(t.team_leader, need, loop.team)
    assert need.state == S.ACCEPTED and need.team == loop.team
    with pytest.raises(Conflict) as exc:
        services.grab_need(t.team_leader, need, loop.team)
    assert exc.value.code == "already_taken"


def test_only_a_teams_leader_grabs_for_it(loop):
    need = services.publish_need(loop.tree.admin, approved(loop))
    with pytest.raises(Forbidden):
        services.grab_need(loop.other_leader_user, need, loop.team)


def test_resident_cancels_before_acceptance_only(loop):
    need = services.cancel_need(dispatched(loop), reason="已自行解决")
    assert need.state == S.CANCELLED and need.team is None
    with pytest.raises(Conflict):
        services.cancel_need(accepted(loop), reason="不需要了")


def test_rating_is_one_to_five(loop):
    need = completed(loop)
    for bad in (0, 6, "5", None, True, 3.5):
        with pytest.raises(InvalidInput):
            services.rate_need(need, stars=bad)
    assert services.rate_need(need, stars=4).stars == 4


def test_menu_booking_goes_to_the_offering_team_on_approval(loop):
    offer = services.save_offer(loop.tree.team_leader, team=loop.team, category=loop.care, title="爱心陪伴",
                                schedule="每周六上午")
    need = raise_need(loop, offer=offer)
    assert need.source == Need.Source.MENU and need.requested_team == loop.team
    need = services.review_need(loop.tree.admin, need, approve=True)
    assert need.state == S.DISPATCHED and need.team == loop.team
    assert events(need) == ["submitted", "approved", "dispatched"]


def test_a_wish_is_claimed_by_a_team(loop):
    need = services.review_need(loop.tree.admin, raise_need(loop, is_wish=True), approve=True)
    assert need.source == Need.Source.WISH
    need = services.claim_wish(loop.tree.team_leader, need, loop.team)
    assert need.state == S.ACCEPTED and need.team == loop.team
    assert events(need)[-2:] == ["dispatched", "claimed"]


def test_tracking_needs_the_code_and_the_phones_last_four(loop):
    need = raise_need(loop)
    assert services.find_by_code(need.code.lower(), PHONE[-4:]) == need
    for code, last4 in ((need.code, "0000"), ("NOPE1234", PHONE[-4:]), ("", ""), (need.code, "56789")):
        with pytest.raises(NotFound):
            services.find_by_code(code, last4)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("description", "", "description_invalid"),
    ("description", "短", "description_invalid"),
    ("description", "很" * 1001, "description_invalid"),
    ("description", 123, "description_invalid"),
    ("phone", "12345", "phone_format"),
    ("contact_name", "<script>", "contact_invalid"),
    ("contact_name", "", "contact_invalid"),
    ("urgency", "now!", "urgency_invalid"),
    ("lat", 91.0, "coordinates_invalid"),
    ("wished_at", "tomorrow", "wished_at_invalid"),
])
def test_bad_intake_is_refused_with_a_code(loop, field, value, code):
    data = services.NeedData(category=loop.care, description="需要上门探访老人", station=loop.tree.station,
                             contact_name="刘奶奶", phone=PHONE)
    setattr(data, field, value)
    if field == "lat":
        data.lng = 111.0
    with pytest.raises(InvalidInput) as exc:
        services.submit_need(data)
    assert exc.value.code.startswith(code.split("_")[0])
    assert not Need.objects.exists() and not NeedEvent.objects.exists()


def test_scripts_in_text_are_kept_as_text(loop):
    need = raise_need(loop, description="<script>alert(1)</script> 请帮忙修水管")
    assert need.description.startswith("<script>")  # stored as typed; templates escape it


def test_intake_needs_a_station_not_an_institute(loop):
    with pytest.raises(InvalidInput) as exc:
        raise_need(loop, station=loop.tree.institute)
    assert exc.value.code == "station_invalid"


def test_a_proxy_enters_within_reach_only(loop):
    t = loop.tree
    data = services.NeedData(category=loop.care, description="代老人点单：上门理发", station=t.station,
                             contact_name="刘奶奶", phone=PHONE)
    assert services.submit_need(data, by=t.admin).source == Need.Source.PROXY
    with pytest.raises(Forbidden):
        services.submit_need(data, by=t.far_admin)


# --- The sweep -------------------------------------------------------------------------------------


def later(hours):
    return timezone.now() + timedelta(hours=hours)


def test_unreviewed_needs_escalate_one_level_and_only_once(loop):
    t = loop.tree
    need = raise_need(loop)
    result = services.sweep(later(25))
    assert result.escalated == 1
    need.refresh_from_db()
    assert need.node == t.institute and need.overdue and need.escalations == 1
    assert services.sweep(later(25)).total() == 0  # idempotent
    services.sweep(later(50))
    need.refresh_from_db()
    assert need.node == t.centre and need.escalations == 2
    services.sweep(later(75))
    need.refresh_from_db()
    assert need.node == t.centre and need.deadline is None and need.overdue  # the top: stays overdue
    assert events(need) == ["submitted", "escalated", "escalated", "overdue"]


def test_missed_accept_returns_the_need_for_redispatch(loop):
    need = dispatched(loop)
    assert services.sweep(later(13)).reassigned == 1
    need.refresh_from_db()
    assert need.state == S.APPROVED and need.team is None and need.overdue
    assert services.sweep(later(13)).total() == 0


def test_unrated_needs_close_by_themselves(loop):
    need = completed(loop)
    assert services.sweep(timezone.now() + timedelta(days=8)).closed_unrated == 1
    need.refresh_from_db()
    assert need.state == S.CLOSED and need.stars is None
    assert events(need)[-1] == "closed_unrated"


def test_late_service_is_marked_overdue_once(loop):
    need = accepted(loop)
    assert services.sweep(timezone.now() + timedelta(days=8)).overdue == 1
    assert services.sweep(timezone.now() + timedelta(days=9)).total() == 0
    need.refresh_from_db()
    assert need.overdue and need.state == S.ACCEPTED


def test_whoever_it_concerns_is_told(loop):
    from wenming.notices.models import Notice

    t = loop.tree
    raise_need(loop)  # the station's admins hear of it (the admin's scope is the centre: not told)
    need = dispatched(loop)
    assert Notice.objects.filter(user=t.team_leader, title__startswith="新的派单").count() == 1
    services.decline_need(t.team_leader, need, reason="人手不足")
    services.review_need(t.admin, raise_need(loop), approve=True)
    need = services.dispatch_need(t.admin, approved(loop), department=loop.department)
    assert Notice.objects.filter(user=loop.dept_user).count() == 1


def test_a_late_department_is_reported_to_the_centre(loop):
    from wenming.notices.models import Notice

    t = loop.tree
    centre_admin = make_user("centre_only", "district_admin", [t.centre])
    need = services.dispatch_need(t.admin, approved(loop), department=loop.department)
    services.sweep(later(13))  # the accept deadline passes
    assert Notice.objects.filter(user=centre_admin, title__startswith="部门接单超时").count() == 1
    need = services.dispatch_need(t.admin, Need.objects.get(pk=need.pk), department=loop.department)
    services.accept_need(loop.dept_user, need)
    services.sweep(timezone.now() + timedelta(days=8))
    assert Notice.objects.filter(user=centre_admin, title__startswith="部门办理超时").count() == 1


def test_a_wish_waits_on_the_wall_for_days_and_only_nearby_teams_claim_it(loop):
    need = services.review_need(loop.tree.admin, raise_need(loop, is_wish=True), approve=True)
    assert need.deadline > timezone.now() + timedelta(days=13)
    assert services.sweep(later(48)).total() == 0
    far = services.review_need(loop.tree.admin, raise_need(loop, is_wish=True, station=loop.tree.other_station),
                               approve=True)
    with pytest.raises(Conflict) as exc:
        services.claim_wish(loop.tree.team_leader, far, loop.team)
    assert exc.value.code == "team_ineligible"
