"""A volunteer's phone (390×844) scans the organiser's QR code: logs in, comes back to the scan
page, checks in with the site's position; then checks out while the network is down, sees the
scan kept on the phone, and finds it submitted once when the phone is back online.

A second journey takes a screenshot of every phone page (browse, nearby, detail, waiting list,
my activities, notices) for a human to look at."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.ledger.helpers import PASSWORD, build_tree, make_user
from wenming.activities import checkin, services
from wenming.activities.models import Activity, Attendance, Scan, Theme
from wenming.core.models import User
from wenming.org.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE_LAT, SITE_LNG = 27.2389, 111.4677
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db):
    cache.clear()
    tree = build_tree()
    site = Site.objects.create(name="东风社区道德讲堂", kind=Site.Kind.MORAL_HALL, node=tree.station,
                               address="双清区东风路88号", lat=SITE_LAT, lng=SITE_LNG, radius_m=300)
    yield tree, site
    cache.clear()


def make(tree, site, title, *, start, hours=2, capacity=10, node=None, **extra):
    data = services.ActivityData(title=title, starts_at=start, ends_at=start + timedelta(hours=hours),
                                 capacity=capacity, node=node or tree.station, site=site, **extra)
    a = services.create_activity(tree.admin, data)
    return services.publish_activity(tree.admin, a, confirm_overserving=True)


def move_to_now(activity, minutes_ago=10):
    delta = timezone.now() - timedelta(minutes=minutes_ago) - activity.starts_at
    Activity.objects.filter(pk=activity.pk).update(starts_at=activity.starts_at + delta,
                                                   ends_at=activity.ends_at + delta)
    activity.refresh_from_db()
    return activity


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=2, permissions=["geolocation"],
                                  geolocation={"latitude": SITE_LAT, "longitude": SITE_LNG, "accuracy": 20})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield context, page
    context.close()


def log_in(page, username):
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_volunteer_checks_in_by_scanning_and_checks_out_offline(live_server, world, phone, shots):
    tree, site = world
    context, page = phone
    activity = make(tree, site, "东风社区环境整治", start=timezone.now() + timedelta(days=1),
                    description="请穿志愿者马甲，自带手套。")
    services.sign_up(tree.vol_user, activity)
    activity = move_to_now(activity)

    # The phone camera opens the code's address; the log-in page leads back to it.
    scan_in = f"/a/{activity.pk}/scan/?k=in&t={checkin.token_for(activity.pk, 'in')}"
    page.goto(live_server.url + scan_in)
    assert "/login/" in page.url
    page.screenshot(path=shots / "phone-scan-01-login.png", full_page=True)
    log_in(page, "ledger_vol")
    page.wait_for_url(live_server.url + scan_in)
    page.get_by_role("button", name="签到").wait_for()
    page.screenshot(path=shots / "phone-scan-02-page.png", full_page=True)

    # Pressed from 2 km away: refused with the service's own message, and nothing recorded.
    context.set_geolocation({"latitude": SITE_LAT + 0.018, "longitude": SITE_LNG, "accuracy": 20})
    page.get_by_role("button", name="签到").click()
    page.locator("#scan-result").get_by_text("超出300米的签到范围").wait_for()
    page.screenshot(path=shots / "phone-scan-02b-out-of-range.png", full_page=True)
    assert not Attendance.objects.exists()

    # At the site: accepted.
    context.set_geolocation({"latitude": SITE_LAT, "longitude": SITE_LNG, "accuracy": 20})
    page.get_by_role("button", name="签到").click()
    page.locator("#scan-result").get_by_text("签到成功").wait_for()
    page.screenshot(path=shots / "phone-scan-03-checked-in.png", full_page=True)
    att = Attendance.objects.get(activity=activity, volunteer=tree.zhang)
    assert att.status == Attendance.Status.CHECKED_IN
    assert att.check_in_distance_m is not None and att.check_in_distance_m < 50  # the phone's position was sent
    assert page.get_by_role("button", name="已签到").is_disabled()

    # Check-out with the network down: the scan waits on the phone.
    scan_out = f"/a/{activity.pk}/scan/?k=out&t={checkin.token_for(activity.pk, 'out')}"
    page.goto(live_server.url + scan_out)
    page.get_by_role("button", name="签退").wait_for()
    context.set_offline(True)
    pressed_at = timezone.now()
    page.get_by_role("button", name="签退").click()
    page.get_by_text("已保存，联网后自动提交").wait_for()
    page.screenshot(path=shots / "phone-scan-04-saved-offline.png", full_page=True)
    assert page.evaluate("JSON.parse(localStorage.getItem('wenming.pendingScans.v1')).length") == 1
    att.refresh_from_db()
    assert att.checked_out_at is None

    # Back online: the kept scan is sent (on the 'online' event or on the next visit), exactly once,
    # with the moment it was taken, not the moment it arrived.
    context.set_offline(False)
    page.wait_for_timeout(500)
    page.reload()
    page.get_by_text("签退").first.wait_for()
    page.wait_for_function("(localStorage.getItem('wenming.pendingScans.v1') || '[]') === '[]'")
    page.reload()
    page.get_by_text("您已于").wait_for()
    page.screenshot(path=shots / "phone-scan-05-sent.png", full_page=True)
    att.refresh_from_db()
    assert att.status == Attendance.Status.CHECKED_OUT
    assert abs((att.checked_out_at - pressed_at).total_seconds()) < 5
    assert Scan.objects.filter(activity=activity, kind=Scan.Kind.CHECK_OUT).count() == 1
    assert Scan.objects.filter(activity=activity, kind=Scan.Kind.CHECK_IN).count() == 1

    # Later the organiser settles (here the activity is moved into the past, the times with it):
    # "my activities" shows the times and the hours credited.
    start = timezone.now() - timedelta(hours=3)
    Activity.objects.filter(pk=activity.pk).update(starts_at=start, ends_at=start + timedelta(hours=2))
    Attendance.objects.filter(pk=att.pk).update(checked_in_at=start, checked_out_at=start + timedelta(hours=2))
    services.settle_activity(tree.admin, Activity.objects.get(pk=activity.pk))
    page.goto(live_server.url + "/a/mine/")
    page.get_by_text("已记入核验时长 2 小时").wait_for()
    page.screenshot(path=shots / "phone-scan-06-mine-settled.png", full_page=True)


def test_every_phone_page_on_a_390_wide_screen(live_server, world, phone, shots):
    tree, site = world
    context, page = phone
    li = make_user("ledger_li", User.Role.VOLUNTEER)
    tree.li.user = li
    tree.li.save(update_fields=["user"])
    themes = [Theme.objects.get_or_create(name=n, defaults={"sort_order": i})[0]
              for i, n in enumerate(["学雷锋", "我们的节日·重阳", "理论宣讲", "文化惠民", "卫生健康", "平安法治"])]
    soon = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=2)
    full = make(tree, site, "重阳节敬老院包饺子、陪老人聊天", start=soon, capacity=1, themes=themes[:2],
                description="1. 8:45在敬老院门口集合\n2. 请自带围裙\n3. 老人行动不便，请耐心陪伴",
                contact_name="刘老师", address="双清区东风路88号院内")
    services.sign_up(tree.vol_user, full)
    make(tree, site, "理论宣讲进社区：学习二十届三中全会精神", start=soon + timedelta(days=1), capacity=30,
         themes=themes[2:3])
    far = Site.objects.create(name="汽车站广场", kind=Site.Kind.SQUARE, node=tree.other_station,
                              lat=SITE_LAT + 0.03, lng=SITE_LNG + 0.02)
    make(tree, far, "平安法治宣传进车站", start=soon - timedelta(hours=20), capacity=8, themes=themes[5:6],
         node=tree.other_station)

    page.goto(live_server.url + "/a/")
    page.get_by_text("重阳节敬老院").wait_for()
    page.screenshot(path=shots / "phone-01-browse.png", full_page=True)
    page.locator(".chips").get_by_role("link", name="理论宣讲", exact=True).click()
    page.wait_for_url("**/a/?theme=*")
    assert page.locator(".act-card").count() == 1
    page.screenshot(path=shots / "phone-01b-theme.png", full_page=True)
    page.locator(".chips").get_by_role("link", name="全部", exact=True).click()
    page.get_by_role("button", name="附近的活动").click()
    page.wait_for_url("**/a/?lat=*")
    page.get_by_text("由近到远").wait_for()
    page.screenshot(path=shots / "phone-02-nearby.png", full_page=True)
    assert page.locator(".act-card .dist").count() == 3

    page.get_by_text("重阳节敬老院").click()
    page.get_by_role("link", name="登录后报名").click()
    log_in(page, "ledger_li")
    page.wait_for_url(f"**/a/{full.pk}/")
    page.screenshot(path=shots / "phone-03-detail.png", full_page=True)
    page.get_by_role("button", name="报名候补").click()
    page.get_by_text("候补第1位").first.wait_for()
    page.screenshot(path=shots / "phone-04-waiting.png", full_page=True)

    # 张三 gives up the place: 李四 moves up and is told.
    services.cancel_signup(tree.vol_user, full.signups.get(volunteer=tree.zhang))
    page.goto(live_server.url + "/a/mine/")
    page.locator(".notice-badge").wait_for()
    page.screenshot(path=shots / "phone-05-mine.png", full_page=True)
    page.locator(".topbar .notice-link").click()
    page.get_by_text("候补成功").wait_for()
    page.screenshot(path=shots / "phone-06-notices.png", full_page=True)
    page.get_by_text("候补成功").click()
    page.wait_for_url(f"**/a/{full.pk}/")
    page.get_by_text("您已报名").wait_for()
    assert page.locator(".notice-badge").count() == 0
    page.screenshot(path=shots / "phone-07-promoted.png", full_page=True)
    page.goto(live_server.url + "/notices/")
    page.screenshot(path=shots / "phone-08-notices-read.png", full_page=True)

    # The same pages on a desktop screen stay one readable column.
    desktop = context.browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    dpage = desktop.new_page()
    dpage.goto(f"{live_server.url}/a/{full.pk}/")
    dpage.screenshot(path=shots / "desktop-a-detail.png", full_page=True)
    desktop.close()


def test_without_a_position_the_scan_still_goes_through(live_server, world, browser, shots):
    """Location refused (or unavailable): the check-in is posted without one, as the rules allow."""
    tree, site = world
    activity = make(tree, site, "社区读书会", start=timezone.now() + timedelta(days=1))
    services.sign_up(tree.vol_user, activity)
    activity = move_to_now(activity)
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    context.clear_permissions()
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        scan_in = f"/a/{activity.pk}/scan/?k=in&t={checkin.token_for(activity.pk, 'in')}"
        page.goto(live_server.url + scan_in)
        log_in(page, "ledger_vol")
        page.wait_for_url(live_server.url + scan_in)
        page.get_by_role("button", name="签到").click()
        page.locator("#scan-result").get_by_text("签到成功").wait_for()
        att = Attendance.objects.get(activity=activity)
        assert att.check_in_distance_m is None
    finally:
        context.close()
