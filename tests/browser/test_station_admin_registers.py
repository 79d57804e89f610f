"""A station admin registers a volunteer in a real browser, and a resident registers on a phone.

The full ID number must never reach the page: the detail page shows it masked
(first 6 + ******** + last 4)."""

import re
from datetime import date

import pytest
from django.core.cache import cache

from wenming.core.models import OrgNode, Skill, User
from wenming.people.models import Volunteer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Wenming#2026x"
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]


def id_number(birth: date, order: int) -> str:
    first17 = f"430502{birth:%Y%m%d}{order:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@pytest.fixture
def district(transactional_db):
    cache.clear()
    centre = OrgNode.add_root(name="双清区新时代文明实践中心", kind="centre", division_code="430502000000")
    institute = centre.add_child(name="东风路街道新时代文明实践所", kind="institute", division_code="430502001000")
    station = institute.add_child(name="东风社区新时代文明实践站", kind="station", division_code="430502001001")
    institute.refresh_from_db()
    institute.add_child(name="光明社区新时代文明实践站", kind="station", division_code="430502001002")
    for i, name in enumerate(["医疗护理", "文艺演出", "理论宣讲"]):
        Skill.objects.create(name=name, ordering=i)
    admin = User.objects.create_user("station-admin", password=PASSWORD, role=User.Role.STATION_ADMIN,
                                     display_name="东风站管理员")
    admin.scopes.set([station])
    yield {"station": station, "institute": institute, "admin": admin}
    cache.clear()


def test_station_admin_registers_a_volunteer(live_server, district, desktop_page, shots):
    page = desktop_page
    number = id_number(date(1988, 3, 12), 123)
    masked = number[:6] + "********" + number[-4:]

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "station-admin")
    page.fill("#id_password", PASSWORD)
    page.screenshot(path=shots / "browser-01-login.png", full_page=True)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")

    page.locator("nav.sidenav").get_by_role("link", name="志愿者", exact=True).click()
    page.wait_for_url("**/people/volunteers/")
    page.screenshot(path=shots / "browser-02-volunteers.png", full_page=True)

    page.get_by_role("link", name="登记志愿者").click()
    page.wait_for_url("**/people/volunteers/new/")
    page.fill("#id_name", "钱七")
    page.fill("#id_id_number", number)
    page.fill("#id_phone", "13912345678")
    page.select_option("#id_station", label="东风社区新时代文明实践站")
    page.select_option("#id_political_status", label="共青团员")
    page.get_by_label("医疗护理").check()
    page.get_by_label("周末").check()
    page.get_by_label("已阅读并同意《志愿服务协议》").check()
    page.get_by_label("已阅读并同意《个人信息保护政策》").check()
    page.screenshot(path=shots / "browser-03-register-form.png", full_page=True)
    page.get_by_role("button", name="登记", exact=True).click()

    page.wait_for_url(re.compile(r".*/people/volunteers/\d+/$"))
    volunteer = Volunteer.objects.get(name="钱七")
    assert page.url.endswith(f"/people/volunteers/{volunteer.pk}/")
    page.screenshot(path=shots / "browser-04-detail.png", full_page=True)
    assert f"登记成功，志愿者编号：{volunteer.number}" in page.locator(".messages").inner_text()
    assert page.locator("#reveal-id_number").inner_text() == masked
    assert page.locator("#reveal-phone").inner_text() == "139****5678"
    content = page.content()
    assert masked in content
    assert number not in content and "13912345678" not in content
    assert "1988-03-12" not in content and "19880312" not in content  # the digits the mask hides
    assert volunteer.station == district["station"] and volunteer.registered_by == district["admin"]


def test_resident_registers_on_a_phone(live_server, district, phone_page, shots):
    page = phone_page
    number = id_number(date(1995, 7, 1), 246)
    page.goto(f"{live_server.url}/people/join/")
    page.screenshot(path=shots / "browser-05-join.png", full_page=True)
    page.select_option("#id_institute", label="东风路街道新时代文明实践所")
    # htmx loads the institute's stations into the second chooser.
    page.wait_for_selector("#id_station option:text('光明社区新时代文明实践站')", state="attached")
    page.select_option("#id_station", label="光明社区新时代文明实践站")
    page.fill("#id_name", "孙八")
    page.fill("#id_id_number", number)
    page.fill("#id_phone", "13812345678")
    page.get_by_label("文艺演出").check()
    page.get_by_label("已阅读并同意《志愿服务协议》").check()
    page.get_by_label("已阅读并同意《个人信息保护政策》").check()
    page.get_by_role("button", name="提交注册").click()
    page.wait_for_url("**/people/join/done/")
    page.screenshot(path=shots / "browser-06-join-done.png", full_page=True)
    volunteer = Volunteer.objects.get(name="孙八")
    assert volunteer.source == Volunteer.Source.SELF and volunteer.station.name == "光明社区新时代文明实践站"
    assert page.locator("#volunteer-number").inner_text() == volunteer.number
    content = page.content()
    assert "孙*" in content and "138****5678" in content
    assert number not in content and "孙八" not in content
