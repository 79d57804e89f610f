"""Test data builders: synthetic ID numbers and phones, org nodes, accounts, volunteers,
teams, sites, contact points, API tokens and a small JSON API client.

Everything here is synthetic: ID numbers carry a valid GB 11643 check digit for any
birth date, phones are valid mainland mobile numbers, and none belongs to anyone.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta

from django.test import Client
from django.utils import timezone

from wenming.core.models import OrgNode, User
from wenming.org.models import ContactPoint, Site

PASSWORD = "Wenming#2024"  # 3+ character classes, 12 chars: passes the password policy
DISTRICT = "430502"

_seq = itertools.count(1)
_phone_seq = itertools.count(1)

# GB 11643-1999: weights 2^(17-i) mod 11 over the first 17 digits.
_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The GB 11643 check digit for the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def make_id_number(birth: date | None = None, *, region: str = DISTRICT, seq: int | None = None,
                   gender: str | None = None) -> str:
    """A synthetic, valid 18-digit ID number. Each call gives a new number unless `seq` is given.

    `gender` "male" gives an odd sequence digit, "female" an even one."""
    n = next(_seq)
    if birth is None:
        birth = date(1985, 1, 1) + timedelta(days=n)
    order = seq if seq is not None else n % 998 + 1
    if gender == "male" and order % 2 == 0:
        order = order + 1 if order < 999 else order - 1
    elif gender == "female" and order % 2 == 1:
        order = order + 1 if order < 999 else order - 1
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + id_check_digit(first17)


def wrong_checksum(number: str) -> str:
    """The same number with a check digit that is wrong."""
    good = number[-1]
    bad = next(c for c in "0123456789X" if c != good)
    return number[:-1] + bad


def make_phone() -> str:
    """A new valid mainland mobile number (13800000001, 13800000002 …)."""
    return f"138{next(_phone_seq):08d}"


def birth_for_age(years: int, *, days: int = 0, today: date | None = None) -> date:
    """The birth date of someone who turns `years` today, shifted by `days` (negative: older)."""
    today = today or timezone.localdate()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday + timedelta(days=days)


# --- Organisation ---------------------------------------------------------------------------


def make_centre(name: str = "测试区新时代文明实践中心", code: str = f"{DISTRICT}000000") -> OrgNode:
    return OrgNode.add_root(name=name, kind=OrgNode.Kind.CENTRE, division_code=code)


def make_child(parent: OrgNode, name: str, code: str) -> OrgNode:
    kind = {OrgNode.Kind.CENTRE: OrgNode.Kind.INSTITUTE, OrgNode.Kind.INSTITUTE: OrgNode.Kind.STATION}[parent.kind]
    parent.refresh_from_db()  # treebeard needs the parent's current child count
    return parent.add_child(name=name, kind=kind, division_code=code)


def make_user(username: str, role: str = User.Role.VOLUNTEER, scopes=(), *, password: str = PASSWORD,
              **extra) -> User:
    user = User.objects.create_user(username=username, password=password, role=role, **extra)
    if scopes:
        user.scopes.set(scopes)
    return user


def make_volunteer(station: OrgNode, name: str = "张三", *, birth: date | None = None, id_number: str | None = None,
                   phone: str | None = None, user: User | None = None, **extra):
    """Register a volunteer through the real service (encrypted numbers, blind index, number)."""
    from wenming.people import services

    id_number = id_number or make_id_number(birth)
    data = services.VolunteerData(
        name=name, id_number=id_number, phone=phone or make_phone(), station=station,
        agreement_consent=True, privacy_consent=True, **extra,
    )
    volunteer = services.register_volunteer(None, data, source="self")
    volunteer.plain_id_number = data.id_number  # what the test knows, never stored
    volunteer.plain_phone = data.phone
    if user is not None:
        volunteer.user = user
        volunteer.save(update_fields=["user"])
    return volunteer


def make_team(node: OrgNode, name: str, *, leader=None, **extra):
    from wenming.people.models import Team, TeamMembership

    team = Team.objects.create(node=node, name=name, leader=leader, **extra)
    if leader is not None:
        TeamMembership.objects.create(team=team, volunteer=leader)
    return team


def make_site(node: OrgNode, name: str, kind: str = Site.Kind.MORAL_HALL, **extra) -> Site:
    return Site.objects.create(node=node, name=name, kind=kind, **extra)


def make_contact_point(node: OrgNode, party: str, **extra) -> ContactPoint:
    kind = ContactPoint.Kind.LEADER if node.kind == OrgNode.Kind.INSTITUTE else ContactPoint.Kind.UNIT
    return ContactPoint.objects.create(node=node, kind=kind, party=party, **extra)


def make_token(user: User, name: str = "测试") -> str:
    from wenming.core.services import create_api_token

    _token, key = create_api_token(user, name)
    return key


# --- API client -----------------------------------------------------------------------------


class Api:
    """A JSON client for /api/v1 with an optional Bearer token.

    `api.get("/orgs")` → the response; `.json()` on it gives the body."""

    prefix = "/api/v1"

    def __init__(self, token: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.token:
            out.setdefault("authorization", f"Bearer {self.token}")
        return out

    def url(self, path: str) -> str:
        return path if path.startswith(self.prefix) else self.prefix + path

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(self.url(path), params or {}, headers=self._headers(headers))

    def _send(self, method: str, path: str, body=None, raw: str | bytes | None = None, headers=None,
              content_type: str = "application/json"):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method)(self.url(path), data=data, content_type=content_type,
                                            headers=self._headers(headers))

    def post(self, path: str, body=None, **kw):
        return self._send("post", path, body, **kw)

    def patch(self, path: str, body=None, **kw):
        return self._send("patch", path, body, **kw)

    def put(self, path: str, body=None, **kw):
        return self._send("put", path, body, **kw)

    def delete(self, path: str, body=None, **kw):
        return self._send("delete", path, body, **kw)
