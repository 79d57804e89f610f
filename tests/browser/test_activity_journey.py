"""The whole journey of issue #3 in a real browser, the volunteer on a 390×844 phone:

a volunteer signs up on the phone; the organiser opens the check-in screen; the volunteer's
phone reads the QR code off that screen (decoded from a screenshot, as a camera would) and
checks in; the organiser switches to the check-out code and the volunteer checks out; the
organiser settles the hours; the volunteer sees the hours and points and downloads the
certificate, whose text is read back.

Time is the one thing a test cannot wait for: between check-in and check-out the test moves
the check-in two hours back, and after check-out it ends the activity, as the clock would."""

import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from tests.ledger.helpers import PASSWORD, build_tree
from wenming.activities import services
from wenming.activities.models import Activity, Attendance
from wenming.ledger.models import ServiceRecord
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


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                  device_scale_factor=2, permissions=["geolocation"],
                                  geolocation={"latitude": SITE_LAT, "longitude": SITE_LNG, "accuracy": 20})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def log_in(page, base, username, next_path="/"):
    page.goto(f"{base}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(".*" + re.escape(next_path) + "$"))


def read_qr(page) -> str:
    """What a phone camera would read off the organiser's screen."""
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(page.locator("#qr").screenshot()))
    codes = zxingcpp.read_barcodes(image)
    assert codes, "no QR code found on the check-in screen"
    return codes[0].text


def test_volunteer_signs_up_checks_in_and_out_and_gets_hours_points_and_a_certificate(
        live_server, world, phone, screen, shots):
    tree, site = world
    base = live_server.url
    start = timezone.now() + timedelta(days=1)
    activity = services.create_activity(tree.admin, services.ActivityData(
        title="学雷锋·敬老助残志愿服务", starts_at=start, ends_at=start + timedelta(hours=2), capacity=20,
        node=tree.station, site=site, description="为社区老人理发、测血压。"))
    activity = services.publish_activity(tree.admin, activity)

    # 1. The volunteer finds the activity on the phone and signs up.
    log_in(phone, base, tree.vol_user.username, f"/a/{activity.pk}/")
    phone.get_by_role("button", name="报名参加").click()
    phone.wait_for_load_state()
    assert "报名成功" in phone.content() or "已报名" in phone.content()
    phone.screenshot(path=shots / "journey-01-signed-up.png", full_page=True)

    # The day comes: the activity started two hours ago and runs ten more minutes.
    now = timezone.now()
    Activity.objects.filter(pk=activity.pk).update(starts_at=now - timedelta(hours=2),
                                                   ends_at=now + timedelta(minutes=10))
    activity.refresh_from_db()

    # 2. The organiser opens the check-in screen; the phone reads the code and checks in.
    log_in(screen, base, tree.admin.username, f"/activities/{activity.pk}/code/")
    screen.screenshot(path=shots / "journey-02-code-screen.png")
    url = read_qr(screen)
    assert re.search(rf"/a/{activity.pk}/scan/\?k=in&t=\d+\.[0-9a-f]+$", url), url
    phone.goto(url)
    phone.locator("#scan-btn").click()
    phone.get_by_text(re.compile("签到成功")).wait_for()
    phone.screenshot(path=shots / "journey-03-checked-in.png", full_page=True)
    attendance = Attendance.objects.get(activity=activity, volunteer=tree.zhang)
    assert attendance.status == Attendance.Status.CHECKED_IN and attendance.check_in_distance_m == 0

    # Two hours of service pass.
    Attendance.objects.filter(pk=attendance.pk).update(checked_in_at=activity.starts_at)

    # 3. The organiser switches to the check-out code; the phone checks out.
    screen.get_by_role("button", name="签退码").click()
    screen.locator("#kind.out").wait_for()
    screen.wait_for_timeout(300)
    url = read_qr(screen)
    assert "k=out" in url, url
    phone.goto(url)
    phone.locator("#scan-btn").click()
    phone.get_by_text(re.compile("签退成功")).wait_for()
    attendance.refresh_from_db()
    assert attendance.status == Attendance.Status.CHECKED_OUT

    # The activity ends (its window closes at the two hours served).
    Activity.objects.filter(pk=activity.pk).update(ends_at=activity.starts_at + timedelta(hours=2))

    # 4. The organiser settles the hours.
    screen.goto(f"{base}/activities/{activity.pk}/settle/")
    screen.screenshot(path=shots / "journey-04-settle.png", full_page=True)
    screen.fill("#id_beneficiaries", "35")
    screen.once("dialog", lambda dialog: dialog.accept())
    screen.get_by_role("button", name="结算时长").click()
    screen.wait_for_load_state()
    record = ServiceRecord.objects.get(volunteer=tree.zhang, source_type="activity", source_id=str(activity.pk))
    assert record.kind == ServiceRecord.Kind.VERIFIED and record.minutes == 120

    # 5. The volunteer sees the hours and the points …
    phone.goto(f"{base}/me/hours/")
    phone.screenshot(path=shots / "journey-05-my-hours.png", full_page=True)
    hours_text = phone.locator("main").inner_text()
    assert "2" in hours_text and "核验" in hours_text
    phone.goto(f"{base}/me/points/")
    assert "20" in phone.locator("main").inner_text()
    phone.screenshot(path=shots / "journey-06-my-points.png", full_page=True)

    # … and downloads the certificate, which reads back in Chinese.
    phone.goto(f"{base}/me/certificates/")
    phone.get_by_role("button", name="出具证明").click()
    phone.wait_for_load_state()
    phone.screenshot(path=shots / "journey-07-certificates.png", full_page=True)
    with phone.expect_download() as download:
        phone.get_by_role("link", name="下载PDF").first.click()
    pdf = Path(download.value.path())
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "志愿服务记录证明" in text and "学雷锋·敬老助残志愿服务" in text and tree.zhang.name in text
