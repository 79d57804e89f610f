"""The Excel report (统计报表): the workbook opens with openpyxl, its numbers are numbers and equal
the summary, its headers are Chinese and frozen; the download is scoped, audited and refuses bad input."""

from datetime import date
from io import BytesIO
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from tests.stats.test_dashboard_views import YEAR_2025, data  # noqa: F401  (the fixture)
from wenming.core.models import AuditEntry
from wenming.stats import queries
from wenming.stats.report import FIGURES, report_workbook

SHEETS = ["汇总", "分平台", "分主题", "下级组织排行", "服务队排行", "志愿者排行", "服务队评价", "趋势", "四单闭环"]


def sample_figures() -> dict:
    """A summary as queries.summary gives it (the keys of docs/FIGURES.md), hand-written."""
    return {
        "node": {"id": 1, "name": "双清区新时代文明实践中心", "kind": "centre"},
        "start": date(2025, 1, 1), "end": date(2025, 12, 31),
        "activities": 2043, "participations": 16012, "volunteers": 5210, "new_volunteers": 310, "active_teams": 88,
        "minutes_verified": 4_584_720, "minutes_recorded": 3000, "minutes_total": 4_587_720,
        "hours_verified": 76412.0, "hours_recorded": 50.0, "hours_total": 76462.0,
        "people_served": 60123, "people_served_activities": 59000, "people_served_needs": 1123,
        "needs_collected": 1200, "needs_approved": 1100, "needs_rejected": 50, "needs_cancelled": 50,
        "needs_dispatched": 1080, "needs_accepted": 1060, "needs_fulfilled": 1012, "needs_rated": 900,
        "needs_overdue": 7, "needs_completion_rate": 0.92, "needs_average_rating": 4.87,
        "needs_mean_hours_to_accept": 3.25, "needs_mean_hours_to_complete": None,
        "media_reports": 12, "media_district": 8, "media_city": 3, "media_province": 1, "media_central": 0,
        "by_platform": [{"id": 1, "name": "传思想习理论", "activities": 1200, "people_served": 30000},
                        {"id": 2, "name": "=HYPERLINK(\"http://x\")", "activities": 843, "people_served": 29000}],
        "by_theme": [{"id": 1, "name": "学雷锋", "activities": 900}, {"id": 2, "name": "文化惠民", "activities": 1500}],
        "rank_nodes": [{"id": 2, "name": "东风路街道新时代文明实践所", "kind": "institute", "activities": 1000,
                        "hours_total": 40000.5, "people_served": 30000, "needs_fulfilled": 500}],
        "rank_teams_hours": [{"id": 3, "name": "东风社区志愿服务队", "hours_total": 1234.5, "events": 40}],
        "rank_volunteers_hours": [{"id": 4, "name": "张三", "station": "东风社区新时代文明实践站", "hours_total": 321.0}],
        "rank_teams_rating": [{"id": 3, "name": "东风社区志愿服务队", "average_rating": 4.9, "ratings": 20}],
    }


def sample_series() -> dict:
    return {"interval": "month", "points": [
        {"period": f"2025-{m:02d}", "activities": m, "participations": 10 * m, "hours_total": m + 0.5,
         "people_served": 100 * m, "needs_collected": 2 * m, "needs_fulfilled": m} for m in range(1, 13)]}


def open_book(body: bytes):
    return load_workbook(BytesIO(body))


def summary_values(ws) -> dict:
    """字段 → 数值 from the summary sheet (rows under the header)."""
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "指标")
    assert [c.value for c in ws[header_row]] == ["指标", "数值", "口径/说明", "字段"]
    return {ws.cell(r, 4).value: ws.cell(r, 2) for r in range(header_row + 1, ws.max_row + 1)}


# --- the workbook -------------------------------------------------------------------------------


def test_the_workbook_opens_with_its_sheets_in_order():
    wb = open_book(report_workbook(sample_figures(), sample_series()))
    assert wb.sheetnames == SHEETS


def test_the_summary_has_one_row_per_figure_with_numbers_as_numbers_and_its_definition():
    figures = sample_figures()
    ws = open_book(report_workbook(figures, sample_series()))["汇总"]
    assert "双清区新时代文明实践中心" in ws["A1"].value
    assert "2025-01-01 至 2025-12-31" in ws["A2"].value
    cells = summary_values(ws)
    assert list(cells) == [f.key for f in FIGURES]
    for figure in FIGURES:
        cell, value = cells[figure.key], figures[figure.key]
        if value is None:
            assert cell.value is None  # not defined: an empty cell, not a zero and not a dash
            continue
        assert cell.value == value, figure.key
        # a number cell (openpyxl reads 76412.0 back as 76412: the file holds the number, not text)
        assert isinstance(cell.value, int if figure.kind == "int" else (int, float)), figure.key
        assert cell.data_type == "n"
        assert cell.number_format == figure.number_format
    assert cells["hours_total"].number_format == "#,##0.0"
    assert cells["needs_completion_rate"].number_format == "0.00%"
    assert cells["activities"].number_format == "#,##0"
    assert ws.freeze_panes == "A4"
    definitions = {ws.cell(r, 4).value: ws.cell(r, 3).value for r in range(4, ws.max_row + 1)}
    assert definitions["activities"] == "已发布或已结算（非草稿、未取消）且已结束的活动，按结束日计入组织单位"
    assert definitions["people_served_activities"].startswith("计入场次的活动填报的实际服务人数")
    labels = {ws.cell(r, 4).value: ws.cell(r, 1).value for r in range(4, ws.max_row + 1)}
    assert labels["participations"] == "参与志愿者（人次）" and labels["volunteers"] == "参与志愿者（人）"


def test_each_breakdown_has_its_sheet_with_chinese_headers_and_typed_cells():
    wb = open_book(report_workbook(sample_figures(), sample_series()))

    def rows(name):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert all(ws.column_dimensions[c.column_letter].width >= 8 for c in ws[1])
        return [[c.value for c in row] for row in ws.iter_rows()]

    platform = rows("分平台")
    assert platform[0] == ["平台", "开展活动（场次）", "活动受益群众（人次）"]
    assert platform[1] == ["传思想习理论", 1200, 30000]
    # a name that looks like a formula stays text: never a formula in a report
    assert wb["分平台"]["A3"].data_type == "s" and wb["分平台"]["A3"].value.startswith("=HYPERLINK")
    assert rows("分主题") == [["主题", "开展活动（场次）"], ["文化惠民", 1500], ["学雷锋", 900]]
    assert rows("下级组织排行")[1] == [1, "东风路街道新时代文明实践所", "新时代文明实践所", 1000, 40000.5, 30000, 500]
    assert rows("服务队排行") == [["名次", "志愿服务队", "服务时长（小时）", "开展服务（次）"], [1, "东风社区志愿服务队", 1234.5, 40]]
    assert rows("志愿者排行")[1] == [1, "张三", "东风社区新时代文明实践站", 321.0]
    assert rows("服务队评价")[1] == [1, "东风社区志愿服务队", 4.9, 20]
    assert wb["服务队评价"]["C2"].number_format == "0.00"
    trend = rows("趋势")
    assert trend[0] == ["月份", "开展活动（场次）", "参与志愿者（人次）", "服务时长（小时）", "受益群众（人次）",
                        "收集群众需求（条）", "完成群众心愿（条）"]
    assert len(trend) == 13 and trend[3] == ["2025-03", 3, 30, 3.5, 300, 6, 3]
    assert wb["趋势"]["D4"].number_format == "#,##0.0"
    loop = rows("四单闭环")
    assert loop[0] == ["环节", "需求（条）", "占收集需求"]
    assert [r[1] for r in loop[1:7]] == [1200, 1100, 1080, 1060, 1012, 900]
    assert loop[5][2] == pytest.approx(1012 / 1200)
    assert wb["四单闭环"]["C2"].number_format == "0.00%"
    assert loop[7][0] == "不予受理" and loop[9] == ["超时未办", 7, pytest.approx(7 / 1200)]


def test_an_empty_period_gives_a_workbook_with_headers_only():
    figures = {k: v for k, v in sample_figures().items() if not k.startswith(("rank_", "by_"))}
    figures.update(needs_collected=0, needs_completion_rate=None)
    wb = open_book(report_workbook(figures, {"interval": "day", "points": []}))
    assert wb["分平台"].max_row == 1 and wb["下级组织排行"].max_row == 1
    assert wb["趋势"]["A1"].value == "日期"
    assert wb["四单闭环"]["C2"].value is None  # no share of nothing


# --- the download -------------------------------------------------------------------------------


def download(world, role, **params):
    return world.client(role).get("/stats/report.xlsx", params)


def test_the_download_equals_the_summary_of_the_node_and_period(data):  # noqa: F811
    response = download(data, "district_admin", **YEAR_2025)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == \
        "统计报表_双清区新时代文明实践中心_2025-01-01_2025-12-31.xlsx"
    wb = open_book(response.content)
    summary = queries.summary(data.C, date(2025, 1, 1), date(2025, 12, 31))
    cells = summary_values(wb["汇总"])
    for figure in FIGURES:
        assert cells[figure.key].value == summary[figure.key], figure.key
    assert cells["activities"].value == 3 and cells["hours_total"].value == 3.5
    ranks = [[c.value for c in row] for row in wb["下级组织排行"].iter_rows(min_row=2)]
    assert [(r[1], r[4]) for r in ranks] == [(n["name"], n["hours_total"]) for n in summary["rank_nodes"]]
    series = queries.timeseries(data.C, date(2025, 1, 1), date(2025, 12, 31))
    trend = [[c.value for c in row] for row in wb["趋势"].iter_rows(min_row=2)]
    assert [r[0] for r in trend] == [p["period"] for p in series["points"]]
    assert [r[3] for r in trend] == [p["hours_total"] for p in series["points"]]
    entry = AuditEntry.objects.filter(action="stats.report_export").get()
    assert entry.actor == data.district_admin and entry.object_id == str(data.C.pk)


def test_a_station_admin_downloads_their_station_only(data):  # noqa: F811
    response = download(data, "station_admin", **YEAR_2025)
    assert response.status_code == 200
    cells = summary_values(open_book(response.content)["汇总"])
    assert cells["activities"].value == 1 and cells["needs_collected"].value == 1
    assert download(data, "station_admin", node=data.C.pk, **YEAR_2025).status_code == 404
    assert download(data, "station_admin", node=data.S12.pk, **YEAR_2025).status_code == 404


def test_the_download_refuses_volunteers_strangers_and_bad_periods(world):
    assert download(world, "volunteer").status_code == 403
    assert download(world, None).status_code == 302
    response = download(world, "district_admin", kind="custom", start="2025-02-30", end="2025-03-01")
    assert response.status_code == 400
    assert "不是有效的日期" in response.content.decode()
    assert download(world, "district_admin", kind="custom", start="2025-03-01").status_code == 400
    assert not AuditEntry.objects.filter(action="stats.report_export").exists()
