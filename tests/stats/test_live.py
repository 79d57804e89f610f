"""The big screen's live feed (/stats/live.json) and page (/stats/screen/): scoped for every role,
nothing personal beyond a masked name, the latest 20 newest first within their windows, counters
equal to the summary, structured errors, and a fixed number of queries whatever the rows."""

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f
from tests.conftest import REACH, ROLES
from tests.stats import builders as b
from tests.stats.test_dashboard_views import data  # noqa: F401  (the fixture)
from wenming.activities.models import Attendance
from wenming.needs.models import Need
from wenming.stats import live, queries

PERSONAL = ["张小明", "王秀英", "138****5678", "13800005678", "光明路12号", "家中老人需要上门理发"]


def checkin(activity, volunteer, at):
    return Attendance.objects.create(activity=activity, volunteer=volunteer, checked_in_at=at,
                                     checked_out_at=at + timedelta(hours=1), status=Attendance.Status.CHECKED_OUT)


def resident_need(station, at, **extra):
    return b.need(station, at, contact_name="王秀英", phone_masked="138****5678", address="光明路12号",
                  description="家中老人需要上门理发", **extra)


@pytest.fixture
def feed(world):
    """A check-in and a need at each station, within the windows, minutes apart (S21's newest)."""
    w = world
    now = timezone.now()
    w.xiaoming = f.make_volunteer(w.S11, "张小明", phone="13800005678")
    w.activities = {}
    for i, key in enumerate(w.STATION_KEYS):
        a = b.activity(w.nodes[key], now + timedelta(hours=1), hours=2)
        a.title = f"{key}敬老服务"
        a.save(update_fields=["title"])
        w.activities[key] = a
        checkin(a, w.xiaoming if key == "S11" else w.volunteers[key], now - timedelta(minutes=30 - i))
        resident_need(w.nodes[key], now - timedelta(minutes=20 - i))
    return w


def live_json(world, role, **params):
    return world.client(role).get("/stats/live.json", params)


# --- masking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, masked", [("张小明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("李", "*"),
                                          ("", ""), ("  王五 ", "王*"), ("阿依古丽·买买提", "阿******提")])
def test_names_are_masked_to_their_first_and_last_characters(name, masked):
    assert live.mask_name(name) == masked


# --- what the feed holds --------------------------------------------------------------------------


def test_the_feed_has_no_personal_data_beyond_masked_names(feed):
    response = live_json(feed, "district_admin")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    for personal in PERSONAL + [feed.xiaoming.number, feed.xiaoming.plain_id_number, feed.xiaoming.phone_masked]:
        assert personal not in text, personal
    payload = json.loads(text)
    for row in payload["checkins"]:
        assert set(row) == {"time", "name", "activity", "station"}
    for row in payload["needs"]:
        assert set(row) == {"time", "category", "station", "state", "state_label"}
    mine = next(r for r in payload["checkins"] if r["activity"] == "S11敬老服务")
    assert mine["name"] == "张*明" and mine["station"] == feed.S11.name
    assert {r["name"] for r in payload["checkins"]} == {"张*明", "李*", "王*"}
    assert payload["needs"][0] == {"time": payload["needs"][0]["time"], "category": "统计测试子类",
                                   "station": feed.S21.name, "state": "submitted", "state_label": "待审核"}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "volunteer"])
def test_every_role_sees_the_feed_of_its_reach_only(feed, role):
    payload = live_json(feed, role).json()
    stations = {feed.nodes[k].name: k for k in feed.STATION_KEYS}
    expected = {k for k in feed.STATION_KEYS if k in REACH[role]}
    assert {stations[r["station"]] for r in payload["checkins"]} == expected
    assert {stations[r["station"]] for r in payload["needs"]} == expected
    assert payload["node"]["id"] == min((feed.nodes[k] for k in REACH[role]), key=lambda n: n.depth).pk


def test_a_chosen_node_narrows_the_feed_to_its_subtree(feed):
    payload = live_json(feed, "district_admin", node=feed.I2.pk).json()
    assert [r["station"] for r in payload["checkins"]] == [feed.S21.name]
    assert [r["station"] for r in payload["needs"]] == [feed.S21.name]


def test_newest_first_at_most_twenty_within_the_windows(world):
    now = timezone.now()
    old = b.activity(world.S11, now - timedelta(days=live.CHECKIN_DAYS, hours=1), hours=1)
    checkin(old, world.volunteers["S11"], now - timedelta(days=live.CHECKIN_DAYS, hours=1))
    resident_need(world.S11, now - timedelta(days=live.NEED_DAYS, minutes=1))
    for i in range(25):
        a = b.activity(world.S11, now + timedelta(hours=1), hours=3)
        checkin(a, world.volunteers["S11"], now - timedelta(minutes=i))
        resident_need(world.S11, now - timedelta(minutes=i))
    rows = live.latest_checkins(world.district_admin, world.C, now)
    assert len(rows) == 20
    times = [r["time"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert times[0] == timezone.localtime(now).replace(microsecond=0).isoformat()
    needs = live.latest_needs(world.district_admin, world.C, now)
    assert len(needs) == 20 and [r["time"] for r in needs] == sorted((r["time"] for r in needs), reverse=True)
    # the old check-in and the old need are outside the windows, even with room for them
    assert len(live.latest_checkins(world.district_admin, world.C, now, limit=100)) == 25
    assert len(live.latest_needs(world.district_admin, world.C, now, limit=100)) == 25


def test_a_quiet_day_widens_to_the_whole_window(world):
    now = timezone.now()
    for days, key in ((0, "S11"), (3, "S12"), (6, "S21")):
        a = b.activity(world.nodes[key], now - timedelta(days=days) + timedelta(hours=1), hours=2)
        checkin(a, world.volunteers[key], now - timedelta(days=days, minutes=30))
        resident_need(world.nodes[key], now - timedelta(days=days * 4, minutes=5))  # 0, 12 and 24 days ago
    rows = live.latest_checkins(world.viewer, world.C, now)
    assert [r["station"] for r in rows] == [world.S11.name, world.S12.name, world.S21.name]
    assert [r["station"] for r in live.latest_needs(world.viewer, world.C, now)] == \
        [world.S11.name, world.S12.name, world.S21.name]


def test_todays_checkins_are_counted_from_midnight_beijing_time(world):
    noon = timezone.make_aware(timezone.datetime(2025, 3, 5, 12, 0))
    a = b.activity(world.S11, noon + timedelta(hours=1), hours=5)
    checkin(a, world.volunteers["S11"], noon - timedelta(hours=11, minutes=59))  # 00:01 local
    checkin(a, world.volunteers["S12"], noon - timedelta(hours=12, minutes=1))  # 23:59 the day before
    other = b.activity(world.S21, noon + timedelta(hours=1), hours=5)
    checkin(other, world.volunteers["S21"], noon - timedelta(hours=1))
    assert live.checkins_today(world.district_admin, world.C, noon) == 2
    assert live.checkins_today(world.station_admin, world.S11, noon) == 1


def test_the_counters_are_the_summarys(data, feed):  # noqa: F811
    payload = live_json(feed, "district_admin", kind="custom", start="2025-01-01", end="2025-12-31").json()
    summary = queries.summary(feed.C, date(2025, 1, 1), date(2025, 12, 31))
    counters = {c["key"]: c["value"] for c in payload["counters"]}
    for key in ["activities", "participations", "volunteers", "hours_total", "people_served", "needs_collected",
                "needs_fulfilled", "needs_completion_rate"]:
        assert counters[key] == summary[key], key
    assert (counters["activities"], counters["hours_total"], counters["needs_collected"]) == (3, 3.5, 3)
    assert payload["period"] == {"start": "2025-01-01", "end": "2025-12-31", "label": "2025-01-01至2025-12-31"}
    default = live_json(feed, "district_admin").json()  # the big screen's default: this year
    assert default["period"]["start"] == date(timezone.localdate().year, 1, 1).isoformat()
    assert {c["key"]: c["value"] for c in default["counters"]}["checkins_today"] >= 0


def test_the_number_of_queries_does_not_grow_with_the_rows(feed):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert live_json(feed, "district_admin").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    now = timezone.now()
    for i in range(15):
        a = b.activity(feed.S12, now + timedelta(hours=1), hours=3)
        checkin(a, f.make_volunteer(feed.S12, f"志愿者{i}"), now - timedelta(minutes=i))
        resident_need(feed.S12, now - timedelta(minutes=i))
    assert count() == few


# --- errors ---------------------------------------------------------------------------------------


def test_errors_are_json_with_a_code_and_a_chinese_message(feed):
    anonymous = live_json(feed, None)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    volunteer = live_json(feed, "volunteer")
    assert volunteer.status_code == 403 and volunteer.json()["code"] == "role_forbidden"
    outside = live_json(feed, "station_admin", node=feed.C.pk)
    assert outside.status_code == 404
    assert outside.json() == {"code": "not_found", "message": "统计组织不存在或不在您的管辖范围内。", "details": None}
    for bad in ("abc", "-5", str(2**64)):
        assert live_json(feed, "district_admin", node=bad).status_code == 404
    bad_period = live_json(feed, "district_admin", kind="custom", start="2025-02-30", end="2025-03-01")
    assert bad_period.status_code == 422
    assert bad_period.json()["code"] == "date_invalid" and "不是有效的日期" in bad_period.json()["message"]
    unknown = live_json(feed, "district_admin", kind="decade")
    assert unknown.status_code == 422 and unknown.json()["code"] == "period_invalid"


def test_figures_json_gives_the_charts_and_refuses_the_same_way(feed):
    response = feed.client("institute_admin").get("/stats/figures.json", {"kind": "year"})
    assert response.status_code == 200
    charts = response.json()["charts"]
    assert {"trend", "platforms", "themes", "nodes", "funnel", "labels"} <= set(charts)
    assert {n["name"] for n in charts["nodes"]} <= {feed.S11.name, feed.S12.name}  # I1's children only
    assert feed.client("institute_admin").get("/stats/figures.json", {"node": feed.I2.pk}).status_code == 404
    assert feed.client("volunteer").get("/stats/figures.json").status_code == 403


# --- the page ---------------------------------------------------------------------------------------


def test_the_big_screen_page_carries_its_first_data_and_where_to_poll(feed):
    response = feed.client("district_admin").get("/stats/screen/", {"node": feed.I1.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "新时代文明实践数据大屏" in page and feed.I1.name in page
    assert 'class="sidenav"' not in page  # its own full-screen layout, not the console's
    initial = json.loads(page.split('<script id="screen-initial" type="application/json">')[1].split("</script>")[0])
    assert {r["station"] for r in initial["live"]["checkins"]} == {feed.S11.name, feed.S12.name}
    poll = json.loads(page.split('<script id="screen-poll" type="application/json">')[1].split("</script>")[0])
    assert poll["live"] == f"/stats/live.json?node={feed.I1.pk}&kind=year"
    assert poll["live_seconds"] == 30
    for personal in PERSONAL:
        assert personal not in page
    assert "张*明" in page


def test_the_big_screen_refuses_like_the_dashboard(feed):
    assert feed.client("volunteer").get("/stats/screen/").status_code == 403
    assert feed.client("station_admin").get("/stats/screen/", {"node": feed.S21.pk}).status_code == 404
    bad = feed.client("district_admin").get("/stats/screen/", {"kind": "custom", "start": "x", "end": "y"})
    assert bad.status_code == 400 and "不是有效的日期" in bad.content.decode()
    assert feed.client(None).get("/stats/screen/").status_code == 302


def test_a_need_served_elsewhere_is_still_shown_where_it_was_raised_to_those_above(feed):
    # escalated to the centre: the station's own admin no longer reaches it; the district still sees it at S11
    need = Need.objects.get(station=feed.S11)
    need.node = feed.C
    need.save(update_fields=["node"])
    assert feed.S11.name not in {r["station"] for r in live_json(feed, "station_admin").json()["needs"]}
    assert feed.S11.name in {r["station"] for r in live_json(feed, "district_admin").json()["needs"]}
