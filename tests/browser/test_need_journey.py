"""The whole four-order loop of issue #4 in real browsers:

a resident on a 390×844 phone places a need (群众点单) and gets the code; the station admin, on a
desktop, approves it and dispatches it from the ranked candidate list (中心派单); the team leader
accepts it and completes it with a report and a volunteer's hours (志愿者接单); the resident, with
the code and the last 4 digits of the phone, rates it (群众评单); every step shows in the timeline on
both sides. Screenshots of the console pages go to $WENMING_SHOTS or /tmp/shots-needs."""

import os
import re
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.browser.test_activity_journey import log_in
from tests.ledger.helpers import build_tree, make_volunteer
from tests.needs.conftest import category
from wenming.core.models import Skill
from wenming.ledger.models import HoursRequest
from wenming.needs.models import Need
from wenming.people.models import Team, TeamMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def out():
    folder = Path(os.environ.get("WENMING_SHOTS") or "/tmp/shots-needs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def district(transactional_db):
    cache.clear()
    tree = build_tree()
    skill = Skill.objects.create(name="助老助残")
    care = category("elderly-visit", "上门探访", "elderly", "助老助残")
    care.skills.set([skill])
    leader = make_volunteer(tree.admin, tree.station, "赵队长", user=tree.team_leader)
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station, leader=leader, capacity=5)
    team.skills.set([skill])
    for v in (leader, tree.li):
        TeamMembership.objects.create(team=team, volunteer=v)
    # a second team without the skill: ranked below, and not eligible
    Team.objects.create(name="东风社区文艺队", node=tree.station, capacity=5)
    yield tree, team
    cache.clear()


def test_the_four_order_loop_end_to_end(live_server, district, browser, out):
    tree, team = district
    base = live_server.url

    # 群众点单: the resident on a phone.
    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2)
    resident = phone.new_page()
    resident.set_default_timeout(20_000)
    resident.goto(f"{base}/n/new/")
    resident.select_option("#id_station", label="东风社区新时代文明实践站")
    resident.select_option("#id_category", label="上门探访")
    resident.fill("#id_description", "老伴住院，家里八十岁老人白天无人照看，希望有志愿者上门陪伴")
    resident.fill("#id_contact_name", "王大爷")
    resident.fill("#id_phone", "13912345678")
    resident.fill("#id_address", "东风路8号1栋")
    resident.get_by_role("button", name="提交点单").click()
    resident.wait_for_url("**/n/submitted/")
    code = resident.locator("#need-code").inner_text().strip()
    need = Need.objects.get(code=code)

    # 中心派单: the station admin approves and dispatches from the candidates.
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    admin = desk.new_page()
    admin.set_default_timeout(20_000)
    log_in(admin, base, tree.admin.username, "/needs/")
    admin.get_by_role("link", name=re.compile("待审核")).click()
    admin.get_by_role("link", name=code).click()
    admin.wait_for_url(f"**/needs/{need.pk}/")
    admin.get_by_role("button", name="审核通过").click()
    admin.wait_for_url(f"**/needs/{need.pk}/")
    assert "已审核通过" in admin.content()
    candidates = admin.locator("#dispatch table").first
    first_row = candidates.locator("tbody tr").first
    assert team.name in first_row.inner_text() and "专长对口" in first_row.inner_text()
    admin.screenshot(path=out / "console-dispatch.png", full_page=True)
    first_row.get_by_role("button", name="派给").click()
    admin.wait_for_url(f"**/needs/{need.pk}/")
    need.refresh_from_db()
    assert need.state == Need.State.DISPATCHED and need.team == team

    # 志愿者接单: the team leader accepts and completes with a report and hours.
    leader_ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    leader = leader_ctx.new_page()
    leader.set_default_timeout(20_000)
    log_in(leader, base, tree.team_leader.username, f"/needs/{need.pk}/")
    leader.get_by_role("button", name="接单", exact=True).click()
    leader.wait_for_url(f"**/needs/{need.pk}/")
    leader.locator("#complete summary").click()
    leader.fill("#id_report", "周六上午两名志愿者上门陪伴老人三小时，帮忙做了午饭")
    leader.fill("#id_people_served", "1")
    leader.fill(f"#id_hours_{tree.li.pk}", "3")
    leader.screenshot(path=out / "console-complete.png", full_page=True)
    leader.get_by_role("button", name="确认完成").click()
    leader.wait_for_url(f"**/needs/{need.pk}/")
    need.refresh_from_db()
    assert need.state == Need.State.COMPLETED
    assert HoursRequest.objects.get(source_type="need", source_id=code).minutes == 180

    # 群众评单: the resident proves the code and rates.
    resident.goto(f"{base}/n/track/")
    resident.fill("#id_code", code)
    resident.fill("#id_last4", "5678")
    resident.get_by_role("button", name="查询", exact=True).click()
    resident.wait_for_url(f"**/n/track/{code}/")
    assert "待评价" in resident.locator("#need-state").inner_text()
    resident.locator("label[for=id_stars_0]").click()  # the first radio is 5 stars
    resident.fill("#id_comment", "志愿者很耐心，谢谢！")
    resident.get_by_role("button", name=re.compile("提交评价")).click()
    resident.wait_for_url(f"**/n/track/{code}/")
    need.refresh_from_db()
    assert need.state == Need.State.CLOSED and need.stars == 5

    # The timeline shows all of it, to the resident and in the console.
    timeline = resident.locator("#timeline").inner_text()
    for text in ("审核通过", "派单", "接单", "完成", "评"):
        assert text in timeline, text
    resident.screenshot(path=out / "phone-journey-closed.png", full_page=True)
    admin.goto(f"{base}/needs/{need.pk}/")
    console_timeline = admin.locator(".timeline").inner_text()
    for text in ("群众点单", "审核通过", "派单", "接单", "完成服务", "群众评单", "志愿者很耐心"):
        assert text in console_timeline, text
    admin.screenshot(path=out / "console-closed.png", full_page=True)
    for context in (phone, desk, leader_ctx):
        context.close()
