"""The console pages at /publicity/: the list with its counts per level and filters, entering,
changing and removing a report, and the form's activity search — within each account's reach."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from wenming.core.models import AuditEntry
from wenming.publicity.models import MediaReport

from .conftest import DAY, make_activity, make_brand, make_report

LIST = "/publicity/"
NEW = "/publicity/new/"


def edit_url(report):
    return f"/publicity/{report.pk}/edit/"


def delete_url(report):
    return f"/publicity/{report.pk}/delete/"


def form(at, **fields) -> dict:
    return {"title": "东风社区：志愿服务暖人心", "outlet": "双清区融媒体中心", "level": "district",
            "published_on": "2025-03-05", "url": "", "node": str(at.pk), "activity": "", "brand": "",
            "note": ""} | fields


def text(response) -> str:
    return response.content.decode()


# --- The list --------------------------------------------------------------------------------------


def test_the_list_shows_the_reports_in_reach_with_counts_per_level(world):
    make_report(world.S11, "东风社区：志愿服务暖人心", level="district")
    make_report(world.S11, "东风社区登上邵阳日报", level="city")
    make_report(world.S21, "东站社区：文明出行", level="central")
    page = text(world.client("district_admin").get(LIST))
    assert "宣传报道台账" in page
    assert "东风社区：志愿服务暖人心" in page and "东站社区：文明出行" in page
    assert re.search(r"<b>3</b>全部报道（篇）", page)
    assert re.search(r"<b>1</b>区级（篇）", page) and re.search(r"<b>1</b>市级（篇）", page)
    assert re.search(r"<b>0</b>省级（篇）", page) and re.search(r"<b>1</b>中央（篇）", page)
    assert "/data/media_reports/export.xlsx" in page and "/data/media_reports/import/" in page

    station = text(world.client("station_admin").get(LIST))
    assert "东风社区：志愿服务暖人心" in station and "东站社区：文明出行" not in station
    assert re.search(r"<b>2</b>全部报道（篇）", station) and re.search(r"<b>0</b>中央（篇）", station)


def test_readers_see_no_write_buttons_and_volunteers_see_nothing(world):
    make_report(world.S11)
    viewer = text(world.client("viewer").get(LIST))
    assert "双清区：志愿服务暖人心" in viewer
    assert NEW not in viewer and "/import/" not in viewer and "/edit/" not in viewer
    assert "/data/media_reports/export.xlsx" in viewer
    volunteer = text(world.client("volunteer").get(LIST))
    assert "双清区：志愿服务暖人心" not in volunteer and "还没有录入宣传报道" in volunteer
    response = world.client(None).get(LIST)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_filters_narrow_the_list_and_keep_the_counts_of_every_level(world):
    make_report(world.S11, "东风社区：七彩假期", level="city", published_on=date(2025, 7, 20), outlet="邵阳日报")
    make_report(world.S12, "光明社区：邻里守望", level="province", published_on=date(2024, 8, 2), outlet="湖南日报")
    make_report(world.S21, "东站社区：文明出行", level="central", published_on=date(2025, 12, 31), outlet="新华网")
    client = world.client("district_admin")
    page = text(client.get(LIST, {"level": "city"}))
    assert "东风社区：七彩假期" in page and "光明社区：邻里守望" not in page
    assert re.search(r"<b>1</b>省级（篇）", page)  # the other levels are still counted
    page = text(client.get(LIST, {"node": world.I1.pk, "year": "2025"}))
    assert "东风社区：七彩假期" in page and "光明社区：邻里守望" not in page and "东站社区：文明出行" not in page
    page = text(client.get(LIST, {"q": "日报"}))
    assert "东风社区：七彩假期" in page and "光明社区：邻里守望" in page and "东站社区：文明出行" not in page
    # The export follows the organisation chosen.
    assert f"export.xlsx?node={world.I1.division_code}" in text(client.get(LIST, {"node": world.I1.pk}))


@pytest.mark.parametrize("params", [
    {"level": "national"}, {"node": "abc"}, {"node": "99999999999999999999999"}, {"year": "1800"},
    {"year": "二〇二五"}, {"q": "字" * 500}, {"page": "zzz"}, {"page": "-1"}, {"page": "999999"},
    {"node": "0"},
])
def test_bad_filters_never_break_the_page(world, params):
    make_report(world.S11)
    response = world.client("district_admin").get(LIST, params)
    assert response.status_code == 200
    if set(params) - {"page"}:
        assert "msg-error" in text(response)


def test_a_station_admin_cannot_filter_on_another_station(world):
    make_report(world.S21, "东站社区：文明出行")
    page = text(world.client("station_admin").get(LIST, {"node": world.S21.pk}))
    assert "东站社区：文明出行" not in page and "msg-error" in page


def test_the_list_is_paged(world):
    for i in range(35):
        make_report(world.S11, f"报道{i:02d}", published_on=DAY - timedelta(days=i))
    client = world.client("district_admin")
    first = text(client.get(LIST))
    assert "报道00" in first and "报道29" in first and "报道30" not in first
    assert "第 1 / 2 页，共 35 条" in first
    second = text(client.get(LIST, {"page": 2, "level": "city"}))
    assert "报道30" in second and "报道34" in second and "报道29" not in second


def test_titles_are_escaped_and_links_open_safely(world):
    make_report(world.S11, "<script>alert(1)</script>", url="https://example.com/a?b=<x>")
    page = text(world.client("district_admin").get(LIST))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'rel="noopener noreferrer nofollow"' in page


# --- Entering a report -----------------------------------------------------------------------------


def test_a_station_admin_enters_a_report_for_their_station(world, links_for_console):
    client = world.client("station_admin")
    page = text(client.get(NEW))
    assert page.count('<option value="') >= 2
    assert f'value="{world.S11.pk}"' in page and f'value="{world.S21.pk}"' not in page
    assert f'value="{links_for_console.s11_activity.pk}"' in page
    assert f'value="{links_for_console.s21_activity.pk}"' not in page
    assert f'value="{links_for_console.centre_brand.pk}"' in page  # a district brand is offered
    response = client.post(NEW, form(world.S11, activity=str(links_for_console.s11_activity.pk),
                                     brand=str(links_for_console.centre_brand.pk), url="https://example.com/1",
                                     note="头版"))
    assert response.status_code == 302 and response["Location"] == LIST
    report = MediaReport.objects.get()
    assert (report.node, report.level, report.published_on) == (world.S11, "district", DAY)
    assert report.activity == links_for_console.s11_activity and report.brand == links_for_console.centre_brand
    assert report.created_by == world.station_admin
    assert AuditEntry.objects.filter(action="media_report.create", object_id=str(report.pk)).exists()
    assert "已录入报道" in text(client.get(LIST))


def test_save_and_enter_another(world):
    response = world.client("district_admin").post(NEW, form(world.S12) | {"another": "1"})
    assert response.status_code == 302 and response["Location"] == f"{NEW}?node={world.S12.pk}"


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "请填写报道标题。"),
    ({"title": "字" * 201}, "报道标题不能超过200字。"),
    ({"outlet": "   "}, "请填写刊发媒体。"),
    ({"level": "national"}, "报道级别不在可选范围内。"),
    ({"published_on": "2025-02-30"}, "刊发日期格式不正确"),
    ({"published_on": "next week"}, "刊发日期格式不正确"),
    ({"published_on": (timezone.localdate() + timedelta(days=2)).isoformat()}, "刊发日期不能晚于今天。"),
    ({"published_on": "1999-12-31"}, "刊发日期不能早于2000年1月1日。"),
    ({"url": "javascript:alert(1)"}, "链接须是以 http:// 或 https:// 开头的完整网址。"),
    ({"node": ""}, "请选择报道所属组织。"),
    ({"node": "99999999999999999999"}, "所选组织不存在或不在您的管辖范围内。"),
    ({"activity": "abc"}, "所选活动不存在或不在您的管辖范围内。"),
    ({"note": "备" * 501}, "备注不能超过500字。"),
])
def test_bad_input_gets_a_chinese_message_on_the_form(world, fields, message):
    response = world.client("district_admin").post(NEW, form(world.S11, **fields))
    assert response.status_code == 422
    assert message in text(response)
    assert not MediaReport.objects.exists()


def test_the_station_admin_cannot_enter_for_another_station(world):
    response = world.client("station_admin").post(NEW, form(world.S21))
    assert response.status_code == 422 and "所选组织不存在或不在您的管辖范围内。" in text(response)
    assert not MediaReport.objects.exists()


def test_a_duplicate_is_refused_on_the_title(world):
    make_report(world.S11, "东风社区：志愿服务暖人心", published_on=DAY)
    response = world.client("district_admin").post(NEW, form(world.S11))
    assert response.status_code == 422
    assert "已有同一标题的报道" in text(response)
    assert MediaReport.objects.count() == 1


@pytest.mark.parametrize("role", ["viewer", "department", "team_leader", "volunteer"])
def test_readers_may_not_enter_reports(world, role):
    client = world.client(role)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form(world.S11)).status_code == 403
    assert not MediaReport.objects.exists()


# --- Changing and removing -------------------------------------------------------------------------


def test_editing_a_report(world):
    report = make_report(world.S11, level="city")
    client = world.client("station_admin")
    page = text(client.get(edit_url(report)))
    assert 'value="双清区：志愿服务暖人心"' in page and "删除这篇报道" in page
    response = client.post(edit_url(report), form(world.S11, title="东风社区：改过的标题", level="province"))
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.title, report.level) == ("东风社区：改过的标题", "province")
    entry = AuditEntry.objects.get(action="media_report.update")
    assert entry.after == {"title": "东风社区：改过的标题", "level": "province", "outlet": "双清区融媒体中心"}


def test_editing_keeps_a_link_the_editor_could_not_choose(world):
    activity = make_activity(world.C, "全区学雷锋集中行动")
    brand = make_brand(world.C, "七彩假期")
    report = make_report(world.S11, activity=activity, brand=brand)
    client = world.client("station_admin")
    page = text(client.get(edit_url(report)))
    assert f'<option value="{activity.pk}" selected>' in page
    response = client.post(edit_url(report), form(world.S11, title="新标题", activity=str(activity.pk),
                                                  brand=str(brand.pk), outlet="邵阳日报", level="city"))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.title == "新标题" and report.activity == activity and report.brand == brand


def test_a_station_admin_cannot_see_or_touch_another_stations_report(world):
    other = make_report(world.S21, "东站社区：文明出行")
    client = world.client("station_admin")
    assert client.get(edit_url(other)).status_code == 404
    assert client.post(edit_url(other), form(world.S11, title="改")).status_code == 404
    assert client.get(delete_url(other)).status_code == 404
    assert client.post(delete_url(other), {"confirm": "1"}).status_code == 404
    other.refresh_from_db()
    assert other.title == "东站社区：文明出行"
    # Nor move their own report there.
    mine = make_report(world.S11, "东风社区报道")
    response = client.post(edit_url(mine), form(world.S21, title="东风社区报道"))
    assert response.status_code == 422
    mine.refresh_from_db()
    assert mine.node == world.S11


def test_ids_that_do_not_exist(world):
    client = world.client("district_admin")
    assert client.get("/publicity/999999/edit/").status_code == 404
    assert client.get("/publicity/99999999999999999999999/edit/").status_code == 404
    assert client.post("/publicity/0/delete/", {"confirm": "1"}).status_code == 404


def test_readers_may_not_change_what_they_see(world):
    report = make_report(world.S11)
    client = world.client("viewer")
    assert client.get(edit_url(report)).status_code == 403
    assert client.post(delete_url(report), {"confirm": "1"}).status_code == 403
    assert MediaReport.objects.filter(pk=report.pk).exists()


def test_deleting_needs_the_confirmation(world):
    report = make_report(world.S11)
    client = world.client("institute_admin")
    page = text(client.get(delete_url(report)))
    assert "确认删除" in page and report.title in page
    response = client.post(delete_url(report), {})
    assert response.status_code == 422 and "请勾选“确认删除”后再提交。" in text(response)
    assert MediaReport.objects.filter(pk=report.pk).exists()
    response = client.post(delete_url(report), {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not MediaReport.objects.exists()
    assert AuditEntry.objects.filter(action="media_report.delete", object_id=str(report.pk)).exists()
    assert client.get(delete_url(report)).status_code == 404


# --- The activity search of the form --------------------------------------------------------------


def test_the_activity_search_offers_activities_in_reach_and_on_the_line(world):
    make_activity(world.S11, "东风社区七彩假期课业辅导")
    make_activity(world.S12, "光明社区七彩假期书法课")
    make_activity(world.S21, "东站社区七彩假期防溺水")
    url = "/publicity/activity-options/"
    station = text(world.client("station_admin").get(url, {"activity_q": "七彩"}))
    assert "东风社区七彩假期课业辅导" in station and "光明社区" not in station and "东站社区" not in station
    institute = text(world.client("institute_admin").get(url, {"activity_q": "七彩", "node": world.S12.pk}))
    assert "光明社区七彩假期书法课" in institute and "东风社区" not in institute
    none = text(world.client("district_admin").get(url, {"activity_q": "<script>"}))
    assert "没有找到匹配的活动" in none and "<script>" not in none
    assert world.client("viewer").get(url, {"activity_q": "七彩"}).status_code == 403


@pytest.fixture
def links_for_console(world):
    class L:
        s11_activity = make_activity(world.S11, "东风社区学雷锋")
        s21_activity = make_activity(world.S21, "东站社区学雷锋")
        centre_brand = make_brand(world.C, "七彩假期")

    return L


def test_the_home_page_counts_this_years_reports(world):
    year = timezone.localdate().year
    make_report(world.S11, "今年的", published_on=date(year, 1, 1))
    make_report(world.S21, "今年的外站", published_on=date(year, 1, 1))
    make_report(world.S11, "去年的", published_on=date(year - 1, 12, 31))
    page = text(world.client("station_admin").get("/"))
    assert re.search(r"<b>1</b>\s*今年宣传报道（篇）", page), page
    assert f"/publicity/?year={year}" in page
    page = text(world.client("district_admin").get("/"))
    assert re.search(r"<b>2</b>\s*今年宣传报道（篇）", page)


def test_a_station_admins_form_starts_on_their_station(world):
    page = text(world.client("station_admin").get(NEW))
    assert f'<option value="{world.S11.pk}" selected>' in page
    page = text(world.client("district_admin").get(NEW))
    assert not re.search(r'<option value="\d+" selected>', page.split('name="node"')[1].split("</select>")[0])


def test_a_page_of_the_list_costs_the_same_whatever_its_rows(world, django_assert_max_num_queries):
    activity = make_activity(world.S11)
    brand = make_brand(world.C, "七彩假期")
    for i in range(30):
        make_report(world.nodes[["S11", "S12", "S21"][i % 3]], f"报道{i}", activity=activity if i % 2 else None,
                    brand=brand)
    client = world.client("institute_admin")
    client.get(LIST)  # warm the session
    with django_assert_max_num_queries(14):
        response = client.get(LIST)
    assert response.status_code == 200 and "报道1" in text(response)
