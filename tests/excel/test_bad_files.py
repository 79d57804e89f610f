"""Bad files get a clear Chinese message (a BadFile with a stable code), never a crash, never a partial import."""

import re
import time
import zipfile
from io import BytesIO

import pytest
from openpyxl import Workbook

from wenming.core.excel import BadFile, get_dataset, run_import, write_error_report
from wenming.people.models import Volunteer

from .conftest import VOLUNTEER_HEADERS, id_number, read_sheet, volunteer_row, xlsx

pytestmark = pytest.mark.django_db

VOLUNTEERS = get_dataset("volunteers")


def refuse(user, data, code) -> str:
    fh = data if hasattr(data, "read") else BytesIO(data)
    with pytest.raises(BadFile) as info:
        run_import(VOLUNTEERS, user, fh)
    assert info.value.code == code, info.value.message
    assert re.search(r"[\u4e00-\u9fff]", info.value.message)
    assert Volunteer.objects.count() == 0
    return info.value.message


def zipped(members: dict[str, bytes]) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def good_file(rows=None) -> bytes:
    return xlsx(VOLUNTEER_HEADERS, rows if rows is not None else [volunteer_row("甲")]).getvalue()


# --- Not an xlsx at all ---------------------------------------------------------------------


def test_text_file_renamed_xlsx(district):
    message = refuse(district.district, "姓名,身份证号码\n张三,430502\n".encode(), "not_xlsx")
    assert "不是 Excel 工作簿" in message and "CSV" in message


def test_png_renamed_xlsx(district):
    assert "图片" in refuse(district.district, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not_xlsx")


def test_old_xls_file(district):
    message = refuse(district.district, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "xls_not_supported")
    assert ".xls" in message and "另存为" in message


def test_zip_that_is_not_a_workbook(district):
    assert "压缩包" in refuse(district.district, zipped({"readme.txt": b"hello"}), "not_xlsx")


def test_ods_spreadsheet(district):
    data = zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    assert "ODS" in refuse(district.district, data, "not_xlsx")


def test_empty_file(district):
    assert "空" in refuse(district.district, b"", "file_empty")


def test_truncated_workbook(district):
    data = good_file()
    refuse(district.district, data[: len(data) // 2], "file_corrupt")


def test_corrupted_member(district):
    data = bytearray(good_file())
    start = data.find(b"xl/worksheets/sheet1.xml") + 40  # inside that member's compressed data
    for i in range(start, start + 30):
        data[i] ^= 0xFF
    refuse(district.district, bytes(data), "file_corrupt")


def test_workbook_xml_that_openpyxl_cannot_read(district):
    data = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"not xml at all <<<"})
    assert "损坏" in refuse(district.district, data, "file_corrupt")


def test_file_too_large(district, settings):
    settings.WENMING_IMPORT_MAX_BYTES = 1000
    message = refuse(district.district, good_file([volunteer_row(f"人{i}") for i in range(50)]), "file_too_large")
    assert "不能超过" in message


def test_zip_bomb_is_refused_before_it_is_unpacked(district, settings):
    settings.WENMING_IMPORT_MAX_BYTES = 20_000
    data = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>",
                   "xl/worksheets/sheet1.xml": b"0" * 1_000_000})
    assert len(data) < 20_000
    refuse(district.district, data, "file_too_large")


# --- Headers ----------------------------------------------------------------------------------


def test_missing_required_headers_are_named(district):
    headers = ["姓名", "身份证号码", "所属实践站区划代码"]
    message = refuse(district.district, xlsx(headers, [["甲", id_number(), "430502001001"]]), "header_invalid")
    assert "缺少必填列：手机号码、已书面同意" in message


def test_unknown_and_duplicate_headers_are_named(district):
    headers = [*VOLUNTEER_HEADERS, "备注", "姓名"]
    message = refuse(district.district, xlsx(headers, [volunteer_row("甲") + ["x", "甲"]]), "header_invalid")
    assert "无法识别的列：L列“备注”" in message and "重复的列：M列“姓名”" in message


def test_a_sheet_that_is_not_this_ledger(district):
    message = refuse(district.district, xlsx(["姓名", "简介"], [["x", "y"]]), "header_invalid")
    assert "缺少必填列" in message
    message = refuse(district.district, xlsx(["商品", "价格"], [["x", 1]]), "header_missing")
    assert "第1行不是“志愿者”的表头" in message and "姓名" in message


def test_title_rows_above_the_header_are_ignored(district):
    wb = Workbook()
    ws = wb.active
    ws.append(["东风社区志愿者花名册"])
    ws.append([])
    ws.append(VOLUNTEER_HEADERS)
    ws.append(volunteer_row("甲"))
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    report = run_import(VOLUNTEERS, district.district, out)
    assert report.imported == 1 and report.errors == []


def test_the_sheet_named_after_the_ledger_is_used(district):
    wb = Workbook()
    wb.active.append(["说明：请看第二张表"])
    ws = wb.create_sheet("志愿者")
    ws.append(VOLUNTEER_HEADERS)
    ws.append(volunteer_row("甲"))
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    assert run_import(VOLUNTEERS, district.district, out).imported == 1


def test_empty_workbook(district):
    assert "工作表是空的" in refuse(district.district, xlsx(None, []), "sheet_empty")


def test_headers_but_no_data_rows(district):
    assert "没有数据行" in refuse(district.district, xlsx(VOLUNTEER_HEADERS, [[], ["  "]]), "no_rows")


# --- Cells -------------------------------------------------------------------------------------


def test_formulas_are_refused_cell_by_cell(district):
    row = volunteer_row("甲")
    row[2] = "=CONCATENATE(\"138\",\"12345678\")"
    report = run_import(VOLUNTEERS, district.district, xlsx(VOLUNTEER_HEADERS, [row, volunteer_row("乙")]))
    assert report.imported == 1
    assert [(e.row, e.column, e.letter) for e in report.errors] == [(2, "手机号码", "C")]
    assert "不支持公式" in report.errors[0].message


def test_error_values_are_refused(district):
    wb = Workbook()
    ws = wb.active
    ws.append(VOLUNTEER_HEADERS)
    ws.append(volunteer_row("甲"))
    ws["C2"].value = "#N/A"
    ws["C2"].data_type = "e"
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    report = run_import(VOLUNTEERS, district.district, out)
    assert report.errors[0].column == "手机号码" and "错误值" in report.errors[0].message


def test_huge_cells_are_refused_without_echoing_them(district):
    row = volunteer_row("甲")
    row[4] = "东" * 5000  # 所属实践站
    report = run_import(VOLUNTEERS, district.district, xlsx(VOLUNTEER_HEADERS, [row]))
    assert report.errors[0].column == "所属实践站"
    assert report.errors[0].message == "内容过长（5000字），不能超过100字。"


def test_data_without_a_header_is_reported(district):
    report = run_import(VOLUNTEERS, district.district,
                        xlsx(VOLUNTEER_HEADERS, [volunteer_row("甲") + ["", "多出来的"]]))
    assert report.imported == 0
    assert [(e.letter, e.message) for e in report.errors] == [("M", "该列没有表头，内容无法识别；请删除或补上表头。")]


def test_blank_rows_in_between_are_skipped_and_row_numbers_stay_right(district):
    rows = [volunteer_row("甲"), [], ["", " "], volunteer_row("乙", tel="1")]
    report = run_import(VOLUNTEERS, district.district, xlsx(VOLUNTEER_HEADERS, rows))
    assert report.total == 2 and report.imported == 1
    assert report.errors[0].row == 5


# --- Row counts ----------------------------------------------------------------------------------


def test_too_many_rows(district, settings):
    settings.WENMING_IMPORT_MAX_ROWS = 5
    data = xlsx(VOLUNTEER_HEADERS, [volunteer_row(f"人{i}") for i in range(6)])
    assert "上限5行" in refuse(district.district, data, "too_many_rows")


def without_dimension(data: bytes, ref: str | None) -> bytes:
    """The same workbook with its sheet's declared size removed (ref None) or replaced."""
    src = zipfile.ZipFile(BytesIO(data))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                new = b"" if ref is None else f'<dimension ref="{ref}"/>'.encode()
                body = re.sub(rb"<dimension [^>]*/>", new, body)
            z.writestr(info.filename, body)
    return out.getvalue()


def test_too_many_rows_without_a_declared_size(district, settings):
    settings.WENMING_IMPORT_MAX_ROWS = 5
    data = without_dimension(good_file([volunteer_row(f"人{i}") for i in range(6)]), None)
    refuse(district.district, data, "too_many_rows")


def test_a_sheet_that_understates_its_size_is_read_whole(district, settings):
    data = without_dimension(good_file([volunteer_row(f"人{i}") for i in range(4)]), "A1:K2")
    report = run_import(VOLUNTEERS, district.district, BytesIO(data))
    assert report.total == 4 and report.imported == 4


def test_a_sheet_formatted_far_down_is_counted_not_refused(district, settings):
    settings.WENMING_IMPORT_MAX_ROWS = 5
    data = without_dimension(good_file([volunteer_row("甲")]), "A1:K1048576")
    assert run_import(VOLUNTEERS, district.district, BytesIO(data)).imported == 1


def test_rows_that_are_only_formatted_do_not_count(district, settings):
    from openpyxl.styles import Font

    settings.WENMING_IMPORT_MAX_ROWS = 5
    wb = Workbook()
    ws = wb.active
    ws.append(VOLUNTEER_HEADERS)
    ws.append(volunteer_row("甲"))
    for r in range(10, 40):
        ws.cell(row=r, column=1).font = Font(bold=True)  # a styled, empty cell: a <row> with no data
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    assert run_import(VOLUNTEERS, district.district, out).imported == 1


def test_ten_thousand_bad_rows_are_all_reported_fast(district, tmp_path):
    rows = [["", "123", "abc", "430502001001", "", "", "", "", "", "", "是"]] * 10_000
    data = xlsx(VOLUNTEER_HEADERS, rows)
    started = time.perf_counter()
    report = run_import(VOLUNTEERS, district.district, data, dry_run=True)
    elapsed = time.perf_counter() - started
    assert report.total == 10_000 and report.failed == 10_000 and report.imported == 0
    assert len(report.errors) == 30_000  # name, ID number and phone of every row
    assert elapsed < 60, elapsed
    path = tmp_path / "errors.xlsx"
    assert write_error_report(path, report) == 30_000
    sheet = read_sheet(path)
    assert sheet[0] == ("行号", "列", "列名", "处理结果", "原因")
    assert sheet[1] == (2, "A", "姓名", "未导入", "必填，不能为空。")
    assert len(sheet) == 30_001
