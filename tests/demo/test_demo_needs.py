"""The demo holds three months of residents' needs: every state of the four-order loop, timelines the
services would have written, something for each demo account to act on, figures that recount, the
same needs from the same seed, loaded once."""

import random
from collections import Counter
from datetime import datetime, timedelta
from io import StringIO
from types import SimpleNamespace
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from wenming.core.models import AuditEntry, OrgNode, User
from wenming.demo import needs as demo_needs
from wenming.ledger.models import HoursRequest
from wenming.needs import queries, services
from wenming.needs.models import Need, NeedCategory, NeedEvent, NeedHours, ServiceOffer
from wenming.people.models import Team

S = Need.State


def load(volunteers: int, seed: int | None = None) -> str:
    out = StringIO()
    options = {"volunteers": volunteers, "stdout": out, "verbosity": 0}
    if seed is not None:
        options["seed"] = seed
    call_command("demo", **options)
    return out.getvalue()


def users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(is_demo_data=True)}


def check_timeline(need: Need, events: list[NeedEvent], now: datetime, demo_user_ids: set[int]) -> None:
    assert events, need.code
    first, last = events[0], events[-1]
    assert (first.action, first.from_state, first.to_state) == ("submitted", "", S.SUBMITTED), need.code
    assert first.at == need.created_at
    assert last.to_state == need.state, (need.code, [e.action for e in events])
    for before, after in zip(events, events[1:], strict=False):
        assert before.at <= after.at, need.code
        assert after.from_state == before.to_state, (need.code, before.action, after.action)
    assert last.at <= now
    for e in events:
        # A person acting is a demo account; the resident is 群众, the deadline sweep 系统.
        assert (e.actor_id in demo_user_ids) if e.actor_label not in ("群众", "系统") else e.actor_id is None
        assert e.public == (e.action != "overdue")

    def last_at(*actions, to_state=None):
        found = [e.at for e in events if e.action in actions and (to_state is None or e.to_state == to_state)]
        return found[-1] if found else None

    assert need.approved_at == last_at("approved")
    assert need.dispatched_at == last_at("dispatched", "published")
    assert need.accepted_at == last_at("accepted", "grabbed", "claimed", to_state=S.ACCEPTED)
    assert need.completed_at == last_at("completed")
    assert need.rated_at == last_at("rated")
    assert need.closed_at == last_at("rated", "closed_unrated", "rejected", "cancelled")
    assert need.escalations == sum(e.action == "escalated" for e in events)
    if not need.escalations:
        assert need.node_id == need.station_id
    if need.state in Need.OPEN_STATES:
        # What the sweep (every few minutes) has not acted on yet is not long past its deadline.
        assert need.deadline is None or need.deadline > now - timedelta(minutes=10), need.code
        assert need.deadline is not None or need.overdue
    else:
        assert need.deadline is None or need.state == S.COMPLETED
    if need.state == S.DISPATCHED:
        assert need.in_pool or sum(x is not None for x in (need.team_id, need.volunteer_id, need.to_node_id,
                                                            need.department_id)) == 1
    if need.state in (S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.CLOSED):
        assert need.team_id or need.volunteer_id or need.department_id
    if need.state == S.CLOSED and need.stars is not None:
        assert last.action == "rated" and last.note.startswith(f"{need.stars}星")
    if need.state == S.REJECTED:
        assert need.reason and last.note == f"{need.node.name}驳回：{need.reason}"


@pytest.mark.django_db
def test_needs_in_every_state_with_coherent_timelines():
    output = load(300)
    now = timezone.now()
    needs = list(Need.objects.select_related("category", "station", "node", "team", "offer"))
    assert demo_needs.MIN_NEEDS <= len(needs) <= demo_needs.MAX_NEEDS
    assert all(n.is_demo_data for n in needs) and "演示区县已加载" in output
    states = Counter(n.state for n in needs)
    assert set(states) == set(S.values), states
    assert states[S.CLOSED] > len(needs) / 3

    events = {}
    for e in NeedEvent.objects.order_by("at", "id"):
        events.setdefault(e.need_id, []).append(e)
    demo_user_ids = {u.pk for u in users().values()}
    for n in needs:
        check_timeline(n, events[n.pk], now, demo_user_ids)
        assert n.created_at >= now - timedelta(days=demo_needs.PAST_DAYS + 1)
        assert n.station.kind == OrgNode.Kind.STATION
        assert n.station.path.startswith(n.node.path) or n.node.path.startswith(n.station.path)
        assert n.phone_masked[3:7] == "****" and n.contact_name and len(n.description) >= 5
        assert 27.0 < n.lat < 27.5 and 111.3 < n.lng < 111.8
        assert len(n.code) == 8 and set(n.code) <= set(services.CODE_ALPHABET)
    # Each transition wrote its audit entry, as the services do.
    assert AuditEntry.objects.filter(action__startswith="need.", object_type="needs.need").count() == sum(
        len(v) for v in events.values())

    # Overdue and escalated, to the institute and to the centre; the sweep's own entries.
    open_overdue = [n for n in needs if n.overdue and n.state in Need.OPEN_STATES]
    assert open_overdue
    escalated = [n for n in needs if n.escalations]
    assert {n.node.kind for n in escalated if n.state in Need.OPEN_STATES} >= {OrgNode.Kind.INSTITUTE,
                                                                              OrgNode.Kind.CENTRE}
    actions = Counter(e.action for evs in events.values() for e in evs)
    for action in ("approved", "rejected", "dispatched", "published", "grabbed", "claimed", "accepted", "declined",
                   "started", "completed", "rated", "cancelled", "escalated", "overdue", "accept_missed",
                   "closed_unrated"):
        assert actions[action] > 0, action

    # Dispatched to each kind of assignee; rated mostly 4–5 stars, a few lower with a comment.
    dispatched = [n for n in needs if n.dispatched_at]
    assert any(n.team_id for n in dispatched) and any(n.volunteer_id for n in dispatched)
    assert any(n.department_id for n in dispatched) and any(n.to_node_id for n in needs)
    assert any("派单给" in e.note and e.to_state == S.DISPATCHED for evs in events.values() for e in evs)
    stars = [n.stars for n in needs if n.stars]
    assert sum(s >= 4 for s in stars) / len(stars) >= 0.7
    assert any(n.stars <= 3 and n.comment for n in needs if n.stars)
    assert any(n.state == S.CLOSED and n.stars is None for n in needs)
    # Every source, wishes on the wall and claimed, bookings of the service menu.
    assert set(Counter(n.source for n in needs)) >= {"public", "proxy", "menu", "wish", "open311", "import"}
    assert queries.wish_wall().exists()
    assert any(n.is_wish and n.team_id for n in needs)
    offers = list(ServiceOffer.objects.select_related("team", "category"))
    assert len(offers) >= 15 and all(o.is_demo_data and o.active for o in offers)
    assert {"爱心义剪", "家电义务维修", "义诊进社区", "法律咨询"} <= {o.title for o in offers}
    booked = [n for n in needs if n.offer_id]
    assert booked and all(n.source == "menu" and n.requested_team_id == n.offer.team_id for n in booked)
    assert all(n.team_id == n.requested_team_id for n in booked if n.dispatched_at and n.state != S.CANCELLED
               and not any(e.action in ("declined", "accept_missed") for e in events[n.pk]))
    # A team never holds more open needs than it may.
    for team in Team.objects.filter(needs__state__in=Need.HELD_STATES).distinct():
        assert services.team_load(team) <= team.capacity, team.name

    # Hours of recent completions wait for a second person's approval, as complete_need leaves them.
    hours = list(NeedHours.objects.select_related("need", "request"))
    assert hours
    for h in hours:
        req = h.request
        assert req.status == HoursRequest.Status.PENDING and req.source_type == "need"
        assert req.source_id == h.need.code and req.minutes == h.minutes and req.volunteer_id == h.volunteer_id
        assert req.requested_at == req.window_end == h.need.completed_at and h.need.team_id
        assert req.requested_by.is_demo_data and req.volunteer.user_id != req.requested_by_id  # never one's own


@pytest.mark.django_db
def test_figures_recount_and_categories_mapped():
    load(120)
    centre = OrgNode.objects.get(depth=1)
    today = timezone.localdate()
    start = today - timedelta(days=100)
    for node in [centre, OrgNode.objects.get(name="东风路街道"), OrgNode.objects.get(name="鼓楼亭社区")]:
        figures = queries.need_figures(node, start, today)
        assert figures == queries.recount_figures(node, start, today)
    figures = queries.need_figures(centre, start, today)
    assert figures.collected == Need.objects.count() and figures.overdue > 0 and figures.rated > 0
    assert 0 < figures.completion_rate < 1 and figures.average_rating >= 4

    for code, (platform, skills) in demo_needs.CATEGORY_MAP.items():
        category = NeedCategory.objects.get(code=code)
        assert category.platform.name == platform
        assert set(category.skills.values_list("name", flat=True)) == set(skills)
        assert category.parent.platform_id and (not skills or category.parent.skills.exists())
    assert set(demo_needs.TEXTS) >= set(demo_needs.CATEGORY_MAP)


@pytest.mark.django_db
def test_each_demo_account_has_something_to_act_on():
    load(120)
    u = users()
    station = OrgNode.objects.get(name="鼓楼亭社区")
    mine = Need.objects.filter(station=station)
    for state in (S.SUBMITTED, S.APPROVED, S.COMPLETED, S.CLOSED, S.CANCELLED, S.REJECTED):
        assert mine.filter(state=state).exists(), state
    leader = Team.objects.get(leader__user=u["demo-leader"])
    assert leader.node == station and services.team_load(leader) < leader.capacity
    assert Need.objects.filter(team=leader, state=S.IN_SERVICE).exists()
    assert queries.overdue_needs(u["demo-centre"]).filter(node__depth=1).exists()
    assert queries.overdue_needs(u["demo-institute"]).exists()

    # The services take the demo's needs from where they are.
    submitted = mine.filter(state=S.SUBMITTED).first()
    assert services.review_need(u["demo-station"], submitted, approve=True).state == S.APPROVED
    to_accept = Need.objects.filter(team=leader, state=S.DISPATCHED).first()
    assert services.accept_need(u["demo-leader"], to_accept).state == S.ACCEPTED
    pooled = [n for n in queries.pool_for(u["demo-leader"]) if services.team_may_take(leader, n) is None]
    assert pooled, "a pooled need the demo team may grab"
    assert services.grab_need(u["demo-leader"], pooled[0], leader).team == leader
    passed_down = Need.objects.get(to_node=station, state=S.DISPATCHED)
    taken = services.accept_need(u["demo-station"], passed_down)
    assert (taken.state, taken.node) == (S.APPROVED, station)
    mine_to_accept = {"demo-volunteer": {"volunteer__user": u["demo-volunteer"]},
                      "demo-department": {"department": u["demo-department"].department}}
    for username, where in mine_to_accept.items():
        need = queries.needs_for(u[username]).filter(state=S.DISPATCHED, **where).first()
        assert need is not None, username
        assert services.accept_need(u[username], need).state == S.ACCEPTED
    at_top = queries.overdue_needs(u["demo-centre"]).filter(node__depth=1, state=S.SUBMITTED).first()
    assert services.review_need(u["demo-centre"], at_top, approve=True).overdue is False
    completed = mine.filter(state=S.COMPLETED).first()
    assert services.rate_need(completed, stars=5).state == S.CLOSED


def test_every_category_has_words_for_villages_and_communities():
    builder = SimpleNamespace(rng=random.Random(1))
    for station in (SimpleNamespace(name="莲荷村"), SimpleNamespace(name="鼓楼亭社区")):
        for code in demo_needs.CATEGORY_MAP:
            texts = [t for t in demo_needs.TEXTS[code] if demo_needs._fits_place(t, station)]
            assert texts, (code, station.name)
            for text in texts:
                filled = demo_needs.NeedBuilder._fill(builder, text.split(":", 1)[-1], station)
                assert 5 <= len(filled) <= 1000 and "{" not in filled
                assert "村" not in filled.replace("村民", "") or station.name.endswith("村") or "五保" in filled
        for _code, text in demo_needs.WISHES:
            if demo_needs._fits_place(text, station):
                assert "{" not in demo_needs.NeedBuilder._fill(builder, text.split(":", 1)[-1], station)


class Rollback(Exception):
    pass


def described_load(volunteers: int, seed: int | None = None, now: datetime | None = None) -> list:
    """Load in a savepoint at a fixed now, describe the needs, roll back."""
    described = None
    try:
        with mock.patch("django.utils.timezone.now", return_value=now or timezone.now()), transaction.atomic():
            load(volunteers, seed)
            events = Counter()
            for need_id, action in NeedEvent.objects.values_list("need__code", "action"):
                events[(need_id, action)] += 1
            described = [
                (code, state, category, station, escalations, sorted((a, c) for (nc, a), c in events.items()
                                                                     if nc == code))
                for code, state, category, station, escalations in Need.objects.order_by("code").values_list(
                    "code", "state", "category__code", "station__division_code", "escalations")
            ]
            raise Rollback()
    except Rollback:
        pass
    assert not Need.objects.exists()
    return described


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_needs():
    now = timezone.now()
    first = described_load(40, now=now)
    assert first == described_load(40, now=now)
    other = described_load(40, seed=12345, now=now)
    assert {row[0] for row in first}.isdisjoint({row[0] for row in other})


@pytest.mark.django_db
def test_loading_twice_adds_no_needs():
    load(40)

    def counts():
        return (Need.objects.count(), NeedEvent.objects.count(), ServiceOffer.objects.count(),
                NeedHours.objects.count(), NeedCategory.skills.through.objects.count(),
                NeedCategory.objects.exclude(platform=None).count(),
                AuditEntry.objects.filter(action__startswith="need.").count())

    before = counts()
    assert before[0] > 0 and before[2] > 0
    assert "演示数据已存在" in load(40)
    assert counts() == before
    # The stage itself never adds a second set either.
    from wenming.demo.district import DistrictBuilder

    builder = DistrictBuilder(volunteers=40)
    builder.summary.accounts = list(User.objects.filter(is_demo_data=True))
    assert demo_needs.NeedBuilder(builder).build().needs == 0
    assert counts() == before
