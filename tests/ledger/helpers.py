"""Builders for the ledger's tests (the tree is described in conftest.py)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from wenming.core.models import OrgNode, User

_ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
_ID_CHECK = "10X98765432"
_serial = itertools.count(1)

PASSWORD = "Ledger#2024x"


def make_id_number(birth: date) -> str:
    """A synthetic GB 11643 resident ID number (valid check digit) born on `birth`."""
    first17 = f"430502{birth:%Y%m%d}{next(_serial) % 999 + 1:03d}"
    return first17 + _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def make_volunteer(by, station, name, user=None):
    from wenming.people.services import VolunteerData, register_volunteer

    n = next(_serial)
    data = VolunteerData(
        name=name,
        id_number=make_id_number(date(1970, 1, 1) + timedelta(days=37 * (n % 300))),
        phone=f"139{n:08d}",
        station=station,
        agreement_consent=True,
        privacy_consent=True,
    )
    volunteer = register_volunteer(by, data)
    if user is not None:
        volunteer.user = user
        volunteer.save(update_fields=["user"])
    return volunteer


def make_user(username, role, scopes=()):
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, display_name=username)
    if scopes:
        user.scopes.set(scopes)
    return user


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An aware time on a day of March 2025 (学雷锋月), Asia/Shanghai."""
    return timezone.make_aware(datetime(2025, 3, day, hour, minute))


@dataclass
class Tree:
    centre: OrgNode
    institute: OrgNode
    station: OrgNode
    other_institute: OrgNode
    other_station: OrgNode
    admin: User
    admin2: User
    inst_admin: User
    far_admin: User
    team_leader: User
    vol_user: User
    zhang: object  # Volunteer 张三 (has the account vol_user)
    li: object  # Volunteer 李四
    wang: object  # Volunteer 王五 (other station)


def build_tree() -> Tree:
    centre = OrgNode.add_root(name="双清区新时代文明实践中心", kind="centre", division_code="430502000000")
    institute = centre.add_child(
        name="东风路街道新时代文明实践所", kind="institute", division_code="430502001000"
    )
    centre.refresh_from_db()
    other_institute = centre.add_child(
        name="汽车站街道新时代文明实践所", kind="institute", division_code="430502002000"
    )
    institute.refresh_from_db()
    station = institute.add_child(
        name="东风社区新时代文明实践站", kind="station", division_code="430502001001"
    )
    other_institute.refresh_from_db()
    other_station = other_institute.add_child(
        name="东站社区新时代文明实践站", kind="station", division_code="430502002001"
    )
    R = User.Role
    admin = make_user("ledger_admin", R.DISTRICT_ADMIN, [centre])
    admin2 = make_user("ledger_admin2", R.DISTRICT_ADMIN, [centre])
    inst_admin = make_user("ledger_inst", R.INSTITUTE_ADMIN, [institute])
    far_admin = make_user("ledger_far", R.STATION_ADMIN, [other_station])
    team_leader = make_user("ledger_leader", R.TEAM_LEADER, [station])
    vol_user = make_user("ledger_vol", R.VOLUNTEER)
    return Tree(
        centre=centre,
        institute=institute,
        station=station,
        other_institute=other_institute,
        other_station=other_station,
        admin=admin,
        admin2=admin2,
        inst_admin=inst_admin,
        far_admin=far_admin,
        team_leader=team_leader,
        vol_user=vol_user,
        zhang=make_volunteer(admin, station, "张三", user=vol_user),
        li=make_volunteer(admin, station, "李四"),
        wang=make_volunteer(admin, other_station, "王五"),
    )


def settle(
    by,
    volunteer,
    node,
    source_id,
    *,
    day=5,
    start=9,
    hours=2,
    check_in=None,
    check_out=None,
    title="敬老院志愿服务",
):
    """Verified hours for a whole window of `hours` hours (or the given check-in/out)."""
    from wenming.ledger.services import record_verified

    ws, we = at(day, start), at(day, start) + timedelta(hours=hours)
    return record_verified(
        by,
        volunteer=volunteer,
        node=node,
        title=title,
        check_in=check_in or ws,
        check_out=check_out or we,
        window_start=ws,
        window_end=we,
        source_type="activity",
        source_id=str(source_id),
    )


def recorded(
    by, approver, volunteer, node, minutes, *, source_id="", day=6, hours=3, reason="纸质签到表补录"
):
    """Recorded hours entered by `by` and approved by `approver`; returns the record."""
    from wenming.ledger.services import approve_hours_request, request_recorded_hours

    ws = at(day, 14)
    req = request_recorded_hours(
        by,
        volunteer=volunteer,
        node=node,
        title="社区文明劝导",
        window_start=ws,
        window_end=ws + timedelta(hours=hours),
        minutes=minutes,
        reason=reason,
        source_type="activity" if source_id else "",
        source_id=str(source_id),
    )
    return approve_hours_request(approver, req)


def tamper(sql: str, params=()):
    """Run SQL directly against the database, behind the application's back.

    On PostgreSQL the statement runs with triggers off (session_replication_role = replica,
    as a superuser could do); the test's transaction undoes it all."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
