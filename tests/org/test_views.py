"""The organisation console pages: rendering, reach (404), permissions (403), round-trips
with their audit entries, Chinese errors on bad input, escaping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.org.conftest import credit_code
from wenming.core.models import AuditEntry, Department, OrgNode
from wenming.org.home import org_cards
from wenming.org.models import ContactPoint, GuidanceVisit, Platform, Site, SocialOrganization

pytestmark = pytest.mark.django_db


def pages(ow):
    """Every GET page of the org console, for a manager whose reach holds all of `ow`."""
    return [
        reverse("org:tree"),
        reverse("org:tree") + "?q=五一",
        reverse("org:node", args=[ow.c.pk]),
        reverse("org:node", args=[ow.i1.pk]),
        reverse("org:node", args=[ow.s11.pk]),
        reverse("org:node_add", args=[ow.i1.pk]),
        reverse("org:node_edit", args=[ow.s11.pk]),
        reverse("org:platforms"),
        reverse("org:platform_add"),
        reverse("org:platform_edit", args=[ow.platform.pk]),
        reverse("org:department_add"),
        reverse("org:social_orgs"),
        reverse("org:social_org_add"),
        reverse("org:social_org_edit", args=[ow.org_i1.pk]),
        reverse("org:sites"),
        reverse("org:sites") + f"?kind=moral_hall&node={ow.i1.pk}",
        reverse("org:site", args=[ow.site11.pk]),
        reverse("org:site_add"),
        reverse("org:site_add") + f"?node={ow.s11.pk}",
        reverse("org:site_edit", args=[ow.site11.pk]),
        reverse("org:contact_points"),
        reverse("org:contact_points") + "?overdue=1",
        reverse("org:contact_point", args=[ow.cp_s11.pk]),
        reverse("org:contact_point_add"),
        reverse("org:contact_point_edit", args=[ow.cp_s11.pk]),
    ]


def test_every_page_renders_for_the_district_admin(ow, client_for):
    client = client_for(ow.district)
    for url in pages(ow):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<html" in response.content.decode()


def test_pages_need_a_login(ow, client):
    response = client.get(reverse("org:sites"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_tree_shows_the_reach_only(ow, client_for):
    html = client_for(ow.inst1).get(reverse("org:tree")).content.decode()
    assert "龙泉街道新时代文明实践所" in html and "五一社区新时代文明实践站" in html
    assert "东风" not in html and "双清区新时代文明实践中心" not in html
    html = client_for(ow.district).get(reverse("org:tree")).content.decode()
    for node in (ow.c, ow.i1, ow.i2, ow.s11, ow.s12, ow.s21):
        assert node.name in html and node.division_code in html
    assert "王书记" in html and "示范点" in html


def test_tree_counts_volunteers_and_teams_of_the_subtree(ow, client_for):
    from wenming.org import queries
    from wenming.people.models import Team

    Team.objects.create(name="五一社区理论宣讲队", node=ow.s11)
    Team.objects.create(name="龙泉街道文艺队", node=ow.i1)
    Team.objects.create(name="东风志愿队", node=ow.s21)
    (top,) = queries.org_tree(ow.district)
    assert top.team_total == 3 and top.station_total == 3
    i1 = next(n for n in top.children_list if n.pk == ow.i1.pk)
    assert i1.team_total == 2 and i1.station_total == 2
    assert next(n for n in i1.children_list if n.pk == ow.s11.pk).team_total == 1
    html = client_for(ow.district).get(reverse("org:node", args=[ow.i1.pk])).content.decode()
    assert "2 支（本级 1 支）" in html


def test_tree_search_by_name_and_division_code(ow, client_for):
    client = client_for(ow.district)
    html = client.get(reverse("org:tree"), {"q": "五一"}).content.decode()
    assert "五一社区新时代文明实践站" in html and "龙泉街道新时代文明实践所" in html  # its parent is shown
    assert "东风社区" not in html
    html = client.get(reverse("org:tree"), {"q": "430502002"}).content.decode()
    assert "东风社区新时代文明实践站" in html and "五一社区" not in html
    # The search stays within reach.
    html = client_for(ow.inst1).get(reverse("org:tree"), {"q": "东风"}).content.decode()
    assert "东风社区新时代文明实践站" not in html and "没有找到" in html
    # A hostile query is cut and escaped, never a crash.
    response = client.get(reverse("org:tree"), {"q": "<script>" + "x" * 5000})
    assert response.status_code == 200 and "<script>x" not in response.content.decode()


def test_volunteer_role_has_no_console_reach(ow, client_for):
    client = client_for(ow.volunteer)
    assert "您的管辖范围内没有实践组织" in client.get(reverse("org:tree")).content.decode()
    assert "没有符合条件的阵地" in client.get(reverse("org:sites")).content.decode()
    assert client.get(reverse("org:node", args=[ow.s11.pk])).status_code == 404
    assert client.get(reverse("org:site_add")).status_code == 403
    assert org_cards(ow.volunteer) == []


@pytest.mark.parametrize("name,args", [
    ("org:node", "i2"), ("org:node_edit", "i2"), ("org:node_add", "i2"), ("org:node", "c"),
    ("org:site", "site21"), ("org:site_edit", "site21"),
    ("org:social_org_edit", "org_i2"),
    ("org:contact_point", "cp_i2"), ("org:contact_point_edit", "cp_i2"),
])
def test_an_id_outside_reach_is_a_404_like_a_missing_one(ow, client_for, name, args):
    client = client_for(ow.inst1)
    outside = client.get(reverse(name, args=[getattr(ow, args).pk]))
    missing = client.get(reverse(name, args=[987654321]))
    assert outside.status_code == missing.status_code == 404
    main = lambda r: r.content.decode().split('<main class="content">')[1].split("</main>")[0]  # noqa: E731
    assert main(outside) == main(missing)
    assert "页面不存在" in main(outside)


def test_a_huge_id_is_a_404(ow, client_for):
    client = client_for(ow.district)
    assert client.get(f"/org/nodes/{'9' * 30}/").status_code == 404
    assert client.get(f"/org/sites/{'9' * 20}/edit/").status_code == 404


def test_a_visit_post_outside_reach_is_a_404_and_writes_nothing(ow, client_for):
    response = client_for(ow.station).post(reverse("org:contact_point_visit", args=[ow.cp_i1.pk]),
                                           {"visited_on": ow.today.isoformat(), "summary": "指导"})
    assert response.status_code == 404
    assert not GuidanceVisit.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "department"])
def test_read_only_roles_read_but_cannot_write(ow, client_for, role):
    user = getattr(ow, role)
    client = client_for(user)
    for url in (reverse("org:tree"), reverse("org:node", args=[ow.s11.pk]), reverse("org:platforms"),
                reverse("org:social_orgs"), reverse("org:sites"), reverse("org:site", args=[ow.site11.pk]),
                reverse("org:contact_points"), reverse("org:contact_point", args=[ow.cp_s11.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "/edit/" not in html and "/add/" not in html, url  # no buttons
        assert "登记指导" not in html
    audit_before = AuditEntry.objects.count()
    counts_before = (OrgNode.objects.count(), Site.objects.count(), Platform.objects.count(),
                     Department.objects.count(), SocialOrganization.objects.count(),
                     ContactPoint.objects.count(), GuidanceVisit.objects.count())
    posts = [
        (reverse("org:node_add", args=[ow.i1.pk]), {"name": "新站", "division_code": "430502001009"}),
        (reverse("org:node_edit", args=[ow.s11.pk]), {"name": "改名"}),
        (reverse("org:platform_add"), {"name": "新平台", "lead_department": ow.dept.pk}),
        (reverse("org:platform_edit", args=[ow.platform.pk]), {"name": "改名", "lead_department": ow.dept.pk}),
        (reverse("org:department_add"), {"name": "新部门"}),
        (reverse("org:social_org_add"), {"node": ow.i1.pk, "name": "新组织", "credit_code": credit_code(9)}),
        (reverse("org:social_org_edit", args=[ow.org_i1.pk]), {"name": "改名", "credit_code": credit_code(1)}),
        (reverse("org:site_add"), {"node": ow.s11.pk, "name": "新阵地", "kind": "park", "radius_m": 300}),
        (reverse("org:site_edit", args=[ow.site11.pk]), {"name": "改名", "kind": "park", "radius_m": 300}),
        (reverse("org:contact_point_add"), {"kind": "unit", "node": ow.s12.pk, "party": "某单位",
                                            "frequency_days": 30, "started_on": ow.today.isoformat()}),
        (reverse("org:contact_point_edit", args=[ow.cp_s11.pk]), {"party": "改名", "frequency_days": 7}),
        (reverse("org:contact_point_visit", args=[ow.cp_s11.pk]), {"visited_on": ow.today.isoformat(),
                                                                   "summary": "指导"}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "无权操作" in response.content.decode()
    assert AuditEntry.objects.count() == audit_before
    assert counts_before == (OrgNode.objects.count(), Site.objects.count(), Platform.objects.count(),
                             Department.objects.count(), SocialOrganization.objects.count(),
                             ContactPoint.objects.count(), GuidanceVisit.objects.count())
    ow.s11.refresh_from_db()
    assert ow.s11.name == "五一社区新时代文明实践站"


def test_institute_admin_cannot_touch_district_reference_data(ow, client_for):
    client = client_for(ow.inst1)
    assert client.get(reverse("org:platforms")).status_code == 200
    assert "新建平台" not in client.get(reverse("org:platforms")).content.decode()
    assert client.post(reverse("org:platform_add"), {"name": "新平台", "lead_department": ow.dept.pk}).status_code == 403
    assert client.post(reverse("org:department_add"), {"name": "新部门"}).status_code == 403
    assert not Platform.objects.filter(name="新平台").exists()
    assert not Department.objects.filter(name="新部门").exists()


def test_choosers_offer_only_nodes_in_reach(ow, client_for):
    client = client_for(ow.inst1)
    html = client.get(reverse("org:site_add")).content.decode()
    assert "五一社区新时代文明实践站" in html and "东风社区" not in html
    response = client.post(reverse("org:site_add"), {"node": ow.s21.pk, "name": "越界阵地", "kind": "park",
                                                     "radius_m": 300})
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not Site.objects.filter(name="越界阵地").exists()


# --- Round-trips, each with its audit entry.


def test_create_and_edit_a_station(ow, client_for):
    client = client_for(ow.inst1)
    response = client.post(reverse("org:node_add", args=[ow.i1.pk]), {
        "name": "新华社区新时代文明实践站", "division_code": "430502001003", "secretary": "赵书记",
        "contact_phone": "0739-1234567", "address": "新华路1号", "lat": "27.25", "lng": "111.47",
        "is_demonstration": "on",
    })
    node = OrgNode.objects.get(division_code="430502001003")
    assert response.status_code == 302 and response["Location"] == reverse("org:node", args=[node.pk])
    assert node.kind == "station" and node.is_demonstration and node.secretary == "赵书记"
    assert node.get_parent().pk == ow.i1.pk
    entry = AuditEntry.objects.get(action="org.create", object_id=str(node.pk))
    assert entry.actor == ow.inst1 and entry.after["name"] == "新华社区新时代文明实践站"

    response = client.post(reverse("org:node_edit", args=[node.pk]), {
        "name": "新华社区实践站", "secretary": "钱书记", "lat": "27.25", "lng": "111.47",
    })
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.name == "新华社区实践站" and node.secretary == "钱书记" and not node.is_demonstration
    entry = AuditEntry.objects.get(action="org.update", object_id=str(node.pk))
    assert entry.before["secretary"] == "赵书记" and entry.after["secretary"] == "钱书记"
    html = client.get(reverse("org:node", args=[node.pk])).content.decode()
    assert "新华社区实践站" in html and "钱书记" in html


def test_station_page_offers_no_child(ow, client_for):
    client = client_for(ow.district)
    html = client.get(reverse("org:node", args=[ow.s11.pk])).content.decode()
    assert reverse("org:node_add", args=[ow.s11.pk]) not in html
    response = client.get(reverse("org:node_add", args=[ow.s11.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("code,message", [
    ("430502002009", "不在上级节点"),                 # under the other institute
    ("430502003000", "与节点类型"),                   # an institute's code for a station
    ("43050200100X", "12"),                          # not digits
    ("430502001001", "已被使用"),                     # taken
])
def test_bad_division_code_shows_the_chinese_error_on_the_field(ow, client_for, code, message):
    client = client_for(ow.inst1)
    before = (OrgNode.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("org:node_add", args=[ow.i1.pk]), {"name": "某站", "division_code": code})
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors["division_code"]), form.errors
    assert message in response.content.decode()
    assert (OrgNode.objects.count(), AuditEntry.objects.count()) == before


def test_create_and_edit_a_site(ow, client_for):
    client = client_for(ow.station)
    response = client.post(reverse("org:site_add"), {
        "node": ow.s11.pk, "name": "五一社区文化广场", "kind": "culture_square", "address": "五一路",
        "lat": "27.21", "lng": "111.41", "radius_m": "200",
    })
    site = Site.objects.get(name="五一社区文化广场")
    assert response.status_code == 302 and response["Location"] == reverse("org:site", args=[site.pk])
    assert (site.node_id, site.kind, site.radius_m, site.lat) == (ow.s11.pk, "culture_square", 200, 27.21)
    assert AuditEntry.objects.filter(action="site.create", object_id=str(site.pk), actor=ow.station).exists()

    response = client.post(reverse("org:site_edit", args=[site.pk]), {
        "name": "五一广场", "kind": "square", "address": "", "lat": "", "lng": "", "radius_m": "500",
    })
    assert response.status_code == 302
    site.refresh_from_db()
    assert (site.name, site.kind, site.radius_m, site.lat, site.lng) == ("五一广场", "square", 500, None, None)
    entry = AuditEntry.objects.get(action="site.update", object_id=str(site.pk))
    assert entry.before["name"] == "五一社区文化广场" and entry.after["radius_m"] == 500


def test_site_form_defaults_the_radius_to_300(ow, client_for):
    response = client_for(ow.station).get(reverse("org:site_add"))
    assert response.context["form"]["radius_m"].value() == 300


@pytest.mark.parametrize("data,field,message", [
    ({"lat": "27.2", "lng": ""}, "lat", "经纬度须同时填写或同时留空"),
    ({"lat": "abc", "lng": "111"}, "lat", "输入一个数字"),
    ({"lat": "1e400", "lng": "111"}, "lat", "输入一个数字"),
    ({"lat": "91", "lng": "111"}, "lat", "小于或等于90"),
    ({"radius_m": "5"}, "radius_m", "大于或等于10"),
    ({"radius_m": "9" * 40}, "radius_m", "小于或等于5000"),
    ({"radius_m": "3.5"}, "radius_m", "输入整数"),
    ({"name": "名" * 5000}, "name", "100"),
    ({"name": "   "}, "name", "这个字段是必填项"),
    ({"name": "五一社区道德讲堂"}, "name", "本组织下已有同名阵地"),
    ({"kind": "casino"}, "kind", "选择一个有效的选项"),
    ({"address": "a\x00b"}, "address", "不允许"),
])
def test_bad_site_input_shows_a_chinese_error_and_writes_nothing(ow, client_for, data, field, message):
    client = client_for(ow.station)
    body = {"node": ow.s11.pk, "name": "新阵地", "kind": "park", "radius_m": "300", **data}
    before = (Site.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("org:site_add"), body)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in e for e in errors.get(field, [])), errors
    assert (Site.objects.count(), AuditEntry.objects.count()) == before


def test_create_and_edit_platforms_and_departments(ow, client_for):
    client = client_for(ow.district)
    response = client.post(reverse("org:department_add"), {"name": "区文化旅游体育局", "contact": "陈科长"})
    assert response.status_code == 302
    dept = Department.objects.get(name="区文化旅游体育局")
    assert AuditEntry.objects.filter(action="department.create", object_id=str(dept.pk)).exists()
    response = client.post(reverse("org:platform_add"), {
        "name": "传文化习礼仪", "lead_department": dept.pk, "description": "文化惠民",
    })
    assert response.status_code == 302
    platform = Platform.objects.get(name="传文化习礼仪")
    assert platform.lead_department == dept
    assert AuditEntry.objects.filter(action="platform.create", object_id=str(platform.pk)).exists()
    response = client.post(reverse("org:platform_edit", args=[platform.pk]), {
        "name": "传文化习礼仪", "lead_department": ow.dept.pk, "description": "",
    })
    assert response.status_code == 302
    platform.refresh_from_db()
    assert platform.lead_department == ow.dept and platform.description == ""
    entry = AuditEntry.objects.get(action="platform.update", object_id=str(platform.pk))
    assert entry.before["lead_department"] == "区文化旅游体育局" and entry.after["lead_department"] == "区委宣传部"
    html = client.get(reverse("org:platforms")).content.decode()
    assert "传文化习礼仪" in html and "区文化旅游体育局" in html
    # A duplicate name is refused on the field.
    response = client.post(reverse("org:platform_add"), {"name": "传思想习理论", "lead_department": dept.pk})
    assert "已有同名平台" in response.context["form"].errors["name"][0]
    response = client.post(reverse("org:department_add"), {"name": "区委宣传部"})
    assert "已有同名部门" in response.context["form"].errors["name"][0]


def test_platform_team_counts_stay_within_reach(ow, client_for):
    from wenming.people.models import Team

    Team.objects.create(name="五一宣讲队", node=ow.s11, platform=ow.platform)
    Team.objects.create(name="东风宣讲队", node=ow.s21, platform=ow.platform)
    counts = {p.name: p.team_count for p in client_for(ow.inst1).get(reverse("org:platforms")).context["platforms"]}
    assert counts["传思想习理论"] == 1
    counts = {p.name: p.team_count for p in client_for(ow.district).get(reverse("org:platforms")).context["platforms"]}
    assert counts["传思想习理论"] == 2
    counts = {p.name: p.team_count for p in client_for(ow.volunteer).get(reverse("org:platforms")).context["platforms"]}
    assert counts["传思想习理论"] == 0


def test_create_and_edit_a_social_org(ow, client_for):
    client = client_for(ow.inst1)
    code = credit_code(77)
    response = client.post(reverse("org:social_org_add"), {
        "node": ow.s12.pk, "name": "龙泉社区邻里互助会", "credit_code": code.lower(), "contact": "孙女士",
    })
    assert response.status_code == 302
    org = SocialOrganization.objects.get(name="龙泉社区邻里互助会")
    assert org.credit_code == code and org.node == ow.s12
    assert AuditEntry.objects.filter(action="social_org.create", object_id=str(org.pk)).exists()
    response = client.post(reverse("org:social_org_edit", args=[org.pk]), {
        "name": "龙泉社区邻里互助会", "credit_code": code, "contact": "周先生", "phone": "13800000000",
    })
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.contact == "周先生"
    entry = AuditEntry.objects.get(action="social_org.update", object_id=str(org.pk))
    assert entry.before == {"contact": "孙女士", "phone": ""}
    assert "龙泉社区邻里互助会" in client.get(reverse("org:social_orgs")).content.decode()


@pytest.mark.parametrize("code,message", [
    ("91430502MA4L000010", "统一社会信用代码无效"),   # wrong check digit
    ("12345", "统一社会信用代码无效"),
    ("9" * 200, "18"),
])
def test_bad_credit_code_is_refused(ow, client_for, code, message):
    client = client_for(ow.inst1)
    response = client.post(reverse("org:social_org_add"), {"node": ow.i1.pk, "name": "某组织", "credit_code": code})
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors["credit_code"])
    assert not SocialOrganization.objects.filter(name="某组织").exists()


def test_taken_credit_code_is_refused(ow, client_for):
    response = client_for(ow.inst1).post(reverse("org:social_org_add"), {
        "node": ow.i1.pk, "name": "某组织", "credit_code": credit_code(2)})
    assert "已登记" in response.context["form"].errors["credit_code"][0]


def test_social_orgs_are_scoped(ow, client_for):
    html = client_for(ow.inst1).get(reverse("org:social_orgs")).content.decode()
    assert "龙泉志愿者协会" in html and "东风公益服务中心" not in html


# --- Lists, filters, htmx, pagination.


def test_sites_filter_by_kind_and_node_subtree(ow, client_for):
    Site.objects.create(name="五一公园", kind="park", node=ow.s11)
    Site.objects.create(name="龙泉所广场", kind="square", node=ow.i1)
    client = client_for(ow.district)
    names = lambda r: [s.name for s in r.context["page"]]  # noqa: E731
    assert names(client.get(reverse("org:sites"), {"node": ow.i1.pk})) == ["龙泉所广场", "五一社区道德讲堂", "五一公园"]
    assert names(client.get(reverse("org:sites"), {"kind": "square"})) == ["龙泉所广场", "东风广场"]
    assert names(client.get(reverse("org:sites"), {"kind": "park", "node": ow.s11.pk})) == ["五一公园"]
    # An unknown filter value is a message, not a crash.
    response = client.get(reverse("org:sites"), {"kind": "nope", "node": "abc"})
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    # Another admin's node cannot be used to peek: it is not a valid choice.
    response = client_for(ow.inst1).get(reverse("org:sites"), {"node": ow.i2.pk})
    assert "东风广场" not in response.content.decode()


def test_sites_filter_answers_htmx_with_the_results_only(ow, client_for):
    response = client_for(ow.district).get(reverse("org:sites"), {"kind": "square"},
                                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="site-results")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "东风广场" in html and "五一社区道德讲堂" not in html


def test_sites_are_paginated_by_50(ow, client_for):
    Site.objects.bulk_create(Site(name=f"阵地{i:03d}", kind="park", node=ow.s12) for i in range(60))
    client = client_for(ow.district)
    first = client.get(reverse("org:sites"))
    assert len(first.context["page"].object_list) == 50
    assert "第 1 / 2 页，共 62 条" in first.content.decode()
    second = client.get(reverse("org:sites"), {"page": 2})
    assert len(second.context["page"].object_list) == 12
    assert client.get(reverse("org:sites"), {"page": "abc"}).status_code == 200
    assert client.get(reverse("org:sites"), {"page": "99999"}).status_code == 200


# --- Escaping.


def test_script_in_names_is_escaped_everywhere(ow, client_for):
    evil = "<script>alert(1)</script>"
    client = client_for(ow.district)
    client.post(reverse("org:node_edit", args=[ow.s12.pk]), {"name": evil + "站", "secretary": evil})
    client.post(reverse("org:site_add"), {"node": ow.s12.pk, "name": evil, "kind": "park", "radius_m": 300})
    client.post(reverse("org:contact_point_add"), {"kind": "unit", "node": ow.s12.pk, "party": evil,
                                                   "frequency_days": 30, "started_on": ow.today.isoformat()})
    client.post(reverse("org:social_org_add"), {"node": ow.s12.pk, "name": evil, "credit_code": credit_code(5)})
    site = Site.objects.get(name=evil)
    cp = ContactPoint.objects.get(party=evil)
    assert OrgNode.objects.get(pk=ow.s12.pk).name == evil + "站"
    for url in (reverse("org:tree"), reverse("org:tree") + "?q=script", reverse("org:node", args=[ow.s12.pk]),
                reverse("org:node", args=[ow.i1.pk]), reverse("org:sites"), reverse("org:site", args=[site.pk]),
                reverse("org:contact_points"), reverse("org:contact_point", args=[cp.pk]),
                reverse("org:social_orgs"), reverse("org:site_add")):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


# --- Home cards.


def test_home_cards_count_within_reach(ow, client_for):
    cards = {label: (n, url) for label, n, url in org_cards(ow.inst1)}
    assert cards["实践所"][0] == 1 and cards["实践站"][0] == 2 and cards["阵地"][0] == 1
    assert cards["联系点逾期"] == (0, reverse("org:contact_points") + "?overdue=1")
    cards = {label: n for label, n, _url in org_cards(ow.district)}
    assert (cards["实践所"], cards["实践站"], cards["阵地"]) == (2, 3, 2)
    html = client_for(ow.district).get(reverse("core:home")).content.decode()
    assert "实践站" in html and "联系点逾期" in html


def test_list_pages_do_not_query_per_row(ow, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(ow.district)
    urls = [reverse("org:tree"), reverse("org:tree") + "?q=社区", reverse("org:sites"),
            reverse("org:contact_points"), reverse("org:social_orgs"), reverse("org:platforms")]

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            result.append(len(ctx.captured_queries))
        return result

    before = counts()
    i1 = OrgNode.objects.get(pk=ow.i1.pk)
    for n in range(3, 23):
        station = OrgNode.objects.get(pk=i1.pk).add_child(name=f"新建{n}社区", kind="station",
                                                          division_code=f"4305020010{n:02d}")
        Site.objects.create(name=f"新建{n}广场", kind="square", node=station)
        ContactPoint.objects.create(kind="unit", party=f"单位{n}", node=station)
        SocialOrganization.objects.create(name=f"协会{n}", credit_code=credit_code(100 + n), node=station)
    assert counts() == before
