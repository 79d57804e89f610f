"""Exporting ledgers: the same columns as the import, masked unless asked (and allowed), audited,
scoped, numbers as numbers and dates as dates — checked cell by cell in the file written."""

from datetime import date
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from wenming.core.errors import Forbidden
from wenming.core.excel import export_workbook, get_dataset, node_within, run_import
from wenming.core.models import AuditEntry
from wenming.org.models import Site
from wenming.people.models import Team

from .conftest import id_number

pytestmark = pytest.mark.django_db


def export(name, user, **kw):
    out = BytesIO()
    count = export_workbook(get_dataset(name), user, out, **kw)
    out.seek(0)
    return count, load_workbook(out)


def cells(wb):
    return list(wb.worksheets[0].iter_rows())


def test_volunteer_export_masked_cell_by_cell(district):
    number = id_number(date(1990, 5, 17), seq=123)
    v = district.volunteer("王小明", number=number, tel="13912345678", political_status="cpc",
                           skills=[district.skills["文艺演出"], district.skills["医疗护理"]], availability=["weekend"])
    count, wb = export("volunteers", district.district)
    assert count == 1
    ws = wb.worksheets[0]
    assert ws.title == "志愿者"
    header, row = cells(wb)
    assert [c.value for c in header] == [c.header for c in get_dataset("volunteers").columns]
    values = {h.value: c for h, c in zip(header, row, strict=True)}
    assert values["志愿者编号"].value == v.number and values["志愿者编号"].data_type == "s"
    assert values["姓名"].value == "王小明"
    assert values["身份证号码"].value == number[:6] + "********" + number[-4:]
    assert values["性别"].value == "男"
    assert values["出生日期"].value is None  # masked: the birth date is the digits the mask hides
    assert values["手机号码"].value == "139****5678"
    assert values["所属实践站区划代码"].value == "430502001001" and values["所属实践站区划代码"].data_type == "s"
    assert values["所属实践站"].value == "东风社区新时代文明实践站"
    assert values["政治面貌"].value == "中共党员"
    assert values["技能"].value == "医疗护理、文艺演出"  # in the configured order
    assert values["可服务时间"].value == "周末"
    assert values["监护人姓名"].value is None and values["监护人电话"].value is None
    assert values["已书面同意"].value == "是"
    created = timezone.localtime(v.created_at).replace(tzinfo=None, microsecond=0)
    assert values["注册时间"].value == created and values["注册时间"].is_date
    assert values["来源"].value == "管理员录入"
    entry = AuditEntry.objects.get(action="volunteer.export")
    assert entry.actor == district.district and entry.note == "Excel导出志愿者1条，脱敏"


def test_full_export_shows_numbers_and_is_audited(district):
    number = id_number()
    district.volunteer("甲", number=number, tel="13912345678")
    _, wb = export("volunteers", district.district, full=True)
    header, row = cells(wb)
    values = {h.value: c.value for h, c in zip(header, row, strict=True)}
    assert values["身份证号码"] == number and values["手机号码"] == "13912345678"
    assert AuditEntry.objects.get(action="volunteer.export").note == "Excel导出志愿者1条，完整号码"


def test_only_roles_that_may_reveal_get_full_numbers(district):
    district.volunteer("甲")
    with pytest.raises(Forbidden):
        export("volunteers", district.viewer, full=True)
    count, wb = export("volunteers", district.viewer)  # masked is fine for a viewer
    assert count == 1
    with pytest.raises(Forbidden):
        export("volunteers", district.volunteer_user)
    assert AuditEntry.objects.filter(action="volunteer.export").count() == 1


def test_export_is_scoped_and_can_be_limited_to_a_subtree(district):
    district.volunteer("本站")
    district.volunteer("外站", station=district.station2)
    count, wb = export("volunteers", district.station_admin)
    assert count == 1 and cells(wb)[1][1].value == "本站"
    count, _ = export("volunteers", district.district, within=node_within(district.district, "430502002000"))
    assert count == 1
    from wenming.core.errors import NotFound

    with pytest.raises(NotFound):
        node_within(district.station_admin, "430502002001")


def test_full_export_imports_back_as_already_registered(district):
    for i in range(3):
        district.volunteer(f"人{i}", skills=[district.skills["医疗护理"]])
    out = BytesIO()
    export_workbook(get_dataset("volunteers"), district.district, out, full=True)
    out.seek(0)
    report = run_import(get_dataset("volunteers"), district.district, out)
    assert (report.total, report.imported, report.skipped, report.errors) == (3, 0, 3, [])


def test_many_volunteers_with_skills_export_in_chunks(district, monkeypatch):
    from wenming.people import datasets

    monkeypatch.setattr(datasets, "CHUNK", 3)
    for i in range(7):
        district.volunteer(f"人{i}", skills=[district.skills["理论宣讲"]] if i % 2 else [])
    count, wb = export("volunteers", district.district)
    assert count == 7
    rows = [[c.value for c in r] for r in cells(wb)[1:]]
    assert [r[1] for r in rows] == [f"人{i}" for i in range(7)]
    assert [r[9] for r in rows] == [("理论宣讲" if i % 2 else None) for i in range(7)]


def test_team_export_numbers_as_numbers_and_text_never_a_formula(district):
    leader = district.volunteer("队长")
    team = Team.objects.create(node=district.station, name="红色宣讲队", platform=district.platform, leader=leader,
                               capacity=7, description="=HYPERLINK(\"http://evil\",\"点我\")")
    team.skills.set([district.skills["理论宣讲"]])
    team.members.add(leader)
    _, wb = export("teams", district.district)
    header, row = cells(wb)
    values = {h.value: c for h, c in zip(header, row, strict=True)}
    assert values["所属组织区划代码"].value == "430502001001"
    assert values["队伍名称"].value == "红色宣讲队" and values["所属平台"].value == "传思想习理论"
    assert values["队长志愿者编号"].value == leader.number and values["队长姓名"].value == "队长"
    assert values["服务专长"].value == "理论宣讲"
    assert values["可同时承接需求数"].value == 7 and values["可同时承接需求数"].data_type == "n"
    assert values["队员人数"].value == 1
    assert values["简介"].data_type == "s" and values["简介"].value.startswith("=HYPERLINK")
    assert AuditEntry.objects.get(action="team.export").note == "Excel导出志愿服务队1条"


def test_site_export(district):
    Site.objects.create(node=district.station, name="道德讲堂", kind="moral_hall", address="东风路1号",
                        lat=27.25, lng=111.48, radius_m=200)
    _, wb = export("sites", district.district)
    header, row = cells(wb)
    assert [c.value for c in row] == ["430502001001", "东风社区新时代文明实践站", "道德讲堂", "道德讲堂", "东风路1号",
                                      27.25, 111.48, 200]
    assert row[5].data_type == "n" and row[7].data_type == "n"


def test_node_export_in_tree_order_with_parents(district):
    district.station.is_demonstration = True
    district.station.save()
    _, wb = export("nodes", district.district)
    rows = [[c.value for c in r] for r in cells(wb)]
    assert rows[0] == ["上级区划代码", "名称", "类型", "区划代码", "负责书记", "联系电话", "地址", "纬度", "经度", "示范点"]
    assert [(r[0], r[3], r[2], r[9]) for r in rows[1:]] == [
        (None, "430502000000", "新时代文明实践中心", "否"),
        ("430502000000", "430502001000", "新时代文明实践所", "否"),
        ("430502001000", "430502001001", "新时代文明实践站", "是"),
        ("430502000000", "430502002000", "新时代文明实践所", "否"),
        ("430502002000", "430502002001", "新时代文明实践站", "否"),
    ]
    # An institute admin's export starts at their institute, whose parent is named all the same.
    _, wb = export("nodes", district.institute_admin)
    assert [(r[0].value, r[3].value) for r in cells(wb)[1:]] == [("430502000000", "430502001000"),
                                                                 ("430502001000", "430502001001")]


def test_node_export_imports_back_as_skipped(district):
    out = BytesIO()
    export_workbook(get_dataset("nodes"), district.district, out)
    out.seek(0)
    report = run_import(get_dataset("nodes"), district.district, out)
    assert (report.total, report.imported, report.skipped, report.errors) == (5, 0, 5, [])


def test_header_row_is_frozen_and_text_columns_are_text(district):
    district.volunteer("甲")
    _, wb = export("volunteers", district.district)
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].number_format == "@"  # 身份证号码
    assert ws["A1"].font.b
