"""The ledger's use cases: what a report must be, duplicates, links to activities and brands,
who may write where, and the audit trail."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from wenming.core.models import AuditEntry
from wenming.publicity import services
from wenming.publicity.models import MediaReport

from .conftest import DAY, data, make_report, refused

# --- What a report must be ---------------------------------------------------------------------


@pytest.mark.parametrize("fields, code", [
    ({"title": ""}, "title_required"),
    ({"title": " \t\n "}, "title_required"),
    ({"title": "\x00\x01"}, "title_required"),
    ({"title": "字" * 201}, "title_too_long"),
    ({"outlet": ""}, "outlet_required"),
    ({"outlet": "媒" * 101}, "outlet_too_long"),
    ({"level": "national"}, "level_invalid"),
    ({"level": ""}, "level_invalid"),
    ({"level": "区级"}, "level_invalid"),  # the label is not the value
    ({"published_on": None}, "published_on_required"),
    ({"published_on": "2025-03-05"}, "published_on_required"),
    ({"published_on": date(1999, 12, 31)}, "published_on_too_early"),
    ({"url": "ftp://files.example.com/a.pdf"}, "url_invalid"),
    ({"url": "javascript:alert(1)"}, "url_invalid"),
    ({"url": "www.xinhuanet.com/local/1.htm"}, "url_invalid"),
    ({"url": "https://www.xinhua net.com/"}, "url_invalid"),
    ({"url": "https://"}, "url_invalid"),
    ({"url": "https://example.com/" + "a" * 490}, "url_too_long"),
    ({"note": "备" * 501}, "note_too_long"),
])
def test_bad_fields_are_refused_with_a_chinese_reason(world, fields, code):
    exc = refused(code, services.create_report, world.district_admin, data(world.S11, **fields))
    assert exc.status == 422
    assert not MediaReport.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="media_report").exists()


def test_a_date_after_today_is_refused_and_today_is_not(world):
    today = timezone.localdate()
    refused("published_on_future", services.create_report, world.district_admin,
            data(world.S11, published_on=today + timedelta(days=1)))
    report = services.create_report(world.district_admin, data(world.S11, published_on=today))
    assert report.published_on == today
    assert services.create_report(world.district_admin, data(world.S11, title="另一篇", published_on=date(2000, 1, 1)))


def test_text_is_tidied_and_the_limits_are_counted_after_it(world):
    report = services.create_report(world.district_admin, data(
        world.S11, title="  双清区：\t志愿服务\x00暖人心\n", outlet=" 邵阳\u200b日报 ", note=" 头版\r\n第2版 ",
        url=" https://www.shaoyangnews.net/a/1.html ", published_on=datetime(2025, 3, 5, 12, 0)))
    report.refresh_from_db()
    assert report.title == "双清区： 志愿服务 暖人心"
    assert report.outlet == "邵阳 日报"
    assert report.note == "头版 第2版"
    assert report.url == "https://www.shaoyangnews.net/a/1.html"
    assert report.published_on == date(2025, 3, 5)
    assert report.created_by == world.district_admin
    title = "字" * 200
    assert services.create_report(world.district_admin, data(world.S11, title=f"  {title}  ")).title == title


@pytest.mark.parametrize("url", ["http://www.xinhuanet.com/local/2025-03/05/c_1.htm",
                                 "https://news.example.cn:8443/a?b=1&c=2#top", "https://新华网.中国/a"])
def test_good_links_are_kept(world, url):
    assert services.create_report(world.district_admin, data(world.S11, url=url)).url == url


# --- Duplicates ------------------------------------------------------------------------------------


def test_the_same_report_twice_is_refused(world):
    first = services.create_report(world.district_admin, data(world.S11))
    exc = refused("report_duplicate", services.create_report, world.station_admin,
                  data(world.S11, title=" 双清区：志愿服务暖人心 ", outlet="湖南日报", level="province"))
    assert exc.status == 409 and exc.details == {"id": first.pk}
    assert "东风社区" in exc.message and "2025-03-05" in exc.message
    assert MediaReport.objects.count() == 1
    # Another day, another organisation or another title: another report.
    services.create_report(world.district_admin, data(world.S11, published_on=DAY + timedelta(days=1)))
    services.create_report(world.district_admin, data(world.S12))
    services.create_report(world.district_admin, data(world.S11, title="双清区：志愿服务暖民心"))
    assert MediaReport.objects.count() == 4


def test_a_change_that_makes_a_duplicate_is_refused(world):
    services.create_report(world.district_admin, data(world.S11))
    other = services.create_report(world.district_admin, data(world.S11, title="另一篇"))
    refused("report_duplicate", services.update_report, world.district_admin, other, title="双清区：志愿服务暖人心")
    other.refresh_from_db()
    assert other.title == "另一篇"
    # Saving a report unchanged is not a duplicate of itself.
    assert services.update_report(world.district_admin, other, title="另一篇", outlet="红网").outlet == "红网"


def test_a_refused_change_leaves_the_callers_instance_alone(world):
    report = services.create_report(world.district_admin, data(world.S11))
    refused("url_invalid", services.update_report, world.district_admin, report, title="新标题", url="not a url")
    assert report.title == "双清区：志愿服务暖人心" and report.url == ""


# --- Links to activities and brands --------------------------------------------------------------


def test_activity_links_follow_the_reach_and_the_line(world, links):
    admin, station = world.district_admin, world.station_admin
    # The station's own activity, one above it (the district's), one below an institute.
    assert services.create_report(admin, data(world.S11, activity=links.activity["S11"])).activity_id
    assert services.create_report(admin, data(world.S11, title="2", activity=links.activity["C"])).activity_id
    assert services.create_report(admin, data(world.I1, title="3", activity=links.activity["S12"])).activity_id
    refused("activity_outside_node", services.create_report, admin, data(world.S11, title="4",
                                                                          activity=links.activity["S12"]))
    refused("activity_outside_node", services.create_report, admin, data(world.I2, title="5",
                                                                          activity=links.activity["I1"]))
    refused("activity_draft", services.create_report, admin, data(world.S11, title="6", activity=links.draft))
    # A station admin cannot see the district's activities: not theirs to link.
    refused("activity_invalid", services.create_report, station, data(world.S11, title="7",
                                                                       activity=links.activity["C"]))
    assert services.create_report(station, data(world.S11, title="8", activity=links.activity["S11"])).activity_id


def test_brand_links_may_reach_up_to_a_district_brand(world, links):
    station = world.station_admin
    assert services.create_report(station, data(world.S11, brand=links.brand["C"])).brand_id  # 七彩假期-like
    assert services.create_report(station, data(world.S11, title="2", brand=links.brand["I1"])).brand_id
    assert services.create_report(station, data(world.S11, title="3", brand=links.brand["S11"])).brand_id
    refused("brand_invalid", services.create_report, station, data(world.S11, title="4", brand=links.brand["S12"]))
    refused("brand_invalid", services.create_report, station, data(world.S11, title="5", brand=links.brand["S21"]))
    refused("brand_outside_node", services.create_report, world.district_admin,
            data(world.S11, title="6", brand=links.brand["S21"]))


def test_a_link_kept_as_it_was_is_not_checked_again(world, links):
    report = services.create_report(world.district_admin, data(
        world.S11, activity=links.activity["C"], brand=links.brand["C"]))
    # The station admin cannot see the district's activity, but may still correct the title.
    report = services.update_report(world.station_admin, report, title="东风社区：志愿服务暖人心")
    assert report.activity_id == links.activity["C"].pk and report.brand_id == links.brand["C"].pk
    # Changing the link is checked.
    refused("activity_invalid", services.update_report, world.station_admin, report, activity=links.activity["I1"])
    report = services.update_report(world.station_admin, report, activity=None, brand=None)
    assert report.activity_id is None and report.brand_id is None


def test_moving_a_report_rechecks_its_links(world, links):
    report = services.create_report(world.district_admin, data(world.S11, activity=links.activity["S11"]))
    refused("activity_outside_node", services.update_report, world.district_admin, report, node=world.S12)
    moved = services.update_report(world.district_admin, report, node=world.S12, activity=links.activity["S12"])
    assert moved.node == world.S12 and moved.activity == links.activity["S12"]


# --- Who may write where -------------------------------------------------------------------------


def test_moving_needs_both_organisations_in_reach(world):
    report = make_report(world.S11)
    refused("out_of_scope", services.update_report, world.institute_admin, report, node=world.S21)
    refused("out_of_scope", services.update_report, world.station_admin, report, node=world.S12)
    assert services.update_report(world.institute_admin, report, node=world.S12).node == world.S12
    refused("node_required", services.update_report, world.institute_admin, report, node=None)


def test_unknown_fields_are_refused(world):
    refused("field_invalid", services.update_report, world.district_admin, make_report(world.S11), created_by=None)


def test_anonymous_is_refused(world):
    from django.contrib.auth.models import AnonymousUser

    exc = refused("not_authenticated", services.create_report, AnonymousUser(), data(world.S11))
    assert exc.status == 401


# --- The audit trail -----------------------------------------------------------------------------


def test_each_change_is_audited(world):
    admin = world.district_admin
    report = services.create_report(admin, data(world.S11, url="https://example.com/a"))
    created = AuditEntry.objects.get(action="media_report.create")
    assert created.actor == admin and created.object_id == str(report.pk)
    assert created.after["title"] == "双清区：志愿服务暖人心" and created.after["node"] == "430502001001"

    services.update_report(admin, report, level="province", note="头版")
    updated = AuditEntry.objects.get(action="media_report.update")
    assert updated.before == {"level": "district", "note": ""}
    assert updated.after == {"level": "province", "note": "头版"}

    services.update_report(admin, report, level="province")  # nothing changed: nothing recorded
    assert AuditEntry.objects.filter(action="media_report.update").count() == 1

    pk = report.pk
    services.delete_report(admin, report)
    deleted = AuditEntry.objects.get(action="media_report.delete")
    assert deleted.object_id == str(pk) and deleted.before["level"] == "province"
    assert not MediaReport.objects.exists()
