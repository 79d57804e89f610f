"""Check-in and check-out (签到/签退): every refusal with its stable code, repeated and
offline scans, and the token's slot arithmetic (hypothesis)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wenming.activities import checkin, services
from wenming.activities.models import Activity, Attendance, Scan
from wenming.core.errors import DomainError

from .conftest import SITE_LAT, SITE_LNG, make_activity, shift
from .helpers import account, new_volunteer, refused, running, scan

NEAR = {"lat": SITE_LAT + 0.001, "lng": SITE_LNG}  # about 111 m from the site (radius 300 m)
FAR = {"lat": SITE_LAT + 0.01, "lng": SITE_LNG}  # about 1.1 km


@pytest.fixture
def live(tree, site):
    """An activity at the site, in progress for ten minutes, 张三 signed up."""
    return running(tree, site=site, signed_up=[tree.zhang])


# --- Accepted --------------------------------------------------------------------------------------


def test_check_in_within_range_is_recorded_with_its_distance(tree, live):
    result = scan(tree.vol_user, live, **NEAR)
    assert not result.duplicate
    att = Attendance.objects.get(activity=live, volunteer=tree.zhang)
    assert att.status == Attendance.Status.CHECKED_IN and not att.is_walk_in
    assert att.signup.volunteer == tree.zhang
    assert 100 <= att.check_in_distance_m <= 125
    assert Scan.objects.get(attendance=att).distance_m == att.check_in_distance_m
    assert "签到成功" in result.message and live.title in result.message


def test_no_position_given_is_accepted_without_a_distance(tree, live):
    result = scan(tree.vol_user, live)
    assert result.attendance.check_in_distance_m is None


def test_site_without_coordinates_accepts_any_position(tree, site):
    site.lat = site.lng = None
    site.save()
    activity = running(tree, site=site, signed_up=[tree.zhang])
    assert scan(tree.vol_user, activity, **FAR).attendance.check_in_distance_m is None


def test_check_in_opens_before_the_start(tree, site):
    # Starts in 20 minutes; check-in opens 30 minutes before the start.
    activity = running(tree, site=site, signed_up=[tree.zhang], started_ago=-timedelta(minutes=20))
    assert scan(tree.vol_user, activity).attendance.status == Attendance.Status.CHECKED_IN


def test_walk_ins_when_the_organiser_allows_them(tree, site):
    activity = running(tree, site=site, allow_walk_ins=True)
    li = new_volunteer(tree, "李雷")
    result = scan(li.user, activity)
    assert result.attendance.is_walk_in and result.attendance.signup is None


def test_walk_in_from_the_waiting_list(tree, site):
    activity = running(tree, site=site, capacity=1, allow_walk_ins=True, signed_up=[tree.zhang, tree.li])
    result = scan(tree.li.user, activity)
    assert result.attendance.is_walk_in and result.attendance.signup is None


def test_check_out_after_check_in(tree, live):
    scan(tree.vol_user, live)
    out = scan(tree.vol_user, live, "out", **NEAR)
    assert out.attendance.status == Attendance.Status.CHECKED_OUT and not out.duplicate
    assert out.attendance.checked_out_at is not None and out.attendance.check_out_distance_m > 0
    assert "签退成功" in out.message


def test_check_out_within_the_grace_period(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=2, minutes=30))
    scan(tree.vol_user, activity, at=activity.starts_at + timedelta(minutes=5))
    # The activity ended 30 minutes ago; the check-out closes 60 minutes after the end.
    assert scan(tree.vol_user, activity, "out").attendance.status == Attendance.Status.CHECKED_OUT


def test_a_stale_open_check_in_elsewhere_waits_for_a_decision_and_lets_the_new_one_in(tree, site):
    old = running(tree, site=site, signed_up=[tree.zhang], started_ago=timedelta(days=1))
    scan(tree.vol_user, old, at=old.starts_at + timedelta(minutes=1), now=old.starts_at + timedelta(minutes=1))
    new = running(tree, site=site, allow_walk_ins=True, title="新活动")
    assert not scan(tree.vol_user, new).duplicate
    assert Attendance.objects.get(activity=old).status == Attendance.Status.AWAITING_DECISION


# --- Refused, each with its code -------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["", "abc", "123", "123.", ".abcdef0123456789abcd", "x" * 64, "99999999999999.abcdef0123456789abcd",
     "1.ABCDEF0123456789ABCD", " 1.abcdef0123456789abcd", "１２.abcdef0123456789abcd"],
)
def test_malformed_tokens(tree, live, token):
    refused("token_invalid", scan, tree.vol_user, live, token=token)


def test_token_of_another_activity_or_tampered(tree, live, site):
    other = running(tree, site=site, title="另一活动")
    refused("token_invalid", scan, tree.vol_user, live, token=checkin.token_for(other.pk, "in"))
    good = checkin.token_for(live.pk, "in")
    slot, mac = good.split(".")
    tampered = f"{slot}.{'0' if mac[0] != '0' else '1'}{mac[1:]}"
    refused("token_invalid", scan, tree.vol_user, live, token=tampered)
    # The right mac with another slot is no good either.
    refused("token_invalid", scan, tree.vol_user, live, token=f"{int(slot) - 5}.{mac}")
    assert not Attendance.objects.exists() and not Scan.objects.exists()


def test_expired_token(tree, live):
    now = timezone.now()
    stale = checkin.token_for(live.pk, "in", now - timedelta(seconds=2 * checkin.slot_seconds()))
    refused("token_expired", scan, tree.vol_user, live, token=stale, now=now)
    ahead = checkin.token_for(live.pk, "in", now + timedelta(seconds=checkin.slot_seconds()))
    refused("token_expired", scan, tree.vol_user, live, token=ahead, now=now)


def test_token_of_the_wrong_kind(tree, live):
    e = refused("token_wrong_kind", scan, tree.vol_user, live, token=checkin.token_for(live.pk, "out"))
    assert "签退二维码" in e.message
    scan(tree.vol_user, live)
    e = refused("token_wrong_kind", scan, tree.vol_user, live, "out", token=checkin.token_for(live.pk, "in"))
    assert "签到二维码" in e.message


def test_too_early(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], started_ago=-timedelta(hours=2))
    e = refused("too_early", scan, tree.vol_user, activity)
    assert e.status == 409 and "签到尚未开始" in e.message


def test_window_closed_after_the_end(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=2, minutes=1))
    refused("window_closed", scan, tree.vol_user, activity)


def test_not_signed_up(tree, live):
    stranger = new_volunteer(tree, "路人")
    e = refused("not_signed_up", scan, stranger.user, live)
    assert e.status == 403


def test_on_the_waiting_list(tree, site):
    activity = running(tree, site=site, capacity=1, signed_up=[tree.zhang, tree.li])
    refused("on_waiting_list", scan, tree.li.user, activity)
    assert scan(tree.vol_user, activity).attendance.volunteer == tree.zhang


def test_cancelled_signup_is_not_signed_up(tree, site):
    activity = make_activity(tree.admin, tree.station, site=site)
    signup = services.sign_up(tree.vol_user, activity)
    services.cancel_signup(tree.vol_user, signup)
    activity = shift(activity, timezone.now() - timedelta(minutes=10) - activity.starts_at)
    refused("not_signed_up", scan, tree.vol_user, activity)


def test_out_of_range_says_how_far(tree, live):
    e = refused("out_of_range", scan, tree.vol_user, live, **FAR)
    assert e.status == 403
    assert 1050 <= e.details["distance_m"] <= 1150 and e.details["radius_m"] == 300
    assert "米" in e.message and "东风社区道德讲堂" in e.message
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "lat,lng",
    [("NaN", "NaN"), ("nan", SITE_LNG), (SITE_LAT, "inf"), ("-Infinity", SITE_LNG), (float("nan"), SITE_LNG),
     (91, SITE_LNG), (-90.5, SITE_LNG), (SITE_LAT, 180.01), (SITE_LAT, -181), ("abc", SITE_LNG),
     (SITE_LAT, None), (None, SITE_LNG), ([1], SITE_LNG), ({"a": 1}, SITE_LNG), ("1e999", SITE_LNG)],
)
def test_hostile_coordinates(tree, live, lat, lng):
    refused("position_invalid", scan, tree.vol_user, live, lat=lat, lng=lng)
    assert not Attendance.objects.exists()


def test_checked_in_elsewhere(tree, site):
    first = running(tree, site=site, signed_up=[tree.zhang], title="第一场")
    second = running(tree, site=site, allow_walk_ins=True, title="第二场")
    scan(tree.vol_user, first)
    e = refused("checked_in_elsewhere", scan, tree.vol_user, second)
    assert e.details == {"activity": first.pk} and "第一场" in e.message
    # Once checked out there, the other one is fine.
    scan(tree.vol_user, first, "out")
    assert not scan(tree.vol_user, second).duplicate


def test_already_checked_out(tree, live):
    scan(tree.vol_user, live)
    scan(tree.vol_user, live, "out")
    refused("already_checked_out", scan, tree.vol_user, live)


def test_check_out_without_check_in(tree, live):
    refused("not_checked_in", scan, tree.vol_user, live, "out")


def test_check_out_closed_after_the_end_and_grace(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=3, minutes=5))
    scan(tree.vol_user, activity, at=activity.starts_at + timedelta(minutes=1), now=activity.starts_at + timedelta(minutes=1))
    e = refused("checkout_closed", scan, tree.vol_user, activity, "out")
    assert "组织者" in e.message


def test_check_out_closed_once_awaiting_a_decision(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=3, minutes=5))
    t = activity.starts_at + timedelta(minutes=1)
    scan(tree.vol_user, activity, at=t, now=t)
    assert services.expire_open_checkins() == 1
    # Even a scan taken offline inside the window cannot close it any more.
    t_out = activity.ends_at - timedelta(minutes=1)
    refused("checkout_closed", scan, tree.vol_user, activity, "out", at=t_out, now=timezone.now())


def test_check_out_before_the_check_in_time(tree, live):
    t_in = timezone.now()
    scan(tree.vol_user, live, at=t_in)
    t_out = t_in - timedelta(minutes=1)
    refused("checkout_before_checkin", scan, tree.vol_user, live, "out", at=t_out, now=t_in)


@pytest.mark.parametrize("state", ["draft", "cancelled", "settled"])
def test_activity_not_open(tree, site, state):
    if state == "draft":
        activity = make_activity(tree.admin, tree.station, site=site, publish=False)
        activity = shift(activity, timezone.now() - timedelta(minutes=10) - activity.starts_at)
        code = "activity_not_published"
    elif state == "cancelled":
        activity = running(tree, site=site, signed_up=[tree.zhang])
        services.cancel_activity(tree.admin, activity, reason="暴雨预警")
        code = "activity_cancelled"
    else:
        activity = running(tree, site=site, signed_up=[tree.zhang], hours=1, started_ago=timedelta(hours=2))
        services.settle_activity(tree.admin, activity)
        code = "activity_settled"
    refused(code, scan, tree.vol_user, activity)
    refused(code, scan, tree.vol_user, activity, "out")


@pytest.mark.parametrize("scan_id", ["short", "a" * 65, "有中文的扫码编号abcdef", "has space 123", "semi;colon12",
                                     "", None, 12345678, "../../etc/passwd", "a\x00bcdefghij"])
def test_malformed_scan_id(tree, live, scan_id):
    with pytest.raises(DomainError) as e:
        checkin.check_in(tree.vol_user, live.pk, token=checkin.token_for(live.pk, "in"), scan_id=scan_id)
    assert e.value.code == "scan_id_invalid"


def test_scan_id_reused_for_another_kind_or_activity(tree, live, site):
    scan(tree.vol_user, live, scan_id="phone-scan-0001")
    refused("scan_id_reused", scan, tree.vol_user, live, "out", scan_id="phone-scan-0001")
    other = running(tree, site=site, allow_walk_ins=True, title="另一场")
    refused("scan_id_reused", scan, tree.vol_user, other, scan_id="phone-scan-0001")
    # Another volunteer may well use the same id: ids are the phone's own.
    assert not scan(account(tree.li), other, scan_id="phone-scan-0001").duplicate  # li walks in


def test_scanned_at_in_the_future(tree, live):
    now = timezone.now()
    refused("scanned_at_invalid", scan, tree.vol_user, live, now=now, scanned_at=now + timedelta(minutes=5))
    refused("scanned_at_invalid", scan, tree.vol_user, live, now=now, scanned_at="2025-03-05T09:00:00")


def test_a_phone_clock_a_little_ahead_is_tolerated(tree, live):
    now = timezone.now()
    ahead = now + timedelta(seconds=60)
    result = scan(tree.vol_user, live, at=ahead, now=now)
    assert result.attendance.checked_in_at == ahead


def test_scanned_at_too_old(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], started_ago=timedelta(days=4))
    at = activity.starts_at + timedelta(minutes=5)
    e = refused("scan_too_old", scan, tree.vol_user, activity, at=at, now=timezone.now())
    assert "3天" in e.message


def test_naive_scanned_at_is_local_time(tree, live):
    now = timezone.now()
    naive = timezone.make_naive(now)
    result = scan(tree.vol_user, live, now=now, at=now, scanned_at=naive)
    assert abs((result.attendance.checked_in_at - now).total_seconds()) < 1


def test_not_a_volunteer(tree, live):
    refused("not_volunteer", scan, tree.admin, live)


def test_unknown_activity(tree, live):
    for pk in (999_999_999, "abc", None):
        with pytest.raises(DomainError) as e:
            checkin.check_in(tree.vol_user, pk, token="1.abcdef0123456789abcd", scan_id="scan-unknown-1")
        assert e.value.code == "activity_not_found" and e.value.status == 404


def test_refusals_write_nothing(tree, live):
    for kwargs in ({"token": "bad"}, FAR, {"lat": "NaN", "lng": 1}):
        with pytest.raises(DomainError):
            scan(tree.vol_user, live, **kwargs)
    assert not Attendance.objects.exists() and not Scan.objects.exists()


# --- Repeated and offline scans --------------------------------------------------------------------


def test_the_same_scan_twice_applies_once(tree, live):
    first = scan(tree.vol_user, live, scan_id="phone-0000001")
    again = scan(tree.vol_user, live, scan_id="phone-0000001")
    assert again.duplicate and again.attendance.pk == first.attendance.pk
    assert Scan.objects.count() == 1 and Attendance.objects.count() == 1
    assert "已签到成功" in again.message


def test_a_replay_is_answered_even_when_its_token_has_expired(tree, live):
    t = timezone.now()
    scan(tree.vol_user, live, at=t, scan_id="phone-0000002")
    later = t + timedelta(minutes=10)
    again = checkin.check_in(tree.vol_user, live.pk, token="stale", scan_id="phone-0000002", now=later)
    assert again.duplicate and Scan.objects.count() == 1


def test_a_second_scan_of_the_same_volunteer_is_a_duplicate_but_kept(tree, live):
    first = scan(tree.vol_user, live)
    second = scan(tree.vol_user, live)
    assert second.duplicate and second.attendance.pk == first.attendance.pk
    assert Scan.objects.filter(attendance=first.attendance).count() == 2
    assert Attendance.objects.count() == 1


def test_offline_scan_sent_later_is_accepted_once_with_its_own_time(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=3, started_ago=timedelta(hours=2))
    taken = activity.starts_at + timedelta(minutes=3)  # the phone had no signal then
    sent = timezone.now()
    first = scan(tree.vol_user, activity, at=taken, now=sent, scan_id="offline-000001", **NEAR)
    assert not first.duplicate and first.attendance.checked_in_at == taken
    assert Scan.objects.get().received_at == sent
    again = scan(tree.vol_user, activity, at=taken, now=sent + timedelta(minutes=1), scan_id="offline-000001")
    assert again.duplicate and Scan.objects.count() == 1


def test_offline_scan_must_carry_the_token_of_its_own_time(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=3, started_ago=timedelta(hours=2))
    taken = activity.starts_at + timedelta(minutes=3)
    # The token shown now cannot back a claim of having scanned two hours ago (and vice versa).
    refused("token_expired", scan, tree.vol_user, activity, token=checkin.token_for(activity.pk, "in"),
            scanned_at=taken, now=timezone.now())


def test_offline_check_in_and_out_arriving_together_make_whole_hours(tree, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=2, minutes=10))
    now = timezone.now()
    scan(tree.vol_user, activity, at=activity.starts_at, now=now, scan_id="offline-in-0001")
    scan(tree.vol_user, activity, "out", at=activity.ends_at, now=now, scan_id="offline-out-001")
    # And again, as a phone that did not see the answers would send them.
    assert scan(tree.vol_user, activity, at=activity.starts_at, now=now, scan_id="offline-in-0001").duplicate
    assert scan(tree.vol_user, activity, "out", at=activity.ends_at, now=now, scan_id="offline-out-001").duplicate
    result = services.settle_activity(tree.admin, activity)
    assert result.settled == 1 and result.minutes == 120


def test_check_out_repeated_is_a_duplicate(tree, live):
    scan(tree.vol_user, live)
    first = scan(tree.vol_user, live, "out")
    again = scan(tree.vol_user, live, "out")
    assert again.duplicate and again.attendance.checked_out_at == first.attendance.checked_out_at
    assert Scan.objects.filter(kind="out").count() == 2


# --- The organiser's code --------------------------------------------------------------------------


def test_checkin_code_for_the_organiser_only(tree, live):
    code = checkin.checkin_code(tree.admin, live)
    assert code["token"] == checkin.token_for(live.pk, "in") and code["url"].endswith(code["token"])
    assert code["refresh_seconds"] == 30 and code["expires_at"] > timezone.now()
    assert checkin.checkin_code(tree.admin, live, "out")["kind"] == "out"
    refused("kind_invalid", checkin.checkin_code, tree.admin, live, "sideways")
    refused("out_of_scope", checkin.checkin_code, tree.far_admin, live)
    refused("role_forbidden", checkin.checkin_code, tree.vol_user, live)


def test_checkin_code_of_a_closed_activity(tree, site):
    activity = running(tree, site=site)
    services.cancel_activity(tree.admin, activity, reason="场地维修")
    refused("activity_cancelled", checkin.checkin_code, tree.admin, Activity.objects.get(pk=activity.pk))


# --- Properties: the token's slots, the position -----------------------------------------------------

SLOT = 30
MOMENT = st.integers(min_value=1_600_000_000, max_value=2_000_000_000)


@override_settings(SECRET_KEY="hypothesis-secret-key-for-tokens-0123456789")
@settings(max_examples=300, deadline=None)
@given(made=MOMENT, seconds=st.integers(min_value=-4 * SLOT, max_value=4 * SLOT),
       activity_id=st.integers(min_value=1, max_value=10**9))
def test_a_token_is_accepted_exactly_in_its_own_slot_and_the_next(made, seconds, activity_id):
    from datetime import datetime

    tz = timezone.get_current_timezone()
    shown, scanned = datetime.fromtimestamp(made, tz), datetime.fromtimestamp(made + seconds, tz)
    token = checkin.token_for(activity_id, "in", shown)
    own_slot, scan_slot = made // SLOT, (made + seconds) // SLOT
    try:
        checkin._check_token(activity_id, "in", token, scanned)
        accepted = True
    except DomainError as e:
        assert e.code == "token_expired"
        accepted = False
    assert accepted == (scan_slot - own_slot in (0, 1))
    # Never for another activity, never for the other kind.
    with pytest.raises(DomainError) as e:
        checkin._check_token(activity_id + 1, "in", token, shown)
    assert e.value.code == "token_invalid"
    with pytest.raises(DomainError) as e:
        checkin._check_token(activity_id, "out", token, shown)
    assert e.value.code == "token_wrong_kind"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12)),
       lng=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12)))
def test_any_position_is_either_valid_or_refused_as_invalid(lat, lng):
    try:
        position = checkin._position(lat, lng)
    except DomainError as e:
        assert e.code == "position_invalid"
        return
    if position is None:
        assert lat is None and lng is None
    else:
        assert -90 <= position[0] <= 90 and -180 <= position[1] <= 180


@settings(max_examples=200, deadline=None)
@given(dlat=st.floats(min_value=-0.02, max_value=0.02), dlng=st.floats(min_value=-0.02, max_value=0.02))
def test_out_of_range_exactly_beyond_the_radius(dlat, dlng):
    from wenming.org.models import Site

    site = Site(name="站", lat=SITE_LAT, lng=SITE_LNG, radius_m=300)
    activity = Activity(site=site)
    d = checkin.distance_m(SITE_LAT + dlat, SITE_LNG + dlng, SITE_LAT, SITE_LNG)
    try:
        kept = checkin._distance_to_site(activity, (SITE_LAT + dlat, SITE_LNG + dlng))
    except DomainError as e:
        assert e.code == "out_of_range" and d > 300
        assert e.details["distance_m"] == round(d)
    else:
        assert d <= 300 and kept == round(d)


def test_a_scan_that_keeps_losing_races_gives_up_cleanly(tree, live, monkeypatch):
    """Two scans of one volunteer racing: the loser's insert fails on a unique index and it runs
    again; one that keeps losing gives up with a code, never a 500, leaving nothing behind."""
    calls = []

    def always_raced(model, **fields):
        calls.append(model)
        raise checkin._Raced()

    monkeypatch.setattr(checkin, "_insert", always_raced)
    refused("scan_busy", scan, tree.vol_user, live)
    assert len(calls) == 3
    assert not Attendance.objects.exists() and not Scan.objects.exists()
