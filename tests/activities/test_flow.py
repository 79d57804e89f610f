"""The whole life of an activity through the services: publish, sign up, check in and out, settle."""

from datetime import timedelta

from django.utils import timezone

from wenming.activities import checkin, services
from wenming.activities.models import Activity, Attendance, SignUp
from wenming.ledger.models import ServiceRecord
from wenming.ledger.queries import volunteer_summary

from .conftest import SITE_LAT, SITE_LNG, make_activity, shift


def test_activity_from_publish_to_settled_hours(tree, site):
    activity = make_activity(tree.admin, tree.station, site=site, hours=2)
    assert activity.phase == Activity.Phase.RECRUITING
    signup = services.sign_up(tree.vol_user, activity)
    assert signup.status == SignUp.Status.CONFIRMED

    # The clock moves on: the activity ran from three hours ago to an hour ago. Scans carry
    # the time they were taken (`now` stands for the server's clock at each scan).
    activity = shift(activity, (timezone.now() - timedelta(hours=3)) - activity.starts_at)
    assert activity.phase == Activity.Phase.FINISHED
    t_in, t_out = activity.starts_at - timedelta(minutes=5), activity.ends_at + timedelta(minutes=10)
    result = checkin.check_in(tree.vol_user, activity.pk, token=checkin.token_for(activity.pk, "in", t_in),
                              scan_id="scan-in-0001", lat=SITE_LAT, lng=SITE_LNG, now=t_in)
    assert not result.duplicate and result.attendance.check_in_distance_m == 0
    # The same scan again is applied once.
    again = checkin.check_in(tree.vol_user, activity.pk, token="whatever", scan_id="scan-in-0001", now=t_in)
    assert again.duplicate and again.attendance.pk == result.attendance.pk
    out = checkin.check_out(tree.vol_user, activity.pk, token=checkin.token_for(activity.pk, "out", t_out),
                            scan_id="scan-out-0001", now=t_out)
    assert out.attendance.status == Attendance.Status.CHECKED_OUT

    result = services.settle_activity(tree.admin, activity, beneficiaries=30)
    assert result.settled == 1 and result.minutes == 120
    record = ServiceRecord.objects.get(volunteer=tree.zhang)
    assert record.kind == "verified" and record.minutes == 120
    summary = volunteer_summary(tree.zhang)
    assert summary.verified_minutes == 120 and summary.points == 20
    activity.refresh_from_db()
    assert activity.status == Activity.Status.SETTLED and activity.beneficiaries == 30


def test_open_checkin_waits_for_a_decision_after_the_grace_period(tree, site):
    from wenming.activities.tasks import expire_open_checkins_task

    activity = make_activity(tree.admin, tree.station, site=site, hours=2)
    services.sign_up(tree.vol_user, activity)
    activity = shift(activity, (timezone.now() - timedelta(hours=5)) - activity.starts_at)
    t_in = activity.starts_at
    checkin.check_in(tree.vol_user, activity.pk, token=checkin.token_for(activity.pk, "in", t_in),
                     scan_id="scan-in-grace", now=t_in)
    assert expire_open_checkins_task() == 1  # ended 3 h ago, grace is 1 h
    att = Attendance.objects.get(activity=activity)
    assert att.status == Attendance.Status.AWAITING_DECISION and att.minutes is None
    assert not ServiceRecord.objects.filter(volunteer=tree.zhang).exists()


def test_venue_and_brand_must_belong_to_the_organisers_line(tree, site):
    import pytest

    from wenming.activities.models import Brand
    from wenming.core.errors import InvalidInput
    from wenming.org.models import Site

    far_site = Site.objects.create(name="东站社区文化广场", kind=Site.Kind.CULTURE_SQUARE, node=tree.other_station)
    far_brand = Brand.objects.create(name="七彩假期", node=tree.other_institute)
    with pytest.raises(InvalidInput) as exc:
        make_activity(tree.admin, tree.station, site=far_site)
    assert exc.value.code == "site_outside_node"
    with pytest.raises(InvalidInput) as exc:
        make_activity(tree.admin, tree.station, brand=far_brand)
    assert exc.value.code == "brand_outside_node"
    # The district's own venue serves a station's activity.
    centre_site = Site.objects.create(name="区新时代文明实践中心", kind=Site.Kind.PRACTICE_VENUE, node=tree.centre)
    assert make_activity(tree.admin, tree.station, site=centre_site).site == centre_site


def test_a_team_leader_organiser_cannot_enter_recorded_hours_but_can_give_none(tree, site):
    from tests.activities.helpers import refused, running, scan
    from wenming.people.models import Team

    team = Team.objects.create(name="东风社区敬老志愿服务队", node=tree.station, leader=tree.li)
    tree.li.user = tree.team_leader
    tree.li.save(update_fields=["user"])
    activity = running(tree, signed_up=[tree.zhang], by=tree.team_leader, node=tree.station, team=team, site=site)
    scan(tree.vol_user, activity, "in")
    activity = shift(activity, timedelta(hours=-5))  # ended long ago; no check-out came
    services.settle_activity(tree.team_leader, activity)
    att = Attendance.objects.get(activity=activity)
    assert att.status == Attendance.Status.AWAITING_DECISION
    refused("recorded_hours_admin_only", services.decide_attendance, tree.team_leader, att,
            record_minutes=60, reason="忘记签退")
    att = services.decide_attendance(tree.team_leader, att, record_minutes=None, reason="未全程参加")
    assert att.status == Attendance.Status.NO_HOURS
