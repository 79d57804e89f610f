"""Outside channels for notices: where a notice goes besides the in-app inbox.

Every channel has one interface: a `name` and `send(payload)`, which returns when the
channel took the notice and raises when it did not. Two come with the platform:

- `log`: writes one line per notice to the `wenming.notices` logger (INFO). The default.
  It is sent in-process right after the transaction commits, with no Delivery rows:
  writing a log line cannot meaningfully fail, so it needs no retries and no bookkeeping.
- `webhook`: POSTs the notice as JSON to the district's SMS or WeChat gateway. Each notice
  gets a Delivery row in the caller's transaction; a background job sends it after commit
  and retries with backoff (see services.py). The body is

      {"id": 12, "kind": "activity_cancelled", "title": "…", "body": "…", "url": "/a/3/",
       "to": {"volunteer_id": 7, "phone_masked": "138****0001"},   # or {"user_id": 5}
       "created_at": "2025-03-05T09:30:00+08:00"}

  with the headers `X-Wenming-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
  the secret>` and `X-Wenming-Notice: <id>`. A 2xx answer is success; anything else
  (another status, a redirect, a time-out) is a failure that is retried. The gateway should
  treat `id` as idempotency key: a job that dies between the gateway's answer and recording
  it sends that notice again.

Environment variables (read in settings.py into the WENMING_NOTIFY dict):

- `WENMING_NOTIFY_CHANNELS`: comma-separated channels to use, default `log`, e.g.
  `log,webhook`. A dotted path (`mypackage.channels.SmsChannel`) plugs in a Channel subclass
  of one's own.
- `WENMING_NOTIFY_WEBHOOK_URL`: the gateway's http(s) address, needed by `webhook`.
- `WENMING_NOTIFY_WEBHOOK_SECRET`: the key the signature is made with, needed by `webhook`;
  share it with the gateway, which checks each request's signature.
- `WENMING_NOTIFY_WEBHOOK_TIMEOUT`: seconds to wait for the gateway, default 5.

Sending: with `REDIS_URL` set, Celery workers send right after commit and retry on their
own (celery beat also sweeps up anything left behind). Without it, run
`wenming deliver_notices` every minute or so (cron, a systemd timer), or keep
`wenming deliver_notices --loop 60` running.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("wenming.notices")

DEFAULT_TIMEOUT = 5.0
SIGNATURE_HEADER = "X-Wenming-Signature"


class ChannelError(Exception):
    """A send that did not go through; its message (short, no secrets) is kept on the Delivery."""


class Channel:
    """One outside channel. Subclasses set `name` and implement `send`."""

    name = ""
    # True: each notice gets a Delivery row, sent by a background job with retries.
    # False: sent in-process right after commit, once, with no rows (for what cannot fail).
    queued = True

    def send(self, payload: dict) -> None:
        raise NotImplementedError


class LogChannel(Channel):
    name = "log"
    queued = False

    def send(self, payload: dict) -> None:
        to = payload.get("to", {})
        # No phone number, not even masked: logs are kept and shared more loosely than the database.
        addressee = f"user {to['user_id']}" if "user_id" in to else f"volunteer {to.get('volunteer_id')}"
        logger.info("notice %s [%s] → %s: %s", payload.get("id"), payload.get("kind"), addressee, payload.get("title"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301/302 of a POST with a GET and call that success; a gateway
    # that redirects is misconfigured, and the notice must count as not sent.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, url: str = "", secret: str = "", timeout: float = DEFAULT_TIMEOUT):
        self.url = url
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> WebhookChannel:
        conf = _conf()
        try:
            timeout = float(conf.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        if not 0 < timeout <= 60:  # 0 would mean "do not wait at all" to urllib
            timeout = DEFAULT_TIMEOUT
        return cls(conf.get("WEBHOOK_URL", ""), conf.get("WEBHOOK_SECRET", ""), timeout)

    def problems(self) -> list[str]:
        """What keeps this channel from working (checked at start-up and before every send)."""
        found = []
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).netloc:
            found.append("WENMING_NOTIFY_WEBHOOK_URL 未设置或不是 http(s) 地址")
        if not self.secret:
            found.append("WENMING_NOTIFY_WEBHOOK_SECRET 未设置")
        return found

    @staticmethod
    def sign(secret: str, body: bytes) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def send(self, payload: dict) -> None:
        problems = self.problems()
        if problems:
            # Never send unsigned or to nowhere; the delivery waits for the configuration.
            raise ChannelError("；".join(problems))
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "wenming-notices/1",
            SIGNATURE_HEADER: self.sign(self.secret, body),
            "X-Wenming-Notice": str(payload.get("id", "")),
        })
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as e:
            raise ChannelError(f"HTTP {e.code}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:  # refused, timed out, garbled
            raise ChannelError(f"网络错误：{getattr(e, 'reason', e)}"[:200]) from None
        if not 200 <= status < 300:
            raise ChannelError(f"HTTP {status}")


BUILT_IN = {"log": LogChannel, "webhook": WebhookChannel.from_settings}


def _conf() -> dict:
    return getattr(settings, "WENMING_NOTIFY", None) or {}


def configured_names() -> list[str]:
    names = _conf().get("CHANNELS") or "log"
    return list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))


def get_channel(name: str) -> Channel:
    """The channel of this name (a built-in one or a dotted path); raises if there is none."""
    if name in BUILT_IN:
        return BUILT_IN[name]()
    if "." in name:
        cls = import_string(name)
        if isinstance(cls, type) and issubclass(cls, Channel):
            channel = cls()
            channel.name = name  # Deliveries record the name they were configured under.
            return channel
    raise ValueError(f"未知的消息渠道：{name}")


def enabled_channels() -> list[Channel]:
    """The configured channels. A name that cannot be loaded is logged and left out: a
    misconfigured channel must never break the change that sends the notice."""
    channels = []
    for name in configured_names():
        try:
            channels.append(get_channel(name))
        except Exception:
            logger.exception("notice channel %r cannot be loaded; skipped", name)
    return channels
