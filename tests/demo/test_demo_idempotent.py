"""The demo loads once, and never into a database holding real data."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from wenming.core.models import AuditEntry, OrgNode, User
from wenming.people.models import Team, Volunteer


def run(volunteers=40) -> str:
    out = StringIO()
    call_command("demo", stdout=out, verbosity=0, volunteers=volunteers)
    return out.getvalue()


def counts():
    return (OrgNode.objects.count(), Volunteer.objects.count(), User.objects.count(), Team.objects.count())


@pytest.mark.django_db
def test_running_twice_does_not_duplicate():
    run()
    before = counts()
    output = run()
    assert "演示数据已存在，未重复加载" in output
    assert "demo-centre" in output and "Wenming@2026" in output  # the accounts are shown again
    assert counts() == before
    assert AuditEntry.objects.filter(action="demo.load").count() == 1


@pytest.mark.django_db
def test_refuses_a_database_with_real_organisations():
    OrgNode.objects.add_root({"name": "某区新时代文明实践中心", "kind": "centre", "division_code": "430503000000"})
    with pytest.raises(CommandError, match="非演示数据"):
        run()
    assert not Volunteer.objects.exists() and OrgNode.objects.count() == 1


@pytest.mark.django_db
def test_refuses_a_database_with_real_accounts():
    User.objects.create_user("zhangsan", password="Abcdefg1!", role=User.Role.STATION_ADMIN)
    with pytest.raises(CommandError, match="账号"):
        run()
    assert not OrgNode.objects.exists()


@pytest.mark.django_db
def test_a_superuser_alone_does_not_block_the_demo():
    User.objects.create_superuser("admin", password="Abcdefg1!")
    run()
    assert OrgNode.objects.filter(depth=1, is_demo_data=True).exists()


@pytest.mark.django_db
def test_refusal_names_what_is_there():
    add = OrgNode.objects.add_child
    centre = OrgNode.objects.add_root({"name": "某区新时代文明实践中心", "kind": "centre", "division_code": "430503000000"})
    institute = add(centre, {"name": "某所", "kind": "institute", "division_code": "430503001000"})
    station = add(institute, {"name": "某社区", "kind": "station", "division_code": "430503001001"})
    Volunteer.objects.create(
        number="43050300000001", name="张三", gender="male", birth_date="1990-01-01", id_number_index="x",
        phone_index="y", station=station, agreement_consent_at="2026-01-01T00:00Z",
        privacy_consent_at="2026-01-01T00:00Z",
    )
    with pytest.raises(CommandError, match="实践组织、志愿者"):
        run()


@pytest.mark.django_db
def test_refuses_a_silly_volunteer_count():
    with pytest.raises(CommandError, match="志愿者人数"):
        run(volunteers=3)
