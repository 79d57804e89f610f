"""The check-in code screen (签到屏) in a real browser at 1920×1080: the QR code changes by itself
without reloading the page, the 签到/签退 switch works, and it shows a message, not a broken page,
when the activity is cancelled under it. Screenshots go to $WENMING_SHOTS or /tmp/shots-people."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from tests.browser.conftest import browser, shots  # noqa: F401  (the shared Chromium and screenshot folder)
from tests.ledger.helpers import build_tree
from wenming.activities import services
from wenming.activities.models import Activity

from .conftest import make_activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logged_in_context(browser, live_server, user, viewport):  # noqa: F811
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    context = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)  # wait_for_function evaluates strings
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session.session_key,
                          "url": live_server.url}])
    return context


def test_the_code_screen_refreshes_itself_and_switches_kind(live_server, browser, shots, settings):  # noqa: F811
    settings.WENMING_CHECKIN_TOKEN_SECONDS = 3  # a new code every 3 s instead of 30, so the test is short
    tree = build_tree()
    activity = make_activity(tree.admin, tree.station, title="学雷锋文明交通劝导")
    Activity.objects.filter(pk=activity.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    context = logged_in_context(browser, live_server, tree.admin, {"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/activities/{activity.pk}/code/")
        first = page.inner_html("#qr svg")
        page.evaluate("window.__notReloaded = true")
        page.wait_for_function("(first) => document.querySelector('#qr svg').innerHTML !== first",
                               arg=first, timeout=10_000)
        assert page.evaluate("window.__notReloaded") is True
        assert page.inner_text("#kind") == "签到"
        page.screenshot(path=shots / "activities-code-1920.png")
        # the QR code fills most of the height and stays square
        box = page.locator("#qr").bounding_box()
        assert box["height"] > 700 and abs(box["width"] - box["height"]) < 2

        page.get_by_role("button", name="签退码").click()
        page.wait_for_function("document.querySelector('#kind').classList.contains('out')")
        assert page.inner_text("#kind") == "签退" and "k=out" in page.url
        assert page.evaluate("window.__notReloaded") is True

        # Cancelled under the screen: the next refresh says so instead of showing a stale code.
        services.cancel_activity(tree.admin, activity, reason="暴雨预警")
        page.wait_for_function("document.querySelector('#qr').classList.contains('stale')", timeout=10_000)
        assert "活动已取消" in page.inner_text("#status")
        page.screenshot(path=shots / "activities-code-cancelled-1920.png")
    finally:
        context.close()


def test_the_code_screen_on_a_tablet(live_server, browser, shots):  # noqa: F811
    tree = build_tree()
    activity = make_activity(tree.admin, tree.station, title="重阳节敬老院助浴理发")
    context = logged_in_context(browser, live_server, tree.admin, {"width": 768, "height": 1024})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/activities/{activity.pk}/code/")
        page.screenshot(path=shots / "activities-code-tablet.png")
        qr, timer = page.locator("#qr").bounding_box(), page.locator(".timer").bounding_box()
        assert qr["width"] > 400 and timer["y"] + timer["height"] <= 1024  # all of it on one screen
    finally:
        context.close()
