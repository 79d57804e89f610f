"""The webhook channel against a real HTTP server: the JSON body, its HMAC-SHA256 signature,
and every way a gateway can fail (status, redirect, time-out, nobody listening, no key)."""

import hashlib
import hmac
import json
import socket

import pytest
from django.core import checks
from django.utils import timezone

from wenming.notices import services
from wenming.notices.channels import ChannelError, WebhookChannel
from wenming.notices.models import Delivery
from wenming.notices.services import deliver_due, notify, notify_user

from .conftest import SECRET


def test_the_body_and_its_signature(tree, hook, use_channels, django_capture_on_commit_callbacks):
    use_channels("webhook", url=hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(tree.zhang, "activity_cancelled", "活动已取消：端午包粽子", "原因：暴雨", "/a/2/")
        u = notify_user(tree.admin, "need_submitted", "新的群众需求待审核")
    assert hook.requests == []  # without Celery nothing is sent until deliver_due runs
    assert deliver_due().sent == 2
    assert len(hook.requests) == 2
    by_id = {}
    for request in hook.requests:
        raw = request["body"]
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert request["headers"]["x-wenming-signature"] == expected
        assert request["headers"]["content-type"].startswith("application/json")
        assert request["path"] == "/notify"
        body = json.loads(raw)
        assert request["headers"]["x-wenming-notice"] == str(body["id"])
        by_id[body["id"]] = body
    assert by_id[n.pk] == {
        "id": n.pk, "kind": "activity_cancelled", "title": "活动已取消：端午包粽子", "body": "原因：暴雨",
        "url": "/a/2/", "to": {"volunteer_id": tree.zhang.pk, "phone_masked": tree.zhang.phone_masked},
        "created_at": timezone.localtime(n.created_at).isoformat(),
    }
    assert "****" in tree.zhang.phone_masked  # never the full number
    assert by_id[u.pk]["to"] == {"user_id": tree.admin.pk}
    assert by_id[u.pk]["title"] == "新的群众需求待审核"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_tampered_body_does_not_match_the_signature():
    body = b'{"id":1}'
    good = WebhookChannel.sign(SECRET, body)
    assert WebhookChannel.sign(SECRET, b'{"id":2}') != good
    assert WebhookChannel.sign("another-secret", body) != good


@pytest.mark.parametrize("status", [400, 500, 503])
def test_an_error_status_is_a_failed_send(hook, status):
    hook.status = status
    with pytest.raises(ChannelError, match=f"HTTP {status}"):
        WebhookChannel(hook.url, SECRET).send({"id": 1})


def test_a_redirect_is_a_failed_send_and_is_not_followed(hook):
    hook.status, hook.location = 302, hook.url + "/elsewhere"
    with pytest.raises(ChannelError, match="HTTP 302"):
        WebhookChannel(hook.url, SECRET).send({"id": 1})
    assert [r.get("method", "POST") for r in hook.requests] == ["POST"]


def test_a_slow_gateway_times_out(hook):
    hook.delay = 1.5
    with pytest.raises(ChannelError, match="网络错误"):
        WebhookChannel(hook.url, SECRET, timeout=0.3).send({"id": 1})


def test_nobody_listening_is_a_failed_send():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ChannelError, match="网络错误"):
        WebhookChannel(f"http://127.0.0.1:{port}/", SECRET, timeout=1).send({"id": 1})


@pytest.mark.parametrize("url,secret", [("", SECRET), ("ftp://gw.example/", SECRET), ("file:///etc/passwd", SECRET),
                                        ("http://gw.example/", "")])
def test_a_misconfigured_webhook_sends_nothing(hook, url, secret):
    with pytest.raises(ChannelError):
        WebhookChannel(url, secret).send({"id": 1})
    assert hook.requests == []


def test_a_misconfigured_webhook_is_recorded_on_the_delivery(tree, use_channels):
    use_channels("webhook", url="", secret="")
    notify(tree.zhang, "x", "标题")
    assert deliver_due().retrying == 1
    d = Delivery.objects.get()
    assert d.status == "pending" and "WENMING_NOTIFY_WEBHOOK_URL" in d.last_error
    assert "WENMING_NOTIFY_WEBHOOK_SECRET" in d.last_error


def test_start_up_checks_catch_bad_channel_settings(use_channels):
    from wenming.notices.checks import check_channels

    use_channels("log")
    assert check_channels() == []
    use_channels("log,webhook", url="http://gw.example/hook")
    assert check_channels() == []
    use_channels("webhook", url="", secret="")
    assert {e.id for e in check_channels()} == {"notices.E002"}
    use_channels("log,sms", url="")
    errors = check_channels()
    assert [e.id for e in errors] == ["notices.E001"] and all(isinstance(e, checks.Error) for e in errors)
    use_channels("tests.notices.conftest.Unloadable")
    assert [e.id for e in check_channels()] == ["notices.E001"]


def test_the_timeout_comes_from_settings(use_channels):
    use_channels("webhook", url="http://gw.example/", timeout="1.5")
    assert WebhookChannel.from_settings().timeout == 1.5
    use_channels("webhook", url="http://gw.example/", timeout="")
    assert WebhookChannel.from_settings().timeout == 5.0
    for odd in ("abc", "0", "-1", "nan", "1e9"):
        use_channels("webhook", url="http://gw.example/", timeout=odd)
        assert WebhookChannel.from_settings().timeout == 5.0, odd


def test_payload_of_a_volunteer_notice_without_phone(tree):
    n = notify(tree.zhang, "x", "标题")
    assert services.payload(n)["to"] == {"volunteer_id": tree.zhang.pk}
