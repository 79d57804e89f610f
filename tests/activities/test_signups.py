"""Sign-up (报名) and its waiting list (候补): places, restrictions, overlaps, the deadline,
cancelling and moving up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from wenming.activities import services
from wenming.activities.models import Activity, SignUp
from wenming.core.models import Skill
from wenming.notices.models import Notice

from .conftest import make_activity, shift
from .helpers import account, new_volunteer, refused, running


def test_places_then_the_waiting_list(tree):
    activity = make_activity(tree.admin, tree.station, capacity=2)
    people = [tree.zhang, tree.li, new_volunteer(tree, "赵六"), new_volunteer(tree, "孙七")]
    statuses = [services.sign_up(account(v), activity).status for v in people]
    assert statuses == ["confirmed", "confirmed", "waiting", "waiting"]


def test_station_restriction(tree):
    activity = make_activity(tree.admin, tree.station, restrict_to_node=tree.station)
    e = refused("station_restricted", services.sign_up, account(tree.wang), activity)
    assert tree.station.name in e.message and e.status == 403
    assert services.sign_up(tree.vol_user, activity).status == SignUp.Status.CONFIRMED
    # Restricted to an institute: its stations' volunteers may come.
    wide = make_activity(tree.admin, tree.station, restrict_to_node=tree.institute, title="街道活动",
                         start=timezone.now() + timedelta(days=3))
    assert services.sign_up(account(tree.li), wide).status == SignUp.Status.CONFIRMED
    refused("station_restricted", services.sign_up, tree.wang.user, wide)


def test_skills_required(tree):
    nursing, _ = Skill.objects.get_or_create(name="医疗护理")
    law, _ = Skill.objects.get_or_create(name="法律咨询")
    activity = make_activity(tree.admin, tree.station, skills=[nursing, law], require_skills=True)
    e = refused("skills_required", services.sign_up, tree.vol_user, activity)
    assert "医疗护理" in e.message
    tree.li.skills.add(law)
    assert services.sign_up(account(tree.li), activity).status == SignUp.Status.CONFIRMED


def test_skills_wanted_but_not_required(tree):
    nursing, _ = Skill.objects.get_or_create(name="医疗护理")
    activity = make_activity(tree.admin, tree.station, skills=[nursing], require_skills=False)
    assert services.sign_up(tree.vol_user, activity).status == SignUp.Status.CONFIRMED


def test_overlapping_activities_refused(tree):
    start = timezone.now() + timedelta(days=2)
    first = make_activity(tree.admin, tree.station, start=start, hours=2, title="上午场")
    services.sign_up(tree.vol_user, first)
    overlapping = make_activity(tree.admin, tree.station, start=start + timedelta(hours=1), title="中午场")
    e = refused("time_overlap", services.sign_up, tree.vol_user, overlapping)
    assert e.details == {"activity": first.pk} and "上午场" in e.message
    # Back to back is fine.
    after = make_activity(tree.admin, tree.station, start=start + timedelta(hours=2), title="下午场")
    assert services.sign_up(tree.vol_user, after).status == SignUp.Status.CONFIRMED


def test_overlap_with_a_waiting_place_counts_too(tree):
    start = timezone.now() + timedelta(days=2)
    full = make_activity(tree.admin, tree.station, start=start, capacity=1)
    services.sign_up(account(tree.li), full)
    assert services.sign_up(tree.vol_user, full).status == SignUp.Status.WAITING
    other = make_activity(tree.admin, tree.station, start=start + timedelta(minutes=30), title="另一场")
    refused("time_overlap", services.sign_up, tree.vol_user, other)


def test_overlap_ignores_cancelled_sign_ups_and_cancelled_activities(tree):
    start = timezone.now() + timedelta(days=2)
    left = make_activity(tree.admin, tree.station, start=start, title="退出的")
    services.cancel_signup(tree.vol_user, services.sign_up(tree.vol_user, left))
    dropped = make_activity(tree.admin, tree.station, start=start, title="被取消的")
    services.sign_up(tree.vol_user, dropped)
    services.cancel_activity(tree.admin, dropped, reason="改期")
    same_time = make_activity(tree.admin, tree.station, start=start, title="同一时间")
    assert services.sign_up(tree.vol_user, same_time).status == SignUp.Status.CONFIRMED


def test_deadline(tree):
    start = timezone.now() + timedelta(days=2)
    activity = make_activity(tree.admin, tree.station, start=start, signup_deadline=start - timedelta(days=1))
    Activity.objects.filter(pk=activity.pk).update(signup_deadline=timezone.now() - timedelta(minutes=1))
    activity.refresh_from_db()
    e = refused("signup_closed", services.sign_up, tree.vol_user, activity)
    assert e.status == 409


def test_already_signed_up_and_again_after_cancelling(tree):
    activity = make_activity(tree.admin, tree.station)
    signup = services.sign_up(tree.vol_user, activity)
    refused("already_signed_up", services.sign_up, tree.vol_user, activity)
    services.cancel_signup(tree.vol_user, signup)
    again = services.sign_up(tree.vol_user, activity)
    assert again.pk != signup.pk and again.status == SignUp.Status.CONFIRMED


@pytest.mark.parametrize("state", ["draft", "in_progress", "finished", "cancelled"])
def test_not_recruiting(tree, state):
    if state == "draft":
        activity = make_activity(tree.admin, tree.station, publish=False)
    elif state == "in_progress":
        activity = running(tree)
    elif state == "finished":
        activity = running(tree, hours=1, started_ago=timedelta(hours=2))
    else:
        activity = make_activity(tree.admin, tree.station)
        services.cancel_activity(tree.admin, activity, reason="取消")
    refused("not_recruiting", services.sign_up, tree.vol_user, activity)
    assert not SignUp.objects.exists()


def test_not_a_volunteer(tree):
    activity = make_activity(tree.admin, tree.station)
    refused("not_volunteer", services.sign_up, tree.admin, activity)


def test_organiser_signs_someone_up_within_reach_only(tree):
    activity = make_activity(tree.admin, tree.station)
    assert services.sign_up(tree.admin, activity, tree.li).volunteer == tree.li
    refused("out_of_scope", services.sign_up, tree.far_admin, activity, tree.wang)
    refused("role_forbidden", services.sign_up, tree.vol_user, activity, tree.wang)


# --- Cancelling and moving up -----------------------------------------------------------------------


def test_cancel_moves_the_first_waiting_up_and_tells_them(tree):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    mine = services.sign_up(tree.vol_user, activity)
    first, second = new_volunteer(tree, "候补一"), new_volunteer(tree, "候补二")
    services.sign_up(first.user, activity)
    services.sign_up(second.user, activity)
    cancelled = services.cancel_signup(tree.vol_user, mine, reason="临时有事")
    assert cancelled.status == SignUp.Status.CANCELLED and cancelled.cancel_reason == "临时有事"
    moved = SignUp.objects.get(volunteer=first)
    assert moved.status == SignUp.Status.CONFIRMED and moved.promoted_at is not None
    assert SignUp.objects.get(volunteer=second).status == SignUp.Status.WAITING
    (notice,) = Notice.objects.all()
    assert notice.volunteer == first and notice.kind == "waitlist_promoted" and activity.title in notice.title


def test_leaving_the_waiting_list_moves_no_one(tree):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    services.sign_up(tree.vol_user, activity)
    waiting = services.sign_up(account(tree.li), activity)
    third = new_volunteer(tree, "候补二")
    services.sign_up(third.user, activity)
    services.cancel_signup(tree.li.user, waiting)
    assert SignUp.objects.get(volunteer=third).status == SignUp.Status.WAITING
    assert not Notice.objects.exists()


def test_cancel_refusals(tree):
    activity = make_activity(tree.admin, tree.station)
    signup = services.sign_up(tree.vol_user, activity)
    refused("reason_too_long", services.cancel_signup, tree.vol_user, signup, reason="因" * 201)
    other = new_volunteer(tree, "别人")
    refused("role_forbidden", services.cancel_signup, other.user, signup)
    refused("out_of_scope", services.cancel_signup, tree.far_admin, signup)
    services.cancel_signup(tree.vol_user, signup)
    refused("already_cancelled", services.cancel_signup, tree.vol_user, signup)


def test_cancel_refused_once_started(tree):
    activity = make_activity(tree.admin, tree.station)
    signup = services.sign_up(tree.vol_user, activity)
    shift(activity, timezone.now() - timedelta(minutes=5) - activity.starts_at)
    refused("not_recruiting", services.cancel_signup, tree.vol_user, signup)
    assert SignUp.objects.get(pk=signup.pk).status == SignUp.Status.CONFIRMED


def test_organiser_cancels_a_place(tree):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    signup = services.sign_up(tree.vol_user, activity)
    services.sign_up(account(tree.li), activity)
    services.cancel_signup(tree.admin, signup, reason="重复报名")
    assert SignUp.objects.get(volunteer=tree.li).status == SignUp.Status.CONFIRMED
