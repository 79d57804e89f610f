"""The statistics API: every figure of docs/FIGURES.md as one key, scoping for every role, and bad input
answered with a structured error — never a 500."""

import re
from datetime import date
from pathlib import Path

import pytest

from tests.stats import builders as b

pytestmark = pytest.mark.django_db

FIGURES_MD = Path(__file__).resolve().parents[2] / "docs" / "FIGURES.md"
ROLES = ["district_admin", "institute_admin", "station_admin", "department", "team_leader", "volunteer", "viewer"]


def documented_keys() -> set[str]:
    text = FIGURES_MD.read_text(encoding="utf-8")
    keys = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            keys |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    return keys


def test_summary_has_one_key_per_documented_figure(world):
    b.report(world.S11, date(2025, 3, 1), "city")
    body = world.api("district_admin").get("/stats/summary", {"node": world.C.pk, "start": "2025-01-01",
                                                               "end": "2025-12-31"}).json()
    keys = documented_keys()
    assert keys, "FIGURES.md lists the keys"
    assert keys <= set(body), keys - set(body)
    assert set(body) - keys <= {"node", "start", "end"}
    assert body["media_city"] == 1 and body["start"] == "2025-01-01"


def test_defaults_to_the_top_of_reach_and_this_year(world):
    body = world.api("station_admin").get("/stats/summary").json()
    assert body["node"]["id"] == world.S11.pk
    assert body["start"].endswith("-01-01") and body["end"].endswith("-12-31")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("node_key", ["C", "I1", "S11", "S21"])
def test_scoping(world, role, node_key):
    r = world.api(role).get("/stats/summary", {"node": world.nodes[node_key].pk})
    if role == "volunteer":
        assert r.status_code == 403 and r.json()["code"] == "no_reach"
    elif node_key in world.REACH[role]:
        assert r.status_code == 200, r.content
        assert r.json()["node"]["id"] == world.nodes[node_key].pk
    else:
        assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_anonymous_is_refused(world):
    r = world.api(None).get("/stats/summary")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("params, code", [
    ({"start": "2025-02-01", "end": "2025-01-01"}, "period_invalid"),
    ({"start": "2025-02-01"}, "period_missing"),
    ({"start": "1999-12-31", "end": "2000-01-05"}, "period_invalid"),
    ({"start": "2025-13-01", "end": "2025-12-31"}, "invalid_input"),
    ({"start": "昨天", "end": "今天"}, "invalid_input"),
    ({"start": "2025-01-01", "end": "2025-01-01", "node": "abc"}, "invalid_input"),
    ({"node": -1}, "invalid_input"),
    ({"node": 10**30}, "invalid_input"),
    ({"node": 999999}, "not_found"),
    ({"start": "2025-01-01'; DROP TABLE stats_rollup;--", "end": "2025-01-02"}, "invalid_input"),
    ({"start": "0001-01-01", "end": "9999-12-31"}, "period_invalid"),
])
def test_bad_input_is_a_structured_error(world, params, code):
    for path in ("/stats/summary", "/stats/timeseries", "/stats/rankings"):
        r = world.api("district_admin").get(path, params)
        assert r.status_code in (404, 422), (path, r.status_code, r.content)
        body = r.json()
        assert body["code"] == code and body["message"]


def test_timeseries_and_rankings(world):
    b.report(world.S11, date(2025, 3, 1), "city")
    api = world.api("district_admin")
    days = api.get("/stats/timeseries", {"start": "2025-03-01", "end": "2025-03-31"}).json()
    assert days["interval"] == "day" and len(days["points"]) == 31 and days["points"][0]["period"] == "2025-03-01"
    months = api.get("/stats/timeseries", {"start": "2025-01-01", "end": "2025-12-31"}).json()
    assert months["interval"] == "month" and [p["period"] for p in months["points"]][:2] == ["2025-01", "2025-02"]
    forced = api.get("/stats/timeseries", {"start": "2025-01-01", "end": "2025-12-31", "interval": "day"}).json()
    assert len(forced["points"]) == 365
    too_long = api.get("/stats/timeseries", {"start": "2020-01-01", "end": "2025-12-31", "interval": "day"})
    assert too_long.status_code == 422 and too_long.json()["code"] == "period_too_long"
    wrong = api.get("/stats/timeseries", {"interval": "week"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_input"
    ranks = api.get("/stats/rankings", {"limit": 1}).json()
    assert len(ranks["rank_nodes"]) == 1 and set(ranks) >= {"rank_teams_hours", "rank_volunteers_hours",
                                                            "rank_teams_rating"}
    assert api.get("/stats/rankings", {"limit": 0}).json()["code"] == "invalid_input"
    assert api.get("/stats/rankings", {"limit": 51}).json()["code"] == "invalid_input"


def test_report_xlsx_and_summary_docx(world):
    import io

    import docx
    import openpyxl

    b.report(world.S11, date(2025, 3, 1), "city")
    api = world.api("institute_admin")
    r = api.get("/stats/report.xlsx", {"start": "2025-01-01", "end": "2025-12-31"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert "汇总" in book.sheetnames
    cells = [c for row in book["汇总"].iter_rows(values_only=True) for c in row]
    assert 1 in cells  # the one city report, as a number
    d = api.get("/stats/summary.docx", {"start": "2025-01-01", "end": "2025-12-31"})
    assert d.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(d.content)).paragraphs)
    assert "东风路街道新时代文明实践所" in text
    bad = api.get("/stats/summary.docx", {"start": "2025-02-01", "end": "2025-01-01"})
    assert bad.status_code == 422 and bad.json()["code"] == "period_invalid"
    outside = api.get("/stats/report.xlsx", {"node": world.S21.pk})
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"
