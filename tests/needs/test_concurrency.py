"""Real concurrency in the need loop, on PostgreSQL: threads, each with its own connection, released
together by a barrier.

Fifty teams grabbing one pooled need at once (one wins); two dispatchers dispatching one need at once;
a grab racing the pool's withdrawal or the resident's cancel; two sweeps at once (each missed deadline
acted on once); a sweep while another need's transition is in flight (only the need's row is locked,
not its station's or category's); and dispatches racing for a team's last place (its capacity)."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from tests.concurrency import run_at_once
from tests.ledger.helpers import make_user, make_volunteer
from tests.needs.conftest import approved, raise_need
from tests.needs.conftest import category as default_category
from wenming.core.errors import Conflict, DomainError
from wenming.core.models import AuditEntry, User
from wenming.needs import services
from wenming.needs.models import Need, NeedEvent
from wenming.people.models import Team

pytestmark = [
    pytest.mark.pg_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

S = Need.State


def _enough_connections(needed: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        available = int(cursor.fetchone()[0])
    if available < needed:
        message = (f"PostgreSQL max_connections={available} < {needed}: "
                   "ALTER SYSTEM SET max_connections = 200 and restart (as .ci/run does)")
        if os.environ.get("WENMING_CI") == "1":
            pytest.fail(message)
        pytest.skip(message)


def actions(need) -> list[str]:
    return list(NeedEvent.objects.filter(need_id=need.pk).order_by("id").values_list("action", flat=True))


def audited(need, action: str) -> int:
    return AuditEntry.objects.filter(object_type="needs.need", object_id=str(need.pk), action=f"need.{action}").count()


def teams_with_leaders(loop, n: int, capacity: int = 1) -> list[Team]:
    """n teams at the need's station, each led by its own account, all with the care skill."""
    t = loop.tree
    skills = list(loop.team.skills.all())
    teams = []
    for i in range(n):
        user = make_user(f"grab_leader_{i:02d}", User.Role.TEAM_LEADER, [t.station])
        leader = make_volunteer(t.admin, t.station, f"抢单队长{i:02d}", user=user)
        team = Team.objects.create(name=f"东风社区第{i:02d}志愿服务队", node=t.station, leader=leader, capacity=capacity)
        team.skills.set(skills)
        teams.append(team)
    return teams


def test_fifty_teams_grab_one_pooled_need_at_once(loop):
    _enough_connections(50 + 10)
    teams = teams_with_leaders(loop, 50)
    need = services.publish_need(loop.tree.admin, approved(loop))
    for team in teams:  # every one of them may take it
        assert services.team_may_take(team, need) is None
    leaders = [team.leader.user for team in teams]

    results, errors = run_at_once(50, lambda i: services.grab_need(leaders[i], need.pk, teams[i]))

    winners = [i for i, r in enumerate(results) if r is not None]
    assert len(winners) == 1, errors
    assert len(errors) == 49
    assert all(isinstance(e, Conflict) and e.code == "already_taken" for e in errors.values()), errors
    need = Need.objects.get(pk=need.pk)
    assert need.state == S.ACCEPTED and need.team_id == teams[winners[0]].pk and not need.in_pool
    assert actions(need).count("grabbed") == 1 and audited(need, "grabbed") == 1
    assert actions(need) == ["submitted", "approved", "published", "grabbed"]
    assert Need.objects.filter(team__in=teams).count() == 1


def test_two_dispatchers_dispatch_one_need_at_once(loop):
    t = loop.tree
    dispatchers, targets = [t.admin, t.admin2], [loop.team, loop.far_team]
    for _ in range(4):  # a few rounds, so that each side gets its chance to win
        need = approved(loop)
        results, errors = run_at_once(2, lambda i, need=need: services.dispatch_need(dispatchers[i], need.pk,
                                                                                        team=targets[i]))
        assert len(errors) == 1, errors
        (loser, refused), = errors.items()
        assert isinstance(refused, Conflict) and refused.code == "state_invalid"
        winner = 1 - loser
        need = Need.objects.get(pk=need.pk)
        assert need.state == S.DISPATCHED and need.team == targets[winner] and need.dispatched_by == dispatchers[winner]
        assert actions(need) == ["submitted", "approved", "dispatched"] and audited(need, "dispatched") == 1
        services.cancel_need(need, reason="本轮测试结束")  # the teams' places back


@pytest.mark.parametrize("other", ["withdraw", "cancel"])
def test_a_grab_racing_the_pools_withdrawal_or_the_residents_cancel(loop, other):
    t = loop.tree
    for _ in range(6):  # a few rounds: which side wins each one is up to the scheduler
        need = services.publish_need(t.admin, approved(loop))

        def work(i, need=need):
            if i == 0:
                return services.grab_need(t.team_leader, need.pk, loop.team)
            if other == "withdraw":
                return services.decline_need(t.admin, need.pk, reason="无人抢单，改为指派")
            return services.cancel_need(need.pk, reason="已自行解决")

        results, errors = run_at_once(2, work)
        assert len(errors) == 1, errors
        (loser, refused), = errors.items()
        assert isinstance(refused, Conflict)
        assert refused.code == ("already_taken" if loser == 0 else "state_invalid")
        need = Need.objects.get(pk=need.pk)
        after = actions(need)[3:]
        assert len(after) == 1  # exactly one of them happened
        if loser == 1:
            assert after == ["grabbed"] and need.state == S.ACCEPTED and need.team == loop.team
        elif other == "withdraw":
            assert after == ["declined"] and need.state == S.APPROVED and need.team is None
        else:
            assert after == ["cancelled"] and need.state == S.CANCELLED and need.team is None
        assert not need.in_pool
        if need.state == S.ACCEPTED:
            services.complete_need(t.team_leader, need, report="完成")  # the team's place back


def test_two_sweeps_at_once_act_once_on_each_missed_deadline(loop):
    needs = [raise_need(loop) for _ in range(20)]
    now = timezone.now() + timedelta(hours=25)

    results, errors = run_at_once(2, lambda i: services.sweep(now))

    assert errors == {}
    assert sum(r.escalated for r in results) == 20
    assert sum(r.total() for r in results) == 20
    for need in needs:
        need = Need.objects.get(pk=need.pk)
        assert actions(need) == ["submitted", "escalated"], need.code
        assert need.escalations == 1 and need.node == loop.tree.institute
        assert audited(need, "escalated") == 1
    assert services.sweep(now).total() == 0


def in_flight(work, monkeypatch):
    """Run work() in a thread whose transaction stops inside its first _save (its need locked) until
    the returned release() is called; returns (release, the thread's outcome)."""
    inside, go_on, outcome = threading.Event(), threading.Event(), {}
    worker_thread = []
    real_save = services._save

    def save(*args, **kwargs):
        if threading.current_thread() is worker_thread[0] and not inside.is_set():
            inside.set()
            go_on.wait(30)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(services, "_save", save)

    def worker():
        try:
            outcome["result"] = work()
        except Exception as e:  # noqa: BLE001 — reported to the test
            outcome["error"] = e
        finally:
            inside.set()
            connection.close()

    thread = threading.Thread(target=worker)
    worker_thread.append(thread)
    thread.start()
    assert inside.wait(30), "the transition never got inside its transaction"

    def release():
        go_on.set()
        thread.join(60)
        assert not thread.is_alive()
        close_old_connections()

    return release, outcome


def test_a_sweep_is_not_held_up_by_a_transition_on_another_need(loop, monkeypatch):
    """A transition locks its need's row only: were the joined node and category rows locked too, the
    sweep's SKIP LOCKED would skip every due need of the station while any of its needs is being handled
    (and two sweeps at once would skip each other's needs)."""
    due = [raise_need(loop) for _ in range(5)]
    other = approved(loop)
    Need.objects.filter(pk=other.pk).update(deadline=None)  # not due itself
    now = timezone.now() + timedelta(hours=25)
    release, outcome = in_flight(lambda: services.dispatch_need(loop.tree.admin, other.pk, team=loop.team),
                                 monkeypatch)
    try:
        result = services.sweep(now)
    finally:
        release()
    assert "error" not in outcome and outcome["result"].state == S.DISPATCHED
    assert result.escalated == len(due)


def test_dispatches_racing_for_a_teams_last_place(loop, monkeypatch):
    """Two needs of different stations and categories (no row shared by their locks) dispatched to one
    team with one place left, at once: the team's row is locked before its load is counted, so one
    of them gets the place and the other is refused."""
    t = loop.tree
    team = loop.team
    team.capacity = 1
    team.save(update_fields=["capacity"])
    chores = default_category("elderly-chores", "家务助洁", "elderly", "助老助残")
    chores.skills.set(loop.care.skills.all())
    needs = [approved(loop), approved(loop, category=chores, station=t.other_station)]
    # Make the interleaving certain: each dispatch, having counted the team's load, waits (a little)
    # for the other one to count too. A dispatch that locks the team before counting makes the other
    # wait for the lock instead, the barrier times out, and only one of them gets the place.
    counted = threading.Barrier(2)
    real_load = services.team_load

    def team_load(team):
        load = real_load(team)
        try:
            counted.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return load

    monkeypatch.setattr(services, "team_load", team_load)
    results, errors = run_at_once(2, lambda i: services.dispatch_need([t.admin, t.admin2][i], needs[i].pk, team=team))

    assert all(isinstance(e, DomainError) for e in errors.values()), errors
    assert real_load(team) <= team.capacity
    assert len(errors) == 1 and next(iter(errors.values())).code == "team_ineligible"
