"""Fixtures for the notices' tests: the ledger's small tree, a real local webhook receiver
(http.server in a thread), channel settings, and channels of our own that record or fail."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.ledger.helpers import build_tree
from wenming.notices.channels import Channel

SECRET = "test-webhook-secret"


@pytest.fixture
def tree(db):
    return build_tree()


class Hook:
    """What the local gateway received, and how it answers."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.location = ""
        self.url = ""
        self._lock = threading.Lock()

    def received(self, request: dict) -> None:
        with self._lock:
            self.requests.append(request)


@pytest.fixture
def hook(monkeypatch):
    """A real HTTP server on 127.0.0.1 that records every POST."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.received({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body})
            if hook.delay:
                time.sleep(hook.delay)
            self.send_response(hook.status)
            if hook.location:
                self.send_header("Location", hook.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # only a followed redirect would come here
            hook.received({"path": self.path, "headers": dict(self.headers), "body": b"", "method": "GET"})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def use_channels(settings):
    """use_channels("log,webhook", url=…): switch the outside channels for this test."""

    def switch(names: str, url: str = "", secret: str = SECRET, timeout: str = "2"):
        settings.WENMING_NOTIFY = {"CHANNELS": names, "WEBHOOK_URL": url, "WEBHOOK_SECRET": secret,
                                   "WEBHOOK_TIMEOUT": timeout}

    return switch


class Recording(Channel):
    """A queued channel that records what it sent (thread-safe), optionally slowly."""

    sent: list[int] = []
    lock = threading.Lock()
    delay = 0.0

    def send(self, payload: dict) -> None:
        if Recording.delay:
            time.sleep(Recording.delay)
        with Recording.lock:
            Recording.sent.append(payload["id"])


class Exploding(Channel):
    """An in-process channel that always raises."""

    queued = False

    def send(self, payload: dict) -> None:
        raise RuntimeError("boom")


class Unloadable(Channel):
    def __init__(self):
        raise RuntimeError("cannot even start")


@pytest.fixture
def recording():
    Recording.sent = []
    Recording.delay = 0.0
    yield Recording
    Recording.sent = []
