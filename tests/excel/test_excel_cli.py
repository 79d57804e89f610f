"""`wenming import` and `wenming export` on the command line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from wenming.core.models import AuditEntry, User
from wenming.people.models import Volunteer

from .conftest import VOLUNTEER_HEADERS, read_sheet, volunteer_row, xlsx

pytestmark = pytest.mark.django_db


def write(tmp_path, rows, name="v.xlsx"):
    path = tmp_path / name
    path.write_bytes(xlsx(VOLUNTEER_HEADERS, rows).getvalue())
    return path


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_dry_run_then_import_with_a_report(district, tmp_path):
    path = write(tmp_path, [volunteer_row("甲"), volunteer_row("乙", tel="1")])
    report = tmp_path / "errors.xlsx"
    out = run("import", "volunteers", str(path), "--dry-run", "--as", "excel_district", "--report", str(report))
    assert "预检（未写入）：共2行：可导入1行，跳过0行，有误1行。" in out
    assert "手机号码" in out and Volunteer.objects.count() == 0
    assert read_sheet(report)[1][:4] == (3, "C", "手机号码", "未导入")

    out = run("import", "volunteers", str(path), "--as", "excel_district")
    assert "导入完成：共2行：已导入1行" in out
    assert Volunteer.objects.get().registered_by.username == "excel_district"
    out = run("import", "volunteers", str(path), "--as", "excel_district")
    assert "已导入0行，跳过1行" in out


def test_runs_as_the_first_superuser_by_default(district, tmp_path):
    path = write(tmp_path, [volunteer_row("甲")])
    with pytest.raises(CommandError, match="--as"):
        run("import", "volunteers", str(path))
    User.objects.create_superuser("root", password="Root#Pass2024")
    run("import", "volunteers", str(path))
    assert Volunteer.objects.get().registered_by.username == "root"


def test_scope_of_the_account_applies(district, tmp_path):
    path = write(tmp_path, [volunteer_row("本站"), volunteer_row("外站", station="430502002001")])
    out = run("import", "volunteers", str(path), "--as", "excel_station")
    assert "已导入1行" in out and "不在您的管辖范围内" in out


def test_clear_errors(district, tmp_path):
    path = write(tmp_path, [volunteer_row("甲")])
    with pytest.raises(CommandError, match="不存在或已停用"):
        run("import", "volunteers", str(path), "--as", "nobody")
    with pytest.raises(CommandError, match="没有这类台账.*volunteers"):
        run("import", "people", str(path), "--as", "excel_district")
    with pytest.raises(CommandError, match="找不到文件"):
        run("import", "volunteers", str(tmp_path / "missing.xlsx"), "--as", "excel_district")
    bad = tmp_path / "bad.xlsx"
    bad.write_text("姓名,手机\n")
    with pytest.raises(CommandError, match="不是 Excel 工作簿"):
        run("import", "volunteers", str(bad), "--as", "excel_district")
    with pytest.raises(CommandError, match="无权导入"):
        run("import", "volunteers", str(path), "--as", "excel_viewer")


def test_export_masked_and_full(district, tmp_path):
    v = district.volunteer("甲")
    out_path = tmp_path / "out.xlsx"
    out = run("export", "volunteers", str(out_path), "--as", "excel_district")
    assert "已导出志愿者1条（证件号码、手机号码已脱敏）" in out
    assert read_sheet(out_path)[1][2] == v.id_number_masked
    out = run("export", "volunteers", str(out_path), "--as", "excel_district", "--full")
    assert "完整号码" in out and read_sheet(out_path)[1][2] == v.plain_id
    assert AuditEntry.objects.filter(action="volunteer.export").count() == 2
    with pytest.raises(CommandError, match="无权导出完整"):
        run("export", "volunteers", str(out_path), "--as", "excel_viewer", "--full")
    out = run("export", "volunteers", str(out_path), "--as", "excel_district", "--node", "430502002000")
    assert "已导出志愿者0条" in out
    with pytest.raises(CommandError, match="不在您的管辖范围内"):
        run("export", "volunteers", str(out_path), "--as", "excel_station", "--node", "430502002000")


def test_export_other_ledgers(district, tmp_path):
    out_path = tmp_path / "nodes.xlsx"
    assert "已导出实践组织5条" in run("export", "nodes", str(out_path), "--as", "excel_district")
    assert read_sheet(out_path)[1][3] == "430502000000"
