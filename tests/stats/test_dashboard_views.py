"""The console dashboard (/stats/): who may look and at which node, the period picker and its bad
input, the cards against the previous period, the charts' data and the tables under them."""

import json
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

from tests.conftest import REACH, ROLES
from tests.stats import builders as b
from wenming.activities.models import Activity
from wenming.needs.models import Need
from wenming.stats import queries

YEAR_2025 = {"kind": "custom", "start": "2025-01-01", "end": "2025-12-31"}


@pytest.fixture
def data(world):
    """A small 2025: an activity in S11 (platform, two themes) and one in S21, hours in both,
    needs in S11 and S21, and one activity in the February before March."""
    w = world
    admin = w.district_admin
    xl, wh = b.theme("学雷锋"), b.theme("文化惠民")
    a11 = b.activity(w.S11, b.at(date(2025, 3, 5), 11), platform=w.platform, themes=[xl, wh], team=w.teams["S11"],
                     beneficiaries=40)
    a21 = b.activity(w.S21, b.at(date(2025, 3, 20), 11), status=Activity.Status.SETTLED, themes=[xl],
                     team=w.teams["S21"], beneficiaries=25)
    b.activity(w.S12, b.at(date(2025, 2, 10), 11))
    b.verified(admin, w.volunteers["S11"], w.S11, date(2025, 3, 5), 120, ("activity", str(a11.pk)))
    b.verified(admin, w.volunteers["S21"], w.S21, date(2025, 3, 20), 90, ("activity", str(a21.pk)))
    S = Need.State
    n = b.at(date(2025, 3, 2), 10)
    b.need(w.S11, n, state=S.CLOSED, approved_at=n, dispatched_at=n, accepted_at=n + timedelta(hours=2),
           completed_at=n + timedelta(hours=30), stars=4, rated_at=n + timedelta(hours=40), team=w.teams["S11"])
    b.need(w.S21, b.at(date(2025, 3, 3)), state=S.SUBMITTED)
    b.need(w.S21, b.at(date(2025, 3, 4)), state=S.REJECTED)
    return w


def get(world, role, **params):
    return world.client(role).get("/stats/", params)


# --- who may look -------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(world):
    response = world.client(None).get("/stats/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_volunteer_only_account_is_refused(world):
    response = get(world, "volunteer")
    assert response.status_code == 403
    assert "数据统计仅向管理和查看人员开放" in response.content.decode()


@pytest.mark.parametrize("role", [r for r in ROLES if r != "volunteer"])
def test_every_console_role_opens_on_the_top_of_its_reach_and_picks_only_nodes_in_reach(world, role):
    response = get(world, role, **YEAR_2025)
    assert response.status_code == 200
    top = {"district_admin": "C", "institute_admin": "I1", "station_admin": "S11", "department": "C",
           "team_leader": "S11", "viewer": "C"}[role]
    assert response.context["node"].pk == world.nodes[top].pk
    picked = {n["pk"] for n in response.context["nodes"]}
    assert picked == {world.nodes[k].pk for k in REACH[role]}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "volunteer"])
def test_a_node_outside_reach_is_404_like_a_node_that_does_not_exist(world, role):
    for key in world.NODE_KEYS:
        response = get(world, role, node=world.nodes[key].pk, **YEAR_2025)
        assert response.status_code == (200 if key in REACH[role] else 404), (role, key)


def test_a_station_admin_sees_their_station_only(data):
    response = get(data, "station_admin", **YEAR_2025)
    figures = response.context["figures"]
    assert figures["node"]["id"] == data.S11.pk
    assert figures == queries.summary(data.S11, date(2025, 1, 1), date(2025, 12, 31))
    assert figures["activities"] == 1 and figures["needs_collected"] == 1
    page = response.content.decode()
    assert "东风社区新时代文明实践站" in page
    assert "东站社区" not in page  # S21's name appears nowhere: not in the picker, not in a ranking
    assert get(data, "station_admin", node=data.S21.pk, **YEAR_2025).status_code == 404


@pytest.mark.parametrize("node_param", ["abc", "-1", "0", "1.5", str(2**63), "9" * 40, "<script>", "' OR 1=1"])
def test_a_node_that_is_not_an_id_is_404_never_500(world, node_param):
    assert get(world, "district_admin", node=node_param).status_code == 404


# --- the period ------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [
    ({"kind": "weekly"}, "未知的统计时段"),
    ({"kind": "custom", "start": "2025-01-01"}, "请给出统计时段的开始和结束日期"),
    ({"kind": "custom", "end": "2025-01-01"}, "请给出统计时段的开始和结束日期"),
    ({"kind": "custom", "start": "2025-02-30", "end": "2025-03-01"}, "不是有效的日期"),
    ({"kind": "custom", "start": "2025-13-01", "end": "2025-12-01"}, "不是有效的日期"),
    ({"kind": "custom", "start": "01/02/2025", "end": "2025-12-01"}, "不是有效的日期"),
    ({"kind": "custom", "start": "<script>alert(1)</script>", "end": "x"}, "不是有效的日期"),
    ({"kind": "custom", "start": "2025-05-01", "end": "2025-04-30"}, "结束日期不能早于开始日期"),
    ({"kind": "custom", "start": "1999-12-31", "end": "2000-01-02"}, "统计时段超出范围"),
    ({"kind": "custom", "start": "2000-01-01", "end": "2099-12-31"}, "统计时段超出范围"),
    ({"kind": "since"}, "请填写起始日期"),
    ({"kind": "since", "since": "2999-01-01"}, "起始日期不能晚于今天"),
    ({"kind": "since", "since": "2" * 500}, "不是有效的日期"),
])
def test_bad_period_input_is_a_chinese_message_on_the_page_not_a_500(world, params, message):
    response = get(world, "district_admin", **params)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert "<script>alert(1)</script>" not in page  # what was typed comes back escaped
    assert response.context["nodes"]  # the form is there to put it right


@pytest.mark.parametrize("start, end", [("9999-12-01", "9999-12-31"), ("2000-01-01", "2000-01-01"),
                                        ("2000-01-01", "2029-12-31")])
def test_periods_at_the_edges_of_the_calendar_answer(world, start, end):
    response = get(world, "district_admin", kind="custom", start=start, end=end)
    assert response.status_code == 200
    assert response.context["figures"]["activities"] == 0


def test_the_periods_of_the_picker(world):
    today = timezone.localdate()
    month = get(world, "district_admin").context["period"]  # this month by default
    assert (month.kind, month.start) == ("month", today.replace(day=1))
    year = get(world, "district_admin", kind="year").context["period"]
    assert (year.start, year.end) == (date(today.year, 1, 1), date(today.year, 12, 31))
    since = get(world, "district_admin", kind="since", since="2025-06-01").context["period"]
    assert (since.start, since.end, since.kind) == (date(2025, 6, 1), today, "since")
    custom = get(world, "district_admin", kind="custom", start="2025-03-01", end="2025-03-31").context
    assert (custom["period"].start, custom["period"].end) == (date(2025, 3, 1), date(2025, 3, 31))
    assert (custom["previous"].start, custom["previous"].end) == (date(2025, 1, 29), date(2025, 2, 28))
    # this year so far is compared with last year up to the same date (not with a whole year)
    previous = get(world, "district_admin", kind="year").context["previous"]
    assert previous.start == date(today.year - 1, 1, 1)
    assert previous.end.month == today.month and previous.end.year == today.year - 1
    assert previous.end.day == today.day or (today.month, today.day) == (2, 29)


def test_the_trend_has_no_days_still_to_come(world):
    today = timezone.localdate()
    context = get(world, "district_admin", kind="month").context
    periods = [p["period"] for p in context["series"]["points"]]
    assert periods[0] == today.replace(day=1).isoformat()
    assert periods[-1] == today.isoformat()
    assert context["charts"]["trend"]["periods"] == periods


# --- what the page shows -------------------------------------------------------------------------


def test_the_cards_compare_with_the_previous_period(data):
    # March 2025 against the 31 days before it (29 January – 28 February): 2 activities against 1.
    response = get(data, "district_admin", kind="custom", start="2025-03-01", end="2025-03-31")
    cards = {c["key"]: c for c in response.context["cards"]}
    assert cards["activities"]["value"] == "2" and cards["activities"]["previous"] == "1"
    assert cards["activities"]["change"] == {"direction": "up", "arrow": "▲", "text": "100.0%"}
    assert cards["hours_total"]["value"] == "3.5" and cards["hours_total"]["previous"] == "0.0"
    assert cards["hours_total"]["change"]["text"] == "新增"
    assert cards["needs_collected"]["value"] == "3"
    # the completion rate: 1 fulfilled of 3 − 1 rejected = 50%, none before: no change to show
    assert cards["needs_completion_rate"]["value"] == "50.0%"
    assert cards["needs_completion_rate"]["previous"] == "—" and cards["needs_completion_rate"]["change"] is None
    page = response.content.decode()
    assert "▲ 100.0%" in page and "上期 1" in page


def test_a_fall_is_shown_as_a_fall(data):
    # 29 January – 28 February (1 activity) against the 31 days before (none), and then the other way
    response = get(data, "district_admin", kind="custom", start="2025-04-01", end="2025-05-01")
    cards = {c["key"]: c for c in response.context["cards"]}
    assert cards["activities"]["value"] == "0" and cards["activities"]["previous"] == "2"
    assert cards["activities"]["change"] == {"direction": "down", "arrow": "▼", "text": "100.0%"}


def test_the_charts_data_and_the_tables_under_them(data):
    response = get(data, "district_admin", **YEAR_2025)
    page = response.content.decode()
    charts = json.loads(page.split('<script id="stats-charts" type="application/json">')[1].split("</script>")[0])
    assert charts["interval"] == "month"
    assert charts["trend"]["periods"] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert charts["trend"]["activities"][1:3] == [1, 2]  # February, March
    assert charts["trend"]["hours"][2] == 3.5
    assert charts["platforms"] == [{"name": "传思想习理论", "value": 1}]
    assert {t["name"]: t["value"] for t in charts["themes"]} == {"学雷锋": 2, "文化惠民": 1}
    assert [n["name"] for n in charts["nodes"]] == ["东风路街道新时代文明实践所", "汽车站街道新时代文明实践所"]
    assert [s["value"] for s in charts["funnel"]] == [3, 1, 1, 1, 1, 1]  # the submitted and the rejected stop at 收集
    assert [s["name"] for s in charts["funnel"]] == ["收集", "审核", "派单", "接单", "完成", "评单"]
    # every chart has its data as a table too, readable without JavaScript
    assert page.count('<details class="chart-table"') == 5
    for text in ("传思想习理论", "学雷锋", "文化惠民", "东风路街道新时代文明实践所", "2025-03", "评单"):
        assert text in page
    for chart in ("trend", "platforms", "themes", "nodes", "funnel"):
        assert f'data-chart="{chart}"' in page
    # the chart library and the page's script are our own static files
    assert "/static/stats/vendor/echarts.min.js" in page and "/static/stats/dashboard.js" in page
    assert "cdn" not in page.lower()


def test_the_links_carry_the_node_and_the_period(data):
    page = get(data, "institute_admin", **YEAR_2025).content.decode()
    query = f"node={data.I1.pk}&amp;kind=custom&amp;start=2025-01-01&amp;end=2025-12-31"
    assert f'href="/stats/report.xlsx?{query}"' in page
    assert f'href="/stats/screen/?{query}"' in page
    assert f'href="/stats/summary/?{query}"' in page


def test_a_station_has_no_ranking_of_children(data):
    response = get(data, "station_admin", **YEAR_2025)
    assert response.context["figures"]["rank_nodes"] == []
    assert "本组织没有下级组织" in response.content.decode()


def test_an_account_without_reach_sees_an_explanation(world):
    world.viewer.scopes.clear()
    response = get(world, "viewer")
    assert response.status_code == 200
    assert response.context["node"] is None
    assert "没有管辖范围内的组织" in response.content.decode()


def test_the_page_in_english(data):
    client = data.client("district_admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    try:
        response = client.get("/stats/", YEAR_2025)
        assert response.status_code == 200
        assert response["Content-Language"] == "en"
    finally:
        # the locale middleware leaves the language active in this thread: later tests expect Chinese
        translation.activate(settings.LANGUAGE_CODE)
