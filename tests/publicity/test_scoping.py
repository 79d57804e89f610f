"""Who sees and who changes which reports: every role of the world against every organisation
(the world built once for the module, each test in its own savepoint)."""

from datetime import date

import pytest

from wenming.core.errors import Forbidden, NotFound
from wenming.publicity import queries, services
from wenming.publicity.models import MediaReport

from .conftest import data, make_report

LEVELS = ["district", "city", "province", "central", "district", "city"]


def test_every_role_writes_only_within_its_reach(module_world):
    w = module_world
    for role in w.ROLES:
        for key in w.NODE_KEYS:
            node = w.nodes[key]
            allowed = role in w.WRITERS and key in w.REACH[role]
            if allowed:
                report = services.create_report(w.user(role), data(node, title=f"{role}-{key}"))
                assert report.node == node and report.created_by == w.user(role)
            else:
                with pytest.raises(Forbidden) as caught:
                    services.create_report(w.user(role), data(node, title=f"{role}-{key}"))
                assert caught.value.code in {"role_forbidden", "out_of_scope"}
                assert caught.value.status == 403
                assert not MediaReport.objects.filter(title=f"{role}-{key}").exists()


def test_every_role_changes_and_removes_only_within_its_reach(module_world):
    w = module_world
    reports = {key: make_report(w.nodes[key], f"{key}报道") for key in w.NODE_KEYS}
    for role in w.ROLES:
        for key, report in reports.items():
            allowed = role in w.WRITERS and key in w.REACH[role]
            if allowed:
                changed = services.update_report(w.user(role), report, note=f"{role}改")
                assert changed.note == f"{role}改"
            else:
                with pytest.raises(Forbidden):
                    services.update_report(w.user(role), report, note="不该改")
                with pytest.raises(Forbidden):
                    services.delete_report(w.user(role), report)
    for report in reports.values():
        report.refresh_from_db()
        assert report.note != "不该改"
    services.delete_report(w.user("station_admin"), reports["S11"])
    assert not MediaReport.objects.filter(pk=reports["S11"].pk).exists()


def test_every_role_reads_only_within_its_reach(module_world):
    w = module_world
    reports = {key: make_report(w.nodes[key], f"{key}报道", level=level)
               for key, level in zip(w.NODE_KEYS, LEVELS, strict=True)}
    for role in w.ROLES:
        user = w.user(role)
        expected = {reports[key].pk for key in w.REACH[role]}
        assert set(queries.reports_for(user).values_list("pk", flat=True)) == expected, role
        counts = queries.counts_for(user)
        assert counts["total"] == len(expected)
        for level in ("district", "city", "province", "central"):
            assert counts[level] == sum(1 for key in w.REACH[role] if reports[key].level == level), (role, level)
        for key, report in reports.items():
            if key in w.REACH[role]:
                assert queries.report_for(user, report.pk) == report
            else:
                with pytest.raises(NotFound):
                    queries.report_for(user, report.pk)
    # An id that does not exist looks the same as one out of reach.
    with pytest.raises(NotFound) as caught:
        queries.report_for(w.user("station_admin"), 10**12)
    assert caught.value.message == "记录不存在或不在您的管辖范围内。"


def test_filters_and_counts_per_level(module_world):
    w = module_world
    make_report(w.S11, "东风社区：志愿服务暖人心", level="district", published_on=date(2024, 5, 1), outlet="双清发布")
    make_report(w.S11, "东风社区：七彩假期", level="city", published_on=date(2025, 7, 20), outlet="邵阳日报")
    make_report(w.S12, "光明社区：邻里守望", level="province", published_on=date(2025, 8, 2), outlet="湖南日报")
    make_report(w.S21, "东站社区：文明出行", level="central", published_on=date(2025, 12, 31), outlet="新华网")
    admin = w.district_admin
    F = queries.ReportFilters

    def titles(f):
        return sorted(queries.reports_for(admin, f).values_list("title", flat=True))

    assert titles(F(year=2025)) == ["东站社区：文明出行", "东风社区：七彩假期", "光明社区：邻里守望"]
    assert titles(F(node=w.I1)) == ["东风社区：七彩假期", "东风社区：志愿服务暖人心", "光明社区：邻里守望"]
    assert titles(F(q="日报")) == ["东风社区：七彩假期", "光明社区：邻里守望"]
    assert titles(F(q="七彩")) == ["东风社区：七彩假期"]
    assert titles(F(level="central")) == ["东站社区：文明出行"]
    assert titles(F(published_after=date(2025, 7, 20), published_before=date(2025, 8, 2))) == [
        "东风社区：七彩假期", "光明社区：邻里守望"]
    # The counts beside a list filtered by level are those of every level.
    counts = queries.counts_for(admin, F(level="central", node=w.I1))
    assert counts == {"district": 1, "city": 1, "province": 1, "central": 0, "total": 3}
    assert queries.years_for(admin) == [2025, 2024]
    assert queries.years_for(w.station_admin) == [2025, 2024]
    assert queries.years_for(w.volunteer) == []
    # Newest first.
    assert [r.published_on.year for r in queries.reports_for(admin)] == [2025, 2025, 2025, 2024]


def test_activities_and_brands_offered_follow_the_reach(module_world):
    from .conftest import make_activity, make_brand

    w = module_world
    acts = {k: make_activity(w.nodes[k], f"{k}活动") for k in w.NODE_KEYS}
    brands = {k: make_brand(w.nodes[k], f"{k}品牌") for k in w.NODE_KEYS}
    station = w.station_admin
    assert {a.pk for a in queries.activities_to_link(station)} == {acts["S11"].pk}
    assert {a.pk for a in queries.activities_to_link(w.institute_admin, node=w.S11)} == {acts["I1"].pk,
                                                                                          acts["S11"].pk}
    assert {a.pk for a in queries.activities_to_link(w.district_admin, text="S2")} == {acts["S21"].pk}
    assert {b.pk for b in queries.brands_to_link(station)} == {brands["C"].pk, brands["I1"].pk, brands["S11"].pk}
    assert not queries.brands_to_link(w.volunteer).exists()
    assert queries.brands_to_link(w.district_admin).count() == len(w.NODE_KEYS)
