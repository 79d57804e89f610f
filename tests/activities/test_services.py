"""The life of an activity through its services: create and edit, publish (and the
"not too much of a good thing" warning), cancel, settle, decide on missing check-outs."""

from datetime import datetime, time, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from wenming.activities import services
from wenming.activities.models import Activity, Attendance, SignUp
from wenming.core.models import AuditEntry
from wenming.ledger.models import HoursRequest, ServiceRecord
from wenming.ledger.services import approve_hours_request
from wenming.notices.models import Notice
from wenming.org.models import Site

from .conftest import make_activity, shift
from .helpers import new_volunteer, refused, running, scan


def data(node, **extra):
    start = extra.pop("starts_at", timezone.now() + timedelta(days=2))
    base = {"title": "关爱空巢老人", "starts_at": start, "ends_at": start + timedelta(hours=2), "capacity": 10,
            "node": node}
    base.update(extra)
    return services.ActivityData(**base)


# --- Create and edit -------------------------------------------------------------------------------


def test_create_is_a_draft_with_its_audit_entry(tree):
    activity = services.create_activity(tree.admin, data(tree.station))
    assert activity.status == Activity.Status.DRAFT and activity.phase == Activity.Phase.DRAFT
    assert activity.created_by == tree.admin
    assert AuditEntry.objects.filter(action="activity.create", object_id=str(activity.pk)).exists()


@pytest.mark.parametrize(
    "change,code",
    [
        ({"title": "  "}, "title_missing"),
        ({"title": "长" * 101}, "title_too_long"),
        ({"description": "字" * 5001}, "description_too_long"),
        ({"address": "址" * 201}, "text_too_long"),
        ({"ends_at": "start"}, "ends_before_start"),
        ({"ends_at": "+32d"}, "too_long"),
        ({"starts_at": None}, "time_missing"),
        ({"capacity": 0}, "capacity_invalid"),
        ({"capacity": 100_001}, "capacity_invalid"),
        ({"capacity": "很多"}, "capacity_invalid"),
        ({"expected_beneficiaries": -1}, "beneficiaries_invalid"),
        ({"signup_deadline": "+3d"}, "deadline_after_end"),
        ({"node": None}, "organiser_missing"),
        ({"serves": "everyone"}, "serves_invalid"),
        ({"serves": Activity.Serves.NURSING_HOME}, "served_site_missing"),
        ({"serves": Activity.Serves.CARE_TARGETS, "served_target": " "}, "served_target_missing"),
    ],
)
def test_create_refuses_bad_input(tree, change, code):
    d = data(tree.station)
    for key, value in change.items():
        if value == "start":
            value = d.starts_at
        elif value == "+32d":
            value = d.starts_at + timedelta(days=32)
        elif value == "+3d":
            value = d.starts_at + timedelta(days=3)
        setattr(d, key, value)
    refused(code, services.create_activity, tree.admin, d)
    assert not Activity.objects.exists()


def test_create_refuses_a_moral_hall_as_a_nursing_home(tree, site):
    d = data(tree.station, serves=Activity.Serves.NURSING_HOME, served_site=site)
    refused("served_site_invalid", services.create_activity, tree.admin, d)


def test_update_a_published_activity_before_it_starts(tree):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    services.sign_up(tree.vol_user, activity)
    li = new_volunteer(tree, "李雷")
    services.sign_up(li.user, activity)
    d = data(tree.station, starts_at=activity.starts_at, capacity=2, title="关爱空巢老人（扩招）")
    services.update_activity(tree.admin, activity, d)
    # The added place goes to the waiting list's first, who is told.
    assert SignUp.objects.get(volunteer=li).status == SignUp.Status.CONFIRMED
    assert Notice.objects.filter(volunteer=li, kind="waitlist_promoted").count() == 1
    d.capacity = 1
    refused("capacity_below_confirmed", services.update_activity, tree.admin, activity, d)
    d.capacity, d.node = 2, tree.other_station
    refused("organiser_locked", services.update_activity, tree.admin, activity, d)


def test_update_refused_once_started(tree):
    activity = running(tree)
    refused("not_editable", services.update_activity, tree.admin, activity, data(tree.station))


# --- Publish ---------------------------------------------------------------------------------------


def test_publish_only_drafts(tree):
    activity = make_activity(tree.admin, tree.station, publish=False)
    published = services.publish_activity(tree.admin, activity)
    assert published.status == Activity.Status.PUBLISHED and published.published_at is not None
    assert published.phase == Activity.Phase.RECRUITING
    refused("not_draft", services.publish_activity, tree.admin, published)
    services.cancel_activity(tree.admin, published, reason="天气原因")
    refused("not_draft", services.publish_activity, tree.admin, published)


def test_publish_refused_once_the_start_has_passed(tree):
    activity = make_activity(tree.admin, tree.station, publish=False)
    activity = shift(activity, timedelta(days=-2))
    refused("starts_in_past", services.publish_activity, tree.admin, activity)
    assert Activity.objects.get(pk=activity.pk).status == Activity.Status.DRAFT


@pytest.fixture
def home(tree):
    return Site.objects.create(name="双清区福利院", kind=Site.Kind.NURSING_HOME, node=tree.station)


def wednesday(hour=9):
    """A Wednesday at least two weeks ahead, at `hour` local time (the week runs Monday–Sunday)."""
    day = timezone.localdate() + timedelta(days=14)
    day -= timedelta(days=day.weekday() - 2)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def serving(tree, home, start, *, publish=True, title="敬老院志愿服务", **extra):
    extra.setdefault("serves", Activity.Serves.NURSING_HOME)
    if extra["serves"] == Activity.Serves.NURSING_HOME:
        extra.setdefault("served_site", home)
    return make_activity(tree.admin, tree.station, start=start, publish=publish, title=title, **extra)


@override_settings(WENMING_OVERSERVE_PER_DAY=1, WENMING_OVERSERVE_PER_WEEK=100)
def test_overserving_a_nursing_home_on_one_day_warns_with_the_others_listed(tree, home):
    day = wednesday()
    first = serving(tree, home, day, title="上午助浴")
    second = serving(tree, home, day + timedelta(hours=5), title="下午陪聊")
    serving(tree, home, day + timedelta(days=1), title="次日理发")  # another day: not counted for the day
    third = serving(tree, home, day + timedelta(hours=8), publish=False, title="晚间演出")
    e = refused("overserving", services.publish_activity, tree.admin, third)
    assert e.status == 409 and "双清区福利院" in e.message
    assert [a["id"] for a in e.details["day"]] == [first.pk, second.pk]
    assert {a["title"] for a in e.details["week"]} == {"上午助浴", "下午陪聊", "次日理发"}
    assert e.details["per_day"] == 1 and e.details["target"] == "双清区福利院"
    assert all(a["organiser"] and a["starts_at"] for a in e.details["day"])
    assert Activity.objects.get(pk=third.pk).status == Activity.Status.DRAFT
    published = services.publish_activity(tree.admin, third, confirm_overserving=True)
    assert published.status == Activity.Status.PUBLISHED
    entry = AuditEntry.objects.filter(action="activity.publish", object_id=str(third.pk)).get()
    assert entry.after == {"overserving_confirmed": True}


@override_settings(WENMING_OVERSERVE_PER_DAY=100, WENMING_OVERSERVE_PER_WEEK=2)
def test_overserving_in_a_week(tree, home):
    monday = wednesday() - timedelta(days=2)
    serving(tree, home, monday)
    serving(tree, home, monday + timedelta(days=1))
    serving(tree, home, monday - timedelta(days=1))  # the Sunday before: another week
    candidate = serving(tree, home, monday + timedelta(days=6), publish=False)  # Sunday of the same week
    assert services.publish_activity(tree.admin, candidate).status == Activity.Status.PUBLISHED  # 2 others: fine
    fourth = serving(tree, home, monday + timedelta(days=3), publish=False)
    e = refused("overserving", services.publish_activity, tree.admin, fourth)
    assert len(e.details["week"]) == 3 and e.details["day"] == [] and e.details["per_week"] == 2


@override_settings(WENMING_OVERSERVE_PER_DAY=0, WENMING_OVERSERVE_PER_WEEK=0)
def test_overserving_counts_only_live_activities_of_the_same_target(tree, home, site):
    day = wednesday()
    cancelled = serving(tree, home, day)
    services.cancel_activity(tree.admin, cancelled, reason="改期")
    serving(tree, home, day, publish=False)  # a draft
    other_home = Site.objects.create(name="东风敬老院", kind=Site.Kind.NURSING_HOME, node=tree.station)
    serving(tree, home, day, served_site=other_home)
    serving(tree, home, day, serves=Activity.Serves.PUBLIC)
    candidate = serving(tree, home, day, publish=False)
    assert services.publish_activity(tree.admin, candidate).status == Activity.Status.PUBLISHED
    # A public activity is never too much.
    public = serving(tree, home, day, serves=Activity.Serves.PUBLIC, publish=False)
    assert services.publish_activity(tree.admin, public).status == Activity.Status.PUBLISHED


@override_settings(WENMING_OVERSERVE_PER_DAY=1, WENMING_OVERSERVE_PER_WEEK=100)
def test_overserving_a_care_target(tree, home):
    day = wednesday()
    kwargs = {"serves": Activity.Serves.CARE_TARGETS, "served_target": "东风社区刘奶奶"}
    serving(tree, home, day, **kwargs)
    serving(tree, home, day + timedelta(hours=2), **kwargs)
    serving(tree, home, day, serves=Activity.Serves.CARE_TARGETS, served_target="王爷爷")
    candidate = serving(tree, home, day + timedelta(hours=4), publish=False, **kwargs)
    e = refused("overserving", services.publish_activity, tree.admin, candidate)
    assert len(e.details["day"]) == 2 and e.details["target"] == "东风社区刘奶奶"


# --- Cancel ----------------------------------------------------------------------------------------


def test_cancel_with_a_reason_tells_everyone_signed_up(tree):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    services.sign_up(tree.vol_user, activity)
    waiting = new_volunteer(tree, "候补者")
    services.sign_up(waiting.user, activity)
    cancelled = services.cancel_activity(tree.admin, activity, reason="暴雨红色预警")
    assert cancelled.status == Activity.Status.CANCELLED and cancelled.cancel_reason == "暴雨红色预警"
    assert cancelled.phase == Activity.Phase.CANCELLED
    notices = Notice.objects.filter(kind="activity_cancelled")
    assert {n.volunteer_id for n in notices} == {tree.zhang.pk, waiting.pk}
    assert all("暴雨红色预警" in n.body and activity.title in n.title for n in notices)
    assert AuditEntry.objects.filter(action="activity.cancel").get().after["notified"] == 2


def test_cancel_does_not_tell_those_who_left(tree):
    activity = make_activity(tree.admin, tree.station)
    left = new_volunteer(tree, "离开者")
    services.cancel_signup(left.user, services.sign_up(left.user, activity))
    services.sign_up(tree.vol_user, activity)
    services.cancel_activity(tree.admin, activity, reason="场地冲突")
    assert list(Notice.objects.filter(kind="activity_cancelled").values_list("volunteer_id", flat=True)) == [
        tree.zhang.pk
    ]


def test_cancel_a_draft_tells_no_one(tree):
    activity = make_activity(tree.admin, tree.station, publish=False)
    services.cancel_activity(tree.admin, activity, reason="不办了")
    assert not Notice.objects.exists()


@pytest.mark.parametrize("reason,code", [("", "reason_missing"), ("   ", "reason_missing"),
                                         ("因" * 501, "reason_too_long"), (None, "reason_missing")])
def test_cancel_needs_a_reason(tree, reason, code):
    activity = make_activity(tree.admin, tree.station)
    refused(code, services.cancel_activity, tree.admin, activity, reason=reason)
    assert Activity.objects.get(pk=activity.pk).status == Activity.Status.PUBLISHED


def test_cancel_in_progress_closes_open_check_ins_without_hours(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang])
    scan(tree.vol_user, activity)
    services.cancel_activity(tree.admin, activity, reason="突发停电")
    att = Attendance.objects.get()
    assert att.status == Attendance.Status.NO_HOURS and att.decision_note


def test_cancel_refused_once_finished_settled_or_cancelled(tree):
    finished = running(tree, hours=1, started_ago=timedelta(hours=2))
    refused("not_cancellable", services.cancel_activity, tree.admin, finished, reason="晚了")
    services.settle_activity(tree.admin, finished)
    refused("not_cancellable", services.cancel_activity, tree.admin, finished, reason="晚了")
    other = make_activity(tree.admin, tree.station)
    services.cancel_activity(tree.admin, other, reason="一次")
    refused("not_cancellable", services.cancel_activity, tree.admin, other, reason="两次")
    assert Notice.objects.count() == 0


# --- Settle ----------------------------------------------------------------------------------------


@pytest.fixture
def finished(tree, site):
    """A 2-hour activity that ended ten minutes ago; 张三, 李四 and 王五's stand-in signed up."""
    others = [new_volunteer(tree, "赵六"), new_volunteer(tree, "孙七")]
    activity = running(tree, site=site, hours=2, started_ago=timedelta(hours=2, minutes=10),
                       signed_up=[tree.zhang, *others])
    activity.others = others
    return activity


def attend(user, activity, minutes_in, minutes_out=None):
    t_in = activity.starts_at + timedelta(minutes=minutes_in)
    now = timezone.now()
    scan(user, activity, at=t_in, now=now)
    if minutes_out is not None:
        scan(user, activity, "out", at=activity.starts_at + timedelta(minutes=minutes_out), now=now)


def test_settle_makes_verified_records_through_the_ledger(tree, finished):
    zhao, sun = finished.others
    attend(tree.vol_user, finished, -10, 125)  # the whole window: 120 min
    attend(zhao.user, finished, 0, 80)  # 80 min of 120 (67%): rounded down to the half hour → 60
    attend(sun.user, finished, 30, 90)  # 60 min of 120 (50%): below the 60% share → nothing
    result = services.settle_activity(tree.admin, finished, beneficiaries=40)
    assert (result.settled, result.minutes, result.no_hours, result.awaiting) == (2, 180, 1, 0)

    records = {r.volunteer_id: r for r in ServiceRecord.objects.all()}
    assert set(records) == {tree.zhang.pk, zhao.pk}
    assert records[tree.zhang.pk].minutes == 120 and records[zhao.pk].minutes == 60
    assert all(r.kind == ServiceRecord.Kind.VERIFIED for r in records.values())
    assert records[tree.zhang.pk].source_id == str(finished.pk) and records[tree.zhang.pk].title == finished.title
    atts = {a.volunteer_id: a for a in Attendance.objects.all()}
    assert atts[tree.zhang.pk].status == Attendance.Status.SETTLED and atts[tree.zhang.pk].record is not None
    assert atts[sun.pk].status == Attendance.Status.NO_HOURS and atts[sun.pk].minutes == 0
    assert atts[sun.pk].record is None and "比例" in atts[sun.pk].decision_note
    finished.refresh_from_db()
    assert finished.status == Activity.Status.SETTLED and finished.settled_by == tree.admin
    assert finished.beneficiaries == 40 and finished.phase == Activity.Phase.SETTLED


def test_no_check_out_waits_for_a_decision(tree, finished):
    attend(tree.vol_user, finished, 0)  # checked in, never out
    result = services.settle_activity(tree.admin, finished)
    assert (result.settled, result.awaiting) == (0, 1)
    assert Attendance.objects.get().status == Attendance.Status.AWAITING_DECISION
    assert not ServiceRecord.objects.exists()


def test_settle_twice_refused(tree, finished):
    attend(tree.vol_user, finished, 0, 120)
    services.settle_activity(tree.admin, finished)
    refused("already_settled", services.settle_activity, tree.admin, finished)
    assert ServiceRecord.objects.count() == 1


def test_settle_before_the_end_refused(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang])
    refused("not_finished", services.settle_activity, tree.admin, activity)
    upcoming = make_activity(tree.admin, tree.station)
    refused("not_finished", services.settle_activity, tree.admin, upcoming)
    draft = make_activity(tree.admin, tree.station, publish=False)
    refused("not_finished", services.settle_activity, tree.admin, draft)


@pytest.mark.parametrize("value", [-1, 10_000_001, "许多", [1]])
def test_settle_refuses_odd_beneficiaries(tree, finished, value):
    refused("beneficiaries_invalid", services.settle_activity, tree.admin, finished, beneficiaries=value)
    assert Activity.objects.get(pk=finished.pk).status == Activity.Status.PUBLISHED


# --- Deciding on a missing check-out ------------------------------------------------------------


@pytest.fixture
def awaiting(tree, finished):
    attend(tree.vol_user, finished, 0)
    services.settle_activity(tree.admin, finished)
    return Attendance.objects.get()


def test_recorded_hours_need_a_second_admin(tree, awaiting):
    att = services.decide_attendance(tree.admin, awaiting, record_minutes=90, reason="忘记签退，现场负责人确认")
    assert att.status == Attendance.Status.SETTLED and att.hours_request is not None
    req = att.hours_request
    assert req.status == HoursRequest.Status.PENDING and req.minutes == 90 and "忘记签退" in req.reason
    assert not ServiceRecord.objects.exists()  # nothing until someone else approves
    refused("same_approver", approve_hours_request, tree.admin, req)
    record = approve_hours_request(tree.admin2, req)
    assert record.kind == ServiceRecord.Kind.RECORDED and record.minutes == 90
    assert record.recorded_by == tree.admin and record.approved_by == tree.admin2


def test_recorded_hours_refused_above_the_window(tree, awaiting):
    e = refused("over_window", services.decide_attendance, tree.admin, awaiting, record_minutes=121, reason="补录")
    assert e.details["window_minutes"] == 120
    assert Attendance.objects.get().status == Attendance.Status.AWAITING_DECISION
    assert not HoursRequest.objects.exists()


def test_deciding_no_hours(tree, awaiting):
    att = services.decide_attendance(tree.admin, awaiting, record_minutes=None, reason="未到场服务")
    assert att.status == Attendance.Status.NO_HOURS and att.decision_note == "未到场服务"
    assert not HoursRequest.objects.exists()
    refused("not_awaiting", services.decide_attendance, tree.admin, att, record_minutes=60, reason="再补")


def test_deciding_needs_a_reason_and_reach(tree, awaiting):
    refused("reason_missing", services.decide_attendance, tree.admin, awaiting, record_minutes=60, reason=" ")
    refused("out_of_scope", services.decide_attendance, tree.far_admin, awaiting, record_minutes=60, reason="补")
    refused("role_forbidden", services.decide_attendance, tree.vol_user, awaiting, record_minutes=60, reason="补")


def test_expire_open_checkins_after_the_grace_period(tree, site):
    ended = running(tree, site=site, signed_up=[tree.zhang], hours=1, started_ago=timedelta(hours=2, minutes=5))
    recent = running(tree, site=site, hours=1, started_ago=timedelta(hours=1, minutes=30), allow_walk_ins=True,
                     title="刚结束")
    li = new_volunteer(tree, "李雷")
    scan(tree.vol_user, ended, at=ended.starts_at, now=ended.starts_at)
    scan(li.user, recent, at=recent.starts_at, now=recent.starts_at)
    assert services.expire_open_checkins() == 1  # the other is still inside its grace period
    assert Attendance.objects.get(activity=ended).status == Attendance.Status.AWAITING_DECISION
    assert Attendance.objects.get(activity=recent).status == Attendance.Status.CHECKED_IN
