"""Settlement through the pages, end to end: the preview by the ledger's own rule, the beneficiaries,
settling once, and the decisions on check-ins without a check-out (recorded hours need a second
approver; none)."""

from datetime import timedelta

from tests.ledger.helpers import make_user
from wenming.activities.models import Activity, Attendance
from wenming.core.models import User
from wenming.ledger.models import HoursRequest, ServiceRecord

from .conftest import make_activity, shift
from .console_helpers import client_for, ran_activity, station_admin


def test_settle_end_to_end_through_the_pages(tree, site):
    activity, zhao = ran_activity(tree, site)
    c = client_for(station_admin(tree))
    detail = c.get(f"/activities/{activity.pk}/").content.decode()
    assert f"/activities/{activity.pk}/settle/" in detail

    page = c.get(f"/activities/{activity.pk}/settle/")
    assert page.status_code == 200
    preview = page.context["preview"]
    outcomes = {r["att"].volunteer.name: (r["outcome"], r["minutes"]) for r in preview["rows"]}
    assert outcomes == {"张三": ("verified", 120), "李四": ("awaiting", None), "赵六": ("none", 0)}
    assert preview["totals"] == {"verified": 1, "minutes": 120, "none": 1, "awaiting": 1}
    body = page.content.decode()
    assert "不足活动时长的60%" in body and "结算时长" in body

    # wrong beneficiaries: a message, nothing settled
    for bad in ("abc", "-1", "99999999999"):
        r = c.post(f"/activities/{activity.pk}/settle/", {"beneficiaries": bad})
        assert r.status_code == 422 and "实际服务人数" in r.content.decode(), bad
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PUBLISHED and not ServiceRecord.objects.exists()

    r = c.post(f"/activities/{activity.pk}/settle/", {"beneficiaries": "25"}, follow=True)
    body = r.content.decode()
    assert "结算完成：1人记入核验时长共2小时，1人不计时长，1人未签退待处理。" in body
    activity.refresh_from_db()
    assert activity.status == Activity.Status.SETTLED and activity.beneficiaries == 25
    record = ServiceRecord.objects.get()
    assert record.volunteer == tree.zhang and record.minutes == 120 and record.kind == "verified"
    assert "未签退 · 待处理" in body and "李四" in body

    # settling twice is refused with a message
    r = c.post(f"/activities/{activity.pk}/settle/", {"beneficiaries": "25"}, follow=True)
    assert "该活动的时长已经结算" in r.content.decode() and ServiceRecord.objects.count() == 1

    li_att = Attendance.objects.get(activity=activity, volunteer=tree.li)
    decide = f"/activities/{activity.pk}/attendance/{li_att.pk}/decide/"
    p = f"d{li_att.pk}-"
    # no reason, no hours, more than the window, nonsense: messages, nothing written
    for data, expected in (
        ({p + "decision": "record", p + "hours": "1", p + "reason": ""}, "请填写处理说明"),
        ({p + "decision": "record", p + "hours": "", p + "reason": "忘记签退"}, "请填写补录时长"),
        ({p + "decision": "record", p + "hours": "abc", p + "reason": "忘记签退"}, "补录时长须为数字"),
        ({p + "decision": "record", p + "hours": "3", p + "reason": "忘记签退"}, "不能超过"),
        ({p + "decision": "maybe", p + "reason": "x"}, "选择一个有效的选项"),
    ):
        r = c.post(decide, data)
        assert r.status_code == 422 and expected in r.content.decode(), (data, r.content.decode()[-3000:])
    assert not HoursRequest.objects.exists()
    li_att.refresh_from_db()
    assert li_att.status == Attendance.Status.AWAITING_DECISION

    r = c.post(decide, {p + "decision": "record", p + "hours": "1.5", p + "reason": "现场签到表可证明，忘记签退"},
               follow=True)
    assert "待第二人审批后生效" in r.content.decode()
    request = HoursRequest.objects.get()
    assert request.minutes == 90 and request.volunteer == tree.li and request.status == "pending"
    assert ServiceRecord.objects.count() == 1  # nothing credited until a second person approves
    li_att.refresh_from_db()
    assert li_att.hours_request == request
    # deciding again is refused
    r = c.post(decide, {p + "decision": "none", p + "reason": "再处理一次"}, follow=True)
    assert "该签到记录无需处理" in r.content.decode()


def test_decide_none(tree, site):
    activity, _ = ran_activity(tree, site)
    c = client_for(station_admin(tree))
    c.post(f"/activities/{activity.pk}/settle/", {"beneficiaries": ""})
    att = Attendance.objects.get(activity=activity, volunteer=tree.li)
    r = c.post(f"/activities/{activity.pk}/attendance/{att.pk}/decide/",
               {f"d{att.pk}-decision": "none", f"d{att.pk}-reason": "未参加完活动"}, follow=True)
    assert "不计时长" in r.content.decode()
    att.refresh_from_db()
    assert att.status == Attendance.Status.NO_HOURS and att.decision_note == "未参加完活动"


def test_settle_before_the_end_is_refused(tree):
    a = make_activity(tree.admin, tree.station)
    c = client_for(station_admin(tree))
    page = c.get(f"/activities/{a.pk}/settle/")
    assert "活动结束后才能结算时长" in page.content.decode() and 'name="beneficiaries"' not in page.content.decode()
    r = c.post(f"/activities/{a.pk}/settle/", {"beneficiaries": "3"}, follow=True)
    assert "活动结束后才能结算时长" in r.content.decode()
    a.refresh_from_db()
    assert a.status == Activity.Status.PUBLISHED


def test_who_may_settle(tree, site):
    activity, _ = ran_activity(tree, site)
    assert client_for(tree.far_admin).post(f"/activities/{activity.pk}/settle/", {}).status_code == 404
    assert client_for(tree.vol_user).post(f"/activities/{activity.pk}/settle/", {}).status_code == 403
    viewer = make_user("console_viewer_s", User.Role.VIEWER, [tree.centre])
    r = client_for(viewer).post(f"/activities/{activity.pk}/settle/", {}, follow=True)
    assert "您无权组织此项活动" in r.content.decode()
    att = Attendance.objects.get(activity=activity, volunteer=tree.li)
    r = client_for(tree.far_admin).post(f"/activities/{activity.pk}/attendance/{att.pk}/decide/", {})
    assert r.status_code == 404
    activity.refresh_from_db()
    assert activity.status == Activity.Status.PUBLISHED and not ServiceRecord.objects.exists()


def test_a_cancelled_activity_has_nothing_to_settle(tree):
    a = make_activity(tree.admin, tree.station)
    client_for(tree.admin).post(f"/activities/{a.pk}/cancel/", {"reason": "下雨"})
    a = shift(a, timedelta(days=-5))
    page = client_for(tree.admin).get(f"/activities/{a.pk}/settle/")
    assert "活动已取消，不结算时长" in page.content.decode()
