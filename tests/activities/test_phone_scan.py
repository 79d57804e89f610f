"""The page the check-in QR code opens (/a/<id>/scan/?k=in|out&t=<token>): log-in with a way
back to the same address, the token in the form, clear refusals for broken codes, and the
contract its script relies on (the API takes the session with the page's CSRF token)."""

import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from tests.ledger.helpers import PASSWORD
from wenming.activities import checkin, services
from wenming.activities.models import Attendance, Scan

from .conftest import SITE_LAT, SITE_LNG, make_activity, shift


@pytest.fixture
def running(tree, site):
    """An activity that started ten minutes ago, 张三 signed up."""
    a = make_activity(tree.admin, tree.station, site=site, title="广场文明劝导", hours=2)
    services.sign_up(tree.vol_user, a)
    return shift(a, timezone.now() - timedelta(minutes=10) - a.starts_at)


def scan_path(a, kind="in", token=None):
    return f"/a/{a.pk}/scan/?k={kind}&t={token or checkin.token_for(a.pk, kind)}"


def text(r):
    return r.content.decode()


def test_scan_needs_a_login_and_comes_back_to_the_same_address(tree, running):
    client = Client()
    path = scan_path(running)
    r = client.get(path)
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=" + quote(path, safe="/")
    # Logging in on that page leads back to the scan page, token and all.
    r = client.post(r["Location"], {"username": "ledger_vol", "password": PASSWORD})
    assert r.status_code == 302 and r["Location"] == path
    r = client.get(path)
    assert r.status_code == 200


def test_scan_page_renders_the_token_into_the_form(client, tree, running):
    client.force_login(tree.vol_user)
    token = checkin.token_for(running.pk, "in")
    r = client.get(scan_path(running, "in", token))
    body = text(r)
    assert r.status_code == 200
    assert f'<input type="hidden" name="token" value="{token}">' in body
    assert f'data-api="/api/v1/activities/{running.pk}/checkin"' in body
    assert 'data-kind="in"' in body and "广场文明劝导" in body and ">签到</button>" in body
    assert "<noscript>" in body and "JavaScript" in body
    assert 'src="/static/activities/scan.js"' in body
    strings = json.loads(re.search(r'<script id="scan-strings" type="application/json">(.*?)</script>', body).group(1))
    assert strings["saved"] == "已保存，联网后自动提交" and strings["done"] == "已签到"
    # The check-out code's page posts to the check-out endpoint.
    body = text(client.get(scan_path(running, "out")))
    assert f'data-api="/api/v1/activities/{running.pk}/checkout"' in body and ">签退</button>" in body
    assert "您尚未在本活动签到" in body


@pytest.mark.parametrize("query,expected", [
    ("", "二维码内容不完整"),
    ("k=sideways&t=1.aaaaaaaaaaaaaaaaaaaa", "二维码内容不完整"),
    ("k=in", "二维码无效"),
    ("k=in&t=", "二维码无效"),
    ("k=out&t=not-a-token", "二维码无效"),
    ("k=in&t=" + "1" * 5000, "二维码无效"),
    ("k=in&t=%3Cscript%3Ealert(1)%3C/script%3E", "二维码无效"),
    ("k=in&k=out&t=x", "二维码无效"),
])
def test_broken_codes_get_a_clear_message(client, tree, running, query, expected):
    client.force_login(tree.vol_user)
    r = client.get(f"/a/{running.pk}/scan/?{query}")
    assert r.status_code == 400
    body = text(r)
    assert expected in body and "<script>alert(1)" not in body and 'id="scan-form"' not in body


def test_a_hostile_but_well_shaped_token_is_rendered_escaped_and_refused_by_the_api(client, tree, running):
    client.force_login(tree.vol_user)
    forged = f"{checkin.slot_of(timezone.now())}.0123456789abcdef0123"  # this slot, a made-up mac
    r = client.get(scan_path(running, "in", forged))
    assert r.status_code == 200 and f'value="{forged}"' in text(r)
    r = client.post(f"/api/v1/activities/{running.pk}/checkin", {"token": forged, "scan_id": "forged-00001"},
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "token_invalid"
    assert not Attendance.objects.exists()


def test_scan_page_states_what_applies(client, tree, running, site):
    client.force_login(tree.vol_user)
    # Not signed up to this one.
    other = make_activity(tree.admin, tree.station, site=site, start=running.ends_at + timedelta(hours=1))
    body = text(client.get(scan_path(other)))
    assert "您未报名本活动" in body and "签到" in body and "开始" in body  # too early as well
    # Already checked in: the page says when.
    checkin.check_in(tree.vol_user, running.pk, token=checkin.token_for(running.pk, "in"), scan_id="state-in-001")
    att = Attendance.objects.get(activity=running)
    body = text(client.get(scan_path(running)))
    assert f"您已于{timezone.localtime(att.checked_in_at):%H:%M}签到" in body
    # Cancelled: no button.
    services.cancel_activity(tree.admin, other, reason="场地维修")
    r = client.get(scan_path(other))
    assert "活动已取消" in text(r) and 'id="scan-form"' not in text(r)


def test_an_account_without_a_volunteer_cannot_scan(client, tree, running):
    client.force_login(tree.admin)
    r = client.get(scan_path(running))
    assert r.status_code == 403 and "没有关联志愿者身份" in text(r)


def test_the_pages_csrf_token_lets_its_script_post_the_scan(tree, running):
    """What scan.js does: read data-csrf from the page and post JSON with X-CSRFToken."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.vol_user)
    body = text(client.get(scan_path(running)))
    csrf = re.search(r'data-csrf="([^"]+)"', body).group(1)
    payload = {"token": checkin.token_for(running.pk, "in"), "scan_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
               "lat": SITE_LAT, "lng": SITE_LNG, "scanned_at": timezone.now().isoformat()}
    url = f"/api/v1/activities/{running.pk}/checkin"
    r = client.post(url, json.dumps(payload), content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = client.post(url, json.dumps(payload), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 200, r.content
    assert r.json()["message"].startswith("签到成功")
    # The same scan sent again (the offline queue resending) is applied once.
    r = client.post(url, json.dumps(payload), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    assert Scan.objects.filter(activity=running).count() == 1
    assert Attendance.objects.filter(activity=running).count() == 1


def test_the_script_carries_no_words_and_no_remote_code():
    from pathlib import Path

    import wenming.activities

    js = (Path(wenming.activities.__file__).parent / "static" / "activities" / "scan.js").read_text()
    assert not re.search(r"[\u4e00-\u9fff]", js)  # every word comes translated from the page
    assert "http://" not in js and "https://" not in js
    assert len(js) < 12_000


def test_a_code_that_expired_before_the_page_opened_is_said_so_and_the_offline_queue_still_runs(
        client, tree, running):
    """A slow log-in outlives the 30-60 s of a code: the page says so at once (no wasted press),
    and scans kept offline are still sent from it."""
    client.force_login(tree.vol_user)
    old = checkin.token_for(running.pk, "in", timezone.now() - timedelta(minutes=2))
    r = client.get(scan_path(running, "in", old))
    body = text(r)
    assert r.status_code == 200
    assert "二维码已过期" in body and 'id="scan-form"' not in body
    assert 'id="scan-queue"' in body and "scan.js" in body
    # The previous slot's code is still good.
    prev = checkin.token_for(running.pk, "in", timezone.now() - timedelta(seconds=checkin.slot_seconds()))
    assert 'id="scan-form"' in text(client.get(scan_path(running, "in", prev)))
