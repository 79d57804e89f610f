"""Fixtures of the organisation console pages (self-contained; not the suite-wide `world`).

    centre C   430502000000
    ├── institute I1 430502001000   (contact point: leader 张区长, every 30 days)
    │   ├── station S11 430502001001 (site 道德讲堂; contact point: unit 区税务局, demonstration)
    │   └── station S12 430502001002
    └── institute I2 430502002000   (site in S21; contact point: leader 李副区长)
        └── station S21 430502002001

Accounts (role → scope): district → C, inst1 → I1, inst2 → I2, station → S11, viewer → C,
department → C, volunteer → none.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from stdnum.cn import uscc

from wenming.core.models import Department, OrgNode, User
from wenming.org.models import ContactPoint, Platform, Site, SocialOrganization

BACKEND = "django.contrib.auth.backends.ModelBackend"


def credit_code(n: int) -> str:
    """A valid synthetic 统一社会信用代码."""
    first17 = f"51430502MJ{n:07d}"
    return first17 + uscc.calc_check_digit(first17)


def _user(username, role, *scopes, department=None):
    user = User.objects.create_user(username=username, password="Wenming#2024", role=role,
                                    display_name=username, department=department)
    user.scopes.set(scopes)
    return user


@pytest.fixture
def ow(db):
    today = timezone.localdate()
    c = OrgNode.add_root(name="双清区新时代文明实践中心", kind="centre", division_code="430502000000",
                         secretary="王书记")
    i1 = c.add_child(name="龙泉街道新时代文明实践所", kind="institute", division_code="430502001000")
    i2 = c.add_child(name="东风路街道新时代文明实践所", kind="institute", division_code="430502002000")
    s11 = OrgNode.objects.get(pk=i1.pk).add_child(name="五一社区新时代文明实践站", kind="station",
                                                  division_code="430502001001", is_demonstration=True)
    s12 = OrgNode.objects.get(pk=i1.pk).add_child(name="龙泉社区新时代文明实践站", kind="station",
                                                  division_code="430502001002")
    s21 = OrgNode.objects.get(pk=i2.pk).add_child(name="东风社区新时代文明实践站", kind="station",
                                                  division_code="430502002001")
    dept = Department.objects.create(name="区委宣传部", contact="刘科长", phone="0739-5555555")
    platform = Platform.objects.create(name="传思想习理论", lead_department=dept)
    site11 = Site.objects.create(name="五一社区道德讲堂", kind="moral_hall", node=s11, lat=27.2, lng=111.4)
    site21 = Site.objects.create(name="东风广场", kind="square", node=s21)
    cp_i1 = ContactPoint.objects.create(kind="leader", party="张区长", party_title="区长", node=i1,
                                        frequency_days=30, started_on=today - timedelta(days=10))
    cp_s11 = ContactPoint.objects.create(kind="unit", party="区税务局", node=s11, frequency_days=30,
                                         started_on=today - timedelta(days=10))
    cp_i2 = ContactPoint.objects.create(kind="leader", party="李副区长", node=i2, frequency_days=30,
                                        started_on=today - timedelta(days=10))
    org_i1 = SocialOrganization.objects.create(name="龙泉志愿者协会", credit_code=credit_code(1), node=i1)
    org_i2 = SocialOrganization.objects.create(name="东风公益服务中心", credit_code=credit_code(2), node=i2)
    nodes = {n.pk: n for n in OrgNode.objects.all()}
    return SimpleNamespace(
        today=today, c=nodes[c.pk], i1=nodes[i1.pk], i2=nodes[i2.pk], s11=nodes[s11.pk], s12=nodes[s12.pk],
        s21=nodes[s21.pk], dept=dept, platform=platform, site11=site11, site21=site21,
        cp_i1=cp_i1, cp_s11=cp_s11, cp_i2=cp_i2, org_i1=org_i1, org_i2=org_i2,
        district=_user("district", User.Role.DISTRICT_ADMIN, c),
        inst1=_user("inst1", User.Role.INSTITUTE_ADMIN, i1),
        inst2=_user("inst2", User.Role.INSTITUTE_ADMIN, i2),
        station=_user("station", User.Role.STATION_ADMIN, s11),
        viewer=_user("viewer", User.Role.VIEWER, c),
        department=_user("department", User.Role.DEPARTMENT, c, department=dept),
        volunteer=_user("volunteer", User.Role.VOLUNTEER),
    )


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client()
        client.force_login(user, backend=BACKEND)
        return client

    return make
