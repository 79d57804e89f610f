"""The four-order loop as a Hypothesis state machine: random sequences of every transition (submit,
review, dispatch to a team / volunteer / lower node / department, publish, grab, claim, accept,
decline, start, complete, rate, cancel) by random actors, and the deadline sweep at a moved clock.

The model below is written from the issue's rules, not from the code:

    submitted 待审核 → approved 待派单 → dispatched 已派单 → accepted 已接单 → in service 服务中
    → completed 待评价 → closed 已完成; rejected 已驳回 and cancelled 已取消 with a reason.
    A decline (with a reason) or a missed accept deadline returns a dispatched need to approved (改派).
    Review and dispatch by the handling node or a node above it; dispatch to a team, a volunteer, a
    lower node (which takes it over, approved, to dispatch further) or a department; or publish to the
    pool, where one eligible team grabs it. Accept/decline by whoever it was dispatched to. Complete
    from accepted or in service; rate 1–5 from completed → closed; unrated needs close by themselves
    after 7 days. The resident may cancel before acceptance. Deadlines: review 24 h, dispatch 24 h,
    accept 12 h, finish 7 days, rating 7 days; a missed review/dispatch escalates one level up.
    (Since then: an approved wish waits on the wall for 14 days, WENMING_NEED_WISH_DAYS, also when
    it comes back to 待派单; a claim keeps to the wish's region; a booking whose team cannot take it
    is approved all the same, to be dispatched elsewhere.)

After every step: the database agrees with the model (state, handling node, assignee, pool, deadline,
escalations); every timeline entry is a step the rules allow; a refused action raised a DomainError
the rules expect and changed nothing; a successful one wrote exactly its timeline entries (two for a
booking approved and sent to its team, and for a claim) and as many audit entries, and touched no other need; at most one
assignee kind is set; no team holds more than its capacity; the figures equal their recount.

What Hypothesis draws: needs raised (by residents, or entered by admins in or out of reach) and taken
some steps along their way to begin with; then any action on any need by any actor (`anyone_tries`,
biased towards a need in a state it applies to and an actor the rules allow), the next steps of a
need's way by someone allowed (`go_on`, `serve`), a move the need's state does not allow by someone
who could make it in its turn (`out_of_turn`), and the clock moving on — by a while, or onto a need's
deadline give or take a second — with the sweep run twice (`sweep`).

It runs as a Django TestCase (pytest-django gives it the database): the fixture rows are built once
in setUpTestData, and each Hypothesis example runs in a savepoint rolled back by the machine's
teardown, with the clock (django.utils.timezone.now) frozen at the model's time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from unittest import mock

from django.db import transaction
from django.db.models import Count, Max
from django.test import TestCase as DjangoTestCase
from django.utils import timezone
from hypothesis import HealthCheck, note
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.ledger.helpers import build_tree, make_user, make_volunteer
from tests.needs.conftest import category as default_category
from tests.needs.conftest import dispatched, raise_need
from wenming.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from wenming.core.models import AuditEntry, Department, Skill, User
from wenming.needs import queries, services
from wenming.needs.models import Need, NeedEvent
from wenming.people.models import Team, TeamMembership

S = Need.State

# --- The rules, from the issue ---------------------------------------------------------------------

REVIEW = timedelta(hours=24)
DISPATCH = timedelta(hours=24)
ACCEPT = timedelta(hours=12)
FINISH = timedelta(days=7)
RATING = timedelta(days=7)
WISH_WAIT = timedelta(days=14)  # an approved wish waits on the wall for a team (WENMING_NEED_WISH_DAYS)


def dispatch_period(m) -> timedelta:
    """待派单 — after approval, a decline, a missed accept, a lower node taking it over, or a missed
    dispatch escalated: a day, or the wall's two weeks for a wish."""
    return WISH_WAIT if m.wish else DISPATCH



OPEN = {S.SUBMITTED, S.APPROVED, S.DISPATCHED, S.ACCEPTED, S.IN_SERVICE}
HELD = {S.DISPATCHED, S.ACCEPTED, S.IN_SERVICE}
CANCELLABLE = {S.SUBMITTED, S.APPROVED, S.DISPATCHED}  # before acceptance
LATER = {S.DISPATCHED, S.ACCEPTED, S.IN_SERVICE, S.COMPLETED}

# Every single step (one timeline entry) the rules allow: (from, to).
ALLOWED_STEPS = {
    ("", S.SUBMITTED),  # raised
    (S.SUBMITTED, S.APPROVED), (S.SUBMITTED, S.REJECTED),  # reviewed
    (S.APPROVED, S.DISPATCHED),  # dispatched, published to the pool
    (S.DISPATCHED, S.ACCEPTED),  # accepted, grabbed, claimed
    (S.DISPATCHED, S.APPROVED),  # declined, accept missed, taken over by the lower node
    (S.ACCEPTED, S.IN_SERVICE),
    (S.ACCEPTED, S.COMPLETED), (S.IN_SERVICE, S.COMPLETED),
    (S.COMPLETED, S.CLOSED),  # rated, or closed unrated
    (S.SUBMITTED, S.CANCELLED), (S.APPROVED, S.CANCELLED), (S.DISPATCHED, S.CANCELLED),
    # a missed deadline that leaves the state: escalated, or marked overdue
    (S.SUBMITTED, S.SUBMITTED), (S.APPROVED, S.APPROVED), (S.ACCEPTED, S.ACCEPTED), (S.IN_SERVICE, S.IN_SERVICE),
}

# The tree: centre C, institute I with station S (where the team is), institute I2 with station S2.
PARENT = {"C": None, "I": "C", "I2": "C", "S": "I", "S2": "I2"}
NODE_KEYS = list(PARENT)


def under(node: str, top: str) -> bool:
    """node is top or lies below it."""
    while node is not None:
        if node == top:
            return True
        node = PARENT[node]
    return False


# Actors: their scope nodes (reach) and whether they manage (review, dispatch, handle).
SCOPES = {
    "district": {"C"}, "institute": {"I"}, "station": {"S"}, "far": {"S2"},
    "leader": {"S"}, "far_leader": {"S2"}, "dept": set(), "volunteer": set(), "resident": set(),
}
MANAGERS = {"district", "institute", "station", "far"}
ACTORS = list(SCOPES)
LEADS = {"leader": "team", "far_leader": "far_team"}
TEAM_NODE = {"team": "S", "far_team": "S2"}
TEAM_SKILLS = {"team": {"care"}, "far_team": {"care", "repair"}}
CAPACITY = {"team": 1, "far_team": 2}
TARGETS = [("team", "team"), ("team", "far_team"), ("volunteer", "zhang"), ("volunteer", "li"),
           ("department", "health"), *[("node", k) for k in NODE_KEYS]]


def in_reach(actor: str, node: str) -> bool:
    return any(under(node, scope) for scope in SCOPES[actor])


def rotate(i: int, needs: list):
    """The i-th of the needs, taking each state present as likely as any other."""
    states = sorted({m.state for m in needs})
    in_state = [m for m in needs if m.state == states[i % len(states)]]
    return in_state[i // len(states) % len(in_state)]


@dataclass
class Model:
    """What the rules say a need is now."""

    pk: int
    station: str
    category: str  # care / repair
    wish: bool
    booked: bool  # a booking of the team's service
    state: str = S.SUBMITTED
    node: str = ""
    assignee: tuple[str, str] | None = None
    pool: bool = False
    deadline: datetime | None = None
    escalations: int = 0
    overdue: bool = False


@dataclass
class World:
    users: dict  # actor name → User (resident: None)
    teams: dict  # "team" / "far_team" → Team
    volunteers: dict  # "zhang" / "li" → Volunteer
    nodes: dict  # node key → OrgNode
    department: Department
    categories: dict  # "care" / "repair" → NeedCategory
    offer: object  # the team's service (爱心陪伴), for bookings
    node_keys: dict = field(default_factory=dict)  # OrgNode pk → key


def build_world() -> World:
    tree = build_tree()
    care_skill = Skill.objects.create(name="助老助残")
    repair_skill = Skill.objects.create(name="家电维修")
    care = default_category("elderly-visit", "上门探访", "elderly", "助老助残")
    care.skills.set([care_skill])
    repair = default_category("repair-appliance", "家电维修", "repair", "便民维修")
    repair.skills.set([repair_skill])
    leader = make_volunteer(tree.admin, tree.station, "赵队长", user=tree.team_leader)
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station, leader=leader, capacity=CAPACITY["team"])
    team.skills.set([care_skill])
    for v in (leader, tree.zhang, tree.li):
        TeamMembership.objects.create(team=team, volunteer=v)
    far_leader_user = make_user("far_leader", User.Role.TEAM_LEADER, [tree.other_station])
    far_leader = make_volunteer(tree.admin, tree.other_station, "钱队长", user=far_leader_user)
    far_team = Team.objects.create(name="东站社区志愿服务队", node=tree.other_station, leader=far_leader,
                                   capacity=CAPACITY["far_team"])
    far_team.skills.set([care_skill, repair_skill])
    department = Department.objects.create(name="区卫生健康局")
    dept_user = make_user("dept_health", User.Role.DEPARTMENT)
    dept_user.department = department
    dept_user.save(update_fields=["department"])
    station_admin = make_user("station_admin", User.Role.STATION_ADMIN, [tree.station])
    offer = services.save_offer(tree.team_leader, team=team, category=care, title="爱心陪伴", schedule="每周六上午")
    nodes = {"C": tree.centre, "I": tree.institute, "S": tree.station, "I2": tree.other_institute,
             "S2": tree.other_station}
    users = {
        "district": tree.admin, "institute": tree.inst_admin, "station": station_admin, "far": tree.far_admin,
        "leader": tree.team_leader, "far_leader": far_leader_user, "dept": dept_user, "volunteer": tree.vol_user,
        "resident": None,
    }
    return World(users=users, teams={"team": team, "far_team": far_team},
                 volunteers={"zhang": tree.zhang, "li": tree.li}, nodes=nodes, department=department,
                 categories={"care": care, "repair": repair}, offer=offer,
                 node_keys={n.pk: k for k, n in nodes.items()})


REFUSALS = (Conflict, Forbidden, InvalidInput, NotFound)
# A need's columns that anything after intake may change (and its id and station).
CHANGING = [f.attname for f in Need._meta.concrete_fields if f.name not in {
    "code", "category", "description", "address", "lat", "lng", "contact_name", "phone_enc", "phone_index",
    "phone_masked", "wished_at", "urgency", "source", "is_wish", "offer", "requested_team", "entered_by",
    "created_at", "is_demo_data"}]
rarely = st.sampled_from([False, False, False, True])  # a booking of the team's service (often refused)
# Which need: 0–7 one in a state the action applies to, 8–15 one in another state (when there is one).
needs_index = st.integers(min_value=0, max_value=15)
# Who: an actor by name, or (an int k) the k-th of the actors the rules allow — half the time each,
# so that sequences get far into the loop and still try every refusal.
actors = st.one_of(st.sampled_from(ACTORS), st.integers(min_value=0, max_value=8))
REASONS = ["本周人手不足", "不属于志愿服务范围", "已自行解决", "  "]
# The states each action applies to (where anyone_tries looks for a need first).
APPLIES_TO = {
    "review": {S.SUBMITTED}, "dispatch": {S.APPROVED}, "publish": {S.APPROVED}, "grab": {S.DISPATCHED},
    "claim": {S.APPROVED}, "accept": {S.DISPATCHED}, "decline": {S.DISPATCHED}, "start": {S.ACCEPTED},
    "complete": {S.ACCEPTED, S.IN_SERVICE}, "rate": {S.COMPLETED}, "cancel": CANCELLABLE,
}
ACTIONS = list(APPLIES_TO)


def applies(action: str, m) -> bool:
    """Whether the need's state lets the action be taken (by the right person, with the right input)."""
    if action == "grab":
        return m.state == S.DISPATCHED and m.pool
    if action == "accept":
        return m.state == S.DISPATCHED and not m.pool
    if action == "claim":
        return m.state == S.APPROVED and m.wish
    return m.state in APPLIES_TO[action]
# How far the clock moves before a sweep: mostly a little (so that needs get somewhere between sweeps),
# sometimes exactly onto a deadline (12 h, 24 h, 7 days: due at its very moment), sometimes far.
JUMPS = [timedelta(0), timedelta(minutes=5), timedelta(hours=1), timedelta(hours=3), timedelta(hours=11),
         timedelta(hours=12), timedelta(hours=13), timedelta(hours=24), timedelta(hours=25), timedelta(days=7),
         timedelta(days=8), timedelta(days=14)]


class NeedLoop(RuleBasedStateMachine):
    world: World  # set by the test case before running (built once, in setUpTestData)

    def __init__(self):
        super().__init__()
        self.w = self.world
        self.needs: list[Model] = []
        real_now = timezone.now()
        self.today = timezone.localdate(real_now)
        self.clock = real_now.replace(microsecond=0)
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._clock = mock.patch("django.utils.timezone.now", lambda: self.clock)
        self._clock.start()

    def teardown(self):
        self._clock.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- the rules' view of who may do what

    def user(self, actor):
        return self.w.users[actor]

    def handler(self, actor: str, m: Model) -> bool:
        return actor in MANAGERS and in_reach(actor, m.node)

    def assignee(self, actor: str, m: Model) -> bool:
        kind, key = m.assignee or (None, None)
        if kind == "team":
            # The team's leader; this code also lets a manager over the team's node act for it.
            return LEADS.get(actor) == key or (actor in MANAGERS and in_reach(actor, TEAM_NODE[key]))
        if kind == "volunteer":
            return key == "zhang" and actor == "volunteer"
        if kind == "node":
            return actor in MANAGERS and in_reach(actor, key)
        if kind == "department":
            return actor == "dept"
        return False

    def held(self, team: str) -> int:
        return sum(m.assignee == ("team", team) and m.state in HELD for m in self.needs)

    def team_refusal(self, team: str, m: Model, dispatcher: str | None) -> str | None:
        """Why the team may not take the need: region (its node's subtree and the nodes above it, or in
        the dispatcher's reach), skills, capacity."""
        near = under(m.station, TEAM_NODE[team]) or under(TEAM_NODE[team], m.node)
        if not near and not (dispatcher is not None and in_reach(dispatcher, TEAM_NODE[team])):
            return "region"
        if m.category not in TEAM_SKILLS[team]:
            return "skills"
        if self.held(team) >= CAPACITY[team]:
            return "full"
        return None

    def pick(self, i: int, states) -> Model:
        """i < 8: a need in one of `states` (where the action applies); i >= 8: one in another state,
        an open one first (where a refusal is most telling)."""
        if i < 8:
            candidates = [m for m in self.needs if m.state in states]
        else:
            wrong = [m for m in self.needs if m.state not in states]
            candidates = [m for m in wrong if m.state in OPEN | {S.COMPLETED}] or wrong
        return rotate(i, candidates or self.needs)

    def who(self, actor, allowed) -> str:
        if isinstance(actor, str):
            return actor
        ok = [a for a in ACTORS if allowed(a)] or ACTORS
        note(f"actor #{actor} → {ok[actor % len(ok)]}")
        return ok[actor % len(ok)]

    # --- running one action against the rules

    def rows(self):
        """Every need's row, as far as anything after intake may change it."""
        return list(Need.objects.order_by("pk").values(*CHANGING))

    def attempt(self, m: Model, refusals: set, call, *, actor: str, after, events: int = 1):
        """Run `call`. refusals: the errors the rules allow here (empty: it must succeed); `after`
        turns the model into what the rules expect after a success."""
        rows, n_events, n_audit = self.rows(), NeedEvent.objects.count(), AuditEntry.objects.count()
        last = NeedEvent.objects.aggregate(m=Max("id"))["m"] or 0
        what = f"{sys._getframe(1).f_code.co_name[3:]} need {m.pk} ({m.state}) by {actor}"
        try:
            call()
        except DomainError as e:
            note(f"{what}: refused, {type(e).__name__} {e.code}")
            assert isinstance(e, REFUSALS), f"refused with {type(e).__name__}, not a Conflict/Forbidden/…"
            assert refusals, f"refused ({type(e).__name__} {e.code}: {e.message}) though the rules allow it"
            assert isinstance(e, tuple(refusals)), f"{type(e).__name__} {e.code}: {e.message}; expected {refusals}"
            assert self.rows() == rows, "a refused action changed a need"
            assert NeedEvent.objects.count() == n_events, "a refused action wrote a timeline entry"
            assert AuditEntry.objects.count() == n_audit, "a refused action wrote an audit entry"
            return False
        note(f"{what}: done")
        assert not refusals, f"done though the rules refuse it ({sorted(r.__name__ for r in refusals)})"
        before = m.state
        after(m)
        new = list(NeedEvent.objects.filter(id__gt=last).order_by("id"))
        assert [e.need_id for e in new] == [m.pk] * events, f"expected {events} timeline entries, got {new}"
        chain = [before] + [e.to_state for e in new]
        assert [e.from_state for e in new] == chain[:-1], "the timeline does not follow the need"
        assert new[-1].to_state == m.state
        user = self.user(actor)
        assert all(e.actor_id == getattr(user, "pk", None) for e in new)
        if user is None:
            assert all(e.actor_label == services.RESIDENT for e in new)
        assert AuditEntry.objects.count() == n_audit + events, "one audit entry per timeline entry"
        others = [r for r in self.rows() if r["id"] != m.pk]
        assert others == [r for r in rows if r["id"] != m.pk], "a transition touched another need"
        return True

    # --- 点单

    @precondition(lambda self: len(self.needs) < 8)
    @rule(actor=st.sampled_from(["resident", "resident", "resident", "station", "institute", "district", "far",
                                 "leader", "volunteer"]),
          station=st.sampled_from(["S", "S", "S2"]), category=st.sampled_from(["care", "care", "repair"]),
          wish=st.booleans(), booked=rarely)
    def submit(self, actor, station, category, wish, booked):
        self.do_submit(actor, station, category, wish, booked)

    @initialize(needs=st.lists(st.tuples(st.sampled_from(["S", "S", "S2"]), st.sampled_from(["care", "care", "repair"]),
                                         st.booleans(), rarely,
                                         st.lists(st.integers(min_value=0, max_value=59), max_size=6)),
                               min_size=1, max_size=5))
    def residents_raise_needs(self, needs):
        """To begin with, a few needs, each taken some steps along its way (so that every example starts
        with needs in various states, whichever rules it draws)."""
        for station, category, wish, booked, ks in needs:
            self.do_submit("resident", station, category, wish, booked)
            self.steps_on(self.needs[-1], ks)

    def do_submit(self, actor, station, category, wish, booked):
        if booked:
            category = "care"  # the team's service is 爱心陪伴
        refusals = set()
        if actor != "resident" and not (actor in MANAGERS and in_reach(actor, station)):
            refusals.add(Forbidden)
        data = services.NeedData(
            category=self.w.categories[category], description="独居老人需要每周上门探访、陪同聊天",
            station=self.w.nodes[station], address="东风路12号3栋", contact_name="刘奶奶", phone="13812345678",
            is_wish=wish, offer=self.w.offer if booked else None,
        )
        n_events, n_audit, rows = NeedEvent.objects.count(), AuditEntry.objects.count(), self.rows()
        try:
            need = services.submit_need(data, by=self.user(actor))
        except DomainError as e:
            assert refusals and isinstance(e, tuple(refusals)), f"{type(e).__name__} {e.code}"
            assert self.rows() == rows and NeedEvent.objects.count() == n_events
            assert AuditEntry.objects.count() == n_audit
            return
        assert not refusals, "a need entered by someone out of reach"
        m = Model(pk=need.pk, station=station, category=category, wish=wish, booked=booked, node=station,
                  deadline=self.clock + REVIEW)
        self.needs.append(m)
        assert [(e.from_state, e.to_state) for e in need.events.all()] == [("", S.SUBMITTED)]
        assert NeedEvent.objects.count() == n_events + 1 and AuditEntry.objects.count() == n_audit + 1

    # --- Each action, on one need by one actor, against the rules

    def do_review(self, m: Model, actor: str, approve: bool, reason: str):
        refusals = set()
        if not self.handler(actor, m):
            refusals.add(Forbidden)
        if m.state != S.SUBMITTED:
            refusals.add(Conflict)
        if not approve and not reason.strip():
            refusals.add(InvalidInput)
        events = 1
        team_takes = False
        if approve and m.booked:  # approval sends a booking to the team that offers it, when that team can
            # take it; otherwise the booking is approved all the same, to be dispatched elsewhere
            team_takes = not refusals and not self.team_refusal("team", replace(m, state=S.APPROVED), actor)
            events = 2 if team_takes else 1

        def after(m):
            if not approve:
                m.state, m.deadline = S.REJECTED, None
            elif team_takes:
                m.state, m.assignee, m.deadline, m.overdue = S.DISPATCHED, ("team", "team"), self.clock + ACCEPT, False
            else:
                m.state, m.deadline, m.overdue = S.APPROVED, self.clock + dispatch_period(m), False

        self.attempt(m, refusals, lambda: services.review_need(self.user(actor), m.pk, approve=approve,
                                                               reason=reason),
                     events=events, actor=actor, after=after)

    def do_dispatch(self, m: Model, actor: str, whom: tuple[str, str]):
        kind, key = whom
        refusals = set()
        if not self.handler(actor, m):
            refusals.add(Forbidden)
        if m.state != S.APPROVED:
            refusals.add(Conflict)
        if not refusals and kind == "team" and self.team_refusal(key, m, actor):
            refusals.add(Conflict)
        if kind == "node" and (key == m.node or not under(key, m.node)):
            refusals.add(InvalidInput)  # only to a node below the handling one
        target = {"team": self.w.teams, "volunteer": self.w.volunteers, "node": self.w.nodes,
                  "department": {"health": self.w.department}}[kind][key]

        def after(m):
            m.state, m.assignee, m.pool, m.deadline, m.overdue = S.DISPATCHED, whom, False, self.clock + ACCEPT, False

        self.attempt(m, refusals, lambda: services.dispatch_need(self.user(actor), m.pk, **{kind: target}),
                     actor=actor, after=after)

    def do_publish(self, m: Model, actor: str):
        refusals = set()
        if not self.handler(actor, m):
            refusals.add(Forbidden)
        if m.state != S.APPROVED:
            refusals.add(Conflict)

        def after(m):
            m.state, m.assignee, m.pool, m.deadline, m.overdue = S.DISPATCHED, None, True, self.clock + ACCEPT, False

        self.attempt(m, refusals, lambda: services.publish_need(self.user(actor), m.pk), actor=actor, after=after)

    def do_grab(self, m: Model, actor: str, team: str):
        refusals = set()
        if LEADS.get(actor) != team:
            refusals.add(Forbidden)
        if not (m.state == S.DISPATCHED and m.pool):
            refusals.add(Conflict)
        if not refusals and self.team_refusal(team, m, None):
            refusals.add(Conflict)

        def after(m):
            m.state, m.assignee, m.pool, m.deadline, m.overdue = S.ACCEPTED, ("team", team), False, self.clock + FINISH, False

        self.attempt(m, refusals, lambda: services.grab_need(self.user(actor), m.pk, self.w.teams[team]),
                     actor=actor, after=after)

    def do_claim(self, m: Model, actor: str, team: str):
        refusals = set()
        if LEADS.get(actor) != team:
            refusals.add(Forbidden)
        if not m.wish:
            refusals.add(InvalidInput)
        if m.state != S.APPROVED:
            refusals.add(Conflict)
        if not refusals and self.team_refusal(team, m, None):  # the wish's own region
            refusals.add(Conflict)

        def after(m):  # a dispatch to the claiming team, accepted at once
            m.state, m.assignee, m.pool, m.deadline, m.overdue = S.ACCEPTED, ("team", team), False, self.clock + FINISH, False

        self.attempt(m, refusals, lambda: services.claim_wish(self.user(actor), m.pk, self.w.teams[team]),
                     events=2, actor=actor, after=after)

    def do_accept(self, m: Model, actor: str):
        refusals = set()
        if m.state != S.DISPATCHED or m.pool:
            refusals.add(Conflict)
        if not self.assignee(actor, m):
            refusals.add(Forbidden)

        def after(m):
            kind, key = m.assignee
            if kind == "node":  # the lower node takes it over, to dispatch further
                m.state, m.node, m.assignee, m.deadline = S.APPROVED, key, None, self.clock + dispatch_period(m)
            else:
                m.state, m.deadline = S.ACCEPTED, self.clock + FINISH
            m.overdue = False

        self.attempt(m, refusals, lambda: services.accept_need(self.user(actor), m.pk), actor=actor, after=after)

    def may_decline(self, actor: str, m: Model) -> bool:
        # From the pool, the handling node withdraws it; otherwise whoever it was dispatched to declines.
        return self.handler(actor, m) if m.pool else self.assignee(actor, m)

    def do_decline(self, m: Model, actor: str, reason: str):
        refusals = set()
        if not reason.strip():
            refusals.add(InvalidInput)
        if m.state != S.DISPATCHED:
            refusals.add(Conflict)
        if not self.may_decline(actor, m):
            refusals.add(Forbidden)

        def after(m):
            m.state, m.assignee, m.pool, m.deadline, m.overdue = S.APPROVED, None, False, self.clock + dispatch_period(m), False

        self.attempt(m, refusals, lambda: services.decline_need(self.user(actor), m.pk, reason=reason),
                     actor=actor, after=after)

    def do_start(self, m: Model, actor: str):
        refusals = set()
        if m.state != S.ACCEPTED:
            refusals.add(Conflict)
        if not self.assignee(actor, m):
            refusals.add(Forbidden)

        def after(m):
            m.state = S.IN_SERVICE

        self.attempt(m, refusals, lambda: services.start_service(self.user(actor), m.pk), actor=actor, after=after)

    def do_complete(self, m: Model, actor: str, report: str):
        refusals = set()
        if not report.strip():
            refusals.add(InvalidInput)
        if m.state not in (S.ACCEPTED, S.IN_SERVICE):
            refusals.add(Conflict)
        if not self.assignee(actor, m):
            refusals.add(Forbidden)

        def after(m):
            m.state, m.deadline, m.overdue = S.COMPLETED, self.clock + RATING, False

        self.attempt(m, refusals, lambda: services.complete_need(self.user(actor), m.pk, report=report,
                                                                 people_served=1),
                     actor=actor, after=after)

    def may_close(self, actor: str, m: Model) -> bool:
        """Rate or cancel: the resident, or a handling admin for them."""
        return actor == "resident" or self.handler(actor, m)

    def do_rate(self, m: Model, actor: str, stars: int):
        refusals = set()
        if not 1 <= stars <= 5:
            refusals.add(InvalidInput)
        if not self.may_close(actor, m):
            refusals.add(Forbidden)
        if m.state != S.COMPLETED:
            refusals.add(Conflict)

        def after(m):
            m.state, m.deadline = S.CLOSED, None

        self.attempt(m, refusals, lambda: services.rate_need(m.pk, stars=stars, by=self.user(actor)),
                     actor=actor, after=after)

    def do_cancel(self, m: Model, actor: str, reason: str):
        refusals = set()
        if not reason.strip():
            refusals.add(InvalidInput)
        if not self.may_close(actor, m):
            refusals.add(Forbidden)
        if m.state not in CANCELLABLE:
            refusals.add(Conflict)

        def after(m):
            m.state, m.assignee, m.pool, m.deadline = S.CANCELLED, None, False, None

        self.attempt(m, refusals, lambda: services.cancel_need(m.pk, reason=reason, by=self.user(actor)),
                     actor=actor, after=after)

    # --- The rules Hypothesis draws

    @precondition(lambda self: self.needs)
    @rule(action=st.sampled_from(ACTIONS), i=needs_index, actor=actors, arg=st.integers(min_value=0, max_value=59))
    def anyone_tries(self, action, i, actor, arg):
        """Any action on any need by anyone (biased towards a need in a state it applies to and an actor
        the rules allow); `arg` gives the action's other choices (a reason or a blank one, the team or
        person dispatched to, the stars …)."""
        self.try_action(action, self.pick(i, APPLIES_TO[action]), actor, arg)

    def try_action(self, action: str, m: Model, actor, arg: int):
        handler, assignee = (lambda a: self.handler(a, m)), (lambda a: self.assignee(a, m))
        reason = REASONS[arg % len(REASONS)]
        if action == "review":
            self.do_review(m, self.who(actor, handler), arg % 3 != 0, reason)
        elif action == "dispatch":
            self.do_dispatch(m, self.who(actor, handler), TARGETS[arg % len(TARGETS)])
        elif action == "publish":
            self.do_publish(m, self.who(actor, handler))
        elif action in ("grab", "claim"):
            actor = self.who(actor, lambda a: a in LEADS)
            team = ["own", "own", "team", "far_team"][arg % 4]
            team = LEADS.get(actor, "team") if team == "own" else team
            (self.do_grab if action == "grab" else self.do_claim)(m, actor, team)
        elif action == "accept":
            self.do_accept(m, self.who(actor, assignee))
        elif action == "decline":
            self.do_decline(m, self.who(actor, lambda a: self.may_decline(a, m)), reason)
        elif action == "start":
            self.do_start(m, self.who(actor, assignee))
        elif action == "complete":
            self.do_complete(m, self.who(actor, assignee), ["上门探访1小时，打扫卫生", "陪同就医", " "][arg % 3])
        elif action == "rate":
            self.do_rate(m, self.who(actor, lambda a: self.may_close(a, m)), arg % 7)
        else:
            self.do_cancel(m, self.who(actor, lambda a: self.may_close(a, m)), reason)

    @precondition(lambda self: self.needs)
    @rule(i=st.integers(min_value=0, max_value=7), k=st.integers(min_value=0, max_value=59))
    def out_of_turn(self, i, k):
        """A move the need's state does not allow (cancel an accepted need, grab one not in the pool,
        rate one not completed …), by someone who could make it in its turn, with valid arguments:
        only the state is wrong, and the rules refuse it."""
        m = rotate(i, self.needs)
        wrong = [a for a in ACTIONS if not applies(a, m)]
        self.try_action(wrong[k % len(wrong)], m, k // len(wrong), 1)

    @precondition(lambda self: any(m.state in OPEN | {S.COMPLETED} for m in self.needs))
    @rule(i=st.integers(min_value=0, max_value=7), ks=st.lists(st.integers(min_value=0, max_value=59), min_size=1,
                                                              max_size=4))
    def go_on(self, i, ks):
        """A few next steps of an open need's way, each by someone the rules allow (so that examples get
        deep into the loop); k chooses among the ways on and among the actors."""
        self.steps_on(self.pick(i, OPEN | {S.COMPLETED}), ks)

    @precondition(lambda self: any(m.state in LATER for m in self.needs))
    @rule(i=st.integers(min_value=0, max_value=7), k=st.integers(min_value=0, max_value=59))
    def serve(self, i, k):
        """The same for a need already dispatched: accept, decline, grab, start, complete, rate."""
        self.steps_on(self.pick(i, LATER), [k])

    def steps_on(self, m: Model, ks):
        for k in ks:
            if m.state not in OPEN | {S.COMPLETED}:
                break
            self.next_step(m, k % 6, k // 6)

    def next_step(self, m: Model, way: int, k: int):
        handler, assignee = (lambda a: self.handler(a, m)), (lambda a: self.assignee(a, m))
        if m.state == S.SUBMITTED:
            self.do_review(m, self.who(k, handler), approve=way != 0, reason="不属于志愿服务范围")
        elif m.state == S.APPROVED:
            if m.wish and way < 2:
                actor = self.who(k, lambda a: a in LEADS)
                self.do_claim(m, actor, LEADS[actor])
            elif way == 2:
                self.do_publish(m, self.who(k, handler))
            elif way == 3:
                self.do_cancel(m, self.who(k, lambda a: self.may_close(a, m)), "已自行解决")
            else:
                self.do_dispatch(m, self.who(k, handler), TARGETS[(way + k) % len(TARGETS)])
        elif m.state == S.DISPATCHED and m.pool:
            if way == 0:  # withdrawn from the pool by the handling node
                self.do_decline(m, self.who(k, handler), "无人抢单，改为指派")
            else:
                actor = self.who(k, lambda a: a in LEADS)
                self.do_grab(m, actor, LEADS[actor])
        elif m.state == S.DISPATCHED:
            if way == 0:
                self.do_decline(m, self.who(k, assignee), "本周人手不足")
            elif way == 1:
                self.do_cancel(m, self.who(k, lambda a: self.may_close(a, m)), "已自行解决")
            else:
                self.do_accept(m, self.who(k, assignee))
        elif m.state == S.ACCEPTED and way < 3:
            self.do_start(m, self.who(k, assignee))
        elif m.state in (S.ACCEPTED, S.IN_SERVICE):
            self.do_complete(m, self.who(k, assignee), "上门探访1小时，打扫卫生")
        else:
            self.do_rate(m, self.who(k, lambda a: self.may_close(a, m)), 1 + (way + k) % 5)

    # --- The clock moves; the sweep acts on missed deadlines, once

    @rule(jump=st.one_of(st.sampled_from(JUMPS), st.tuples(st.integers(min_value=0, max_value=7),
                                                          st.sampled_from([-1, 0, 0, 1]))))
    def sweep(self, jump):
        """The clock moves on — by a while, or (i, s) onto the deadline of a need (one of each state as
        likely as any other) give or take s seconds — and the sweep runs, twice."""
        if isinstance(jump, tuple):
            i, seconds = jump
            ahead = [m for m in self.needs if m.deadline is not None and m.deadline > self.clock]
            if ahead:
                target = rotate(i, ahead)
                note(f"onto the deadline of need {target.pk} ({target.state}) {seconds:+d} s")
                self.clock = max(self.clock, target.deadline + timedelta(seconds=seconds))
        else:
            self.clock += jump
        now = self.clock
        expected = services.SweepResult()
        swept = {}
        for m in self.needs:
            if m.deadline is None or m.deadline > now or m.state not in OPEN | {S.COMPLETED}:
                continue
            swept[m.pk] = m.state
            if m.state in (S.SUBMITTED, S.APPROVED):  # missed review / dispatch: one level up
                m.overdue = True
                if PARENT[m.node] is None:
                    m.deadline = None  # at the top: stays overdue on the centre's page
                    expected.overdue += 1
                else:
                    m.node, m.escalations = PARENT[m.node], m.escalations + 1
                    m.deadline = now + (REVIEW if m.state == S.SUBMITTED else dispatch_period(m))
                    expected.escalated += 1
            elif m.state == S.DISPATCHED:  # missed accept: back for another dispatch (改派)
                m.state, m.assignee, m.pool, m.overdue, m.deadline = S.APPROVED, None, False, True, now + dispatch_period(m)
                expected.reassigned += 1
            elif m.state in (S.ACCEPTED, S.IN_SERVICE):  # late service: marked overdue, once
                m.overdue, m.deadline = True, None
                expected.overdue += 1
            else:  # unrated after 7 days: closes by itself
                m.state, m.deadline = S.CLOSED, None
                expected.closed_unrated += 1
        rows, n_audit = self.rows(), AuditEntry.objects.count()
        last = NeedEvent.objects.aggregate(m=Max("id"))["m"] or 0
        result = services.sweep(now)
        assert result == expected, f"sweep did {result}, the rules say {expected}"
        new = list(NeedEvent.objects.filter(id__gt=last).order_by("id"))
        assert sorted(e.need_id for e in new) == sorted(swept), "one timeline entry per missed deadline"
        for e in new:
            assert e.from_state == swept[e.need_id] and e.actor_id is None and e.actor_label == services.SYSTEM
        assert AuditEntry.objects.count() == n_audit + len(swept)
        untouched = [r for r in rows if r["id"] not in swept]
        assert [r for r in self.rows() if r["id"] not in swept] == untouched
        # Run again at the same time: nothing left to do.
        rows, n_events, n_audit = self.rows(), NeedEvent.objects.count(), AuditEntry.objects.count()
        assert services.sweep(now).total() == 0
        assert (self.rows(), NeedEvent.objects.count(), AuditEntry.objects.count()) == (rows, n_events, n_audit)

    # --- Invariants

    @invariant()
    def agrees_with_the_model(self):
        rows = {r["id"]: r for r in self.rows()}
        assert set(rows) == {m.pk for m in self.needs}
        keys, w = self.w.node_keys, self.w
        for m in self.needs:
            r = rows[m.pk]
            assignee = None
            for kind, table, column in (("team", w.teams, "team_id"), ("volunteer", w.volunteers, "volunteer_id"),
                                        ("node", w.nodes, "to_node_id"),
                                        ("department", {"health": w.department}, "department_id")):
                if r[column] is not None:
                    assignee = (kind, next(k for k, o in table.items() if o.pk == r[column]))
            seen = {"state": r["state"], "node": keys[r["node_id"]],
                    "station": keys[r["station_id"]], "assignee": assignee, "pool": r["in_pool"],
                    "deadline": r["deadline"], "escalations": r["escalations"]}
            model = {"state": m.state, "node": m.node, "station": m.station, "assignee": m.assignee,
                     "pool": m.pool, "deadline": m.deadline, "escalations": m.escalations}
            assert seen == model, f"need {m.pk}: database {seen} ≠ rules {model}"
            if m.overdue:  # what the sweep marked stays marked until someone acts
                assert r["overdue"]

    @invariant()
    def timelines_follow_the_rules(self):
        steps = {}
        for e in NeedEvent.objects.order_by("need_id", "id").values("need_id", "from_state", "to_state"):
            chain = steps.setdefault(e["need_id"], [])
            assert (e["from_state"], e["to_state"]) in ALLOWED_STEPS, f"a step the rules forbid: {e}"
            assert e["from_state"] == (chain[-1] if chain else ""), f"the timeline jumps: {e}"
            chain.append(e["to_state"])
        audited = dict(AuditEntry.objects.filter(object_type="needs.need").values_list("object_id")
                       .annotate(n=Count("id")).values_list("object_id", "n"))
        for m in self.needs:
            assert steps[m.pk][-1] == m.state
            assert audited[str(m.pk)] == len(steps[m.pk]), "one audit entry per timeline entry"

    @invariant()
    def one_assignee_at_most_and_teams_within_capacity(self):
        for r in Need.objects.values("state", "team_id", "volunteer_id", "to_node_id", "department_id", "in_pool"):
            kinds = sum(r[c] is not None for c in ("team_id", "volunteer_id", "to_node_id", "department_id"))
            assert kinds <= 1, r
            if r["state"] == S.DISPATCHED:
                assert kinds == (0 if r["in_pool"] else 1), r
            elif r["state"] in (S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.CLOSED):
                assert kinds == 1 and r["to_node_id"] is None and not r["in_pool"], r
            else:
                assert kinds == 0 and not r["in_pool"], r
        for key, team in self.w.teams.items():
            held = Need.objects.filter(team=team, state__in=HELD).count()
            assert held == self.held(key) <= CAPACITY[key] == team.capacity

    @invariant()
    def figures_equal_their_recount(self):
        # The figures are a function of the needs' rows, and a row changes only with a timeline entry.
        mark = (NeedEvent.objects.count(), NeedEvent.objects.aggregate(m=Max("id"))["m"])
        if mark == getattr(self, "_figured", None):
            return
        self._figured = mark
        spans = [(self.today - timedelta(days=1), self.today + timedelta(days=1)), (date(2000, 1, 1), date(2100, 12, 31))]
        for key, (start, end) in (("C", spans[1]), ("S", spans[0])):
            node = self.w.nodes[key]
            assert queries.need_figures(node, start, end) == queries.recount_figures(node, start, end)


class TestNeedLoop(DjangoTestCase, NeedLoop.TestCase):
    """NeedLoop.TestCase run by Django's TestCase, so that pytest-django opens the database for it."""

    settings = hsettings(max_examples=40, stateful_step_count=40, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def setUp(self):
        NeedLoop.world = self.world


def test_a_booking_is_approved_even_when_its_team_is_full(loop):
    t = loop.tree
    offer = services.save_offer(t.team_leader, team=loop.team, category=loop.care, title="爱心陪伴")
    for _ in range(loop.team.capacity):
        dispatched(loop)
    booking = raise_need(loop, offer=offer)
    booking = services.review_need(t.admin, booking, approve=True)
    assert booking.state == S.APPROVED and booking.team is None  # to be dispatched elsewhere
    assert "暂不能承接" in booking.events.get(action="approved").note
    assert services.team_load(loop.team) <= loop.team.capacity
