"""Security headers on every kind of response, the health check, and no outside resources."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db

TEMPLATE_DIRS = [Path(settings.BASE_DIR) / "wenming"]


def assert_security_headers(response):
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src" not in csp or "object-src 'none'" in csp
    assert "http:" not in csp and "https:" not in csp and "*" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login/", "/healthz", "/api/v1/orgs", "/api/v1/docs", "/api/v1/openapi.json",
                                  "/no-such-page/", "/api/v1/no-such-endpoint"])
def test_security_headers_everywhere(path):
    response = Client().get(path)
    assert response.status_code < 500
    assert_security_headers(response)


def test_security_headers_on_a_logged_in_page(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_security_headers_on_the_lockout_page(admin_user):
    client = Client()
    for _ in range(5):
        response = client.post("/login/", {"username": admin_user.username, "password": "wrong"})
    assert response.status_code == 429
    assert_security_headers(response)


def test_session_and_csrf_cookies_are_http_only_where_they_can_be():
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert "wenming.core.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE


def test_healthz_is_json():
    r = Client().get("/healthz")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_database_failure_as_503_json(monkeypatch):
    from django.db import connection

    def broken():
        raise RuntimeError("down")

    monkeypatch.setattr(connection, "cursor", broken)
    r = Client().get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "error"
    assert "down" not in r.content.decode()


def test_no_template_loads_anything_from_outside():
    import re

    external = re.compile(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
    offenders = []
    for base in TEMPLATE_DIRS:
        for path in base.rglob("*.html"):
            if external.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path))
    assert offenders == []


def test_html_error_pages_are_chinese_pages_not_tracebacks():
    r = Client().get("/no-such-page/")
    assert r.status_code == 404
    text = r.content.decode()
    assert "页面不存在" in text and "Traceback" not in text


# --- Console pages survive odd query parameters ----------------------------------------------------

ON_SQLITE = connection.vendor == "sqlite"
ON_PG = connection.vendor == "postgresql"
HUGE = str(10**30)


ODD_QUERIES = [
    ("/people/volunteers/", "station", HUGE),
    ("/people/teams/", "node", HUGE),
    ("/org/", "q", "\x00"),
    ("/people/volunteers/", "q", "\x00"),
    ("/people/teams/", "q", "\x00"),
]


@pytest.mark.parametrize(("page", "param", "value"), ODD_QUERIES)
def test_console_pages_survive_odd_query_parameters(world, page, param, value):
    client = world.client("district_admin")
    client.raise_request_exception = False
    r = client.get(page, {param: value})
    assert r.status_code < 500, (page, param, repr(value))


@pytest.mark.parametrize("page", ["/", "/org/", "/org/sites/", "/org/contact-points/", "/org/platforms/",
                                  "/people/volunteers/", "/people/teams/", "/tokens/"])
def test_console_pages_survive_odd_values_of_their_other_parameters(world, page):
    client = world.client("district_admin")
    client.raise_request_exception = False
    for param in ["page", "kind", "overdue", "skill", "institute"]:
        for value in [HUGE, "\x00", "-1", "abc", "１"]:
            r = client.get(page, {param: value})
            assert r.status_code < 500, (page, param, repr(value))
