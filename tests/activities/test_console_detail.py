"""The organisers' activity page and its actions: publish (with the over-serving confirmation),
cancel (a reason is required; those signed up are told), sign a volunteer up on their behalf."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.ledger.helpers import make_user
from wenming.activities import services
from wenming.activities.models import Activity, SignUp
from wenming.core.models import User
from wenming.notices.models import Notice
from wenming.org.models import Site

from .conftest import make_activity, shift
from .console_helpers import client_for, station_admin


def url(a, tail=""):
    return f"/activities/{a.pk}/{tail}"


def test_detail_for_organisers_and_viewers_in_reach_only(tree):
    a = make_activity(tree.admin, tree.station, publish=False, title="社区义诊")
    assert client_for(station_admin(tree)).get(url(a)).status_code == 200
    viewer = make_user("console_viewer_d", User.Role.VIEWER, [tree.centre])
    page = client_for(viewer).get(url(a))
    assert page.status_code == 200 and "社区义诊" in page.content.decode()
    assert not page.context["may_organise"] and "发布（开始招募）" not in page.content.decode()
    assert client_for(tree.far_admin).get(url(a)).status_code == 404
    assert client_for(tree.vol_user).get(url(a)).status_code == 403
    assert client_for(station_admin(tree)).get("/activities/999999/").status_code == 404
    assert client_for(station_admin(tree)).get("/activities/99999999999999999999999/").status_code == 404


def test_publish_from_the_page(tree):
    a = make_activity(tree.admin, tree.station, publish=False)
    c = client_for(station_admin(tree))
    assert c.get(url(a, "publish/")).status_code == 405
    r = c.post(url(a, "publish/"), follow=True)
    a.refresh_from_db()
    assert a.status == Activity.Status.PUBLISHED and "已发布" in r.content.decode()
    # twice: a clear message, nothing changes
    r = c.post(url(a, "publish/"), follow=True)
    assert "只有草稿状态的活动可以发布" in r.content.decode()


def test_publish_refusals_by_others(tree):
    a = make_activity(tree.admin, tree.station, publish=False)
    assert client_for(tree.far_admin).post(url(a, "publish/")).status_code == 404
    viewer = make_user("console_viewer_p", User.Role.VIEWER, [tree.centre])
    assert client_for(viewer).post(url(a, "publish/"), follow=True).status_code == 200
    assert client_for(tree.vol_user).post(url(a, "publish/")).status_code == 403
    a.refresh_from_db()
    assert a.status == Activity.Status.DRAFT


@override_settings(WENMING_OVERSERVE_PER_DAY=1, WENMING_OVERSERVE_PER_WEEK=3)
def test_publish_with_the_overserving_warning_and_confirmation(tree):
    home = Site.objects.create(name="东风敬老院", kind=Site.Kind.NURSING_HOME, node=tree.station)
    serve = {"serves": Activity.Serves.NURSING_HOME, "served_site": home}
    morning = (timezone.localtime() + timedelta(days=2)).replace(hour=8, minute=0, second=0, microsecond=0)
    first = make_activity(tree.admin, tree.station, title="上午助浴", start=morning, **serve)
    second = make_activity(tree.admin, tree.station, title="下午理发", start=first.starts_at + timedelta(hours=4),
                           **serve)
    third = make_activity(tree.admin, tree.station, title="晚上陪聊", start=first.starts_at + timedelta(hours=8),
                          publish=False, **serve)
    c = client_for(station_admin(tree))
    r = c.post(url(third, "publish/"))
    body = r.content.decode()
    assert r.status_code == 200
    assert "服务对象近期活动较多" in body and "上午助浴" in body and "下午理发" in body
    assert "当天已有 2 场" in body and 'name="confirm_overserving" value="1"' in body
    third.refresh_from_db()
    assert third.status == Activity.Status.DRAFT
    r = c.post(url(third, "publish/"), {"confirm_overserving": "1"}, follow=True)
    third.refresh_from_db()
    assert third.status == Activity.Status.PUBLISHED and "已发布" in r.content.decode()
    assert second.status == Activity.Status.PUBLISHED


def test_cancel_needs_a_reason_and_tells_those_signed_up(tree):
    a = make_activity(tree.admin, tree.station, capacity=1)
    services.sign_up(tree.admin, a, tree.zhang)
    services.sign_up(tree.admin, a, tree.li)  # waiting list
    c = client_for(station_admin(tree))
    page = c.get(url(a)).content.decode()
    assert "已报名的 1 位志愿者和候补的 1 位志愿者将收到取消通知" in page
    for reason in ("", "   "):
        r = c.post(url(a, "cancel/"), {"reason": reason})
        assert r.status_code == 422 and "请填写取消原因" in r.content.decode()
    r = c.post(url(a, "cancel/"), {"reason": "x" * 501})
    assert r.status_code == 422 and "500" in r.content.decode()
    a.refresh_from_db()
    assert a.status == Activity.Status.PUBLISHED and not Notice.objects.exists()
    r = c.post(url(a, "cancel/"), {"reason": "暴雨预警，活动取消"}, follow=True)
    a.refresh_from_db()
    assert a.status == Activity.Status.CANCELLED and a.cancel_reason == "暴雨预警，活动取消"
    assert "活动已取消" in r.content.decode() and "暴雨预警" in r.content.decode()
    assert Notice.objects.filter(kind="activity_cancelled").count() == 2
    # cancelling again is refused with a message
    r = c.post(url(a, "cancel/"), {"reason": "再取消一次"}, follow=True)
    assert "不能再取消" in r.content.decode()
    a.refresh_from_db()
    assert a.cancel_reason == "暴雨预警，活动取消"


def test_cancel_out_of_reach(tree):
    a = make_activity(tree.admin, tree.other_station)
    assert client_for(station_admin(tree)).post(url(a, "cancel/"), {"reason": "越权"}).status_code == 404
    assert client_for(tree.vol_user).post(url(a, "cancel/"), {"reason": "越权"}).status_code == 403
    a.refresh_from_db()
    assert a.status == Activity.Status.PUBLISHED


def test_sign_up_on_someones_behalf(tree):
    a = make_activity(tree.admin, tree.station, capacity=1)
    c = client_for(station_admin(tree))
    found = c.get(url(a), {"vq": "李四"})
    assert [v.name for v in found.context["candidates"]] == ["李四"]
    assert c.get(url(a), {"vq": "王五"}).context["candidates"] == []  # another station's volunteer
    r = c.post(url(a, "signup/"), {"volunteer": tree.li.pk}, follow=True)
    assert "已为李四报名" in r.content.decode()
    r = c.post(url(a, "signup/"), {"volunteer": tree.zhang.pk}, follow=True)
    assert "已进入候补名单" in r.content.decode()
    r = c.post(url(a, "signup/"), {"volunteer": tree.li.pk}, follow=True)
    assert "已报名该活动" in r.content.decode()
    for bad in (tree.wang.pk, "abc", "", "99999999999999999999999"):
        r = c.post(url(a, "signup/"), {"volunteer": bad}, follow=True)
        assert r.status_code == 200 and ("不在您的管辖范围内" in r.content.decode()
                                         or "请选择要报名的志愿者" in r.content.decode())
    statuses = dict(SignUp.objects.values_list("volunteer__name", "status"))
    assert statuses == {"李四": "confirmed", "张三": "waiting"}


def test_cancel_a_signup_moves_the_waiting_list_up(tree):
    a = make_activity(tree.admin, tree.station, capacity=1)
    first = services.sign_up(tree.admin, a, tree.li)
    services.sign_up(tree.admin, a, tree.zhang)
    c = client_for(station_admin(tree))
    assert "取消报名" in c.get(url(a, "live/")).content.decode()
    r = c.post(url(a, f"signups/{first.pk}/cancel/"), follow=True)
    assert "候补的志愿者依次递补" in r.content.decode()
    assert SignUp.objects.get(volunteer=tree.zhang, activity=a).status == SignUp.Status.CONFIRMED
    assert client_for(tree.far_admin).post(url(a, f"signups/{first.pk}/cancel/")).status_code == 404


def test_sign_up_refused_when_not_recruiting(tree):
    a = shift(make_activity(tree.admin, tree.station), timedelta(days=-3))
    r = client_for(station_admin(tree)).post(url(a, "signup/"), {"volunteer": tree.li.pk}, follow=True)
    assert "该活动当前不在招募中" in r.content.decode()
    assert not SignUp.objects.exists()


@pytest.mark.parametrize("path", ["", "edit/", "live/", "live/board/", "code/", "settle/"])
def test_every_activity_page_is_404_outside_reach_and_403_for_volunteers(tree, path):
    a = make_activity(tree.admin, tree.station)
    assert client_for(tree.far_admin).get(url(a, path)).status_code == 404
    assert client_for(tree.vol_user).get(url(a, path)).status_code == 403
