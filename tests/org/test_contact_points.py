"""Contact points (联系点): due dates, the 逾期 badge, the overdue filter, logging guidance visits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from wenming.core.models import AuditEntry
from wenming.org import queries
from wenming.org.home import org_cards
from wenming.org.models import ContactPoint, GuidanceVisit

pytestmark = pytest.mark.django_db


def days_ago(ow, n):
    return ow.today - timedelta(days=n)


def visit(cp, on, summary="指导文明实践工作"):
    return GuidanceVisit.objects.create(contact_point=cp, visited_on=on, summary=summary)


@pytest.fixture
def links(ow):
    """Four links under I1/S11 (frequency 30 days):
    stale  — last visit 40 days ago          → 逾期 10 天
    recent — last visit 5 days ago, and an old one → 按期
    never  — no visit, started 45 days ago   → due from its start: 逾期 15 天
    fresh  — no visit, started 20 days ago   → due in 10 days, not overdue"""
    ContactPoint.objects.all().delete()
    stale = ContactPoint.objects.create(kind="leader", party="张区长", node=ow.i1, frequency_days=30,
                                        started_on=days_ago(ow, 200))
    visit(stale, days_ago(ow, 40))
    visit(stale, days_ago(ow, 100))
    recent = ContactPoint.objects.create(kind="unit", party="区税务局", node=ow.s11, frequency_days=30,
                                         started_on=days_ago(ow, 200))
    visit(recent, days_ago(ow, 90))
    visit(recent, days_ago(ow, 5))
    never = ContactPoint.objects.create(kind="unit", party="区人民医院", node=ow.s11, frequency_days=30,
                                        started_on=days_ago(ow, 45))
    fresh = ContactPoint.objects.create(kind="unit", party="区图书馆", node=ow.s12, frequency_days=30,
                                        started_on=days_ago(ow, 20))
    return {"stale": stale, "recent": recent, "never": never, "fresh": fresh}


def status(ow, user):
    return {cp.party: (cp.overdue, cp.overdue_days, cp.due_on) for cp in queries.contact_point_rows(user)}


def test_due_dates_and_overdue_days(ow, links):
    got = status(ow, ow.district)
    assert got["张区长"] == (True, 10, days_ago(ow, 10))
    assert got["区税务局"] == (False, 0, ow.today + timedelta(days=25))
    assert got["区人民医院"] == (True, 15, days_ago(ow, 15))
    assert got["区图书馆"] == (False, 0, ow.today + timedelta(days=10))


def test_a_visit_exactly_one_frequency_ago_is_due_today_not_overdue(ow, links):
    visit(links["stale"], days_ago(ow, 30))
    assert status(ow, ow.district)["张区长"] == (False, 0, ow.today)


def row_of(html, party):
    """The table row of a party in the list page."""
    start = html.index(f">{party}</a>")
    return html[start: html.index("</tr>", start)]


def test_list_shows_the_red_overdue_badge_only_on_overdue_links(ow, links, client_for):
    html = client_for(ow.district).get(reverse("org:contact_points")).content.decode()
    assert '<span class="badge badge-red">逾期 10 天</span>' in row_of(html, "张区长")
    assert '<span class="badge badge-red">逾期 15 天</span>' in row_of(html, "区人民医院")
    assert "逾期" not in row_of(html, "区税务局") and "按期" in row_of(html, "区税务局")
    assert "逾期" not in row_of(html, "区图书馆")
    assert days_ago(ow, 5).isoformat() in row_of(html, "区税务局")  # last visit shown
    assert "区级领导联系乡镇（街道）" in html and "文明单位联系示范点" in html
    assert "2 个联系点逾期未指导" in html


def test_overdue_filter(ow, links, client_for):
    client = client_for(ow.district)
    html = client.get(reverse("org:contact_points"), {"overdue": "1"}).content.decode()
    assert "张区长" in html and "区人民医院" in html
    assert "区税务局" not in html and "区图书馆" not in html


def test_list_is_scoped(ow, links, client_for):
    html = client_for(ow.station).get(reverse("org:contact_points")).content.decode()
    assert "区税务局" in html and "区人民医院" in html
    assert "张区长" not in html and "区图书馆" not in html


def test_home_card_counts_overdue_links_in_reach(ow, links):
    assert {label: n for label, n, _u in org_cards(ow.district)}["联系点逾期"] == 2
    assert {label: n for label, n, _u in org_cards(ow.inst2)}["联系点逾期"] == 0


def test_detail_shows_the_visit_log(ow, links, client_for):
    html = client_for(ow.viewer).get(reverse("org:contact_point", args=[links["stale"].pk])).content.decode()
    assert days_ago(ow, 40).isoformat() in html and days_ago(ow, 100).isoformat() in html
    assert "逾期 10 天" in html
    assert "登记指导" not in html  # a viewer gets no form


def test_logging_a_visit_clears_the_overdue_badge(ow, links, client_for):
    client = client_for(ow.inst1)
    cp = links["stale"]
    response = client.post(reverse("org:contact_point_visit", args=[cp.pk]), {
        "visited_on": ow.today.isoformat(), "summary": "调研新时代文明实践所建设，指导志愿服务项目。"})
    assert response.status_code == 302 and response["Location"] == reverse("org:contact_point", args=[cp.pk])
    v = GuidanceVisit.objects.get(contact_point=cp, visited_on=ow.today)
    assert v.recorded_by == ow.inst1
    entry = AuditEntry.objects.get(action="contact_point.visit", object_id=str(cp.pk))
    assert entry.actor == ow.inst1 and entry.after == {"visited_on": ow.today.isoformat()}
    html = client.get(reverse("org:contact_point", args=[cp.pk])).content.decode()
    assert "调研新时代文明实践所建设" in html and "逾期" not in html and "按期" in html
    assert status(ow, ow.district)["张区长"] == (False, 0, ow.today + timedelta(days=30))


def test_station_admin_logs_visits_for_its_station_only(ow, links, client_for):
    client = client_for(ow.station)
    ok = client.post(reverse("org:contact_point_visit", args=[links["never"].pk]),
                     {"visited_on": ow.today.isoformat(), "summary": "指导"})
    assert ok.status_code == 302
    outside = client.post(reverse("org:contact_point_visit", args=[links["stale"].pk]),
                          {"visited_on": ow.today.isoformat(), "summary": "指导"})
    assert outside.status_code == 404
    assert GuidanceVisit.objects.filter(contact_point=links["stale"], visited_on=ow.today).count() == 0


@pytest.mark.parametrize("data,field,message", [
    ({"visited_on": "2999-01-01"}, "visited_on", "指导日期不能晚于今天"),
    ({"visited_on": "2000-01-01"}, "visited_on", "指导日期不能早于联系点建立日期"),
    ({"visited_on": "2024-02-30"}, "visited_on", "输入一个有效的日期"),
    ({"visited_on": "x" * 500}, "visited_on", "输入一个有效的日期"),
    ({"summary": "   "}, "summary", "这个字段是必填项"),
    ({"summary": "长" * 2001}, "summary", "2000"),
])
def test_bad_visit_shows_the_chinese_error_and_writes_nothing(ow, links, client_for, data, field, message):
    client = client_for(ow.inst1)
    cp = links["stale"]
    before = (GuidanceVisit.objects.count(), AuditEntry.objects.count())
    body = {"visited_on": ow.today.isoformat(), "summary": "指导", **data}
    response = client.post(reverse("org:contact_point_visit", args=[cp.pk]), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert message in response.content.decode()
    assert (GuidanceVisit.objects.count(), AuditEntry.objects.count()) == before


def test_create_a_contact_point(ow, client_for):
    client = client_for(ow.district)
    start = days_ago(ow, 3)
    response = client.post(reverse("org:contact_point_add"), {
        "kind": "unit", "node": ow.s12.pk, "party": "区教育局", "party_title": "市级文明单位",
        "frequency_days": "14", "started_on": start.isoformat()})
    cp = ContactPoint.objects.get(party="区教育局")
    assert response.status_code == 302 and response["Location"] == reverse("org:contact_point", args=[cp.pk])
    assert (cp.kind, cp.node, cp.frequency_days, cp.started_on) == ("unit", ow.s12, 14, start)
    assert AuditEntry.objects.filter(action="contact_point.create", object_id=str(cp.pk), actor=ow.district).exists()
    html = client.get(reverse("org:contact_point", args=[cp.pk])).content.decode()
    assert (start + timedelta(days=14)).isoformat() in html  # due from its start


def test_edit_a_contact_point(ow, client_for):
    client = client_for(ow.inst1)
    response = client.post(reverse("org:contact_point_edit", args=[ow.cp_i1.pk]),
                           {"party": "张区长", "party_title": "区委副书记、区长", "frequency_days": "60"})
    assert response.status_code == 302
    ow.cp_i1.refresh_from_db()
    assert ow.cp_i1.frequency_days == 60 and ow.cp_i1.party_title == "区委副书记、区长"
    entry = AuditEntry.objects.get(action="contact_point.update", object_id=str(ow.cp_i1.pk))
    assert entry.before == {"party_title": "区长", "frequency_days": 30}


@pytest.mark.parametrize("data,field,message", [
    ({"kind": "leader", "node": "s11"}, "node", "区级领导联系点须为乡镇（街道）实践所"),
    ({"kind": "unit", "node": "i1"}, "node", "文明单位联系点须为村（社区）实践站"),
    ({"frequency_days": "0"}, "frequency_days", "大于或等于1"),
    ({"frequency_days": "367"}, "frequency_days", "小于或等于366"),
    ({"frequency_days": "abc"}, "frequency_days", "输入整数"),
    ({"party": ""}, "party", "这个字段是必填项"),
    ({"party": "单" * 101}, "party", "100"),
    ({"kind": "boss"}, "kind", "选择一个有效的选项"),
    ({"started_on": "not-a-date"}, "started_on", "输入一个有效的日期"),
])
def test_bad_contact_point_is_refused(ow, client_for, data, field, message):
    client = client_for(ow.district)
    body = {"kind": "unit", "node": "s12", "party": "区教育局", "frequency_days": "30",
            "started_on": ow.today.isoformat(), **data}
    body["node"] = getattr(ow, body["node"]).pk
    before = (ContactPoint.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("org:contact_point_add"), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert (ContactPoint.objects.count(), AuditEntry.objects.count()) == before


def test_contact_point_chooser_lists_institutes_and_stations_in_reach(ow, client_for):
    html = client_for(ow.inst1).get(reverse("org:contact_point_add")).content.decode()
    assert "龙泉街道新时代文明实践所" in html and "五一社区新时代文明实践站" in html
    assert "东风" not in html and "双清区新时代文明实践中心" not in html
