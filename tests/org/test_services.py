"""The organisation's use cases: nodes of the tree, sites, platforms, social organisations,
contact points and guidance visits — their rules, their scope and their audit entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories as f
from wenming.core import services as core_services
from wenming.core.errors import Conflict, Forbidden, InvalidInput
from wenming.core.models import AuditEntry, OrgNode
from wenming.org import queries, services
from wenming.org.models import ContactPoint, GuidanceVisit, Platform, Site, SocialOrganization

pytestmark = pytest.mark.django_db

READ_ONLY = ["viewer", "department", "team_leader", "volunteer"]


def code(exc_type, fn, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as exc:
        fn(*args, **kwargs)
    assert any("\u4e00" <= c <= "\u9fff" for c in exc.value.message)
    return exc.value.code


# --- Nodes ------------------------------------------------------------------------------------------


def test_build_a_tree(db):
    admin = f.make_user("boss", "district_admin")
    centre = core_services.create_node(admin, None, name="中心", division_code="430502000000")
    admin.scopes.set([centre])
    admin = type(admin).objects.get(pk=admin.pk)
    institute = core_services.create_node(admin, centre, name="所", division_code="430502001000", secretary="王书记")
    station = core_services.create_node(admin, institute, name="站", division_code="430502001001", lat=27.2, lng=111.4)
    assert (centre.kind, institute.kind, station.kind) == ("centre", "institute", "station")
    assert station.get_parent() == institute and institute.get_parent() == centre
    assert institute.secretary == "王书记" and station.lat == 27.2
    assert AuditEntry.objects.filter(action="org.create").count() == 3


def test_one_centre_only_by_the_district_admin(world):
    assert code(Forbidden, core_services.create_node, world.institute_admin, None, name="中心",
                division_code="430503000000") == "role_forbidden"
    assert code(Conflict, core_services.create_node, world.district_admin, None, name="中心",
                division_code="430503000000") == "centre_exists"


def test_nothing_below_a_station(world):
    assert code(InvalidInput, core_services.create_node, world.district_admin, world.S11, name="组",
                division_code="430502001001") == "node_too_deep"


@pytest.mark.parametrize(("parent", "division_code", "expected"), [
    ("C", "430502001001", "division_code_level"),
    ("I1", "430502001000", "division_code_level"),
    ("I1", "430502002009", "division_code_parent"),
    ("C", "430503004000", "division_code_parent"),
    ("I1", "43050200100", "division_code_format"),
    ("I1", "4305020010a1", "division_code_format"),
])
def test_division_code_must_fit_the_place_in_the_tree(world, parent, division_code, expected):
    assert code(InvalidInput, core_services.create_node, world.district_admin, world.nodes[parent], name="新",
                division_code=division_code) == expected


def test_a_division_code_is_used_once(world):
    assert code(Conflict, core_services.create_node, world.district_admin, world.I1, name="重复",
                division_code="430502001002") == "division_code_taken"


@pytest.mark.parametrize("name", ["", "  ", "名" * 101])
def test_node_name_rules(world, name):
    assert code(InvalidInput, core_services.create_node, world.district_admin, world.I1, name=name,
                division_code="430502001009") == "name_invalid"


def test_partial_coordinates_are_refused(world):
    with pytest.raises(InvalidInput):
        core_services.create_node(world.district_admin, world.I1, name="新站", division_code="430502001009", lat=27.0)


def test_nodes_are_created_only_in_reach(world):
    assert code(Forbidden, core_services.create_node, world.institute_admin, world.I2, name="越界",
                division_code="430502002009") == "out_of_scope"
    for role in READ_ONLY:
        with pytest.raises(Forbidden):
            core_services.create_node(world.users[role], world.I1, name="无权", division_code="430502001009")
    assert not OrgNode.objects.filter(division_code__in=["430502002009", "430502001009"]).exists()


def test_update_node_audits_only_what_changed(world):
    core_services.update_node(world.station_admin, world.S11, secretary="李书记", name=world.S11.name,
                              division_code="999999999999")
    world.S11.refresh_from_db()
    assert world.S11.secretary == "李书记"
    assert world.S11.division_code == "430502001001"  # not changeable by an update
    entry = AuditEntry.objects.get(action="org.update")
    assert entry.before == {"secretary": ""} and entry.after == {"secretary": "李书记"}
    with pytest.raises(InvalidInput):
        core_services.update_node(world.station_admin, world.S11, name="  ")
    with pytest.raises(Forbidden):
        core_services.update_node(world.station_admin, world.S12, secretary="越界")


# --- Sites --------------------------------------------------------------------------------------------


def site(world, by="station_admin", node="S11", **over):
    fields = {"name": "东风文化广场", "kind": "culture_square", **over}
    return services.create_site(world.users[by], world.nodes[node], **fields)


def test_create_and_update_a_site(world):
    s = site(world, address="东风路1号", lat=27.24, lng=111.47, radius_m=200)
    assert (s.radius_m, s.lat) == (200, 27.24)
    services.update_site(world.station_admin, s, radius_m=500, address="东风路2号")
    s.refresh_from_db()
    assert s.radius_m == 500
    entry = AuditEntry.objects.get(action="site.update")
    assert entry.after == {"radius_m": 500, "address": "东风路2号"}


@pytest.mark.parametrize(("over", "expected"), [
    ({"name": ""}, "name_invalid"), ({"name": "场" * 101}, "name_invalid"), ({"kind": "castle"}, "site_kind_invalid"),
    ({"lat": 27.2}, "coordinates_partial"), ({"lng": 111.4}, "coordinates_partial"),
    ({"radius_m": 9}, "radius_invalid"), ({"radius_m": 5001}, "radius_invalid"),
])
def test_site_rules(world, over, expected):
    assert code(InvalidInput, site, world, **over) == expected
    assert not Site.objects.filter(name=over.get("name", "东风文化广场")).exists()


def test_coordinates_out_of_range(world):
    with pytest.raises(InvalidInput):
        site(world, lat=91, lng=0)


def test_site_names_are_unique_per_node(world):
    assert code(Conflict, site, world, name="S11道德讲堂") == "site_name_taken"
    assert site(world, by="district_admin", node="S12", name="S11道德讲堂").node == world.S12


def test_sites_only_in_reach(world):
    with pytest.raises(Forbidden):
        site(world, node="S12")
    with pytest.raises(Forbidden):
        services.update_site(world.station_admin, world.sites["S21"], address="越界")
    for role in READ_ONLY:
        with pytest.raises(Forbidden):
            site(world, by=role)
    assert sorted(s.pk for s in queries.sites_for(world.institute_admin)) == sorted(
        [world.sites["S11"].pk, world.sites["S12"].pk])


# --- Platforms and social organisations ----------------------------------------------------------------


def test_platforms_are_the_district_admins(world):
    p = services.create_platform(world.district_admin, name="传文化习礼仪", lead_department=world.department)
    assert p.lead_department == world.department
    assert code(Conflict, services.create_platform, world.district_admin, name="传文化习礼仪",
                lead_department=world.department) == "platform_name_taken"
    assert code(InvalidInput, services.create_platform, world.district_admin, name="",
                lead_department=world.department) == "name_invalid"
    for role in ["institute_admin", "station_admin", *READ_ONLY]:
        with pytest.raises(Forbidden):
            services.create_platform(world.users[role], name=f"{role}平台", lead_department=world.department)
    assert Platform.objects.count() == 2


def test_social_organisations(world):
    org = services.create_social_org(world.station_admin, world.S11, name="东风志愿者协会",
                                     credit_code=" 91110000600037341l ")
    assert org.credit_code == "91110000600037341L"
    assert code(Conflict, services.create_social_org, world.district_admin, world.S12, name="另一个",
                credit_code="91110000600037341L") == "credit_code_taken"
    assert code(InvalidInput, services.create_social_org, world.district_admin, world.S12, name="坏码",
                credit_code="91110000600037341X") == "uscc_invalid"
    with pytest.raises(Forbidden):
        services.create_social_org(world.station_admin, world.S12, name="越界", credit_code="91350100M000100Y43")
    assert SocialOrganization.objects.count() == 1


# --- Contact points and guidance visits ----------------------------------------------------------------


def test_leaders_link_to_institutes_units_to_stations(world):
    cp = services.create_contact_point(world.district_admin, world.I2, kind="leader", party="李副区长",
                                       party_title="副区长", frequency_days=60)
    assert (cp.kind, cp.frequency_days, cp.started_on) == ("leader", 60, timezone.localdate())
    assert code(InvalidInput, services.create_contact_point, world.district_admin, world.S11, kind="leader",
                party="王副区长") == "contact_point_level"
    assert code(InvalidInput, services.create_contact_point, world.district_admin, world.I1, kind="unit",
                party="区税务局") == "contact_point_level"
    assert services.create_contact_point(world.district_admin, world.S11, kind="unit", party="区税务局").node == world.S11


@pytest.mark.parametrize(("over", "expected"), [
    ({"party": ""}, "party_invalid"), ({"party": "人" * 101}, "party_invalid"),
    ({"frequency_days": 0}, "frequency_invalid"), ({"frequency_days": 367}, "frequency_invalid"),
    ({"kind": "friend"}, "contact_point_kind"),
])
def test_contact_point_rules(world, over, expected):
    fields = {"kind": "unit", "party": "区税务局", **over}
    assert code(InvalidInput, services.create_contact_point, world.district_admin, world.S11, **fields) == expected


def test_contact_points_only_in_reach(world):
    with pytest.raises(Forbidden):
        services.create_contact_point(world.station_admin, world.S12, kind="unit", party="越界")
    for role in READ_ONLY:
        with pytest.raises(Forbidden):
            services.create_contact_point(world.users[role], world.S11, kind="unit", party="无权")
    with pytest.raises(Forbidden):
        services.update_contact_point(world.station_admin, world.contact_points["S12"], party="越界")


def test_update_a_contact_point(world):
    cp = world.contact_points["S11"]
    services.update_contact_point(world.station_admin, cp, party_title="局长", frequency_days=14)
    cp.refresh_from_db()
    assert (cp.party_title, cp.frequency_days) == ("局长", 14)
    entry = AuditEntry.objects.get(action="contact_point.update")
    assert entry.after == {"party_title": "局长", "frequency_days": 14}


def test_guidance_visits(world):
    cp = world.contact_points["S11"]
    cp.started_on = timezone.localdate() - timedelta(days=100)
    cp.save()
    today = timezone.localdate()
    visit = services.log_guidance_visit(world.station_admin, cp, visited_on=today - timedelta(days=3), summary=" 指导 ")
    assert visit.summary == "指导" and visit.recorded_by == world.station_admin
    assert code(InvalidInput, services.log_guidance_visit, world.station_admin, cp, visited_on=today + timedelta(days=1),
                summary="明天") == "visit_in_future"
    assert code(InvalidInput, services.log_guidance_visit, world.station_admin, cp,
                visited_on=cp.started_on - timedelta(days=1), summary="太早") == "visit_before_start"
    assert code(InvalidInput, services.log_guidance_visit, world.station_admin, cp, visited_on=today,
                summary="  ") == "summary_missing"
    assert code(InvalidInput, services.log_guidance_visit, world.station_admin, cp, visited_on=today,
                summary="字" * 2001) == "summary_too_long"
    with pytest.raises(Forbidden):
        services.log_guidance_visit(world.viewer, cp, visited_on=today, summary="看看")
    with pytest.raises(Forbidden):
        services.log_guidance_visit(world.station_admin, world.contact_points["S12"], visited_on=today, summary="越界")
    assert GuidanceVisit.objects.count() == 1


def test_overdue_links(world):
    today = timezone.localdate()
    never = world.contact_points["S11"]
    ContactPoint.objects.filter(pk=never.pk).update(started_on=today - timedelta(days=40), frequency_days=30)
    visited = world.contact_points["S12"]
    ContactPoint.objects.filter(pk=visited.pk).update(started_on=today - timedelta(days=40), frequency_days=30)
    GuidanceVisit.objects.create(contact_point=visited, visited_on=today - timedelta(days=5), summary="指导")
    due_today = world.contact_points["S21"]
    ContactPoint.objects.filter(pk=due_today.pk).update(started_on=today - timedelta(days=30), frequency_days=30)

    rows = {cp.pk: cp for cp in queries.contact_points_for(world.district_admin)}
    assert rows[never.pk].overdue and rows[never.pk].overdue_days == 10
    assert not rows[visited.pk].overdue and rows[visited.pk].due_on == today + timedelta(days=25)
    assert not rows[due_today.pk].overdue and rows[due_today.pk].due_on == today
    overdue = [cp.pk for cp in queries.contact_points_for(world.district_admin, overdue_only=True)]
    assert overdue == [never.pk]
    assert queries.contact_points_for(world.institute_admin, overdue_only=True)[0].pk == never.pk
    assert queries.contact_points_for(world.users["volunteer"]) == []

    r = world.api("district_admin").get("/contact-points", {"overdue": True})
    assert [i["id"] for i in r.json()["items"]] == [never.pk]
    assert r.json()["items"][0]["overdue"] is True
