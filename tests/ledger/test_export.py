"""The service records as an Excel ledger: export only, recorded hours and corrections marked,
scoped; importing it is refused everywhere (hours are never typed in from a file)."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from wenming.core.errors import Forbidden
from wenming.core.excel import export_workbook, get_dataset, run_import
from wenming.ledger.services import approve_hours_request, request_adjustment

from .helpers import recorded, settle


def export(user):
    out = BytesIO()
    count = export_workbook(get_dataset("service_records"), user, out)
    out.seek(0)
    ws = load_workbook(out).worksheets[0]
    header, *rows = [[c.value for c in row] for row in ws.iter_rows()]
    return count, [dict(zip(header, r, strict=True)) for r in rows]


def test_export_marks_recorded_hours_and_corrections(tree):
    verified = settle(tree.admin, tree.zhang, tree.station, 1)
    recorded(tree.admin, tree.admin2, tree.zhang, tree.station, 90, day=7)
    approve_hours_request(tree.admin2, request_adjustment(tree.admin, verified, minutes=-30, reason="签退时间有误"))
    settle(tree.admin, tree.wang, tree.other_station, 2)

    count, rows = export(tree.admin)
    assert count == 4
    zhang = [r for r in rows if r["姓名"] == "张三"]
    assert [(r["序号"], r["时长类型"], r["时长（小时）"], r["更正"]) for r in zhang] == [
        (1, "核验时长", 2, None), (2, "补录时长", 1.5, None), (3, "核验时长", -0.5, "更正第1条")]
    assert zhang[1]["审批人"] == tree.admin2.display_name and zhang[1]["记录人"] == tree.admin.display_name
    assert all(len(r["记录哈希"]) == 64 for r in rows)

    # Scoped: an admin of the other station sees only that station's records.
    count, rows = export(tree.far_admin)
    assert count == 1 and rows[0]["姓名"] == "王五"


def test_service_records_cannot_be_imported(tree, client):
    dataset = get_dataset("service_records")
    assert not dataset.importable
    wb, out = Workbook(), BytesIO()
    wb.active.append([c.header for c in dataset.columns])
    wb.save(out)
    out.seek(0)
    with pytest.raises(Forbidden) as exc:
        run_import(dataset, tree.admin, out)
    assert exc.value.code == "export_only"

    client.force_login(tree.admin)
    for name in ("excel:import", "excel:template"):
        response = client.get(reverse(name, args=["service_records"]))
        assert response.status_code == 404 and "只能导出" in response.content.decode()
    index = client.get(reverse("excel:index")).content.decode()
    assert "志愿服务记录" in index
    assert reverse("excel:import", args=["service_records"]) not in index
    assert reverse("excel:export", args=["service_records"]) in index
