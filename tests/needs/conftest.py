"""Fixtures of the need-loop tests: the ledger's small tree (tests/ledger/helpers.py) plus two teams
with skills, a department with its account, categories mapped to skills, and builders of needs in
any state of the loop."""

from dataclasses import dataclass

import pytest

from tests.ledger.helpers import Tree, build_tree, make_user, make_volunteer
from wenming.core.models import Department, Skill, User
from wenming.needs import services
from wenming.needs.models import Need, NeedCategory
from wenming.people.models import Team, TeamMembership

PHONE = "13812345678"


@dataclass
class Loop:
    tree: Tree
    care: NeedCategory  # 助老助残 › 上门探访, needs 助老助残 skill
    repair: NeedCategory  # 便民维修 › 家电维修, needs 家电维修 skill
    team: Team  # 东风社区助老服务队 at the station, led by tree.team_leader (volunteer 赵队长)
    far_team: Team  # 东站社区志愿服务队 at the other station
    leader: object  # Volunteer 赵队长
    other_leader_user: User
    department: Department
    dept_user: User


def category(code: str, name: str, parent_code: str, parent_name: str) -> NeedCategory:
    """A category of the default list (migration 0002). A transactional test's flush empties the
    table for the tests after it, so it is made again when missing."""
    parent, _ = NeedCategory.objects.get_or_create(code=parent_code, defaults={"name": parent_name})
    child, _ = NeedCategory.objects.get_or_create(code=code, defaults={"name": name, "parent": parent})
    return child


@pytest.fixture
def loop(db) -> Loop:
    tree = build_tree()
    care_skill = Skill.objects.create(name="助老助残")
    repair_skill = Skill.objects.create(name="家电维修")
    care = category("elderly-visit", "上门探访", "elderly", "助老助残")
    care.skills.set([care_skill])
    repair = category("repair-appliance", "家电维修", "repair", "便民维修")
    repair.skills.set([repair_skill])
    leader = make_volunteer(tree.admin, tree.station, "赵队长", user=tree.team_leader)
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station, leader=leader, capacity=3)
    team.skills.set([care_skill])
    for v in (leader, tree.zhang, tree.li):
        TeamMembership.objects.create(team=team, volunteer=v)
    other_leader_user = make_user("far_leader", User.Role.TEAM_LEADER, [tree.other_station])
    far_leader = make_volunteer(tree.admin, tree.other_station, "钱队长", user=other_leader_user)
    far_team = Team.objects.create(name="东站社区志愿服务队", node=tree.other_station, leader=far_leader, capacity=3)
    far_team.skills.set([care_skill, repair_skill])
    department = Department.objects.create(name="区卫生健康局")
    dept_user = make_user("dept_health", User.Role.DEPARTMENT)
    dept_user.department = department
    dept_user.save(update_fields=["department"])
    return Loop(tree, care, repair, team, far_team, leader, other_leader_user, department, dept_user)


def raise_need(loop: Loop, *, category=None, station=None, **extra) -> Need:
    data = services.NeedData(
        category=category or loop.care, description=extra.pop("description", "独居老人需要每周上门探访、陪同聊天"),
        station=station or loop.tree.station, address="东风路12号3栋", contact_name="刘奶奶",
        phone=extra.pop("phone", PHONE), **extra,
    )
    return services.submit_need(data)


def approved(loop: Loop, **extra) -> Need:
    return services.review_need(loop.tree.admin, raise_need(loop, **extra), approve=True)


def dispatched(loop: Loop, **extra) -> Need:
    return services.dispatch_need(loop.tree.admin, approved(loop, **extra), team=loop.team)


def accepted(loop: Loop, **extra) -> Need:
    return services.accept_need(loop.tree.team_leader, dispatched(loop, **extra))


def completed(loop: Loop, **extra) -> Need:
    return services.complete_need(loop.tree.team_leader, accepted(loop, **extra), report="上门探访1小时，打扫卫生",
                                  people_served=1)
