"""Shared fixtures for the whole suite.

- Settings for tests: a fixed WENMING_DATA_KEY and a fast password hasher (MD5; the
  configured Argon2 is checked by tests/core/test_auth.py against wenming.settings).
- Fresh state for every test: the cache (API throttles) is cleared and django-axes'
  lock-out records are reset.
- On PostgreSQL the test database allows the audit-trail maintenance door, so that
  transactional tests can flush core_auditentry (see core migration 0002).
- `@pytest.mark.pg_only` tests are skipped unless the database is PostgreSQL.
- `world`: the organisation tree, its rows and one account of every role, shared by
  the scoping matrix (tests/api/test_scoping_matrix.py) and anyone who needs a scoped
  setting (console pages, exports …). `module_world` is the same, built once per module:

      centre C 430502000000
      ├── institute I1 430502001000
      │   ├── station S11 430502001001
      │   └── station S12 430502001002
      └── institute I2 430502002000
          └── station S21 430502002001

  Each station has a volunteer, a team and a site; S11 also has the volunteer who
  leads its team. Each institute has a 'leader' contact point, each station a
  'unit' contact point. Accounts (role → scope): district_admin → C,
  institute_admin → I1, station_admin → S11, department → C, team_leader → S11
  (and leads the S11 team), volunteer → the S11 volunteer's own account, viewer → C.
"""

from __future__ import annotations

import copy
import sys

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings

from tests import factories as f

TEST_SETTINGS = {
    "WENMING_DATA_KEY": "wenming-test-data-key-not-a-secret-0000",
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
}


def pytest_runtest_setup(item):
    if item.get_closest_marker("pg_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (real concurrency or its triggers); run with DATABASE_URL=postgres://…")


@pytest.fixture(scope="session", autouse=True)
def _test_settings():
    with override_settings(**TEST_SETTINGS):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After creating the test database: on PostgreSQL open the audit trail's maintenance door
    for the whole test database, so TRUNCATE between transactional tests is allowed.
    (UPDATE stays refused; tests that check the trigger turn the door off in their transaction.)"""
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock():
            name = connection.settings_dict["NAME"]
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER DATABASE {connection.ops.quote_name(name)} SET wenming.audit_maintenance = 'on'")
            connection.close()  # new connections pick the setting up
    yield


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Clear the cache (API throttling) and django-axes' lock-out records before every test."""
    cache.clear()
    if request.node.get_closest_marker("django_db") or "_django_db_helper" in request.fixturenames:
        request.getfixturevalue("_django_db_helper")
        from axes.utils import reset

        reset()
    yield
    cache.clear()


# --- The world: a small district for scoping tests --------------------------------------------

ROLES = ["district_admin", "institute_admin", "station_admin", "department", "team_leader", "volunteer", "viewer"]
NODE_KEYS = ["C", "I1", "I2", "S11", "S12", "S21"]
STATION_KEYS = ["S11", "S12", "S21"]
ALL = frozenset(NODE_KEYS)

# The node keys each role reaches (an admin sees their node and everything under it).
REACH = {
    "district_admin": ALL,
    "institute_admin": frozenset({"I1", "S11", "S12"}),
    "station_admin": frozenset({"S11"}),
    "department": ALL,
    "team_leader": frozenset({"S11"}),
    "volunteer": frozenset(),
    "viewer": ALL,
}
# Roles that may change the organisation and people within their reach.
WRITERS = frozenset({"district_admin", "institute_admin", "station_admin"})
# Roles that may reveal full ID / phone numbers within their reach.
REVEALERS = WRITERS
RESOURCES = ["orgs", "volunteers", "teams", "sites", "contact_points"]


class World:
    """The tree, its rows and the accounts; see the module docstring."""

    ROLES = ROLES
    NODE_KEYS = NODE_KEYS
    STATION_KEYS = STATION_KEYS
    REACH = REACH
    WRITERS = WRITERS
    REVEALERS = REVEALERS
    RESOURCES = RESOURCES

    def __init__(self):
        from wenming.core.models import Department, User
        from wenming.org.models import Platform

        self.C = f.make_centre("双清区新时代文明实践中心", "430502000000")
        self.I1 = f.make_child(self.C, "东风路街道新时代文明实践所", "430502001000")
        self.I2 = f.make_child(self.C, "汽车站街道新时代文明实践所", "430502002000")
        self.S11 = f.make_child(self.I1, "东风社区新时代文明实践站", "430502001001")
        self.S12 = f.make_child(self.I1, "光明社区新时代文明实践站", "430502001002")
        self.S21 = f.make_child(self.I2, "东站社区新时代文明实践站", "430502002001")
        self.nodes = {k: getattr(self, k) for k in NODE_KEYS}

        self.department = Department.objects.create(name="区委宣传部")
        self.platform = Platform.objects.create(name="传思想习理论", lead_department=self.department)

        R = User.Role
        scope = {"district_admin": [self.C], "institute_admin": [self.I1], "station_admin": [self.S11],
                 "department": [self.C], "team_leader": [self.S11], "volunteer": [], "viewer": [self.C]}
        self.users = {}
        for role in ROLES:
            extra = {"department": self.department} if role == "department" else {}
            self.users[role] = f.make_user(role, R(role), scope[role], display_name=f"测试{role}", **extra)

        names = {"S11": "张三", "S12": "李四", "S21": "王五"}
        self.volunteers = {k: f.make_volunteer(self.nodes[k], names[k]) for k in STATION_KEYS}
        self.volunteers["S11"].user = self.users["volunteer"]
        self.volunteers["S11"].save(update_fields=["user"])
        self.own_volunteer = self.volunteers["S11"]
        self.leader_volunteer = f.make_volunteer(self.S11, "赵六", user=self.users["team_leader"])

        self.teams = {k: f.make_team(self.nodes[k], f"{k}志愿服务队") for k in STATION_KEYS}
        self.teams["S11"].leader = self.leader_volunteer
        self.teams["S11"].save(update_fields=["leader"])
        self.teams["S11"].members.add(self.leader_volunteer)
        self.sites = {k: f.make_site(self.nodes[k], f"{k}道德讲堂") for k in STATION_KEYS}
        self.contact_points = {k: f.make_contact_point(self.nodes[k], f"{k}联系单位")
                               for k in ["I1", "I2", *STATION_KEYS]}
        self.tokens = {role: f.make_token(user) for role, user in self.users.items()}

    # --- accounts and clients
    def user(self, role: str):
        return self.users[role]

    def api(self, role: str | None) -> f.Api:
        """A JSON API client authenticated with the role's Bearer token (None: anonymous)."""
        return f.Api(self.tokens[role] if role else None)

    def client(self, role: str | None):
        """A console (browser) client logged in as the role (None: anonymous)."""
        from django.test import Client

        client = Client()
        if role:
            client.force_login(self.users[role])
        return client

    def __getattr__(self, name):  # world.district_admin → the account
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)

    # --- rows and expectations
    def key_of(self, node) -> str:
        return next(k for k, n in self.nodes.items() if n.pk == node.pk)

    def rows(self, resource: str) -> dict[int, str]:
        """Every row of a resource in the world: id → the node key it hangs on."""
        if resource == "orgs":
            return {n.pk: k for k, n in self.nodes.items()}
        if resource == "volunteers":
            rows = {v.pk: k for k, v in self.volunteers.items()}
            rows[self.leader_volunteer.pk] = "S11"
            return rows
        table = {"teams": self.teams, "sites": self.sites, "contact_points": self.contact_points}[resource]
        return {obj.pk: k for k, obj in table.items()}

    def visible(self, role: str, resource: str) -> set[int]:
        """The ids of a resource the role must see: rows in reach, plus what the account owns."""
        ids = {pk for pk, key in self.rows(resource).items() if key in REACH[role]}
        if resource == "volunteers" and role == "volunteer":
            ids.add(self.own_volunteer.pk)
        if resource == "teams" and role == "team_leader":
            ids.add(self.teams["S11"].pk)
        return ids


@pytest.fixture
def world(db) -> World:
    """A fresh world for this test (about 150 queries; see `module_world` for many tests)."""
    return World()


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """The world built once per module inside a transaction rolled back at the module's end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            template = World()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield template
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def module_world(request, _module_world, db) -> World:
    """The same world as `world`, built once per test module: each test runs in a savepoint
    inside the module's transaction and gets its own copy of the objects.

    Fast (the matrix has hundreds of cases), with three rules: use it only in modules whose
    database tests all use it (the rows stay from the first use to the module's end); never
    together with `transactional_db`; and not under a per-test override of WENMING_DATA_KEY
    (tests/people/conftest.py has one): the rows are encrypted with the session's test key."""
    if "transactional_db" in request.fixturenames:
        raise pytest.UsageError("module_world cannot be used by transactional tests; use world")
    return copy.deepcopy(_module_world)


@pytest.fixture
def api() -> f.Api:
    """An anonymous JSON API client."""
    return f.Api()


@pytest.fixture
def make_api():
    """Build an API client for a user (a new token is issued)."""

    def build(user):
        return f.Api(f.make_token(user))

    return build


@pytest.fixture
def centre(db):
    return f.make_centre()


@pytest.fixture
def station(centre):
    institute = f.make_child(centre, "测试街道新时代文明实践所", "430502001000")
    return f.make_child(institute, "测试社区新时代文明实践站", "430502001001")


@pytest.fixture
def admin_user(centre):
    """A district admin scoped to the centre."""
    return f.make_user("district", "district_admin", [centre])
