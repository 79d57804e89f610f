"""Fixtures of the volunteer and team pages, self-contained (they use no fixture of tests/conftest.py).

    centre      430502000000
    ├── I1      430502001000
    │   ├── S1  430502001001
    │   └── S2  430502001002
    └── I2      430502002000
        └── S3  430502002001

Accounts (role → scope): district → centre, institute → I1, station → S1, station2 → S2,
other_institute → I2, viewer → centre, department → centre, team_leader → S1, volunteer → none.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from wenming.core.models import OrgNode, Skill, User

PASSWORD = "Wenming#2026x"
DATA_KEY = "people-tests-data-key-not-a-secret-0001"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # Argon2 is for production, not fixtures

_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_CHECK = "10X98765432"
_order = itertools.count(11)
_phones = itertools.count(1)


def id_number(birth: date | None = None, *, region: str = "430502", order: int | None = None) -> str:
    """A synthetic resident ID number with a valid GB 11643 check digit."""
    birth = birth or date(1990, 5, 17)
    seq = order if order is not None else next(_order) % 999 + 1
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHECK[total % 11]


def bad_checksum(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


def phone() -> str:
    return f"139{next(_phones):08d}"


def years_ago(years: int, days: int = 0) -> date:
    """The birth date of someone who is `years` old today (minus `days` to be just under)."""
    today = timezone.localdate()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        born = today.replace(year=today.year - years, day=28)
    return born.fromordinal(born.toordinal() + days)


class Tree:
    def __init__(self):
        self.centre = OrgNode.add_root(name="双清区新时代文明实践中心", kind="centre", division_code="430502000000")
        self.i1 = self.centre.add_child(name="东风路街道新时代文明实践所", kind="institute", division_code="430502001000")
        self.centre.refresh_from_db()
        self.i2 = self.centre.add_child(name="汽车站街道新时代文明实践所", kind="institute", division_code="430502002000")
        self.i1.refresh_from_db()
        self.s1 = self.i1.add_child(name="东风社区新时代文明实践站", kind="station", division_code="430502001001")
        self.i1.refresh_from_db()
        self.s2 = self.i1.add_child(name="光明社区新时代文明实践站", kind="station", division_code="430502001002")
        self.i2.refresh_from_db()
        self.s3 = self.i2.add_child(name="东站社区新时代文明实践站", kind="station", division_code="430502002001")
        self.skills = {n: Skill.objects.create(name=n, ordering=i) for i, n in enumerate(["医疗护理", "文艺演出", "法律咨询"])}
        R = User.Role
        spec = {
            "district": (R.DISTRICT_ADMIN, [self.centre]),
            "institute": (R.INSTITUTE_ADMIN, [self.i1]),
            "station": (R.STATION_ADMIN, [self.s1]),
            "station2": (R.STATION_ADMIN, [self.s2]),
            "other_institute": (R.INSTITUTE_ADMIN, [self.i2]),
            "viewer": (R.VIEWER, [self.centre]),
            "department": (R.DEPARTMENT, [self.centre]),
            "team_leader": (R.TEAM_LEADER, [self.s1]),
            "volunteer": (R.VOLUNTEER, []),
        }
        self.users = {}
        for key, (role, scopes) in spec.items():
            user = User.objects.create_user(f"ppl-{key}", password=PASSWORD, role=role, display_name=f"测试{key}")
            user.scopes.set(scopes)
            self.users[key] = user

    def client(self, key: str) -> Client:
        c = Client()
        c.force_login(self.users[key])
        return c

    def volunteer(self, station=None, name="张三", *, by="district", number=None, **extra):
        """Register a volunteer through the service (as a console entry)."""
        from wenming.people import services

        data = services.VolunteerData(
            name=name, id_number=number or id_number(), phone=extra.pop("phone", None) or phone(),
            station=station or self.s1, agreement_consent=True, privacy_consent=True, **extra,
        )
        return services.register_volunteer(self.users[by], data)


@pytest.fixture(autouse=True)
def _people_settings():
    with override_settings(WENMING_DATA_KEY=DATA_KEY, PASSWORD_HASHERS=FAST_HASHERS):
        cache.clear()
        yield
        cache.clear()


@pytest.fixture
def tree(db) -> Tree:
    return Tree()


def form_data(tree: Tree, **overrides) -> dict:
    """A valid console registration form (an adult at S1)."""
    data = {
        "name": "钱七", "id_number": id_number(), "phone": phone(), "station": str(tree.s1.pk),
        "political_status": "masses", "skills": [str(tree.skills["医疗护理"].pk)], "availability": ["weekend"],
        "agreement_consent": "on", "privacy_consent": "on",
        "guardian_name": "", "guardian_phone": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def join_data(tree: Tree, **overrides) -> dict:
    """A valid public registration form (an adult at S1, under I1)."""
    return form_data(tree, **{"institute": str(tree.i1.pk), **overrides})
