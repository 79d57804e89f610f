"""A resident on a phone (390×844) places a need (群众点单) with a photo and their position, gets the
tracking code, and — in another browser, as when they come back days later — follows it with the
code and the last 4 digits of their phone, seeing the timeline grow as the station handles it.

Screenshots of /n/new/, /n/submitted/ and /n/track/<code>/ at 390×844 and 1366×768 go to
$WENMING_SHOTS or /tmp/shots-needs, for a human to look at."""

import os
import re
from io import BytesIO
from pathlib import Path

import pytest
from django.core.cache import cache
from PIL import Image

from tests.ledger.helpers import build_tree
from wenming.needs import services
from wenming.needs.models import Need, NeedCategory, ServiceOffer
from wenming.people.models import Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
POSITION = {"latitude": 27.2389, "longitude": 111.4677, "accuracy": 20}


@pytest.fixture
def out():
    folder = Path(os.environ.get("WENMING_SHOTS") or "/tmp/shots-needs")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def district(transactional_db):
    """The ledger's small tree, the categories (a transactional test may have flushed the migration's
    rows) and a team at the station."""
    cache.clear()
    tree = build_tree()
    parent, _ = NeedCategory.objects.get_or_create(code="elderly", defaults={"name": "助老助残"})
    care, _ = NeedCategory.objects.get_or_create(code="elderly-visit",
                                                 defaults={"name": "上门探访", "parent": parent})
    repair, _ = NeedCategory.objects.get_or_create(code="repair", defaults={"name": "便民维修", "sort_order": 8})
    NeedCategory.objects.get_or_create(code="repair-appliance", defaults={"name": "家电维修", "parent": repair})
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station, capacity=5)
    yield tree, care, team
    cache.clear()


def shoot(page, path) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # a full-page shot of a scrolled page draws the sticky bar mid-page
    page.screenshot(path=path, full_page=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_resident_places_a_need_and_follows_it(live_server, district, browser, out, tmp_path):
    tree, care, team = district
    photo = tmp_path / "kitchen.jpg"
    buffer = BytesIO()
    Image.new("RGB", (1200, 900), (200, 120, 80)).save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                device_scale_factor=2, permissions=["geolocation"], geolocation=POSITION)
    page = phone.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/n/")
    shoot(page, out / "phone-01-home.png")
    assert no_sideways_scroll(page)
    page.get_by_role("link", name=re.compile("我要点单")).click()
    page.wait_for_url("**/n/new/")

    page.select_option("#id_station", label="东风社区新时代文明实践站")
    page.select_option("#id_category", label="上门探访")
    page.fill("#id_description", "独居老人腿脚不便，希望周末有人上门陪聊、帮忙打扫厨房")
    page.get_by_label("紧急", exact=True).check()
    page.set_input_files("#id_photos", str(photo))
    page.fill("#id_contact_name", "刘奶奶")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_address", "东风路12号3栋2单元")
    page.get_by_role("button", name="使用我的位置").click()
    page.wait_for_function("document.getElementById('id_lat').value !== ''")
    assert "已附上您的位置" in page.locator("#loc-status").inner_text()
    shoot(page, out / "phone-02-new.png")
    assert no_sideways_scroll(page)
    page.get_by_role("button", name="提交点单").click()

    page.wait_for_url("**/n/submitted/")
    need = Need.objects.get()
    code = page.locator("#need-code").inner_text().strip()
    assert code == need.code and len(code) == 8
    assert need.lat == pytest.approx(27.2389) and need.urgency == Need.Urgency.URGENT
    assert need.photos.count() == 1 and need.phone_masked == "138****5678"
    shoot(page, out / "phone-03-submitted.png")
    assert no_sideways_scroll(page)
    assert "后4位" in page.content()
    cookies = phone.cookies()

    # The station handles it while the resident is away.
    need = services.review_need(tree.admin, need, approve=True)
    services.dispatch_need(tree.admin, need, team=team, note="周六上午上门")

    # Days later, another browser: the code alone is not enough.
    later = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True,
                                device_scale_factor=2)
    page2 = later.new_page()
    page2.set_default_timeout(15_000)
    page2.goto(f"{live_server.url}/n/track/{code}/")
    page2.wait_for_url(re.compile(r".*/n/track/\?code="))
    assert "独居老人" not in page2.content()
    page2.fill("#id_last4", "0000")
    page2.get_by_role("button", name="查询", exact=True).click()
    assert "查询码或手机号后4位不正确" in page2.content()
    page2.fill("#id_code", code.lower())
    page2.fill("#id_last4", "5678")
    page2.get_by_role("button", name="查询", exact=True).click()
    page2.wait_for_url(f"**/n/track/{code}/")
    assert "已派单" in page2.locator("#need-state").inner_text()
    timeline = page2.locator("#timeline").inner_text()
    for text in ("提交需求", "审核通过", "派单", "周六上午上门", "群众本人", tree.centre.name):
        assert text in timeline, text
    assert "ledger_admin" not in page2.content() and "13812345678" not in page2.content()
    shoot(page2, out / "phone-04-track.png")
    assert no_sideways_scroll(page2)

    # The same pages on a desktop screen (the resident's session carried over).
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    desk.add_cookies(cookies)
    page3 = desk.new_page()
    page3.set_default_timeout(15_000)
    desktop_pages = ((f"/n/new/?station={tree.station.pk}", "desktop-02-new"),
                     ("/n/submitted/", "desktop-03-submitted"), (f"/n/track/{code}/", "desktop-04-track"))
    for path, name in desktop_pages:
        page3.goto(f"{live_server.url}{path}")
        shoot(page3, out / f"{name}.png")
        assert no_sideways_scroll(page3)

    # Served and completed: the resident rates it with the stars (no script needed).
    need = services.accept_need(tree.admin, Need.objects.get())
    services.complete_need(tree.admin, need, report="周六上门陪聊一小时，打扫了厨房", people_served=1)
    page2.reload()
    assert "待评价" in page2.locator("#need-state").inner_text()
    shoot(page2, out / "phone-05-rate.png")
    page2.locator("label[for=id_stars_1]").click()  # the 4th star (the stars run 5 → 1 in the page)
    page2.fill("#id_comment", "志愿者很耐心，谢谢！")
    page2.get_by_role("button", name="提交评价").click()
    page2.wait_for_load_state()
    assert "★★★★☆" in page2.locator("#need-state").inner_text()
    assert Need.objects.get().stars == 4
    shoot(page2, out / "phone-06-rated.png")

    # A form sent empty: every message in Chinese beside its field.
    page.goto(f"{live_server.url}/n/new/")
    page.get_by_role("button", name="提交点单").click()
    page.wait_for_load_state()
    for message in ("请选择您所在的实践站", "请选择需求类别", "请填写需求描述", "请填写联系人姓名", "请填写手机号码"):
        assert message in page.content(), message
    shoot(page, out / "phone-07-errors.png")
    assert no_sideways_scroll(page)

    # The service menu and the wish wall.
    offer = ServiceOffer.objects.create(team=team, category=care, title="助老上门探访", schedule="每周六上午",
                                        description="为辖区独居、空巢老人上门探访、陪聊、代购生活用品。")
    wish = services.submit_need(services.NeedData(
        category=care, description="想要一台收音机，每天听听新闻和花鼓戏", station=tree.station,
        contact_name="周大爷", phone="13600002468", is_wish=True))
    services.review_need(tree.admin, wish, approve=True)
    page.goto(f"{live_server.url}/n/menu/")
    shoot(page, out / "phone-08-menu.png")
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="预约：助老上门探访").click()
    page.wait_for_url(f"**/n/new/?offer={offer.pk}")
    assert "您预约的服务" in page.content()
    shoot(page, out / "phone-09-book.png")
    page.goto(f"{live_server.url}/n/wishes/")
    assert "想要一台收音机" in page.content() and "周大爷" not in page.content()
    shoot(page, out / "phone-10-wishes.png")
    assert no_sideways_scroll(page)
    for context in (phone, later, desk):
        context.close()
