"""The console's activity list: scoping, filters, pagination, odd parameters, who may open it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import make_user
from wenming.activities import services
from wenming.activities.models import Activity, Theme
from wenming.core.models import User
from wenming.people.models import Team

from .conftest import make_activity, shift
from .console_helpers import client_for, station_admin

URL = "/activities/"


@pytest.fixture
def acts(tree):
    theme = Theme.objects.get_or_create(name="学雷锋")[0]
    team = Team.objects.create(name="东风社区助老服务队", node=tree.station)
    here = make_activity(tree.admin, tree.station, title="东风社区助老活动", themes=[theme], team=team)
    draft = make_activity(tree.admin, tree.station, title="东风社区草稿活动", publish=False)
    far = make_activity(tree.admin, tree.other_station, title="东站社区读书会")
    done = make_activity(tree.admin, tree.station, title="东风社区已结束活动")
    done = shift(done, timedelta(days=-10))
    return {"here": here, "draft": draft, "far": far, "done": done, "theme": theme, "team": team}


def titles(response) -> set[str]:
    return {a.title for a in response.context["page"]}


def test_a_station_admin_sees_their_station_only_with_counts(tree, acts):
    services.sign_up(tree.admin, acts["here"], tree.li)
    r = client_for(station_admin(tree)).get(URL)
    assert r.status_code == 200
    assert titles(r) == {"东风社区助老活动", "东风社区草稿活动", "东风社区已结束活动"}
    row = next(a for a in r.context["page"] if a.pk == acts["here"].pk)
    assert row.confirmed_count == 1 and row.waiting_count == 0
    assert "东站社区读书会" not in r.content.decode()
    # the district sees all four
    assert len(titles(client_for(tree.admin).get(URL))) == 4


def test_filters(tree, acts):
    c = client_for(tree.admin)
    assert titles(c.get(URL, {"phase": "draft"})) == {"东风社区草稿活动"}
    assert titles(c.get(URL, {"phase": "recruiting"})) == {"东风社区助老活动", "东站社区读书会"}
    assert titles(c.get(URL, {"phase": "finished"})) == {"东风社区已结束活动"}
    assert titles(c.get(URL, {"theme": acts["theme"].pk})) == {"东风社区助老活动"}
    assert titles(c.get(URL, {"team": acts["team"].pk})) == {"东风社区助老活动"}
    assert titles(c.get(URL, {"node": tree.other_institute.pk})) == {"东站社区读书会"}
    assert titles(c.get(URL, {"q": "读书"})) == {"东站社区读书会"}
    today = timezone.localdate()
    r = c.get(URL, {"from": (today - timedelta(days=12)).isoformat(), "to": (today - timedelta(days=5)).isoformat()})
    assert titles(r) == {"东风社区已结束活动"}


def test_a_filter_outside_reach_shows_nothing_and_odd_values_are_ignored(tree, acts):
    c = client_for(station_admin(tree))
    assert titles(c.get(URL, {"node": tree.other_station.pk})) == set()
    for params in ({"node": "99999999999999999999999"}, {"theme": "abc"}, {"phase": "<script>"},
                   {"from": "2025-13-45", "to": "99999-01-01"}, {"page": "-3"}, {"page": "x"},
                   {"q": "x" * 5000}, {"team": "-1"}):
        r = c.get(URL, params)
        assert r.status_code == 200, params
    assert c.get(URL, {"q": "a\x00b"}).status_code == 400


def test_pagination(tree):
    for i in range(35):
        make_activity(tree.admin, tree.station, title=f"活动{i:02d}", publish=False)
    c = client_for(tree.admin)
    first = c.get(URL)
    assert len(first.context["page"]) == 30 and first.context["page"].paginator.num_pages == 2
    assert len(c.get(URL, {"page": 2}).context["page"]) == 5


def test_htmx_asks_for_the_results_only(tree, acts):
    r = client_for(tree.admin).get(URL, {"q": "助老"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="activity-results")
    body = r.content.decode()
    assert r.status_code == 200 and body.startswith('<div id="activity-results">') and "<html" not in body


def test_volunteers_and_strangers_are_kept_out(tree, acts):
    assert client_for(tree.vol_user).get(URL).status_code == 403
    r = client_for(tree.vol_user).get(f"{URL}{acts['here'].pk}/")
    assert r.status_code == 403
    anonymous = client_for(tree.admin)
    anonymous.logout()
    r = anonymous.get(URL)
    assert r.status_code == 302 and "/login" in r["Location"]


def test_a_team_leader_sees_their_teams_activities(tree, acts):
    leader_user = make_user("console_leader", User.Role.TEAM_LEADER, [tree.other_station])
    leader_v = acts["team"]
    from tests.ledger.helpers import make_volunteer

    leader_v.leader = make_volunteer(tree.admin, tree.station, "队长", user=leader_user)
    leader_v.save(update_fields=["leader"])
    r = client_for(leader_user).get(URL)
    assert {"东风社区助老活动", "东站社区读书会"} <= titles(r)
    assert "东风社区草稿活动" not in titles(r)


def test_home_card_counts_recruiting_and_to_settle(tree, acts):
    r = client_for(station_admin(tree)).get("/")
    cards = {c["label"]: c["value"] for c in r.context["cards"]}
    assert cards["招募中活动"] == 1 and cards["待结算活动"] == 1
    assert Activity.objects.count() == 4
