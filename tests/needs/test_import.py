"""Importing residents' needs from Excel (a station admin or proxy entering needs gathered on paper):
valid rows go in through submit_need as source=import, bad rows are reported by row and column and
leave nothing behind, re-importing the same file imports nothing twice, and the export and the
template match the columns."""

import threading
from datetime import datetime, time, timedelta
from io import BytesIO, StringIO

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from tests.ledger.helpers import build_tree, make_user
from wenming.core import pii
from wenming.core.excel import BadFile, export_workbook, get_dataset, run_import, template_workbook
from wenming.core.models import AuditEntry, User
from wenming.needs.models import Need, NeedCategory, NeedEvent

from .conftest import PHONE

NEEDS = get_dataset("needs")
HEADERS = ["需求类别", "需求描述", "所属实践站区划代码", "服务地址", "联系人", "联系电话", "期望服务时间", "紧急程度",
           "微心愿"]
STATION = "430502001001"
OTHER_STATION = "430502002001"
VISIT = "独居老人需要每周上门探访、陪同聊天"


def row(category="助老助残›上门探访", description=VISIT, station=STATION, address="东风路12号3栋", contact="刘奶奶",
        tel=PHONE, wished=None, urgency=None, wish=None):
    return [category, description, station, address, contact, tel, wished, urgency, wish]


def xlsx(headers, rows) -> BytesIO:
    wb = Workbook()
    ws = wb.active
    if headers is not None:
        ws.append(list(headers))
    for values in rows:
        ws.append(list(values))
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def run(user, rows, *, dry_run=False, headers=HEADERS):
    return run_import(NEEDS, user, xlsx(headers, rows), dry_run=dry_run)


def errors_by_row(report):
    out = {}
    for e in report.errors:
        out.setdefault(e.row, []).append((e.column, e.message))
    return out


def ahead(days=3, hour=9, minute=30) -> datetime:
    """A naive local time some days ahead (as Excel holds it)."""
    return datetime.combine(timezone.localdate() + timedelta(days=days), time(hour, minute))


# --- Valid rows --------------------------------------------------------------------------------------


def test_valid_rows_are_entered_as_imported_needs_with_their_timeline(loop):
    admin = loop.tree.admin
    when = ahead(3)
    rows = [
        row(wished=when, urgency="紧急"),
        row("家电维修", "家里洗衣机不能脱水，希望上门检修", tel="139 1234 5678", wished=when.strftime("%Y/%m/%d %H:%M")),
        row("elderly-chores", "腿脚不便，需要帮忙打扫卫生", contact="陈爷爷", tel=13700001111, urgency="特急", wish="是"),
        row("关爱儿童 > 课业辅导", "孩子父母在外务工，希望有人辅导作业", station=OTHER_STATION,
            wished=ahead(10).strftime("%Y年%m月%d日")),
    ]
    report = run(admin, rows)

    assert (report.total, report.imported, report.skipped, report.errors) == (4, 4, 0, [])
    needs = list(Need.objects.order_by("id"))
    assert [n.category.code for n in needs] == ["elderly-visit", "repair-appliance", "elderly-chores",
                                                "children-tutoring"]
    assert all(n.source == Need.Source.IMPORT and n.entered_by == admin and n.state == Need.State.SUBMITTED
               for n in needs)
    first, second, third, fourth = needs
    assert first.station == first.node == loop.tree.station and fourth.station == loop.tree.other_station
    assert timezone.localtime(first.wished_at).replace(tzinfo=None) == when == \
        timezone.localtime(second.wished_at).replace(tzinfo=None)
    # A date alone means within that day.
    assert timezone.localtime(fourth.wished_at).replace(tzinfo=None) == datetime.combine(when.date() + timedelta(days=7),
                                                                                         time(23, 59))
    assert third.wished_at is None and third.is_wish and third.urgency == Need.Urgency.CRITICAL
    assert first.urgency == Need.Urgency.URGENT and second.urgency == Need.Urgency.NORMAL and not first.is_wish
    # Phones encrypted, searchable by blind index, masked for display.
    assert pii.decrypt(first.phone_enc) == PHONE and first.phone_masked == "138****5678"
    assert pii.decrypt(second.phone_enc) == "13912345678" and pii.decrypt(third.phone_enc) == "13700001111"
    assert first.phone_index == pii.blind_index(PHONE, "phone")
    # Each need has its timeline entry and its audit entry, by the importing account; and the import is audited.
    for need in needs:
        event = NeedEvent.objects.get(need=need)
        assert (event.action, event.actor, event.to_state) == ("submitted", admin, Need.State.SUBMITTED)
        assert AuditEntry.objects.filter(action="need.submitted", object_id=str(need.pk), actor=admin).exists()
    assert AuditEntry.objects.filter(action="need.import", note__contains="已导入4行").exists()


def test_a_station_admin_enters_needs_for_their_station(loop):
    station_admin = make_user("import_station", User.Role.STATION_ADMIN, [loop.tree.station])
    report = run(station_admin, [row()])
    assert report.imported == 1 and Need.objects.get().entered_by == station_admin


# --- Bad rows ----------------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_row_and_column_and_leave_nothing_while_good_rows_go_in(loop):
    culture = NeedCategory.objects.get(code="culture")
    NeedCategory.objects.create(parent=culture, name="上门探访", code="culture-visit")
    NeedCategory.objects.filter(code="elderly-meal").update(active=False)
    rows = [
        row(),  # 2: good
        row("开飞机"),  # 3
        row("助老助残"),  # 4: a parent, not a leaf
        row("上门探访"),  # 5: two leaves of that name now
        row("助老助残›助餐送餐"),  # 6: inactive
        row(tel="12345"),  # 7
        row(station="430502009999"),  # 8
        row(station="430502001000"),  # 9: an institute
        row(description="要帮忙"),  # 10: too short (the service's rule)
        row(contact=""),  # 11
        row(urgency="十万火急"),  # 12
        row(wish="也许"),  # 13
        row(wished="下周六"),  # 14
        row(wished=ahead(-3)),  # 15: in the past (the service's rule)
        row(description="需要上门帮忙换灯泡", contact="<script>"),  # 16
        row("健康体检", "老人需要上门量血压测血糖", tel="13800000000"),  # 17: good
    ]
    report = run(loop.tree.admin, rows)

    assert (report.total, report.imported, report.failed) == (16, 2, 14)
    errs = errors_by_row(report)
    assert set(errs) == set(range(3, 17))
    assert errs[3] == [("需求类别", errs[3][0][1])] and "找不到需求类别“开飞机”" in errs[3][0][1]
    assert errs[4] == [("需求类别", "“助老助残”是大类，请填写其下的具体子类，如“助老助残›上门探访”。")]
    assert errs[5][0][0] == "需求类别" and "有多个名为“上门探访”的类别" in errs[5][0][1]
    assert errs[6] == [("需求类别", "需求类别“助老助残›助餐送餐”已停用，请选择其他类别。")]
    assert errs[7][0][0] == "联系电话" and "11位" in errs[7][0][1]
    assert errs[8] == [("所属实践站区划代码", "找不到区划代码为430502009999的实践站。")]
    assert errs[9][0][0] == "所属实践站区划代码" and "东风路街道新时代文明实践所" in errs[9][0][1]
    assert errs[10] == [("需求描述", "请把需求描述写清楚一些（至少5个字）。")]
    assert errs[11] == [("联系人", "必填，不能为空。")]
    assert errs[12][0][0] == "紧急程度" and "可选：一般、紧急、特急" in errs[12][0][1]
    assert errs[13] == [("微心愿", "请填写“是”或“否”。")]
    assert errs[14][0][0] == "期望服务时间" and "格式不正确" in errs[14][0][1]
    assert errs[15] == [("期望服务时间", "期望服务时间须在今后半年之内。")]
    assert errs[16] == [("联系人", "联系人姓名不能含特殊符号。")]
    # Letters point at the uploaded sheet's cells.
    letters = {e.row: e.letter for e in report.errors}
    assert (letters[3], letters[7], letters[8], letters[14]) == ("A", "F", "C", "G")
    # Nothing of a refused row was written: only the two good needs, their events and audit entries.
    assert sorted(Need.objects.values_list("category__code", flat=True)) == ["elderly-visit", "health-checkup"]
    assert NeedEvent.objects.count() == 2 and AuditEntry.objects.filter(action="need.submitted").count() == 2


def test_every_bad_cell_of_a_row_is_reported_at_once(loop):
    report = run(loop.tree.admin, [row(tel="1", urgency="随便", wish="也许", station="123")])
    assert {column for column, _ in errors_by_row(report)[2]} == {"所属实践站区划代码", "联系电话", "紧急程度", "微心愿"}
    assert not Need.objects.exists()


def test_a_station_outside_the_proxys_reach_is_refused_on_that_row(loop):
    far_admin = loop.tree.far_admin  # station admin of 东站社区 only
    report = run(far_admin, [row(), row(station=OTHER_STATION), row("不存在的类别")])
    assert (report.imported, report.failed) == (1, 2)
    errs = errors_by_row(report)
    assert errs[2] == [("所属实践站区划代码", "该组织不在您的管辖范围内。")]
    # A row out of reach says so, whatever else is wrong with it (and nothing about the category list).
    assert errs[4] == [("所属实践站区划代码", "该组织不在您的管辖范围内。")]
    assert Need.objects.get().station == loop.tree.other_station


def test_an_account_that_may_not_import_is_refused(loop):
    from wenming.core.errors import Forbidden

    with pytest.raises(Forbidden):
        run(loop.tree.team_leader, [row()])
    assert not Need.objects.exists()


# --- Bad files ---------------------------------------------------------------------------------------


def test_a_file_that_is_not_an_xlsx_is_refused(loop):
    with pytest.raises(BadFile) as caught:
        run_import(NEEDS, loop.tree.admin, BytesIO("需求类别,需求描述\n上门探访,陪老人聊天\n".encode()))
    assert caught.value.code == "not_xlsx" and "不是 Excel 工作簿" in caught.value.message


def test_wrong_headers_are_refused_naming_what_is_missing(loop):
    with pytest.raises(BadFile) as caught:
        run(loop.tree.admin, [["上门探访"]], headers=["姓名", "电话"])
    assert caught.value.code == "header_missing"
    headers = [("手机" if h == "联系电话" else h) for h in HEADERS]
    with pytest.raises(BadFile) as caught:
        run(loop.tree.admin, [row()], headers=headers)
    assert caught.value.code == "header_invalid"
    assert "缺少必填列：联系电话" in caught.value.message and "F列“手机”" in caught.value.message
    assert not Need.objects.exists()


def test_a_formula_is_refused_in_its_cell(loop):
    report = run(loop.tree.admin, [row(description='=CONCAT("独居老人","需要探访")'), row()])
    assert report.imported == 1
    assert errors_by_row(report)[2] == [("需求描述", "不支持公式，请把公式转换为数值（复制后“选择性粘贴→数值”）再导入。")]


def test_huge_cells_are_refused_with_their_length(loop):
    report = run(loop.tree.admin, [row(description="长" * 30_000), row(address="路" * 201), row()])
    assert report.imported == 1
    errs = errors_by_row(report)
    assert errs[2] == [("需求描述", "内容过长（30000字），不能超过1000字。")]
    assert errs[3] == [("服务地址", "内容过长（201字），不能超过200字。")]


def test_the_same_row_twice_in_a_file_is_imported_once(loop):
    report = run(loop.tree.admin, [row(), row(description="另一件事：帮忙修理水龙头"), row()])
    assert (report.imported, report.failed) == (2, 1)
    assert errors_by_row(report)[4] == [("", "与第2行重复，本行未导入。")]
    assert Need.objects.count() == 2


# --- Idempotence -------------------------------------------------------------------------------------


def test_re_importing_the_same_file_imports_nothing_twice(loop):
    admin = loop.tree.admin
    rows = [row(wished=ahead(5)), row("家电维修", "洗衣机不能脱水，请上门检修", tel="13900001111"),
            row(tel="bad")]
    first = run(admin, rows)
    assert (first.imported, first.skipped, first.failed) == (2, 0, 1)
    codes = dict(Need.objects.values_list("category__code", "code"))
    # The needs move on in the loop meanwhile; the same file still adds nothing.
    from wenming.needs import services

    services.review_need(admin, Need.objects.get(category__code="elderly-visit"), approve=True)
    again = run(admin, rows)
    assert (again.imported, again.skipped, again.failed) == (0, 2, 1)
    assert [(s.row, s.message) for s in again.skips] == [
        (2, f"已导入过（查询码{codes['elderly-visit']}），跳过。"),
        (3, f"已导入过（查询码{codes['repair-appliance']}），跳过。"),
    ]
    # The same row with the category written another way, or the phone with spaces, is the same need.
    third = run(admin, [row("elderly-visit", wished=ahead(5), tel="138 1234 5678")])
    assert (third.imported, third.skipped) == (0, 1)
    assert Need.objects.count() == 2 and NeedEvent.objects.filter(action="submitted").count() == 2


def test_what_differs_is_a_new_need(loop):
    admin = loop.tree.admin
    run(admin, [row(wished=ahead(5))])
    report = run(admin, [row(wished=ahead(6)), row(wished=ahead(5), station=OTHER_STATION),
                         row(wished=ahead(5), tel="13900002222"), row("陪同就医", wished=ahead(5))])
    assert (report.imported, report.skipped) == (4, 0)


def test_a_need_raised_by_the_resident_themselves_is_not_taken_for_an_import(loop):
    from .conftest import raise_need

    raise_need(loop, description=VISIT)  # the public page, source=public
    report = run(loop.tree.admin, [row()])
    assert report.imported == 1 and Need.objects.count() == 2


# --- Dry run and the command line --------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_reports_what_would_happen(loop):
    admin = loop.tree.admin
    run(admin, [row()])
    before = (Need.objects.count(), NeedEvent.objects.count(), AuditEntry.objects.count())
    report = run(admin, [row(), row("家电维修", "电视没有信号，请上门看看"), row(tel="1")], dry_run=True)
    assert (report.dry_run, report.imported, report.skipped, report.failed) == (True, 1, 1, 1)
    assert "可导入1行，跳过1行，有误1行" in report.summary()
    assert (Need.objects.count(), NeedEvent.objects.count(), AuditEntry.objects.count()) == before


def test_the_command_line_dry_run_and_import(loop, tmp_path):
    path = tmp_path / "needs.xlsx"
    path.write_bytes(xlsx(HEADERS, [row(), row(tel="12")]).getvalue())
    username = loop.tree.admin.username

    def command(*args):
        out = StringIO()
        call_command("import", "needs", str(path), *args, "--as", username, stdout=out, stderr=StringIO())
        return out.getvalue()

    out = command("--dry-run")
    assert "预检（未写入）：共2行：可导入1行，跳过0行，有误1行。" in out and "联系电话" in out
    assert not Need.objects.exists()
    assert "导入完成：共2行：已导入1行，跳过0行，有误1行。" in command()
    assert "导入完成：共2行：已导入0行，跳过1行，有误1行。" in command()
    assert Need.objects.get().source == Need.Source.IMPORT


def test_the_console_pages_preview_then_confirm(loop, settings, tmp_path):
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    settings.VAR_DIR = tmp_path  # uploads wait under VAR_DIR/imports
    client = Client()
    client.force_login(loop.tree.inst_admin)
    page = client.get("/data/needs/import/").content.decode()
    assert "群众需求" in page and "助老助残›上门探访（elderly-visit）" in page  # the notes list the categories
    template = client.get("/data/needs/template.xlsx")
    assert template.status_code == 200
    assert load_workbook(BytesIO(b"".join(template.streaming_content))).worksheets[0]["A1"].value == "需求类别*"

    data = xlsx(HEADERS, [row(), row(tel="1")]).getvalue()
    upload = SimpleUploadedFile("需求.xlsx", data, content_type="application/octet-stream")
    response = client.post("/data/needs/import/", {"action": "preview", "file": upload})
    assert "手机号码须为11位" in response.content.decode() and not Need.objects.exists()
    token = re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)
    response = client.post("/data/needs/import/", {"action": "confirm", "token": token})
    assert "导入完成" in response.content.decode()
    assert Need.objects.get().entered_by == loop.tree.inst_admin


# --- Template and export -----------------------------------------------------------------------------


def test_the_template_has_the_columns_drop_downs_and_an_example_that_imports(loop):
    wb = load_workbook(BytesIO(template_workbook(NEEDS)))
    sheet, notes = wb.worksheets
    headers = [c.value for c in sheet[1]]
    assert headers == ["需求类别*", "需求描述*", "所属实践站区划代码*", "所属实践站", "服务地址", "联系人*", "联系电话*",
                       "期望服务时间", "紧急程度", "微心愿"]
    lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists == {"I2": '"一般,紧急,特急"', "J2": '"是,否"'}
    text = [r[0] for r in notes.iter_rows(values_only=True) if r and r[0]]
    assert any("助老助残›上门探访（elderly-visit）" in t for t in text)  # today's categories, with codes
    assert any("不会重复导入" in t for t in text)
    # The example rows, as a file of their own, import as they are.
    rows = list(notes.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[:2] == ("需求类别", "需求描述")) + 1
    example = [list(r[:10]) for r in rows[start:]]
    assert len(example) == 2
    report = run_import(NEEDS, loop.tree.admin, xlsx([h.rstrip("*") for h in headers], example))
    assert (report.imported, report.errors) == (2, [])


def test_export_has_the_same_columns_masked_phones_and_only_needs_in_reach(loop):
    from .conftest import raise_need

    admin = loop.tree.admin
    run(admin, [row(wished=ahead(5), urgency="紧急"), row("家电维修", "电视没有信号，请上门看看", station=OTHER_STATION)])
    raise_need(loop, description="想请人帮忙读报纸")
    out = BytesIO()
    assert export_workbook(NEEDS, admin, out) == 3
    out.seek(0)
    rows = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("查询码", "需求类别", "需求描述", "所属实践站区划代码", "所属实践站", "服务地址", "联系人", "联系电话",
                       "期望服务时间", "紧急程度", "微心愿", "状态", "来源", "点单时间")
    visit = next(r for r in rows[1:] if r[2] == VISIT)
    assert visit[1] == "助老助残›上门探访" and visit[3] == STATION and visit[7] == "138****5678"
    assert visit[8] == ahead(5) and visit[9:13] == ("紧急", "否", "待审核", "Excel导入")
    assert PHONE not in str(rows)
    # A station admin exports their own station's needs only.
    out = BytesIO()
    assert export_workbook(NEEDS, loop.tree.far_admin, out) == 1
    # An exported file is recognised as the ledger: its extra columns are ignored, its masked phones refused.
    out.seek(0)
    report = run_import(NEEDS, admin, out)
    assert (report.imported, report.failed) == (0, 1)
    assert errors_by_row(report)[2][0][0] == "联系电话"


# --- Two imports of one file at once (PostgreSQL) ----------------------------------------------------


@pytest.mark.pg_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_write_each_need_once():
    """A transactional test: it builds its own categories, as a flush may have removed them."""
    tree = build_tree()
    parent, _ = NeedCategory.objects.get_or_create(code="elderly", defaults={"name": "助老助残"})
    NeedCategory.objects.get_or_create(code="elderly-visit", defaults={"name": "上门探访", "parent": parent})
    content = xlsx(HEADERS, [row(description=f"第{i}位老人需要上门探访", tel=f"1380000{i:04d}") for i in range(30)])
    content = content.getvalue()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def work():
        try:
            barrier.wait()
            reports.append(run_import(NEEDS, tree.admin, BytesIO(content)))
        except Exception as e:  # noqa: BLE001 — reported to the test
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    close_old_connections()
    assert errors == []
    # One waited for the other's rows to be committed, then found every one of them there.
    assert sorted((r.imported, r.skipped) for r in reports) == [(0, 30), (30, 0)]
    assert Need.objects.count() == 30
