"""Fixtures of the Excel import/export tests (self-contained: they build their own district).

    centre  430502000000 双清区新时代文明实践中心
    ├── institute 430502001000 东风路街道新时代文明实践所
    │   └── station 430502001001 东风社区新时代文明实践站
    └── institute 430502002000 汽车站街道新时代文明实践所
        └── station 430502002001 东站社区新时代文明实践站

Accounts: district (district admin → centre), institute (→ 东风路所), station (→ 东风社区站),
viewer (→ centre), volunteer. Skills 医疗护理 / 文艺演出 / 理论宣讲, platform 传思想习理论.
ID numbers are synthetic with a correct GB 11643 check digit.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import Workbook, load_workbook

PASSWORD = "Excel#Test2024"
DISTRICT = "430502"
WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
CHECK = "10X98765432"
_ids = itertools.count(1)
_phones = itertools.count(1)


def id_number(birth: date | None = None, seq: int | None = None, region: str = DISTRICT) -> str:
    """A valid synthetic resident ID number (a new one each call unless `seq` is given)."""
    n = next(_ids)
    birth = birth or date(1980, 1, 1) + timedelta(days=n % 9000)
    first17 = f"{region}{birth:%Y%m%d}{(seq if seq is not None else n % 999 + 1):03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def bad_checksum(number: str) -> str:
    return number[:-1] + next(c for c in "0123456789X" if c != number[-1])


def phone() -> str:
    return f"139{next(_phones):08d}"


def xlsx(headers, rows, *, title: str = "Sheet") -> BytesIO:
    """An .xlsx in memory with a header row and data rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    if headers is not None:
        ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def read_sheet(source) -> list[tuple]:
    """All rows of the first sheet of a workbook (path, bytes or file) as value tuples."""
    if isinstance(source, bytes):
        source = BytesIO(source)
    wb = load_workbook(source)
    return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


VOLUNTEER_HEADERS = ["姓名", "身份证号码", "手机号码", "所属实践站区划代码", "所属实践站", "政治面貌", "技能",
                     "可服务时间", "监护人姓名", "监护人电话", "已书面同意"]


def volunteer_row(name="张三", *, number=None, tel=None, station="430502001001", station_name="",
                  political="", skills="", avail="", guardian="", guardian_phone="", consent="是"):
    return [name, number or id_number(), tel or phone(), station, station_name, political, skills, avail,
            guardian, guardian_phone, consent]


class District:
    def __init__(self):
        from wenming.core.models import Department, OrgNode, Skill, User
        from wenming.org.models import Platform

        self.centre = OrgNode.add_root(name="双清区新时代文明实践中心", kind="centre", division_code="430502000000")
        self.institute = self._child(self.centre, "东风路街道新时代文明实践所", "430502001000")
        self.institute2 = self._child(self.centre, "汽车站街道新时代文明实践所", "430502002000")
        self.station = self._child(self.institute, "东风社区新时代文明实践站", "430502001001")
        self.station2 = self._child(self.institute2, "东站社区新时代文明实践站", "430502002001")
        self.skills = {name: Skill.objects.create(name=name, ordering=i)
                       for i, name in enumerate(["医疗护理", "文艺演出", "理论宣讲"])}
        self.platform = Platform.objects.create(name="传思想习理论",
                                                lead_department=Department.objects.create(name="区委宣传部"))
        R = User.Role
        self.district = self._user("excel_district", R.DISTRICT_ADMIN, [self.centre])
        self.institute_admin = self._user("excel_institute", R.INSTITUTE_ADMIN, [self.institute])
        self.station_admin = self._user("excel_station", R.STATION_ADMIN, [self.station])
        self.viewer = self._user("excel_viewer", R.VIEWER, [self.centre])
        self.volunteer_user = self._user("excel_volunteer", R.VOLUNTEER, [])

    @staticmethod
    def _child(parent, name, code):
        kind = {"centre": "institute", "institute": "station"}[parent.kind]
        parent.refresh_from_db()
        return parent.add_child(name=name, kind=kind, division_code=code)

    @staticmethod
    def _user(username, role, scopes):
        from wenming.core.models import User

        user = User.objects.create_user(username=username, password=PASSWORD, role=role,
                                        display_name=f"测试{username}")
        user.scopes.set(scopes)
        return user

    def client(self, user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    def volunteer(self, name="李四", station=None, **kw):
        """Register one volunteer through the service, as the console would."""
        from wenming.people.services import VolunteerData, register_volunteer

        number = kw.pop("number", None) or id_number()
        data = VolunteerData(name=name, id_number=number, phone=kw.pop("tel", None) or phone(),
                             station=station or self.station, agreement_consent=True, privacy_consent=True, **kw)
        v = register_volunteer(self.district, data)
        v.plain_id = number
        v.plain_phone = data.phone
        return v


@pytest.fixture
def district(db) -> District:
    return District()


@pytest.fixture(autouse=True)
def _excel_settings(settings, tmp_path):
    """Uploads kept under a per-test VAR_DIR; a fixed data key (in case the shared conftest is absent)."""
    settings.VAR_DIR = tmp_path
    settings.WENMING_DATA_KEY = "excel-test-data-key-not-a-secret-000000"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
