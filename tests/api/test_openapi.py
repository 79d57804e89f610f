"""The API describes itself (OpenAPI 3 at /api/v1/openapi.json, docs at /api/v1/docs) and
serves everything it needs itself: no CDN, no outside font or script."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_openapi_json_is_served_and_complete():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/json")
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "文明实践云平台 API"
    paths = spec["paths"]
    for path in ["/api/v1/auth/token", "/api/v1/orgs", "/api/v1/orgs/{org_id}", "/api/v1/volunteers",
                 "/api/v1/volunteers/{volunteer_id}", "/api/v1/volunteers/{volunteer_id}/reveal/{field}",
                 "/api/v1/teams", "/api/v1/teams/{team_id}", "/api/v1/sites", "/api/v1/sites/{site_id}",
                 "/api/v1/platforms", "/api/v1/contact-points", "/api/v1/contact-points/{cp_id}"]:
        assert path in paths, path
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_every_list_schema_has_items_and_count():
    spec = Client().get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path in ["/orgs", "/volunteers", "/teams", "/sites", "/platforms", "/contact-points", "/skills",
                 "/departments"]:
        ref = spec["paths"]["/api/v1" + path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        assert set(schema["required"]) >= {"items", "count"}, path
        item_ref = schema["properties"]["items"]["items"]["$ref"]
        assert "id" in schemas[item_ref.rsplit("/", 1)[1]]["properties"], path


def test_docs_page_uses_no_cdn():
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" in html.lower()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "cdn" not in html.lower()
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html):
        assert asset.startswith("/"), asset
        if asset.startswith("/static/"):
            served = Client().get(asset)
            assert served.status_code == 200, asset


def test_docs_page_is_allowed_by_the_content_security_policy():
    r = Client().get("/api/v1/docs")
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "http" not in csp


def test_console_pages_use_no_cdn_either():
    html = Client().get("/login/").content.decode()
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
