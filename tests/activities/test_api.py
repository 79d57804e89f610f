"""The activities API (/api/v1/activities, /api/v1/themes): every endpoint, and every kind of
bad input answered with a structured error {code, message, details} — never a 500."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from tests import factories as f
from wenming.activities import checkin, services
from wenming.activities.models import Activity, Attendance, Scan, SignUp, Theme
from wenming.org.models import Site

from .conftest import SITE_LAT, SITE_LNG, make_activity
from .helpers import account, new_volunteer, running


def api(user):
    return f.Api(f.make_token(user))


def structured(response, status, code=None) -> dict:
    text = response.content.decode("utf-8", "replace")
    assert response.status_code == status, text[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    assert any("\u4e00" <= c <= "\u9fff" for c in body["message"]), body["message"]
    if code:
        assert body["code"] == code, body
    return body


def body(node, **extra):
    start = timezone.now() + timedelta(days=3)
    out = {"title": "重阳节敬老活动", "node_id": node.pk, "starts_at": start.isoformat(),
           "ends_at": (start + timedelta(hours=2)).isoformat(), "capacity": 10}
    out.update(extra)
    return out


@pytest.fixture
def admin(tree):
    return api(tree.admin)


@pytest.fixture
def vol(tree):
    return api(tree.vol_user)


# --- Activities ------------------------------------------------------------------------------------


def test_create_read_update_publish(tree, admin):
    theme = Theme.objects.get_or_create(name="我们的节日·重阳")[0]
    r = admin.post("/activities", body(tree.station, theme_ids=[theme.pk], description="陪老人包饺子"))
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["status"] == "draft" and created["phase"] == "draft" and created["themes"] == ["我们的节日·重阳"]
    assert created["node_name"] == tree.station.name and created["confirmed"] == 0

    got = admin.get(f"/activities/{created['id']}").json()
    assert got["title"] == "重阳节敬老活动"
    r = admin.put(f"/activities/{created['id']}", body(tree.station, title="重阳节敬老活动（改）", capacity=20))
    assert r.status_code == 200 and r.json()["capacity"] == 20

    r = admin.post(f"/activities/{created['id']}/publish", {})
    assert r.status_code == 200 and r.json()["status"] == "published" and r.json()["phase"] == "recruiting"
    structured(admin.post(f"/activities/{created['id']}/publish", {}), 409, "not_draft")


def test_list_with_filters(tree, admin):
    theme = Theme.objects.get_or_create(name="学雷锋")[0]
    a = make_activity(tree.admin, tree.station, title="学雷锋义诊", themes=[theme])
    make_activity(tree.admin, tree.other_station, title="文化惠民演出", start=timezone.now() + timedelta(days=5))
    make_activity(tree.admin, tree.station, title="草稿活动", publish=False)
    page = admin.get("/activities").json()
    assert page["count"] == 3 and {i["title"] for i in page["items"]} == {"学雷锋义诊", "文化惠民演出", "草稿活动"}
    assert [i["id"] for i in admin.get("/activities", {"q": "义诊"}).json()["items"]] == [a.pk]
    assert [i["id"] for i in admin.get("/activities", {"theme_id": theme.pk}).json()["items"]] == [a.pk]
    assert admin.get("/activities", {"node_id": tree.institute.pk}).json()["count"] == 2
    assert admin.get("/activities", {"status": "draft"}).json()["count"] == 1
    later = (timezone.now() + timedelta(days=4)).isoformat()
    assert [i["title"] for i in admin.get("/activities", {"starts_after": later}).json()["items"]] == ["文化惠民演出"]
    assert admin.get("/activities", {"page_size": 1}).json()["count"] == 3


@pytest.mark.parametrize("params", [{"status": "bogus"}, {"node_id": "x"}, {"node_id": 0}, {"page": 0},
                                    {"page_size": 501}, {"starts_after": "yesterday"}, {"q": "字" * 51},
                                    {"theme_id": 2**64}])
def test_list_refuses_odd_filters(admin, params):
    structured(admin.get("/activities", params), 422, "invalid_input")


def test_unknown_activity_is_404(admin, vol):
    for client in (admin, vol):
        structured(client.get("/activities/999999999"), 404, "not_found")
        structured(client.post("/activities/999999999/publish", {}), 404)
        structured(client.get("/activities/999999999/signups"), 404)
        structured(client.get("/activities/999999999/checkin-code"), 404)
    structured(vol.post("/activities/999999999/checkin", {"token": "x", "scan_id": "abcdefgh1"}), 404,
               "activity_not_found")
    structured(vol.post("/activities/999999999/signups", {}), 404)
    structured(admin.get("/activities/abc"), 422)


@pytest.mark.parametrize("raw", ["{bad", '{"title": ', "title=x", "null", "[]"])
def test_malformed_bodies(tree, admin, raw):
    r = admin.post("/activities", raw=raw)
    assert r.status_code in (400, 422)
    structured(r, r.status_code, "malformed_request" if r.status_code == 400 else "invalid_input")
    assert not Activity.objects.exists()


@pytest.mark.parametrize(
    "change",
    [{"capacity": "很多"}, {"capacity": 0}, {"capacity": 10**6}, {"starts_at": "明天"}, {"title": ""},
     {"title": "长" * 101}, {"theme_ids": "1"}, {"theme_ids": list(range(21))}, {"serves": "everyone"},
     {"allow_walk_ins": "maybe"}, {"expected_beneficiaries": -5}, {"node_id": "x"}],
)
def test_create_refuses_bad_types(tree, admin, change):
    b = structured(admin.post("/activities", body(tree.station, **change)), 422, "invalid_input")
    assert b["details"]
    assert not Activity.objects.exists()


def test_create_refuses_unknown_references(tree, admin):
    structured(admin.post("/activities", body(tree.station, node_id=999999)), 404, "not_found")
    structured(admin.post("/activities", body(tree.station, theme_ids=[999999])), 422, "choice_invalid")
    structured(admin.post("/activities", body(tree.station, site_id=999999)), 422, "choice_invalid")
    # Out of reach looks the same as not there.
    structured(api(tree.far_admin).post("/activities", body(tree.station)), 404, "not_found")
    structured(admin.post("/activities", body(tree.station, ends_at=timezone.now().isoformat())), 422,
               "ends_before_start")


def test_volunteers_cannot_organise(tree, vol):
    structured(vol.post("/activities", body(tree.station)), 404)  # the node is out of a volunteer's reach
    activity = make_activity(tree.admin, tree.station)
    r = vol.put(f"/activities/{activity.pk}", body(tree.station))
    assert r.status_code in (403, 404) and structured(r, r.status_code)
    structured(vol.post(f"/activities/{activity.pk}/cancel", {"reason": "不想办了"}), 403, "role_forbidden")
    structured(vol.post(f"/activities/{activity.pk}/settle", {}), 403, "role_forbidden")
    structured(vol.get(f"/activities/{activity.pk}/checkin-code"), 403, "role_forbidden")
    structured(vol.get(f"/activities/{activity.pk}/signups"), 403, "role_forbidden")
    draft = make_activity(tree.admin, tree.station, publish=False)
    structured(vol.get(f"/activities/{draft.pk}"), 404)
    structured(vol.post(f"/activities/{draft.pk}/publish", {}), 404)


def test_publish_overserving_needs_confirmation(tree, admin, settings):
    settings.WENMING_OVERSERVE_PER_DAY = 0
    home = Site.objects.create(name="双清区福利院", kind=Site.Kind.NURSING_HOME, node=tree.station)
    start = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=3), time(9)))
    make_activity(tree.admin, tree.station, start=start, serves="nursing_home", served_site=home, title="先到的")
    draft = make_activity(tree.admin, tree.station, start=start + timedelta(hours=3), serves="nursing_home",
                          served_site=home, publish=False)
    b = structured(admin.post(f"/activities/{draft.pk}/publish", {}), 409, "overserving")
    assert [a["title"] for a in b["details"]["day"]] == ["先到的"]
    r = admin.post(f"/activities/{draft.pk}/publish", {"confirm_overserving": True})
    assert r.status_code == 200 and r.json()["status"] == "published"
    structured(admin.post(f"/activities/{draft.pk}/publish", {"confirm_overserving": "sure"}), 422)


def test_cancel_and_settle(tree, admin, site):
    activity = make_activity(tree.admin, tree.station)
    structured(admin.post(f"/activities/{activity.pk}/cancel", {}), 422, "invalid_input")
    structured(admin.post(f"/activities/{activity.pk}/cancel", {"reason": ""}), 422, "invalid_input")
    r = admin.post(f"/activities/{activity.pk}/cancel", {"reason": "暴雨预警"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "暴雨预警"

    finished = running(tree, site=site, signed_up=[tree.zhang], hours=2, started_ago=timedelta(hours=2, minutes=5))
    now = timezone.now()
    for kind, at in (("in", finished.starts_at), ("out", finished.ends_at)):
        fn = checkin.check_in if kind == "in" else checkin.check_out
        fn(tree.vol_user, finished.pk, token=checkin.token_for(finished.pk, kind, at), scan_id=f"settle-{kind}-01",
           scanned_at=at, now=now)
    structured(admin.post(f"/activities/{finished.pk}/settle", {"beneficiaries": -1}), 422)
    r = admin.post(f"/activities/{finished.pk}/settle", {"beneficiaries": 25})
    assert r.status_code == 200 and r.json() == {"settled": 1, "minutes": 120, "no_hours": 0, "awaiting": 0}
    structured(admin.post(f"/activities/{finished.pk}/settle", {}), 409, "already_settled")


def test_wrong_method_is_structured(tree, admin):
    activity = make_activity(tree.admin, tree.station)
    structured(admin.delete(f"/activities/{activity.pk}"), 405, "method_not_allowed")


# --- Sign-ups --------------------------------------------------------------------------------------


def test_sign_up_list_and_cancel(tree, admin, vol):
    activity = make_activity(tree.admin, tree.station, capacity=1)
    r = vol.post(f"/activities/{activity.pk}/signups", {})
    assert r.status_code == 201 and r.json()["status"] == "confirmed"
    assert r.json()["volunteer_number"] == tree.zhang.number
    mine = r.json()["id"]
    structured(vol.post(f"/activities/{activity.pk}/signups", {}), 409, "already_signed_up")
    li = api(account(tree.li))
    assert li.post(f"/activities/{activity.pk}/signups", {}).json()["status"] == "waiting"

    page = admin.get(f"/activities/{activity.pk}/signups").json()
    assert page["count"] == 2 and {i["status"] for i in page["items"]} == {"confirmed", "waiting"}
    got = admin.get(f"/activities/{activity.pk}").json()
    assert (got["confirmed"], got["waiting"]) == (1, 1)

    r = vol.delete(f"/activities/{activity.pk}/signups/{mine}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert SignUp.objects.get(volunteer=tree.li, status__in=["confirmed"]).promoted_at is not None


def test_other_peoples_sign_ups_are_404(tree, vol):
    activity = make_activity(tree.admin, tree.station)
    theirs = services.sign_up(account(tree.li), activity)
    structured(vol.delete(f"/activities/{activity.pk}/signups/{theirs.pk}"), 404, "not_found")
    structured(vol.delete(f"/activities/{activity.pk}/signups/999999"), 404, "not_found")
    other = make_activity(tree.admin, tree.station, title="另一场", start=timezone.now() + timedelta(days=4))
    mine = services.sign_up(tree.vol_user, other)
    # The right sign-up under the wrong activity is not found either.
    structured(vol.delete(f"/activities/{activity.pk}/signups/{mine.pk}"), 404, "not_found")
    assert SignUp.objects.get(pk=theirs.pk).status == SignUp.Status.CONFIRMED


def test_organiser_signs_a_volunteer_up(tree, admin, vol):
    activity = make_activity(tree.admin, tree.station)
    r = admin.post(f"/activities/{activity.pk}/signups", {"volunteer_id": tree.li.pk})
    assert r.status_code == 201 and r.json()["volunteer_id"] == tree.li.pk
    structured(admin.post(f"/activities/{activity.pk}/signups", {"volunteer_id": 999999}), 404, "not_found")
    structured(admin.post(f"/activities/{activity.pk}/signups", {"volunteer_id": "李四"}), 422, "invalid_input")
    # A volunteer cannot sign someone else up: the other volunteer is out of their reach.
    structured(vol.post(f"/activities/{activity.pk}/signups", {"volunteer_id": tree.wang.pk}), 404)
    structured(api(tree.far_admin).post(f"/activities/{activity.pk}/signups", {"volunteer_id": tree.wang.pk}), 404)


def test_sign_up_refusals_are_structured(tree, vol):
    draft = make_activity(tree.admin, tree.station, publish=False)
    structured(vol.post(f"/activities/{draft.pk}/signups", {}), 404)
    restricted = make_activity(tree.admin, tree.station, restrict_to_node=tree.other_station)
    structured(vol.post(f"/activities/{restricted.pk}/signups", {}), 403, "station_restricted")
    structured(vol.post(f"/activities/{restricted.pk}/signups", raw="{bad"), 400, "malformed_request")


# --- Check-in and check-out ------------------------------------------------------------------------


@pytest.fixture
def live(tree, site):
    return running(tree, site=site, signed_up=[tree.zhang])


def scan_body(activity, kind="in", **extra):
    return {"token": checkin.token_for(activity.pk, kind), "scan_id": extra.pop("scan_id", f"api-{kind}-000001"),
            "lat": SITE_LAT, "lng": SITE_LNG, **extra}


def test_check_in_and_out(tree, vol, live):
    r = vol.post(f"/activities/{live.pk}/checkin", scan_body(live))
    assert r.status_code == 200, r.content
    got = r.json()
    assert got["kind"] == "in" and not got["duplicate"] and got["status"] == "checked_in"
    assert got["distance_m"] == 0 and "签到成功" in got["message"]
    again = vol.post(f"/activities/{live.pk}/checkin", scan_body(live)).json()
    assert again["duplicate"] and again["attendance_id"] == got["attendance_id"]
    r = vol.post(f"/activities/{live.pk}/checkout", scan_body(live, "out"))
    assert r.status_code == 200 and r.json()["status"] == "checked_out" and r.json()["checked_out_at"]
    assert Scan.objects.count() == 2 and Attendance.objects.count() == 1


def test_offline_scan_through_the_api(tree, vol, site):
    activity = running(tree, site=site, signed_up=[tree.zhang], hours=3, started_ago=timedelta(hours=1))
    taken = timezone.now() - timedelta(minutes=40)
    b = scan_body(activity, token=checkin.token_for(activity.pk, "in", taken), scanned_at=taken.isoformat())
    r = vol.post(f"/activities/{activity.pk}/checkin", b)
    assert r.status_code == 200 and not r.json()["duplicate"]
    assert Attendance.objects.get().checked_in_at == taken
    assert vol.post(f"/activities/{activity.pk}/checkin", b).json()["duplicate"]


@pytest.mark.parametrize(
    "change,status,code",
    [
        ({"lat": "NaN", "lng": "NaN"}, 422, "position_invalid"),
        ({"lat": "Infinity"}, 422, "position_invalid"),
        ({"lat": 95}, 422, "position_invalid"),
        ({"lng": -200}, 422, "position_invalid"),
        ({"lat": "北纬27度"}, 422, "invalid_input"),
        ({"lat": [1, 2]}, 422, "invalid_input"),
        ({"lat": SITE_LAT + 0.01}, 403, "out_of_range"),
        ({"token": "forged.token"}, 422, "token_invalid"),
        ({"token": "t" * 65}, 422, "invalid_input"),
        ({"token": None}, 422, "invalid_input"),
        ({"scan_id": "短"}, 422, "scan_id_invalid"),
        ({"scan_id": 12345678}, 422, "invalid_input"),
        ({"scanned_at": "昨天"}, 422, "invalid_input"),
        ({"scanned_at": "2099-01-01T00:00:00+08:00"}, 422, "scanned_at_invalid"),
        ({"scanned_at": "2020-01-01T00:00:00+08:00"}, 422, "scan_too_old"),
    ],
)
def test_check_in_refusals_are_structured(tree, vol, live, change, status, code):
    b = structured(vol.post(f"/activities/{live.pk}/checkin", {**scan_body(live), **change}), status, code)
    if code == "out_of_range":
        assert b["details"]["radius_m"] == 300 and b["details"]["distance_m"] > 1000
    assert not Attendance.objects.exists()


def test_check_in_refusals_of_state(tree, vol, live, site):
    structured(vol.post(f"/activities/{live.pk}/checkout", scan_body(live, "out")), 409, "not_checked_in")
    stranger = api(new_volunteer(tree, "路人").user)
    structured(stranger.post(f"/activities/{live.pk}/checkin", scan_body(live)), 403, "not_signed_up")
    structured(api(tree.admin).post(f"/activities/{live.pk}/checkin", scan_body(live)), 403, "not_volunteer")
    structured(vol.post(f"/activities/{live.pk}/checkin", raw="{bad"), 400, "malformed_request")
    structured(vol.post(f"/activities/{live.pk}/checkin", {}), 422, "invalid_input")
    upcoming = make_activity(tree.admin, tree.station, site=site, start=timezone.now() + timedelta(days=3))
    structured(vol.post(f"/activities/{upcoming.pk}/checkin", scan_body(upcoming)), 409, "too_early")


def test_anonymous_is_401(live):
    anon = f.Api()
    structured(anon.post(f"/activities/{live.pk}/checkin", scan_body(live)), 401, "not_authenticated")
    structured(anon.get("/activities"), 401, "not_authenticated")


def test_checkin_code(tree, admin, vol, live):
    r = admin.get(f"/activities/{live.pk}/checkin-code")
    assert r.status_code == 200
    code = r.json()
    assert code["kind"] == "in" and code["url"].startswith("http") and code["token"] in code["url"]
    assert code["refresh_seconds"] == 30
    # The code works: the volunteer's phone posts its token.
    posted = vol.post(f"/activities/{live.pk}/checkin", {"token": code["token"], "scan_id": "from-screen-01"})
    assert posted.status_code == 200
    assert admin.get(f"/activities/{live.pk}/checkin-code", {"kind": "out"}).json()["kind"] == "out"
    structured(admin.get(f"/activities/{live.pk}/checkin-code", {"kind": "sideways"}), 422, "kind_invalid")
    structured(api(tree.far_admin).get(f"/activities/{live.pk}/checkin-code"), 404)


def test_themes(tree, vol):
    Theme.objects.create(name="测试主题·甲", sort_order=900)
    Theme.objects.create(name="测试节日·乙", is_festival=True, sort_order=901)
    got = vol.get("/themes").json()
    assert [t["name"] for t in got][-2:] == ["测试主题·甲", "测试节日·乙"] and got[-1]["is_festival"]
    assert len(got) == Theme.objects.count()
