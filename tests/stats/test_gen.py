"""`wenming gen`: a synthetic year that keeps every rule — counts as asked, a tree treebeard accepts, valid
and unique personal data, chains `verify-ledger` accepts, needs whose state agrees with their timestamps
and timeline, records inside the year from volunteers who had registered, roll-ups equal to the recount —
into an empty database only, with clear Chinese errors for bad options."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from wenming.activities.models import Activity, Theme
from wenming.core import pii
from wenming.core.errors import InvalidInput
from wenming.core.models import OrgNode, User
from wenming.core.validators import validate_id_number, validate_phone
from wenming.ledger.chain import canonical_json, content_of, verify_ledger
from wenming.ledger.models import HoursRequest, LedgerChain, ServiceRecord
from wenming.needs.models import Need, NeedEvent, NeedHours
from wenming.people.models import Team, TeamMembership, Volunteer
from wenming.people.services import name_pinyin
from wenming.stats import gen

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
YEAR = 2025
S = Need.State


def run(volunteers=400, records=3000, needs=150, *, seed=7, rebuild=True, **more) -> gen.Summary:
    options = gen.make_options(volunteers=volunteers, records=records, needs=needs, year=YEAR, seed=seed, now=NOW,
                               **more)
    return gen.generate(options, rebuild=rebuild, now=NOW)


@pytest.fixture(scope="class")
def generated(django_db_setup, django_db_blocker):
    """One generated year for the module's read-only checks (rolled back at the end)."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            summary = run(volunteers=400, records=3000, needs=150, stations=4)
            yield summary
            transaction.set_rollback(True)


def check_need(need: Need, events: list[NeedEvent]) -> None:
    """The need's state, timestamps and handling node agree with its timeline, as the services write it."""
    assert events and events[0].action == "submitted" and events[0].at == need.created_at
    assert events[-1].to_state == need.state
    for before, after in zip(events, events[1:], strict=False):
        assert before.at <= after.at
        assert after.from_state == before.to_state
    assert events[-1].at <= NOW

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
    if need.state in Need.OPEN_STATES:
        assert need.overdue and need.deadline is None and need.node.depth == 1  # stuck at the centre
    else:
        assert need.deadline is None and need.node_id == need.station_id
    if need.state == S.CLOSED:
        assert need.completed_at and need.accepted_at and (need.team_id or need.volunteer_id)
        assert (need.stars is not None) == (need.rated_at is not None)
    if need.stars is not None:
        assert 1 <= need.stars <= 5 and events[-1].note.startswith(f"{need.stars}星")
    if need.state in (S.REJECTED, S.CANCELLED):
        assert need.reason and need.completed_at is None
    if need.activity_id:
        assert need.activity.node_id == need.station_id and need.activity.ends_at <= need.completed_at
    if need.team_id:
        assert need.team.node_id == need.station_id



@pytest.mark.usefixtures("generated")
class TestAGeneratedYear:
    """Read-only checks of one generated year (built once for the class, rolled back after it)."""

    # --- counts and the tree --------------------------------------------------------------------------------

    def test_counts_are_as_asked(self, generated):
        assert Volunteer.objects.count() == 400
        assert ServiceRecord.objects.count() == 3000 == generated.records
        assert Need.objects.count() == 150
        assert Activity.objects.count() == 3000 // 25
        assert OrgNode.objects.filter(kind="station").count() == 4
        assert OrgNode.objects.filter(kind="centre").count() == 1
        assert generated.verified_records + generated.recorded_records == 3000
        assert generated.corrections >= 1


    def test_the_tree_is_one_treebeard_accepts(self, generated):
        assert all(not problems for problems in OrgNode.find_problems())
        centre = OrgNode.objects.get(depth=1)
        assert centre.get_descendant_count() == OrgNode.objects.count() - 1
        for node in OrgNode.objects.filter(kind="station"):
            assert node.get_parent().kind == "institute"
        # Ordered by division code as treebeard's node_order_by would have placed them.
        paths = list(OrgNode.objects.order_by("path").values_list("division_code", flat=True))
        institutes = [c for c in paths if c.endswith("00000") and not c.endswith("00000000")]
        assert institutes == sorted(institutes)


    def test_volunteers_have_valid_unique_personal_data(self, generated):
        volunteers = list(Volunteer.objects.all())
        assert len({v.number for v in volunteers}) == len(volunteers)
        assert len({v.id_number_index for v in volunteers}) == len(volunteers)
        for v in volunteers[:: max(1, len(volunteers) // 60)]:
            number = pii.decrypt(v.id_number_enc)
            assert validate_id_number(number, date(YEAR, 1, 1)) == number
            assert v.id_number_index == pii.blind_index(number, "id")
            assert v.id_number_masked == pii.mask_id_number(number)
            assert v.birth_date.strftime("%Y%m%d") == number[6:14]
            assert v.gender == ("male" if int(number[16]) % 2 else "female")
            phone = pii.decrypt(v.phone_enc)
            assert validate_phone(phone) == phone and v.phone_index == pii.blind_index(phone, "phone")
            assert (v.name_pinyin, v.name_initials) == name_pinyin(v.name)
            assert v.station.kind == "station"
            assert v.created_at <= NOW


    def test_teams_members_and_accounts(self, generated):
        for team in Team.objects.all():
            members = set(TeamMembership.objects.filter(team=team).values_list("volunteer_id", flat=True))
            assert team.leader_id in members
            assert team.leader.user is not None
        for m in TeamMembership.objects.select_related("volunteer")[:200]:
            assert m.joined_at >= m.volunteer.created_at
        assert not User.objects.filter(is_superuser=True).exists()
        assert all(not u.has_usable_password() for u in User.objects.all()[:50])


    # --- the ledger -----------------------------------------------------------------------------------------

    def test_verify_ledger_passes(self, generated):
        report = verify_ledger()
        assert report.ok, [p.message for p in report.problems[:5]]
        assert report.records == 3000
        heads = LedgerChain.objects.count()
        assert heads == ServiceRecord.objects.values("volunteer_id").distinct().count() == report.chains


    def test_the_fast_canonical_form_is_the_chains_own(self, generated):
        """The generator builds the hashed JSON from a template; verify-ledger would catch a difference, and
        here the bytes themselves are compared for each kind of record."""
        from wenming.stats.gen import _json, canonical

        kinds = {}
        for r in ServiceRecord.objects.order_by("id"):
            kinds.setdefault((r.kind, r.source_type, r.adjustment_of_id is None), r)
        assert len(kinds) >= 4
        for r in kinds.values():
            values = {k: _json(v) for k, v in content_of(r).items()}
            values.update(prev_hash=_json(r.prev_hash), v="1")
            assert canonical(values) == canonical_json(content_of(r), r.prev_hash)


    def test_records_keep_the_rules(self, generated):
        start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
        activities = {a.pk: a for a in Activity.objects.all()}
        paths = dict(OrgNode.objects.values_list("pk", "path"))
        volunteers = {v.pk: v for v in Volunteer.objects.all()}
        seen = set()
        for r in ServiceRecord.objects.all():
            assert start <= r.service_date <= end
            assert r.approved_at <= NOW
            v = volunteers[r.volunteer_id]
            if r.adjustment_of_id is None:
                assert r.minutes > 0
            if r.kind == "recorded" or r.adjustment_of_id:
                assert r.recorded_by_id != r.approved_by_id
            assert paths[v.station_id].startswith(paths[r.node_id])  # a volunteer of the node's subtree
            if r.source_type == "activity" and r.adjustment_of_id is None:
                a = activities[int(r.source_id)]
                assert a.status == "settled" and a.ends_at <= NOW and r.node_id == a.node_id
                assert v.created_at <= a.starts_at  # registered before serving
                assert r.minutes <= (a.ends_at - a.starts_at).total_seconds() // 60
                assert r.service_date == timezone.localtime(a.starts_at).date()
                assert (r.volunteer_id, a.pk) not in seen
                seen.add((r.volunteer_id, a.pk))
                if r.kind == "verified":
                    assert r.started_at and r.ended_at and r.minutes % 30 == 0
            if r.adjustment_of_id:
                target = ServiceRecord.objects.get(pk=r.adjustment_of_id)
                assert target.volunteer_id == r.volunteer_id and target.sequence < r.sequence
                assert r.minutes < 0 and target.minutes + r.minutes >= 0
        recorded = ServiceRecord.objects.exclude(kind="verified", adjustment_of=None).count()
        assert HoursRequest.objects.filter(status="approved", record__isnull=False).count() == recorded
        for nh in NeedHours.objects.select_related("request__record", "need")[:100]:
            record = nh.request.record
            assert record.source_type == "need" and record.source_id == nh.need.code
            assert record.minutes == nh.minutes and record.volunteer_id == nh.volunteer_id
        # Activities that are not settled have no records, and nothing is counted for a cancelled one.
        unsettled = [str(pk) for pk, a in activities.items() if a.status != "settled"]
        assert not ServiceRecord.objects.filter(source_type="activity", source_id__in=unsettled).exists()


    def test_activities_are_in_the_year_and_have_themes(self, generated):
        themes = set(Theme.objects.values_list("pk", flat=True))
        for a in Activity.objects.prefetch_related("themes"):
            assert a.status in ("published", "settled", "cancelled")
            assert timezone.localtime(a.starts_at).year == YEAR and a.ends_at < NOW
            assert a.platform_id is not None and {t.pk for t in a.themes.all()} <= themes and a.themes.exists()
            if a.status == "settled":
                assert a.settled_at > a.ends_at and a.settled_by_id
            assert a.capacity >= 1


    # --- needs ------------------------------------------------------------------------------------------------

    def test_every_need_agrees_with_its_timestamps(self, generated):
        events = defaultdict(list)
        for e in NeedEvent.objects.order_by("at", "id"):
            events[e.need_id].append(e)
        states = Counter()
        for need in Need.objects.select_related("node", "activity", "team"):
            check_need(need, events[need.pk])
            assert timezone.localtime(need.created_at).year == YEAR
            assert len(need.code) == 8 and not need.code.isdigit()
            states[need.state] += 1
        assert states[S.CLOSED] > 100 and set(states) <= {S.CLOSED, S.REJECTED, S.CANCELLED, S.APPROVED}
        assert Need.objects.values("code").distinct().count() == 150


    def test_rollups_agree_with_the_raw_records(self, generated):
        rebuild = pytest.importorskip("wenming.stats.rebuild")
        assert rebuild.verify() == []
        queries = pytest.importorskip("wenming.stats.queries")
        recount = pytest.importorskip("wenming.stats.recount")
        centre = OrgNode.objects.get(depth=1)
        start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
        ours, theirs = queries.summary(centre, start, end), recount.summary(centre, start, end)
        assert ours == theirs
        assert ours["activities"] > 0 and ours["participations"] > 0 and ours["needs_collected"] == 150



# --- determinism ----------------------------------------------------------------------------------------

def fingerprint() -> list:
    return (list(ServiceRecord.objects.order_by("id").values_list("volunteer__number", "sequence", "minutes",
                                                                     "service_date", "hash"))
            + list(Volunteer.objects.order_by("id").values_list("number", "name", "id_number_index", "created_at")))


def test_the_same_seed_gives_the_same_year():
    prints = []
    for seed in (3, 3, 4):
        with transaction.atomic():
            run(volunteers=120, records=600, needs=30, seed=seed, rebuild=False)
            prints.append(fingerprint())
            transaction.set_rollback(True)
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


@pytest.mark.pg_only
def test_chains_sealed_by_several_processes_are_the_same(monkeypatch):
    """On PostgreSQL volunteers are written and chains sealed by forked workers, chunk by chunk: the same
    rows as one process doing the same chunks, and verify-ledger accepts them."""
    monkeypatch.setattr(gen, "CHUNK", 150)
    monkeypatch.setattr(gen, "VOLUNTEER_CHUNK", 20)
    prints = []
    for cpus in (1, 2):
        monkeypatch.setattr(gen.os, "cpu_count", lambda cpus=cpus: cpus)
        with transaction.atomic():
            run(volunteers=150, records=1500, needs=30, seed=11, rebuild=False)
            assert verify_ledger().ok
            assert HoursRequest.objects.filter(record__isnull=False).count() == ServiceRecord.objects.exclude(
                kind="verified", adjustment_of=None).count()
            prints.append(fingerprint())
            transaction.set_rollback(True)
    assert len(prints[0]) == 1500 + 150
    assert prints[0] == prints[1]


# --- refusals and bad options ------------------------------------------------------------------------------

def call(*args: str) -> str:
    out = StringIO()
    call_command("gen", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_generates_and_reports(settings):
    out = call("--volunteers", "150", "--records", "900", "--needs", "20", "--year", str(YEAR), "--seed", "1")
    assert "已生成" in out and "服务记录 900 条" in out
    assert ServiceRecord.objects.count() == 900
    # A second run would mix two datasets: refused.
    with pytest.raises(CommandError, match="已有数据") as exc:
        call("--volunteers", "150", "--records", "900", "--needs", "20", "--year", str(YEAR))
    assert exc.value.returncode == 3
    assert ServiceRecord.objects.count() == 900


def test_refuses_a_database_holding_real_data():
    OrgNode.add_root(name="某区新时代文明实践中心", kind="centre", division_code="430502000000")
    with pytest.raises(CommandError, match="实践组织"):
        call("--volunteers", "100", "--records", "500", "--needs", "10")
    assert not Volunteer.objects.exists() and not ServiceRecord.objects.exists()


def test_refuses_a_database_with_accounts():
    User.objects.create_user("someone", role=User.Role.STATION_ADMIN)
    with pytest.raises(gen.NotEmpty, match="账号"):
        run(volunteers=50, records=200, needs=5, rebuild=False)


@pytest.mark.parametrize("args, message", [
    (["--volunteers", "-5", "--records", "100", "--needs", "10"], "志愿者人数须在1到20,000,000之间"),
    (["--volunteers", "0", "--records", "100", "--needs", "10"], "志愿者人数须在1到"),
    (["--volunteers", "100", "--records", "0", "--needs", "10"], "服务记录条数须在1到"),
    (["--volunteers", "100", "--records", "100", "--needs", "-1"], "群众需求条数须在0到"),
    (["--volunteers", "10", "--records", "100", "--needs", "10", "--stations", "0"], "实践站个数须在1到"),
    (["--volunteers", "100000000000", "--records", "100", "--needs", "1"], "志愿者人数须在1到"),
    (["--volunteers", "100", "--records", "999999999999", "--needs", "1"], "服务记录条数须在1到"),
    (["--volunteers", "abc", "--records", "100", "--needs", "1"], "志愿者人数须为整数"),
    (["--volunteers", "1.5", "--records", "100", "--needs", "1"], "志愿者人数须为整数"),
    (["--volunteers", "100", "--records", "100", "--needs", "1", "--year", "1999"], "年份须在2000到"),
    (["--volunteers", "100", "--records", "100", "--needs", "1", "--year", "2999"], "年份须在2000到"),
    (["--volunteers", "10", "--records", "100", "--needs", "1", "--stations", "11"], "不能多于志愿者人数"),
    (["--volunteers", "100", "--records", "10000", "--needs", "1", "--activities", "2"], "活动太少"),
    (["--volunteers", "2", "--records", "10000", "--needs", "1"], "志愿者太少"),
    (["--volunteers", "100", "--records", "10", "--needs", "1", "--activities", "20"], "活动场次不能多于"),
])
def test_bad_options_are_refused_in_chinese(args, message):
    with pytest.raises(CommandError, match=message) as exc:
        call(*args)
    assert exc.value.returncode == 2
    assert not OrgNode.objects.exists()


def test_options_default_sensibly():
    o = gen.make_options(volunteers=1_000_000, records=10_000_000, needs=200_000, now=NOW)
    assert (o.activities, o.stations, o.institutes, o.year) == (400_000, 1000, 40, 2025)
    with pytest.raises(InvalidInput) as exc:
        gen.make_options(volunteers=10, records=10, needs=0, year=2026, now=datetime(2026, 1, 5, tzinfo=UTC))
    assert exc.value.code == "gen_option_invalid"


def test_this_year_stays_in_the_past():
    now = timezone.now()
    if timezone.localtime(now).timetuple().tm_yday < 40:
        pytest.skip("too early in the year")
    options = gen.make_options(volunteers=100, records=500, needs=20, year=timezone.localtime(now).year, now=now)
    gen.generate(options, rebuild=False, now=now)
    assert not ServiceRecord.objects.filter(approved_at__gt=now).exists()
    assert not Activity.objects.filter(ends_at__gt=now).exists()
    assert not NeedEvent.objects.filter(at__gt=now).exists()
    assert verify_ledger().ok
    assert ServiceRecord.objects.count() == 500 and max(
        ServiceRecord.objects.values_list("service_date", flat=True)) < timezone.localdate(now) + timedelta(days=1)
