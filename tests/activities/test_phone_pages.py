"""The volunteers' phone pages under /a/: browse, an activity's page with sign-up and cancel
(waiting list included), my activities — for anonymous visitors, the volunteer, another
volunteer and an account without a volunteer, with hostile ids and parameters."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import make_user
from wenming.activities import checkin, services
from wenming.activities.models import Activity, SignUp, Theme
from wenming.core.models import User
from wenming.notices.models import Notice

from .conftest import SITE_LAT, SITE_LNG, make_activity, shift

HUGE = "99999999999999999999999"


@pytest.fixture
def li_user(tree):
    """李四's own account (the tree's 李四 has none)."""
    user = make_user("ledger_li", User.Role.VOLUNTEER)
    tree.li.user = user
    tree.li.save(update_fields=["user"])
    return user


@pytest.fixture
def wang_user(tree):
    user = make_user("ledger_wang", User.Role.VOLUNTEER)
    tree.wang.user = user
    tree.wang.save(update_fields=["user"])
    return user


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Browse --------------------------------------------------------------------------------------


def test_browse_lists_recruiting_activities_with_places_and_themes(client, tree, site):
    theme, _ = Theme.objects.get_or_create(name="学雷锋")
    other, _ = Theme.objects.get_or_create(name="文化惠民")
    a = make_activity(tree.admin, tree.station, site=site, title="敬老院包饺子", capacity=3, themes=[theme])
    make_activity(tree.admin, tree.station, title="草稿中的活动", publish=False)
    past = make_activity(tree.admin, tree.station, title="上周的活动")
    shift(past, timedelta(days=-8))
    services.sign_up(tree.vol_user, a)

    r = client.get("/a/")
    assert r.status_code == 200
    body = text(r)
    assert "敬老院包饺子" in body and "剩余2个名额" in body and site.name in body
    assert '<span class="theme-tag">学雷锋</span>' in body
    assert "草稿中的活动" not in body and "上周的活动" not in body
    # A theme chip filters; an activity of another theme is not listed.
    make_activity(tree.admin, tree.station, title="广场舞展演", themes=[other],
                  start=timezone.now() + timedelta(days=3))
    body = text(client.get(f"/a/?theme={theme.pk}"))
    assert "敬老院包饺子" in body and "广场舞展演" not in body
    body = text(client.get(f"/a/?theme={other.pk}"))
    assert "敬老院包饺子" not in body and "广场舞展演" in body


def test_browse_marks_the_volunteers_own_signups_and_a_full_activity(client, tree, site, li_user):
    a = make_activity(tree.admin, tree.station, site=site, title="义诊", capacity=1)
    services.sign_up(li_user, a)
    services.sign_up(tree.vol_user, a)  # waiting
    body = text(as_user(client, tree.vol_user).get("/a/"))
    assert "候补中" in body and "已满 · 1人候补" in body
    body = text(as_user(client, li_user).get("/a/"))
    assert "已报名" in body


def test_nearby_lists_by_distance_and_without_position_by_time(client, tree, site):
    from wenming.org.models import Site

    far_site = Site.objects.create(name="远处的广场", kind=Site.Kind.SQUARE, node=tree.station,
                                   lat=SITE_LAT + 0.05, lng=SITE_LNG, radius_m=300)
    soon = timezone.now() + timedelta(hours=30)
    make_activity(tree.admin, tree.station, site=far_site, title="远处先开始", start=soon)
    make_activity(tree.admin, tree.station, site=site, title="近处后开始", start=soon + timedelta(days=1))
    make_activity(tree.admin, tree.station, title="没有地点的活动", start=soon + timedelta(days=2))

    body = text(client.get("/a/"))
    assert body.index("远处先开始") < body.index("近处后开始") < body.index("没有地点的活动")
    body = text(client.get(f"/a/?lat={SITE_LAT:.2f}&lng={SITE_LNG:.2f}"))
    assert body.index("近处后开始") < body.index("远处先开始")
    assert "没有地点的活动" not in body and "公里" in body
    # Far away (Beijing): nothing within range, said plainly.
    body = text(client.get("/a/?lat=39.9&lng=116.4"))
    assert "暂无正在招募的活动" in body and "近处后开始" not in body


@pytest.mark.parametrize("query", [
    "theme=abc", "theme=-1", f"theme={HUGE}", "theme=", "page=0", "page=-5", f"page={HUGE}", "page=abc",
    "lat=nan&lng=nan", "lat=inf&lng=1", "lat=91&lng=0", "lat=abc&lng=1", "lat=1e999&lng=1", "lat=27.2",
    "lat=" + "9" * 5000 + "&lng=1", "theme=1'%20OR%201=1--",
])
def test_browse_survives_hostile_parameters(client, tree, site, query):
    make_activity(tree.admin, tree.station, site=site, title="学雷锋志愿服务")
    r = client.get(f"/a/?{query}")
    assert r.status_code == 200
    assert "学雷锋志愿服务" in text(r)
    if query.startswith("lat="):
        assert "定位数据无效" in text(r)


def test_a_nul_in_the_query_is_a_clear_400(client, tree):
    r = client.get("/a/?theme=%00")
    assert r.status_code == 400 and "无效字符" in text(r)


# --- An activity's page --------------------------------------------------------------------------


def test_anonymous_visitor_sees_a_published_activity_and_is_sent_to_log_in(client, tree, site):
    a = make_activity(tree.admin, tree.station, site=site, title="理论宣讲进社区", description="请带上笔记本。\n着装整洁。",
                      contact_name="刘老师", address="东风路12号")
    r = client.get(f"/a/{a.pk}/")
    assert r.status_code == 200
    body = text(r)
    for expected in ("理论宣讲进社区", "请带上笔记本。", site.name, "东风路12号", "刘老师", tree.station.name,
                     "还有10个名额", "登录后报名", f"/login/?next=%2Fa%2F{a.pk}%2F"):
        assert expected in body, expected
    # Signing up anonymously leads to the log-in page, which comes back to the activity.
    r = client.post(f"/a/{a.pk}/signup/")
    assert r.status_code == 302 and r["Location"] == f"/login/?next=/a/{a.pk}/"
    assert not SignUp.objects.exists()


def test_drafts_unknown_and_hostile_ids_are_404(client, tree):
    draft = make_activity(tree.admin, tree.station, publish=False)
    as_user(client, tree.vol_user)
    for path in (f"/a/{draft.pk}/", "/a/999999/", f"/a/{HUGE}/", "/a/0/", "/a/-1/", "/a/abc/", "/a/1.5/",
                 f"/a/{HUGE}/scan/?k=in&t=1.aaaaaaaaaaaaaaaaaaaa", f"/a/{draft.pk}/scan/?k=in&t=1.aaaaaaaaaaaaaaaaaaaa"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "页面不存在" in text(r)
    for path in (f"/a/{draft.pk}/signup/", f"/a/{HUGE}/signup/", f"/a/{HUGE}/cancel/"):
        assert client.post(path).status_code == 404, path
    assert not SignUp.objects.exists()


def test_a_cancelled_activity_shows_its_reason(client, tree):
    a = make_activity(tree.admin, tree.station, title="雨天取消的活动")
    services.sign_up(tree.vol_user, a)
    services.cancel_activity(tree.admin, a, reason="暴雨预警")
    body = text(as_user(client, tree.vol_user).get(f"/a/{a.pk}/"))
    assert "活动已取消" in body and "暴雨预警" in body and "报名参加" not in body


def test_signup_and_cancel_through_the_page_with_the_waiting_list(client, tree, site, li_user, wang_user):
    a = make_activity(tree.admin, tree.station, site=site, capacity=1, title="社区义诊")

    # 张三 takes the only place.
    r = as_user(client, tree.vol_user).post(f"/a/{a.pk}/signup/", follow=True)
    assert r.redirect_chain[-1][0] == f"/a/{a.pk}/"
    assert any("报名成功" in m for m in messages_of(r))
    assert "您已报名" in text(r)
    # 李四 and 王五 join the waiting list, first and second.
    r = as_user(client, li_user).post(f"/a/{a.pk}/signup/", follow=True)
    assert any("候补名单" in m and "第1位" in m for m in messages_of(r))
    assert "候补第1位" in text(r)
    r = as_user(client, wang_user).post(f"/a/{a.pk}/signup/", follow=True)
    assert any("第2位" in m for m in messages_of(r))
    assert "候补第2位" in text(r)
    # Signing up twice is refused with the service's message.
    r = as_user(client, wang_user).post(f"/a/{a.pk}/signup/", follow=True)
    assert "您已报名该活动。" in messages_of(r)
    assert SignUp.objects.filter(activity=a).count() == 3

    # 张三 cancels: 李四 moves up and is told; 王五 is now first in line.
    r = as_user(client, tree.vol_user).post(f"/a/{a.pk}/cancel/", {"reason": "临时有事"}, follow=True)
    assert any("已取消报名" in m for m in messages_of(r))
    assert "报名参加" not in text(r) and "报名候补" in text(r)  # full again, but 张三 may join the waiting list
    assert SignUp.objects.get(activity=a, volunteer=tree.li).status == SignUp.Status.CONFIRMED
    assert Notice.objects.filter(volunteer=tree.li, kind="waitlist_promoted").count() == 1
    assert "您已报名" in text(as_user(client, li_user).get(f"/a/{a.pk}/"))
    assert "候补第1位" in text(as_user(client, wang_user).get(f"/a/{a.pk}/"))
    # 王五 leaves the waiting list.
    r = as_user(client, wang_user).post(f"/a/{a.pk}/cancel/", follow=True)
    assert any("已取消候补" in m for m in messages_of(r))
    assert SignUp.objects.get(activity=a, volunteer=tree.wang).status == SignUp.Status.CANCELLED


def test_another_volunteer_cannot_cancel_a_place_that_is_not_theirs(client, tree, li_user):
    a = make_activity(tree.admin, tree.station)
    services.sign_up(tree.vol_user, a)
    r = as_user(client, li_user).post(f"/a/{a.pk}/cancel/", follow=True)
    assert "您没有报名该活动。" in messages_of(r)
    assert SignUp.objects.get(activity=a, volunteer=tree.zhang).status == SignUp.Status.CONFIRMED


def test_refusals_are_the_services_chinese_messages(client, tree, site):
    as_user(client, tree.vol_user)
    start = timezone.now() + timedelta(days=2)
    first = make_activity(tree.admin, tree.station, start=start, title="上午的活动")
    services.sign_up(tree.vol_user, first)
    clash = make_activity(tree.admin, tree.station, start=start + timedelta(hours=1), title="重叠的活动")
    r = client.post(f"/a/{clash.pk}/signup/", follow=True)
    assert any("时间重叠" in m and "上午的活动" in m for m in messages_of(r))

    restricted = make_activity(tree.admin, tree.station, start=start + timedelta(days=1),
                               restrict_to_node=tree.other_station)
    r = client.post(f"/a/{restricted.pk}/signup/", follow=True)
    assert any("仅限" in m and tree.other_station.name in m for m in messages_of(r))
    assert "仅限" in text(r)  # the requirement is on the page too

    closed = make_activity(tree.admin, tree.station, start=start + timedelta(days=2),
                           signup_deadline=timezone.now() + timedelta(hours=1))
    Activity.objects.filter(pk=closed.pk).update(signup_deadline=timezone.now() - timedelta(minutes=1))
    r = client.get(f"/a/{closed.pk}/")
    assert "报名已截止" in text(r) and "报名参加" not in text(r)
    r = client.post(f"/a/{closed.pk}/signup/", follow=True)
    assert "报名已截止。" in messages_of(r)

    started = make_activity(tree.admin, tree.station, start=start + timedelta(days=3))
    shift(started, timezone.now() - timedelta(minutes=10) - started.starts_at)
    r = client.post(f"/a/{started.pk}/signup/", follow=True)
    assert "该活动当前不在招募中。" in messages_of(r)
    assert SignUp.objects.filter(volunteer=tree.zhang).count() == 1


def test_an_account_without_a_volunteer_is_told_so(client, tree):
    a = make_activity(tree.admin, tree.station)
    r = as_user(client, tree.admin).get(f"/a/{a.pk}/")
    assert r.status_code == 200 and "没有关联志愿者身份" in text(r)
    r = client.post(f"/a/{a.pk}/signup/", follow=True)
    assert any("尚未关联志愿者" in m for m in messages_of(r))
    assert client.get("/a/mine/").status_code == 403
    assert not SignUp.objects.exists()


def test_get_on_the_action_addresses_changes_nothing(client, tree):
    a = make_activity(tree.admin, tree.station)
    as_user(client, tree.vol_user)
    assert client.get(f"/a/{a.pk}/signup/")["Location"] == f"/a/{a.pk}/"
    services.sign_up(tree.vol_user, a)
    assert client.get(f"/a/{a.pk}/cancel/")["Location"] == f"/a/{a.pk}/"
    assert SignUp.objects.get(activity=a).status == SignUp.Status.CONFIRMED


def test_a_huge_cancel_reason_is_refused_with_a_message(client, tree):
    a = make_activity(tree.admin, tree.station)
    services.sign_up(tree.vol_user, a)
    r = as_user(client, tree.vol_user).post(f"/a/{a.pk}/cancel/", {"reason": "长" * 5000}, follow=True)
    assert "取消原因不能超过200字。" in messages_of(r)
    assert SignUp.objects.get(activity=a).status == SignUp.Status.CONFIRMED


# --- My activities -------------------------------------------------------------------------------


def test_my_activities_upcoming_and_past_with_times_and_hours(client, tree, site, li_user):
    soon = make_activity(tree.admin, tree.station, site=site, title="下周的敬老活动",
                         start=timezone.now() + timedelta(days=7))
    services.sign_up(tree.vol_user, soon)
    full = make_activity(tree.admin, tree.station, title="满员的讲座", capacity=1,
                         start=timezone.now() + timedelta(days=9))
    services.sign_up(li_user, full)
    services.sign_up(tree.vol_user, full)
    done = make_activity(tree.admin, tree.station, site=site, title="上周的清扫活动", hours=2)
    services.sign_up(tree.vol_user, done)
    done = shift(done, timezone.now() - timedelta(hours=3) - done.starts_at)
    t_in, t_out = done.starts_at, done.ends_at
    checkin.check_in(tree.vol_user, done.pk, token=checkin.token_for(done.pk, "in", t_in), scan_id="mine-in-001",
                     now=t_in)
    checkin.check_out(tree.vol_user, done.pk, token=checkin.token_for(done.pk, "out", t_out),
                      scan_id="mine-out-001", now=t_out)

    as_user(client, tree.vol_user)
    body = text(client.get("/a/mine/"))
    upcoming, past = body.split("已结束", 1)
    assert "下周的敬老活动" in upcoming and "满员的讲座" in upcoming and "候补第1位" in upcoming
    assert "上周的清扫活动" in past and "等待组织者结算时长" in past
    assert f"{timezone.localtime(t_in):%H:%M}" in past and f"{timezone.localtime(t_out):%H:%M}" in past
    assert "/me/hours/" in body

    services.settle_activity(tree.admin, done)
    body = text(client.get("/a/mine/"))
    assert "已记入核验时长 2 小时" in body

    # 李四 sees only their own.
    body = text(as_user(client, li_user).get("/a/mine/"))
    assert "满员的讲座" in body and "下周的敬老活动" not in body and "上周的清扫活动" not in body


def test_my_activities_needs_a_login_and_survives_odd_pages(client, tree):
    r = client.get("/a/mine/")
    assert r.status_code == 302 and r["Location"] == "/login/?next=/a/mine/"
    as_user(client, tree.vol_user)
    for page in ("0", "-1", HUGE, "abc", ""):
        assert client.get(f"/a/mine/?page={page}").status_code == 200


def test_my_activities_links_the_volunteers_calendar_feed_when_it_exists(client, tree):
    ical = pytest.importorskip("wenming.activities.ical")
    body = text(as_user(client, tree.vol_user).get("/a/mine/"))
    assert ical.volunteer_feed_path(tree.zhang) in body


def test_the_unread_badge_shows_on_phone_pages(client, tree):
    from wenming.notices.services import notify

    as_user(client, tree.vol_user)
    assert not re.search(r'class="notice-badge"', text(client.get("/a/")))
    notify(tree.zhang, "test", "第一条")
    notify(tree.zhang, "test", "第二条")
    notify(tree.li, "test", "别人的")
    body = text(client.get("/a/"))
    assert re.search(r'class="notice-badge"[^>]*>2</span>', body)


def test_pages_read_in_a_fixed_number_of_queries(client, tree, site, li_user):
    """No query per card: 5 or 25 activities cost the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    theme, _ = Theme.objects.get_or_create(name="学雷锋")

    def add(n, offset):
        for i in range(n):
            a = make_activity(tree.admin, tree.station, site=site, themes=[theme], title=f"活动{offset + i}",
                              start=timezone.now() + timedelta(days=offset + i + 1), hours=1)
            services.sign_up(tree.vol_user, a)
            services.sign_up(li_user, a)

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    as_user(client, tree.vol_user)
    add(5, 0)
    few = {p: count(p) for p in ("/a/", f"/a/?lat={SITE_LAT}&lng={SITE_LNG}", "/a/mine/", "/notices/")}
    add(15, 5)
    many = {p: count(p) for p in few}
    assert many == few, (few, many)
    assert max(many.values()) <= 15, many


def test_times_read_naturally(tree):
    from datetime import datetime

    from wenming.activities.phone_views import when

    def at(*args):
        return timezone.make_aware(datetime(*args))

    a = Activity(starts_at=at(2026, 3, 5, 9, 0), ends_at=at(2026, 3, 5, 11, 30))
    assert when(a) == "3月5日（周四） 09:00–11:30"
    a.ends_at = at(2026, 3, 6, 0, 0)
    assert when(a) == "3月5日（周四） 09:00–24:00"
    a.ends_at = at(2026, 3, 6, 1, 0)
    assert when(a) == "3月5日（周四） 09:00 – 3月6日（周五） 01:00"
