"""The media-reports ledger in Excel: `wenming export media_reports` / `wenming import media_reports`
and the console's /data/ pages — a round trip, row-by-row errors, re-import imports nothing twice."""

import re
from datetime import date, datetime, timedelta
from io import BytesIO, StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from wenming.core import excel
from wenming.core.models import AuditEntry
from wenming.publicity.models import MediaReport

from .conftest import make_activity, make_brand, make_report

HEADERS = ["标题", "媒体", "级别", "刊发日期", "链接", "所属组织区划代码", "所属组织", "相关活动编号", "相关活动",
           "相关品牌", "备注"]
EXPORT_HEADERS = ["编号", *HEADERS, "录入时间"]
COMPARED = ("title", "outlet", "level", "published_on", "url", "node_id", "activity_id", "brand_id", "note")


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def sheet(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def row(title="东风社区：志愿服务暖人心", outlet="双清区融媒体中心", level="区级", day="2025-03-05", url="",
        code="430502001001", name="", activity_id=None, activity="", brand="", note=""):
    return [title, outlet, level, day, url, code, name, activity_id, activity, brand, note]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def read(path_or_bytes) -> list[tuple]:
    source = BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    return [tuple(r) for r in load_workbook(source).worksheets[0].iter_rows(values_only=True)]


def rows_of_db() -> list[tuple]:
    return sorted(MediaReport.objects.values_list(*COMPARED))


def import_file(user, data: bytes, **kw):
    return excel.run_import(excel.get_dataset("media_reports"), user, BytesIO(data), **kw)


# --- Export and the round trip ------------------------------------------------------------------------


def test_export_then_import_into_an_empty_ledger_gives_the_same_reports(world, tmp_path):
    activity = make_activity(world.S11, "东风社区学雷锋便民服务")
    brand = make_brand(world.C, "七彩假期")
    make_report(world.S11, "东风社区：志愿服务暖人心", level="district", activity=activity, brand=brand,
                url="https://example.com/a?b=1", note="头版")
    make_report(world.I1, "=SUM(A1)开头的标题也是文字", level="city", published_on=date(2024, 12, 31))
    make_report(world.S21, "东站社区：文明出行", level="central", outlet="新华网", published_on=date(2000, 1, 1))
    make_report(world.C, "双清区：七彩假期", level="province", brand=brand, outlet="湖南日报")
    before = rows_of_db()
    out = tmp_path / "out.xlsx"

    printed = run("export", "media_reports", str(out), "--as", world.district_admin.username)
    assert "已导出宣传报道4条" in printed
    rows = read(out)
    assert list(rows[0]) == EXPORT_HEADERS
    assert len(rows) == 5
    first = rows[1]  # oldest first
    assert first[1:8] == ("东站社区：文明出行", "新华网", "中央", datetime(2000, 1, 1), None, "430502002001",
                          "东站社区新时代文明实践站")
    by_title = {r[1]: r for r in rows[1:]}
    assert by_title["东风社区：志愿服务暖人心"][8:12] == (activity.pk, "东风社区学雷锋便民服务", "七彩假期", "头版")
    assert by_title["=SUM(A1)开头的标题也是文字"][1] == "=SUM(A1)开头的标题也是文字"  # text, never a formula
    assert AuditEntry.objects.filter(action="media_report.export", note__contains="4条").exists()

    MediaReport.objects.all().delete()
    printed = run("import", "media_reports", str(out), "--as", world.district_admin.username)
    assert "导入完成：共4行：已导入4行，跳过0行，有误0行。" in printed
    assert rows_of_db() == before
    assert set(MediaReport.objects.values_list("created_by", flat=True)) == {world.district_admin.pk}
    assert AuditEntry.objects.filter(action="media_report.create").count() == 4
    assert AuditEntry.objects.filter(action="media_report.import").exists()

    # The same file again: every row is already there.
    printed = run("import", "media_reports", str(out), "--as", world.district_admin.username)
    assert "已导入0行，跳过4行，有误0行" in printed
    assert rows_of_db() == before


def test_export_is_limited_to_the_reach_and_to_a_branch(world, tmp_path):
    make_report(world.S11, "东风社区报道")
    make_report(world.S12, "光明社区报道")
    make_report(world.S21, "东站社区报道")
    out = tmp_path / "station.xlsx"
    run("export", "media_reports", str(out), "--as", world.station_admin.username)
    assert [r[1] for r in read(out)[1:]] == ["东风社区报道"]
    run("export", "media_reports", str(out), "--as", world.district_admin.username, "--node", "430502001000")
    assert sorted(r[1] for r in read(out)[1:]) == ["东风社区报道", "光明社区报道"]
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        run("export", "media_reports", str(out), "--as", world.station_admin.username, "--node", "430502002001")


# --- Import: row by row ------------------------------------------------------------------------------


def test_each_bad_row_is_reported_and_the_good_rows_imported(world, links_for_excel):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = sheet([
        row("好的一行", level="市级", day="2025/3/5", url="https://example.com/1"),                 # 2
        row("", level="区级"),                                                                       # 3
        row("级别不对", level="国家"),                                                                # 4
        row("日期不对", day="2025-02-30"),                                                           # 5
        row("日期在将来", day=tomorrow),                                                              # 6
        row("链接不对", url="javascript:alert(1)"),                                                  # 7
        row("找不到组织", code="430502009009"),                                                      # 8
        row("名称不符", name="光明社区新时代文明实践站"),                                              # 9
        row("活动不在线上", activity_id=links_for_excel.s12.pk),                                      # 10
        row("品牌不存在", brand="不存在的品牌"),                                                     # 11
        row("好的一行", level="市级", day="2025-03-05"),                                              # 12 = row 2
        row("好的第二行", level="省级", day=date(2025, 4, 1), activity="东风社区学雷锋", brand="七彩假期"),  # 13
        row("中央级也可以", level="中央级", day=45000, code="430502000000", name="双清区新时代文明实践中心"),  # 14
        row("公式", note="=HYPERLINK(\"http://x\")"),                                                 # 15
    ])
    report = import_file(world.district_admin, data)
    assert report.imported == 3 and report.total == 14
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert errors[(3, "标题")] == "必填，不能为空。"
    assert "不在可选范围内" in errors[(4, "级别")]
    assert "不是有效的日期" in errors[(5, "刊发日期")]
    assert errors[(6, "刊发日期")] == "刊发日期不能晚于今天。"
    assert "http://" in errors[(7, "链接")]
    assert "找不到区划代码为430502009009的组织" in errors[(8, "所属组织区划代码")]
    assert "名称不符" in errors[(9, "所属组织")]
    assert "不属于报道所属组织或其上级、下级" in errors[(10, "相关活动编号")]
    assert "没有名为“不存在的品牌”的项目品牌" in errors[(11, "相关品牌")]
    assert errors[(12, "")] == "与第2行重复，本行未导入。"
    assert "不支持公式" in errors[(15, "备注")]
    assert report.failed == 11
    assert sorted(MediaReport.objects.values_list("title", flat=True)) == ["中央级也可以", "好的一行", "好的第二行"]
    second = MediaReport.objects.get(title="好的第二行")
    assert second.activity == links_for_excel.s11 and second.brand == links_for_excel.centre_brand
    assert MediaReport.objects.get(title="中央级也可以").published_on == date(2023, 3, 15)


def test_a_station_admin_imports_only_for_their_station(world):
    data = sheet([row("本站"), row("外站", code="430502002001"), row("上级", code="430502001000")])
    report = import_file(world.station_admin, data)
    assert report.imported == 1
    messages = {e.row: (e.column, e.message) for e in report.errors}
    assert messages[3] == ("所属组织区划代码", "该组织不在您的管辖范围内。")
    assert messages[4] == ("所属组织区划代码", "该组织不在您的管辖范围内。")
    assert list(MediaReport.objects.values_list("title", flat=True)) == ["本站"]


def test_activities_found_by_name_must_be_unique(world):
    a = make_activity(world.S11, "七彩假期课业辅导")
    b = make_activity(world.S11, "七彩假期课业辅导", days_ago=20)
    data = sheet([row("按名称", activity="七彩假期课业辅导"), row("按编号", activity_id=b.pk, activity="七彩假期课业辅导"),
                  row("编号与名称不符", activity_id=a.pk, activity="别的活动")])
    report = import_file(world.district_admin, data)
    messages = {e.row: (e.column, e.message) for e in report.errors}
    assert messages[2][0] == "相关活动" and "请填写相关活动编号" in messages[2][1]
    assert messages[4][0] == "相关活动" and "与所填活动名称不符" in messages[4][1]
    assert MediaReport.objects.get().activity == b


def test_a_dry_run_writes_nothing_and_readers_cannot_import(world):
    data = sheet([row("预检")])
    assert import_file(world.district_admin, data, dry_run=True).imported == 1
    assert not MediaReport.objects.exists()
    for role in ("viewer", "department", "team_leader", "volunteer"):
        with pytest.raises(excel.Forbidden):
            import_file(world.user(role), data)
    assert not MediaReport.objects.exists()


def test_a_file_without_the_right_headers_is_refused_whole(world):
    with pytest.raises(excel.BadFile, match="缺少必填列"):
        import_file(world.district_admin, sheet([["x"]], headers=["标题"]))


# --- The console's /data/ pages -------------------------------------------------------------------


def test_the_data_pages_import_and_export_media_reports(world):
    make_report(world.S11, "已有的报道")
    client = world.client("station_admin")
    index = client.get("/data/").content.decode()
    assert "宣传报道" in index and "/data/media_reports/import/" in index

    exported = client.get("/data/media_reports/export.xlsx")
    assert exported.status_code == 200
    rows = read(b"".join(exported.streaming_content) if exported.streaming else exported.content)
    assert rows[0] == tuple(EXPORT_HEADERS) and rows[1][1] == "已有的报道"

    template = client.get("/data/media_reports/template.xlsx")
    assert template.status_code == 200
    wb = load_workbook(BytesIO(b"".join(template.streaming_content) if template.streaming else template.content))
    assert [c.value for c in wb.worksheets[0][1]] == [h + "*" if h in {"标题", "媒体", "级别", "刊发日期",
                                                                     "所属组织区划代码"} else h for h in HEADERS]

    upload = SimpleUploadedFile("报道.xlsx", sheet([row("从网页导入"), row("外站", code="430502002001")]))
    response = client.post("/data/media_reports/import/", {"action": "preview", "file": upload})
    page = response.content.decode()
    assert response.status_code == 200 and "该组织不在您的管辖范围内。" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    response = client.post("/data/media_reports/import/", {"action": "confirm", "token": token})
    assert "导入完成" in response.content.decode()
    assert sorted(MediaReport.objects.values_list("title", flat=True)) == ["从网页导入", "已有的报道"]


@pytest.fixture
def links_for_excel(world):
    class L:
        s11 = make_activity(world.S11, "东风社区学雷锋")
        s12 = make_activity(world.S12, "光明社区学雷锋")
        centre_brand = make_brand(world.C, "七彩假期")

    return L
