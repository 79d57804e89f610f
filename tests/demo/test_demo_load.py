"""`wenming demo` loads a district shaped like seed 000, valid in every code it carries."""

from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import uscc

from wenming.core import pii
from wenming.core.models import AuditEntry, Department, OrgNode, Skill, User
from wenming.core.validators import validate_division_code, validate_id_number, validate_phone, validate_uscc
from wenming.org.models import ContactPoint, Platform, Site, SocialOrganization
from wenming.org.queries import contact_points_for
from wenming.people.models import Team, TeamMembership, Volunteer
from wenming.people.services import AVAILABILITY

SIX_PLATFORMS = {"传思想习理论", "传文化习礼仪", "传科技习技能", "传道德习风尚", "传政策习富路", "传法规习行为"}


def load(**options) -> str:
    out = StringIO()
    call_command("demo", stdout=out, verbosity=0, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_full_district_is_shaped_like_seed_000():
    output = load()

    centre = OrgNode.objects.get(depth=1)
    assert centre.name == "双清区新时代文明实践中心" and centre.division_code == "430502000000"
    assert centre.kind == OrgNode.Kind.CENTRE
    institutes = list(OrgNode.objects.filter(kind=OrgNode.Kind.INSTITUTE))
    stations = list(OrgNode.objects.filter(kind=OrgNode.Kind.STATION))
    assert len(institutes) == 11  # seed 000: 全区11个乡镇、街道
    assert 90 <= len(stations) <= 110
    assert {"东风路街道", "小江湖街道", "火车站乡"} <= {n.name for n in institutes}
    assert {"鼓楼亭社区", "五井塘社区", "莲荷村"} <= {n.name for n in stations}
    for node in institutes + stations:
        parent = OrgNode.objects.get_parent(node)
        assert validate_division_code(node.division_code, node.kind, parent.division_code) == node.division_code
        assert node.secretary and node.contact_phone and node.address
        assert 27.0 < node.lat < 27.5 and 111.3 < node.lng < 111.8
    assert all(OrgNode.objects.get_parent(s).kind == OrgNode.Kind.INSTITUTE for s in stations)
    assert 5 <= sum(s.is_demonstration for s in stations) < len(stations)
    assert not OrgNode.objects.filter(is_demo_data=False).exists()

    platforms = Platform.objects.select_related("lead_department")
    assert {p.name for p in platforms} == SIX_PLATFORMS
    assert len({p.lead_department_id for p in platforms}) == 6  # 以六个部门牵头六大平台
    assert Department.objects.count() > 6
    assert Skill.objects.count() >= 14

    centre_teams = Team.objects.filter(node=centre, social_org=None)
    assert centre_teams.count() == 8  # seed 000: 8支特色志愿服务队伍
    for team in centre_teams:
        assert team.platform_id and team.leader_id and team.skills.exists()
        assert TeamMembership.objects.filter(team=team, volunteer=team.leader).exists()
        assert team.members.count() >= 10
    assert Team.objects.filter(name="鼓楼亭社区志愿服务团队", node__name="鼓楼亭社区").exists()
    for team in Team.objects.exclude(leader=None).select_related("leader__station", "node"):
        # A leader lives under the team's node, as the team services require.
        assert team.leader.station.path.startswith(team.node.path)

    orgs = list(SocialOrganization.objects.all())
    assert len(orgs) >= 3
    for org in orgs:
        assert validate_uscc(org.credit_code) == org.credit_code and uscc.is_valid(org.credit_code)
        assert org.teams.exists()

    assert {s.kind for s in Site.objects.all()} == set(Site.Kind.values)
    assert not Site.objects.filter(lat=None).exists()

    volunteers = list(Volunteer.objects.select_related("station"))
    assert len(volunteers) == 2000
    numbers = set()
    for v in volunteers:
        number = validate_id_number(pii.decrypt(v.id_number_enc))
        numbers.add(number)
        assert v.id_number_index == pii.blind_index(number, "id")
        assert v.id_number_masked == pii.mask_id_number(number)
        assert v.birth_date.strftime("%Y%m%d") == number[6:14]
        phone = validate_phone(pii.decrypt(v.phone_enc))
        assert v.phone_index == pii.blind_index(phone, "phone")
        assert 14 <= v.age <= 75
        assert v.station.kind == OrgNode.Kind.STATION
        assert v.name_pinyin and v.name_initials
        assert set(v.availability) <= set(AVAILABILITY) and v.availability
        assert v.agreement_consent_at and v.privacy_consent_at and v.source == Volunteer.Source.DEMO
        if v.age < 18:
            assert v.guardian_name and v.guardian_consent_at
            validate_phone(pii.decrypt(v.guardian_phone_enc))
        assert v.is_demo_data
    assert len(numbers) == 2000
    assert any(v.age < 18 for v in volunteers) and any(v.age >= 60 for v in volunteers)
    assert len({v.political_status for v in volunteers}) >= 4
    assert Volunteer.skills.through.objects.count() > 1000

    points = contact_points_for(User.objects.get(username="demo-centre"))
    leader_points = [cp for cp in points if cp.kind == ContactPoint.Kind.LEADER]
    unit_points = [cp for cp in points if cp.kind == ContactPoint.Kind.UNIT]
    assert len(leader_points) == 11 and all(cp.node.kind == OrgNode.Kind.INSTITUTE for cp in leader_points)
    assert unit_points and all(cp.node.is_demonstration for cp in unit_points)
    assert any(cp.overdue for cp in points) and any(not cp.overdue for cp in points)
    assert all(cp.visit_count > 0 for cp in points)

    entry = AuditEntry.objects.get(action="demo.load")
    assert entry.actor is None and entry.after["volunteers"] == 2000

    assert "用时" in output and "http://127.0.0.1:8000" in output and "Wenming@2026" in output
    for username in ("demo-centre", "demo-institute", "demo-station", "demo-department", "demo-leader",
                     "demo-volunteer", "demo-viewer"):
        assert username in output


@pytest.mark.django_db
def test_every_demo_row_is_flagged():
    load(volunteers=60)
    for model in (OrgNode, User, Volunteer, Team, Site, SocialOrganization, ContactPoint):
        assert model.objects.exists()
        assert not model.objects.filter(is_demo_data=False).exists(), model


@pytest.mark.django_db
def test_volunteer_numbers_come_from_the_shared_sequence():
    load(volunteers=50)
    numbers = sorted(Volunteer.objects.values_list("number", flat=True))
    assert numbers[0] == "43050200000001" and numbers[-1] == "43050200000050"
    from wenming.core.services import next_in_sequence

    assert next_in_sequence("volunteer_number") == 51  # the next registration does not collide
