"""Roll-ups equal their recomputation from the raw records after any sequence of operations
(Hypothesis): activities created, published, cancelled, settled, re-themed, moved in time; hours
verified, recorded and corrected; needs raised and moved along; media reports added, changed and
removed; volunteers registered and moved. After each sequence `verify` finds no difference and the
roll-up summary equals the raw recount."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories as f
from tests.stats import builders as b
from wenming.activities.models import Activity
from wenming.core.errors import DomainError
from wenming.core.models import User
from wenming.ledger.models import ServiceRecord
from wenming.needs.models import Need
from wenming.people.models import Volunteer
from wenming.publicity.models import MediaReport
from wenming.stats import queries, rebuild, recount

NODES = ["C", "I1", "I2", "S11", "S12", "S21"]
STATIONS = ["S11", "S12", "S21"]
A = Activity.Status
S = Need.State

op = st.one_of(
    st.tuples(st.just("activity"), st.sampled_from(NODES), st.integers(-400, 3), st.sampled_from(list(A)),
              st.booleans(), st.integers(0, 3), st.booleans(), st.integers(0, 60)),
    st.tuples(st.just("activity_status"), st.integers(0, 50), st.sampled_from(list(A)), st.integers(0, 80)),
    st.tuples(st.just("activity_themes"), st.integers(0, 50), st.integers(0, 3)),
    st.tuples(st.just("activity_move"), st.integers(0, 50), st.integers(-400, 2), st.sampled_from(NODES)),
    st.tuples(st.just("verified"), st.integers(0, 3), st.sampled_from(NODES), st.integers(-400, 0),
              st.integers(1, 8), st.integers(0, 50)),
    st.tuples(st.just("recorded"), st.integers(0, 3), st.sampled_from(NODES), st.integers(-400, 0),
              st.integers(1, 8)),
    st.tuples(st.just("adjust"), st.integers(0, 200), st.integers(-8, 4)),
    st.tuples(st.just("need"), st.sampled_from(STATIONS), st.integers(-400, 0), st.sampled_from(list(S)),
              st.integers(0, 5), st.booleans()),
    st.tuples(st.just("need_move"), st.integers(0, 50), st.sampled_from(list(S)), st.integers(0, 5)),
    st.tuples(st.just("report"), st.sampled_from(NODES), st.integers(-400, 0),
              st.sampled_from(["district", "city", "province", "central"])),
    st.tuples(st.just("report_change"), st.integers(0, 50), st.sampled_from(["district", "central", "delete"]),
              st.integers(-400, 0)),
    st.tuples(st.just("volunteer_move"), st.integers(0, 3), st.sampled_from(STATIONS)),
)


class Actions:
    def __init__(self, w):
        self.w = w
        self.admin = w.district_admin
        self.admin2 = User.objects.filter(username="admin2").first() or f.make_user(
            "admin2", User.Role.DISTRICT_ADMIN, [w.C])
        self.today = date.today()
        self.themes = [b.theme(n) for n in ("学雷锋", "文化惠民", "理论宣讲")]

    def _nth(self, model, i):
        rows = list(model.objects.order_by("pk").values_list("pk", flat=True))
        return model.objects.get(pk=rows[i % len(rows)]) if rows else None

    def run(self, step):
        kind, *args = step
        try:
            getattr(self, kind)(*args)
        except DomainError:
            pass  # a refused operation changes nothing, which the roll-ups must show too

    def activity(self, node, days, status, platform, theme_count, team, people):
        ends = b.at(self.today + timedelta(days=days), 11) if days < 3 else b.now_local() + timedelta(minutes=1)
        b.activity(self.w.nodes[node], ends, status=status, platform=self.w.platform if platform else None,
                   themes=self.themes[:theme_count], team=self.w.teams["S11"] if team else None,
                   beneficiaries=people or None)

    def activity_status(self, i, status, people):
        a = self._nth(Activity, i)
        if a:
            a.status, a.beneficiaries = status, people or None
            a.save(update_fields=["status", "beneficiaries"])

    def activity_themes(self, i, n):
        a = self._nth(Activity, i)
        if a:
            a.themes.set(self.themes[:n]) if n else a.themes.clear()

    def activity_move(self, i, days, node):
        a = self._nth(Activity, i)
        if a:
            a.ends_at = b.at(self.today + timedelta(days=days), 18)
            a.starts_at = a.ends_at - timedelta(hours=2)
            a.node = self.w.nodes[node]
            a.save()

    def _volunteer(self, i):
        people = [*self.w.volunteers.values(), self.w.leader_volunteer]
        return Volunteer.objects.get(pk=people[i % len(people)].pk)

    def verified(self, who, node, days, hours, activity):
        a = self._nth(Activity, activity)
        source = ("activity", str(a.pk)) if a else ("history", "")
        if not source[1]:
            return
        b.verified(self.admin, self._volunteer(who), self.w.nodes[node], self.today + timedelta(days=days),
                   hours * 30, source)

    def recorded(self, who, node, days, hours):
        b.recorded(self.admin, self.admin2, self._volunteer(who), self.w.nodes[node],
                   self.today + timedelta(days=days), hours * 30)

    def adjust(self, i, halves):
        r = self._nth(ServiceRecord, i)
        if r and halves:
            b.adjust(self.admin, self.admin2, r, halves * 30)

    def need(self, station, days, state, stars, team):
        created = b.at(self.today + timedelta(days=days), 10)
        self._shape(b.need(self.w.nodes[station], created), state, stars, team)

    def need_move(self, i, state, stars):
        n = self._nth(Need, i)
        if n:
            self._shape(n, state, stars, n.team_id is not None)

    def _shape(self, n, state, stars, team):
        later = n.created_at + timedelta(hours=5)
        done = state in (S.COMPLETED, S.CLOSED)
        n.state = state
        n.approved_at = later if state not in (S.SUBMITTED, S.REJECTED) else None
        n.dispatched_at = later if state in (S.DISPATCHED, S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.CLOSED) else None
        n.accepted_at = later + timedelta(hours=2) if n.dispatched_at and state != S.DISPATCHED else None
        n.completed_at = later + timedelta(days=2) if done else None
        n.stars = stars or None if done else None
        n.rated_at = later + timedelta(days=3) if n.stars else None
        n.team = self.w.teams["S21"] if team else None
        n.overdue = not done and stars % 2 == 1
        n.save()

    def report(self, node, days, level):
        b.report(self.w.nodes[node], self.today + timedelta(days=days), level,
                 f"报道{MediaReport.objects.count()}")

    def report_change(self, i, change, days):
        r = self._nth(MediaReport, i)
        if r is None:
            return
        if change == "delete":
            r.delete()
        else:
            r.level, r.published_on = change, self.today + timedelta(days=days)
            r.save()

    def volunteer_move(self, who, station):
        v = self._volunteer(who)
        v.station = self.w.nodes[station]
        v.save(update_fields=["station"])


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=20))
def test_rollups_equal_recomputation_after_random_operations(world, steps):
    actions = Actions(world)
    for step in steps:
        actions.run(step)
    assert rebuild.verify(limit=0) == []
    year = date(date.today().year, 1, 1), date(date.today().year, 12, 31)
    last = date(date.today().year - 1, 1, 1), date.today()
    for key in ("C", "I2", "S11"):
        for period in (year, last):
            assert queries.summary(world.nodes[key], *period) == recount.summary(world.nodes[key], *period)
