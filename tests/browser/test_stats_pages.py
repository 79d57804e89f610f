"""数据统计 in a real browser: the dashboard at 1366×768 and on a 390×844 phone, the big screen at
1920×1080 — the ECharts canvases are drawn (non-zero size, with the figures' data), the big screen
takes new counters and feed rows from live.json without reloading, and keeps its last data while
a poll fails. Screenshots go to the test's tmp dir (and to $WENMING_SHOTS when set)."""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests import factories as f
from tests.stats import builders as b
from tests.stats.test_dashboard_views import data  # noqa: F401  (the fixture)
from wenming.activities.models import Attendance

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}
CHARTS = ["trend", "platforms", "themes", "nodes", "funnel"]
YEAR_2025 = "kind=custom&start=2025-01-01&end=2025-12-31"


def shoot(page, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000  # a picture, not an empty page
    if os.environ.get("WENMING_SHOTS"):
        folder = Path(os.environ["WENMING_SHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / name)
    return path


def open_as(browser, live_server, username, path, viewport, **context):
    ctx = browser.new_context(viewport=viewport, locale="zh-CN", **context)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}{path}")
    return ctx, page, errors


def drawn_charts(page) -> dict:
    """Each chart's canvas size and how many data items its first series holds."""
    page.wait_for_function("() => document.querySelectorAll('[data-chart] canvas').length >= "
                           "document.querySelectorAll('[data-chart]:not([hidden])').length")
    return page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('[data-chart]').forEach(el => {
            const canvas = el.querySelector('canvas');
            const chart = window.echarts.getInstanceByDom(el);
            const series = chart ? chart.getOption().series : [];
            out[el.dataset.chart] = {
                width: canvas ? canvas.getBoundingClientRect().width : 0,
                height: canvas ? canvas.getBoundingClientRect().height : 0,
                items: series.length ? series[0].data.length : 0,
            };
        });
        return out;
    }""")


def test_the_dashboard_draws_every_chart_on_a_desktop(live_server, data, browser, tmp_path):  # noqa: F811
    ctx, page, errors = open_as(browser, live_server, "district_admin", f"/stats/?{YEAR_2025}", DESKTOP)
    try:
        charts = drawn_charts(page)
        assert set(charts) == set(CHARTS)
        for name, chart in charts.items():
            assert chart["width"] > 200 and chart["height"] > 150, (name, chart)
        assert charts["trend"]["items"] == 12  # the months of 2025
        assert charts["platforms"]["items"] == 1 and charts["themes"]["items"] == 2
        assert charts["nodes"]["items"] == 2 and charts["funnel"]["items"] == 6
        assert page.locator(".stat-card").first.inner_text().startswith("开展活动")
        shoot(page, tmp_path, "stats-dashboard-1366-first-screen.png")
        # the tables under the charts open on a click
        table = page.locator("details.chart-table").nth(1)
        table.locator("summary").click()
        assert "传思想习理论" in table.inner_text()
        # the period picker shows the dates its choice needs
        assert page.locator("#f-start").is_visible() and not page.locator("#f-since").is_visible()
        page.select_option("#f-kind", "since")
        assert page.locator("#f-since").is_visible() and not page.locator("#f-start").is_visible()
        page.select_option("#f-kind", "custom")
        shoot(page, tmp_path, "stats-dashboard-1366.png", full_page=True)
        assert not errors, errors
    finally:
        ctx.close()


def test_the_dashboard_on_a_phone(live_server, data, browser, tmp_path):  # noqa: F811
    ctx, page, errors = open_as(browser, live_server, "station_admin", f"/stats/?{YEAR_2025}", PHONE,
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        charts = drawn_charts(page)
        for name in ("trend", "platforms", "themes", "funnel"):
            assert 0 < charts[name]["width"] <= PHONE["width"], (name, charts[name])
        assert "nodes" not in charts  # a station has no children to rank
        # nothing wider than the phone
        assert page.evaluate("document.querySelector('.content').scrollWidth") <= PHONE["width"]
        assert page.evaluate("document.querySelector('.stat-cards').getBoundingClientRect().right") <= PHONE["width"]
        shoot(page, tmp_path, "stats-dashboard-phone.png", full_page=True)
        assert not errors, errors
    finally:
        ctx.close()


def test_the_big_screen_updates_itself_without_reloading(live_server, data, browser, tmp_path, settings):  # noqa: F811
    settings.WENMING_SCREEN_POLL_SECONDS = 1
    w = data
    now = timezone.now()
    first = b.activity(w.S11, now + timedelta(hours=1), hours=3)
    Attendance.objects.create(activity=first, volunteer=w.volunteers["S11"], checked_in_at=now - timedelta(minutes=5),
                              status=Attendance.Status.CHECKED_IN)
    ctx, page, errors = open_as(browser, live_server, "district_admin", "/stats/screen/", WALL)
    try:
        charts = drawn_charts(page)
        assert set(charts) == set(CHARTS)
        for name, chart in charts.items():
            assert chart["width"] > 250 and chart["height"] > 200, (name, chart)
        # one full screen: nothing to scroll
        assert page.evaluate("document.documentElement.scrollHeight") <= WALL["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= WALL["width"]
        today = page.locator('.counter[data-key="checkins_today"] .num')
        assert today.inner_text() == "1"
        collected = page.locator('.counter[data-key="needs_collected"] .num')
        before = int(collected.get_attribute("data-value"))
        page.evaluate("window.__notReloaded = true")
        shoot(page, tmp_path, "stats-bigscreen-1920.png")

        # a volunteer checks in and a resident places a need: the wall shows both within a poll
        later = b.activity(w.S21, now + timedelta(hours=1), hours=3)
        newcomer = f.make_volunteer(w.S21, "欧阳小明")
        Attendance.objects.create(activity=later, volunteer=newcomer, checked_in_at=timezone.now(),
                                  status=Attendance.Status.CHECKED_IN)
        b.need(w.S21, timezone.now())
        page.wait_for_function("() => document.querySelector('.counter[data-key=\"checkins_today\"] .num').textContent === '2'")
        page.wait_for_function(f"() => document.querySelector('.counter[data-key=\"needs_collected\"] .num')"
                               f".getAttribute('data-value') === '{before + 1}'")
        page.wait_for_function("() => document.querySelector('#feed-checkins').textContent.includes('欧**明')")
        assert page.locator("#feed-checkins li").first.inner_text().split()[2] == "欧**明"
        assert "欧阳小明" not in page.content()
        assert page.evaluate("window.__notReloaded") is True  # the same page, never reloaded

        # the server goes away: the wall keeps its data and says so, then recovers
        page.route("**/stats/live.json*", lambda route: route.abort())
        page.wait_for_function("() => document.querySelector('#screen-status').classList.contains('stale')")
        assert "连接中断" in page.locator("#screen-status").inner_text()
        assert today.inner_text() == "2" and "欧**明" in page.locator("#feed-checkins").inner_text()
        shoot(page, tmp_path, "stats-bigscreen-offline.png")
        page.unroute("**/stats/live.json*")
        page.wait_for_function("() => !document.querySelector('#screen-status').classList.contains('stale')", timeout=30_000)
        assert "数据更新于" in page.locator("#screen-status").inner_text()
        assert page.evaluate("window.__notReloaded") is True
        assert not errors, errors
    finally:
        ctx.close()
