"""The live sign-up and check-in list (polled by htmx) and the check-in code screen (签到屏) with
its JSON refresh: the code it shows is one a volunteer's scan accepts."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from django.utils import timezone

from tests.ledger.helpers import make_user
from wenming.activities import checkin, services
from wenming.activities.models import Attendance
from wenming.core.models import User

from .conftest import make_activity, shift
from .console_helpers import client_for, ran_activity, station_admin


def test_live_list_shows_who_is_confirmed_waiting_in_and_out(tree, site):
    activity, zhao = ran_activity(tree, site)
    c = client_for(station_admin(tree))
    page = c.get(f"/activities/{activity.pk}/live/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'hx-trigger="every 5s"' in body and f'hx-get="/activities/{activity.pk}/live/board/"' in body
    board = page.context["board"]
    assert board["confirmed"] == 3 and board["checked_in"] == 3 and board["checked_out"] == 2
    partial = c.get(f"/activities/{activity.pk}/live/board/", HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in text and text.startswith('<div id="live-board"')
    for name in ("张三", "李四", "赵六"):
        assert name in text
    assert "no-cache" in partial.get("Cache-Control", "") or "max-age=0" in partial.get("Cache-Control", "")


def test_live_list_shows_walk_ins_and_distances(tree, site):
    a = make_activity(tree.admin, tree.station, site=site, allow_walk_ins=True)
    a = shift(a, (timezone.now() - timedelta(minutes=10)) - a.starts_at)
    now = timezone.now()
    checkin.check_in(tree.vol_user, a.pk, token=checkin.token_for(a.pk, "in", now), scan_id="walkin-00001",
                     lat=site.lat + 0.001, lng=site.lng, now=now)
    text = client_for(station_admin(tree)).get(f"/activities/{a.pk}/live/board/").content.decode()
    assert "现场签到" in text and "张三" in text and re.search(r"距 1\d\d 米", text)


def test_code_screen_shows_a_qr_code_of_a_url_the_scan_accepts(tree, site):
    a = make_activity(tree.admin, tree.station, site=site)
    services.sign_up(tree.admin, a, tree.zhang)
    a = shift(a, (timezone.now() - timedelta(minutes=5)) - a.starts_at)
    c = client_for(station_admin(tree))
    page = c.get(f"/activities/{a.pk}/code/")
    body = page.content.decode()
    assert page.status_code == 200 and "<svg" in body and "签到" in body
    assert "cdn" not in body.lower() and "http://" not in body.replace("http://www.w3.org", "")
    data = c.get(f"/activities/{a.pk}/code.json", {"k": "in"}).json()
    assert data["kind"] == "in" and data["svg"].startswith("<svg") and 0 <= data["seconds_left"] <= 30
    url = urlparse(data["url"])
    assert url.scheme == "http" and url.netloc == "testserver" and url.path == f"/a/{a.pk}/scan/"
    token = parse_qs(url.query)["t"][0]
    result = checkin.check_in(tree.vol_user, a.pk, token=token, scan_id="from-screen-01")
    assert result.attendance.status == Attendance.Status.CHECKED_IN
    assert c.get(f"/activities/{a.pk}/code.json").json()["checked_in"] == 1
    out = c.get(f"/activities/{a.pk}/code.json", {"k": "out"}).json()
    assert out["kind"] == "out" and out["kind_label"] == "签退"
    assert "checkin_code" not in out and out["url"] != data["url"]


def test_code_json_refusals_are_json(tree):
    a = make_activity(tree.admin, tree.station)
    draft = make_activity(tree.admin, tree.station, publish=False, start=a.starts_at + timedelta(days=2))
    c = client_for(station_admin(tree))
    r = c.get(f"/activities/{a.pk}/code.json", {"k": "sideways"})
    assert r.status_code == 422 and r.json()["code"] == "kind_invalid"
    r = c.get(f"/activities/{draft.pk}/code.json")
    assert r.status_code == 409 and r.json()["message"] == "活动尚未发布。"
    r = client_for(tree.far_admin).get(f"/activities/{a.pk}/code.json")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client_for(tree.vol_user).get(f"/activities/{a.pk}/code.json")
    assert r.status_code == 403
    viewer = make_user("console_viewer_c", User.Role.VIEWER, [tree.centre])
    r = client_for(viewer).get(f"/activities/{a.pk}/code.json")
    assert r.status_code == 403 and "token" not in r.json()
    anon = client_for(tree.admin)
    anon.logout()
    r = anon.get(f"/activities/{a.pk}/code.json")
    assert r.status_code == 401 and "登录已过期" in r.json()["message"]
    # The page of a draft says why, without a 500
    r = c.get(f"/activities/{draft.pk}/code/")
    assert r.status_code == 409 and "活动尚未发布" in r.content.decode()
