"""The iCalendar feeds (RFC 5545): a node's and a team's (public, no personal data) and a
volunteer's (behind a secret token). They parse with the `icalendar` library."""

from datetime import timedelta

import pytest
from icalendar import Calendar

from wenming.activities import ical, services
from wenming.people.models import Team

from .conftest import make_activity, shift
from .console_helpers import client_for


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.content)
    assert str(cal["VERSION"]) == "2.0" and cal.get("PRODID")
    return {str(ev["SUMMARY"]): ev for ev in cal.walk("VEVENT")}


@pytest.fixture
def feeds(tree, site):
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station)
    here = make_activity(tree.admin, tree.station, title="重阳敬老", site=site, address="东风路1号", team=team,
                         contact_name="刘老师")
    services.sign_up(tree.admin, here, tree.zhang)
    draft = make_activity(tree.admin, tree.station, title="草稿活动", publish=False)
    cancelled = make_activity(tree.admin, tree.station, title="取消的活动", start=here.starts_at + timedelta(days=1))
    services.sign_up(tree.admin, cancelled, tree.zhang)
    services.cancel_activity(tree.admin, cancelled, reason="暴雨预警")
    far = make_activity(tree.admin, tree.other_station, title="东站读书会")
    old = shift(make_activity(tree.admin, tree.station, title="很久以前"), timedelta(days=-400))
    return {"team": team, "here": here, "draft": draft, "cancelled": cancelled, "far": far, "old": old}


def anonymous():
    from django.test import Client

    return Client()


def test_station_feed(tree, feeds):
    events = parse(anonymous().get(f"/activities/ical/node/{tree.station.pk}.ics"))
    assert set(events) == {"重阳敬老", "【已取消】取消的活动"}
    ev = events["重阳敬老"]
    a = feeds["here"]
    assert str(ev["UID"]) == f"activity-{a.pk}@wenming-430502"
    assert ev.decoded("DTSTART") == a.starts_at.replace(microsecond=0)
    assert ev.decoded("DTEND") == a.ends_at.replace(microsecond=0)
    assert ev["DTSTART"].to_ical().endswith(b"Z") and ev.get("DTSTAMP")
    assert "东风社区道德讲堂" in str(ev["LOCATION"]) and "东风路1号" in str(ev["LOCATION"])
    assert str(ev["STATUS"]) == "CONFIRMED" and str(ev["URL"]).endswith(f"/a/{a.pk}/")
    assert "东风社区助老服务队" in str(ev["DESCRIPTION"])
    cancelled = events["【已取消】取消的活动"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and "暴雨预警" in str(cancelled["DESCRIPTION"])
    # No personal data: neither the contact person nor the volunteers signed up
    body = anonymous().get(f"/activities/ical/node/{tree.station.pk}.ics").content.decode()
    assert "刘老师" not in body and "张三" not in body
    # the UID stays the same from one fetch to the next
    again = parse(anonymous().get(f"/activities/ical/node/{tree.station.pk}.ics"))
    assert str(again["重阳敬老"]["UID"]) == str(ev["UID"])


def test_a_nodes_feed_holds_its_subtree(tree, feeds):
    assert set(parse(anonymous().get(f"/activities/ical/node/{tree.institute.pk}.ics"))) == {
        "重阳敬老", "【已取消】取消的活动"}
    assert set(parse(anonymous().get(f"/activities/ical/node/{tree.centre.pk}.ics"))) == {
        "重阳敬老", "【已取消】取消的活动", "东站读书会"}


def test_team_feed(tree, feeds):
    assert set(parse(anonymous().get(f"/activities/ical/team/{feeds['team'].pk}.ics"))) == {"重阳敬老"}


def test_volunteer_feed_behind_a_token(tree, feeds):
    path = ical.volunteer_feed_path(tree.zhang)
    assert path.startswith("/activities/ical/volunteer/") and len(path.split("-")[-1]) == len("0" * 32 + ".ics")
    events = parse(anonymous().get(path))
    assert set(events) == {"重阳敬老", "【已取消】取消的活动"}
    assert str(events["【已取消】取消的活动"]["STATUS"]) == "CANCELLED"
    assert set(parse(anonymous().get(ical.volunteer_feed_path(tree.li)))) == set()


def test_waiting_list_is_tentative(tree):
    a = make_activity(tree.admin, tree.station, capacity=1, title="满员活动")
    services.sign_up(tree.admin, a, tree.li)
    services.sign_up(tree.admin, a, tree.zhang)
    events = parse(anonymous().get(ical.volunteer_feed_path(tree.zhang)))
    assert str(events["【候补】满员活动"]["STATUS"]) == "TENTATIVE"


def test_forged_and_bad_tokens_are_404(tree, feeds):
    good = ical.volunteer_token(tree.zhang)
    other = ical.volunteer_token(tree.li)
    pk36, mac = good.split("-")
    forged = [
        f"{other.split('-')[0]}-{mac}",  # someone else's id with my mac
        f"{pk36}-{'0' * 32}",
        f"{pk36}-{mac[:-1]}",
        f"{pk36}-{mac.upper()}",
        pk36,
        "zzzzzzzzzzzzz-" + mac,
        "x" * 300,
        "<script>",
    ]
    for token in forged:
        r = anonymous().get(f"/activities/ical/volunteer/{token}.ics")
        assert r.status_code == 404, token
    assert anonymous().get(f"/activities/ical/volunteer/{good}.ics").status_code == 200


def test_unknown_ids_are_404_and_writes_are_refused(tree, feeds):
    for path in ("/activities/ical/node/999999.ics", "/activities/ical/team/999999.ics",
                 "/activities/ical/node/99999999999999999999999.ics"):
        assert anonymous().get(path).status_code == 404, path
    assert anonymous().post(f"/activities/ical/node/{tree.station.pk}.ics").status_code == 405


def test_the_feeds_page_lists_subscription_urls(tree, feeds):
    body = client_for(tree.admin).get("/activities/feeds/").content.decode()
    assert f"http://testserver/activities/ical/node/{tree.station.pk}.ics" in body
    assert f"http://testserver/activities/ical/team/{feeds['team'].pk}.ics" in body
    body = client_for(tree.admin).get(f"/activities/?node={tree.station.pk}").content.decode()
    assert f"/activities/ical/node/{tree.station.pk}.ics" in body
