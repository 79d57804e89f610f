"""Importing org nodes, sites and teams: through the services, in reach only, idempotent, row by row."""

import pytest

from wenming.core.excel import get_dataset, run_import
from wenming.core.models import AuditEntry, OrgNode
from wenming.org.models import Site
from wenming.people.models import Team

from .conftest import xlsx

pytestmark = pytest.mark.django_db

NODE_HEADERS = ["上级区划代码", "名称", "类型", "区划代码", "负责书记", "联系电话", "地址", "纬度", "经度", "示范点"]
SITE_HEADERS = ["所属组织区划代码", "所属组织", "阵地名称", "类型", "地址", "纬度", "经度", "签到半径（米）"]
TEAM_HEADERS = ["所属组织区划代码", "所属组织", "队伍名称", "所属平台", "公益组织统一社会信用代码", "队长志愿者编号",
                "服务专长", "可同时承接需求数", "简介"]


def run(name, user, headers, rows, **kw):
    return run_import(get_dataset(name), user, xlsx(headers, rows), **kw)


def errors(report):
    return [(e.row, e.column, e.message) for e in report.errors]


# --- Nodes -------------------------------------------------------------------------------------

NEW_NODES = [
    ["430502000000", "新华街道新时代文明实践所", "所", "430502003000", "王书记", "0739-1234567", "新华路1号", 27.2, 111.4, "否"],
    ["430502003000", "新华社区新时代文明实践站", "新时代文明实践站", "430502003001", "李书记", "", "", None, None, "是"],
]


def test_nodes_parent_then_child_in_one_file(district):
    report = run("nodes", district.district, NODE_HEADERS, NEW_NODES)
    assert (report.imported, report.errors) == (2, [])
    institute = OrgNode.objects.get(division_code="430502003000")
    station = OrgNode.objects.get(division_code="430502003001")
    assert institute.kind == "institute" and institute.get_parent() == district.centre
    assert institute.secretary == "王书记" and institute.contact_phone == "0739-1234567" and institute.lat == 27.2
    assert station.kind == "station" and station.get_parent() == institute and station.is_demonstration
    assert AuditEntry.objects.filter(action="org.create").count() == 2
    assert AuditEntry.objects.filter(action="org.import").count() == 1


def test_nodes_dry_run_sees_parents_from_earlier_rows_and_writes_nothing(district):
    before = OrgNode.objects.count()
    report = run("nodes", district.district, NODE_HEADERS, NEW_NODES, dry_run=True)
    assert (report.imported, report.errors) == (2, [])
    assert OrgNode.objects.count() == before
    assert not AuditEntry.objects.filter(action__startswith="org.").exists()


def test_nodes_reimport_is_skipped(district):
    run("nodes", district.district, NODE_HEADERS, NEW_NODES)
    report = run("nodes", district.district, NODE_HEADERS, NEW_NODES)
    assert (report.imported, report.skipped) == (0, 2)
    assert [s.message for s in report.skips] == ["区划代码已存在，跳过。"] * 2


def test_node_rows_are_checked(district):
    rows = [
        ["430502000000", "错级", "站", "430502004001", "", "", "", None, None, ""],  # under a centre comes an institute
        ["430502000000", "错码", "所", "430502004002", "", "", "", None, None, ""],  # a station's code for an institute
        ["430502009000", "无上级", "站", "430502009001", "", "", "", None, None, ""],
        ["430502001001", "站下", "站", "430502001009", "", "", "", None, None, ""],
        ["430502000000", "半个坐标", "所", "430502005000", "", "", "", 27.1, None, ""],
        ["430502000000", "坏坐标", "所", "430502006000", "", "", "", 95, 111, ""],
        ["430502000000", "不是布尔", "所", "430502007000", "", "", "", None, None, "也许"],
        ["430502000000", "不是代码", "所", "4305020", "", "", "", None, None, ""],
    ]
    report = run("nodes", district.district, NODE_HEADERS, rows)
    assert report.imported == 0
    got = errors(report)
    assert got[0] == (2, "类型", "上级是新时代文明实践中心，本行类型应为“新时代文明实践所”。")
    assert got[1][:2] == (3, "区划代码") and "不符" in got[1][2]
    assert got[2][:2] == (4, "上级区划代码") and "找不到" in got[2][2]
    assert got[3] == (5, "上级区划代码", "实践站之下不能再设下级组织。")
    assert got[4] == (6, "经度", "经纬度须同时填写或同时留空。")
    assert got[5] == (7, "纬度", "须在-90至90之间。")
    assert got[6][:2] == (8, "示范点") and "是" in got[6][2]
    assert got[7] == (9, "区划代码", "区划代码须为12位数字（统计用区划代码）。")


def test_node_import_is_scoped(district):
    rows = [
        ["430502001000", "本所新站", "站", "430502001002", "", "", "", None, None, ""],
        ["430502002000", "别所新站", "站", "430502002002", "", "", "", None, None, ""],
        ["430502000000", "汽车站街道新时代文明实践所", "所", "430502002000", "", "", "", None, None, ""],
    ]
    report = run("nodes", district.institute_admin, NODE_HEADERS, rows)
    assert report.imported == 1
    assert errors(report) == [(3, "上级区划代码", "该组织不在您的管辖范围内。"),
                              (4, "区划代码", "该区划代码的组织已存在，且不在您的管辖范围内。")]
    assert not OrgNode.objects.filter(division_code="430502002002").exists()


def test_duplicate_node_rows_in_one_file(district):
    report = run("nodes", district.district, NODE_HEADERS, [NEW_NODES[0], NEW_NODES[0]])
    assert report.imported == 1 and errors(report) == [(3, "", "与第2行重复，本行未导入。")]


# --- Sites -------------------------------------------------------------------------------------


def test_sites_import_skip_and_errors(district):
    rows = [
        ["430502001001", "东风社区新时代文明实践站", "东风道德讲堂", "道德讲堂", "东风路1号", 27.25, 111.48, 200],
        ["430502001001", "", "东风广场", "文化广场", "", None, None, None],
        ["430502001001", "", "怪地方", "太空站", "", None, None, None],
        ["430502001001", "", "大半径", "公园", "", None, None, 99999],
        ["430502009999", "", "无组织", "公园", "", None, None, None],
    ]
    report = run("sites", district.district, SITE_HEADERS, rows)
    assert report.imported == 2
    got = errors(report)
    assert got[0][:2] == (4, "类型") and "太空站" in got[0][2] and "道德讲堂" in got[0][2]
    assert got[1] == (5, "签到半径（米）", "须在10至5000之间。")
    assert got[2] == (6, "所属组织区划代码", "找不到区划代码为430502009999的组织。")
    site = Site.objects.get(name="东风道德讲堂")
    assert (site.kind, site.radius_m, site.lat, site.node) == ("moral_hall", 200, 27.25, district.station)
    assert Site.objects.get(name="东风广场").radius_m == 300
    again = run("sites", district.district, SITE_HEADERS, rows[:2])
    assert (again.imported, again.skipped) == (0, 2)
    assert again.skips[0].message == "本组织下已有同名阵地，跳过。"


def test_station_admin_imports_sites_only_in_reach(district):
    rows = [["430502001001", "", "本站讲堂", "道德讲堂", "", None, None, None],
            ["430502002001", "", "别站讲堂", "道德讲堂", "", None, None, None],
            ["430502001000", "", "上级讲堂", "道德讲堂", "", None, None, None]]
    report = run("sites", district.station_admin, SITE_HEADERS, rows)
    assert report.imported == 1
    assert [(r, c) for r, c, _ in errors(report)] == [(3, "所属组织区划代码"), (4, "所属组织区划代码")]
    assert all("不在您的管辖范围内" in m for _, _, m in errors(report))
    assert list(Site.objects.values_list("name", flat=True)) == ["本站讲堂"]


# --- Teams -------------------------------------------------------------------------------------


def test_teams_import_with_platform_leader_and_skills(district):
    leader = district.volunteer("队长")
    rows = [["430502001001", "", "红色宣讲队", "传思想习理论", "", leader.number, "理论宣讲、文艺演出", 8, "简介"],
            ["430502001000", "", "所级服务队", "", "", "", "", None, ""]]
    report = run("teams", district.district, TEAM_HEADERS, rows)
    assert (report.imported, report.errors) == (2, [])
    team = Team.objects.get(name="红色宣讲队")
    assert team.node == district.station and team.platform == district.platform and team.leader == leader
    assert team.capacity == 8 and team.description == "简介"
    assert sorted(s.name for s in team.skills.all()) == ["文艺演出", "理论宣讲"]
    assert list(team.members.all()) == [leader]
    assert Team.objects.get(name="所级服务队").capacity == 5
    again = run("teams", district.district, TEAM_HEADERS, rows)
    assert (again.imported, again.skipped) == (0, 2)


def test_team_rows_are_checked(district):
    outsider = district.volunteer("外所队员", station=district.station2)
    rows = [
        ["430502001001", "", "甲队", "不存在的平台", "", "", "", None, ""],
        ["430502001001", "", "乙队", "", "", "43050200000000", "", None, ""],
        ["430502001001", "", "丙队", "", "", outsider.number, "", None, ""],
        ["430502001001", "", "丁队", "", "91430502MA4L000000", "", "", None, ""],
        ["430502001001", "", "戊队", "", "", "", "", 0, ""],
        ["430502001001", "", "己队", "", "", "", "", 2.5, ""],
        ["430502001001", "错名", "庚队", "", "", "", "", None, ""],
        ["430502001001", "", "辛队", "", "", "", "", None, "长" * 2001],
    ]
    report = run("teams", district.district, TEAM_HEADERS, rows)
    assert report.imported == 0
    got = errors(report)
    assert got[0][:2] == (2, "所属平台") and "传思想习理论" in got[0][2]
    assert got[1][:2] == (3, "队长志愿者编号") and "找不到" in got[1][2]
    assert got[2] == (4, "队长志愿者编号", "队长须是本组织辖区内的志愿者。")
    assert got[3][:2] == (5, "公益组织统一社会信用代码")
    assert got[4] == (6, "可同时承接需求数", "须在1至999之间。")
    assert got[5] == (7, "可同时承接需求数", "须为整数。")
    assert got[6][:2] == (8, "所属组织") and "东风社区新时代文明实践站" in got[6][2]
    assert got[7] == (9, "简介", "内容过长（2001字），不能超过2000字。")


def test_station_admin_cannot_import_teams_elsewhere(district):
    rows = [["430502002001", "", "别站队", "", "", "", "", None, ""]]
    report = run("teams", district.station_admin, TEAM_HEADERS, rows)
    assert report.imported == 0 and "不在您的管辖范围内" in report.errors[0].message
    assert report.errors[0].column == "所属组织区划代码"


def test_a_team_row_failing_in_the_service_leaves_nothing(district, monkeypatch):
    """create_team writes the team, then its skills; a failure after the insert undoes the row."""
    from wenming.core import audit

    real = audit.record

    def record(actor, action, obj=None, **kw):
        if action == "team.create" and obj.name == "坏队":
            raise RuntimeError("audit down")
        return real(actor, action, obj, **kw)

    monkeypatch.setattr(audit, "record", record)
    rows = [["430502001001", "", "好队", "", "", "", "理论宣讲", None, ""],
            ["430502001001", "", "坏队", "", "", "", "理论宣讲", None, ""]]
    report = run("teams", district.district, TEAM_HEADERS, rows)
    assert report.imported == 1 and errors(report) == [(3, "", "该行保存时发生内部错误，未写入任何数据。")]
    assert list(Team.objects.values_list("name", flat=True)) == ["好队"]
    assert Team.skills.through.objects.count() == 1
