"""The demo holds a year of activities and a ledger that verifies: every phase, the demo
volunteer's own history, the same year from the same seed, loaded once, never over real data."""

import hashlib
import importlib
import json
from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from wenming.activities.models import Activity, Attendance, Brand, SignUp, Theme
from wenming.core.models import AuditEntry, OrgNode, User
from wenming.demo import activities as demo_activities
from wenming.demo import district
from wenming.ledger import rules
from wenming.ledger.chain import verify_ledger
from wenming.ledger.models import (
    Certificate,
    HoursRequest,
    LedgerChain,
    PointEntry,
    PointMovement,
    ServiceRecord,
)
from wenming.ledger.queries import volunteer_summary
from wenming.notices.models import Notice
from wenming.org.models import Site
from wenming.people.models import Volunteer

P = Activity.Phase


def load(volunteers: int, seed: int | None = None) -> str:
    out = StringIO()
    options = {"volunteers": volunteers, "stdout": out, "verbosity": 0}
    if seed is not None:
        options["seed"] = seed
    call_command("demo", **options)
    return out.getvalue()


def phases(now=None) -> Counter:
    now = now or timezone.now()
    return Counter(a.phase_at(now) for a in Activity.objects.all())


@pytest.mark.django_db
def test_a_year_of_activities_in_every_phase():
    output = load(400)
    now = timezone.now()
    counted = phases(now)
    for phase in (P.RECRUITING, P.IN_PROGRESS, P.FINISHED, P.SETTLED, P.CANCELLED):
        assert counted[phase] > 0, phase
    assert counted[P.SETTLED] > counted[P.RECRUITING] > 0
    assert "一年的活动" in output and "星级志愿者" in output

    activities = list(Activity.objects.select_related("node", "site", "served_site", "brand", "team__node"))
    assert 200 <= len(activities) <= 400  # about 0.6 a volunteer
    assert all(a.is_demo_data for a in activities)
    assert min(a.starts_at for a in activities) >= now - timedelta(days=367)
    assert max(a.starts_at for a in activities) <= now + timedelta(days=47)
    assert {a.node.kind for a in activities} == {OrgNode.Kind.CENTRE, OrgNode.Kind.INSTITUTE, OrgNode.Kind.STATION}
    # A team organises under its own organisation (as create_activity requires).
    assert all(a.team is None or a.team.node.path.startswith(a.node.path) for a in activities)

    # All twelve default themes are in use, festivals among them.
    used = Theme.objects.annotate(n=Count("activities")).filter(n__gt=0)
    assert used.count() == Theme.objects.count() == 12
    assert Brand.objects.count() >= 30 and not Brand.objects.filter(is_demo_data=False).exists()
    assert Activity.objects.filter(brand__name="七彩假期").exists() or Activity.objects.filter(
        brand__name="四季同行·雷锋家乡学雷锋").exists()
    assert Activity.objects.exclude(brand=None).values("brand").distinct().count() >= 10

    # Nursing homes are served, and never twice a day nor more than twice a week.
    homes = [a for a in activities if a.serves == Activity.Serves.NURSING_HOME]
    assert homes and all(a.served_site.kind == Site.Kind.NURSING_HOME for a in homes)
    per_day = Counter((a.served_site_id, timezone.localtime(a.starts_at).date()) for a in homes)
    assert max(per_day.values()) == 1

    # Waiting lists, and a place that moved up when someone cancelled.
    assert SignUp.objects.filter(status=SignUp.Status.WAITING).exists()
    assert SignUp.objects.filter(status=SignUp.Status.CONFIRMED).exclude(promoted_at=None).exists()
    for a in Activity.objects.annotate(
            n=Count("signups", filter=Q(signups__status=SignUp.Status.CONFIRMED))).filter(n__gt=0):
        assert a.n <= a.capacity
    # No one signed up before registering, nor to two activities at once.
    rows = list(SignUp.objects.exclude(status=SignUp.Status.CANCELLED).select_related("activity", "volunteer"))
    assert all(s.created_at > s.volunteer.created_at and s.created_at < s.activity.starts_at for s in rows)
    by_volunteer = {}
    for s in rows:
        by_volunteer.setdefault(s.volunteer_id, []).append((s.activity.starts_at, s.activity.ends_at))
    for spans in by_volunteer.values():
        spans.sort()
        assert all(a_end <= b_start for (_s, a_end), (b_start, _e) in zip(spans, spans[1:], strict=False))

    # Check-ins: open only where the activity is in progress; settled ones link to their records.
    A = Attendance.Status
    for att in Attendance.objects.select_related("activity", "record", "hours_request__record"):
        phase = att.activity.phase_at(now)
        if att.status == A.CHECKED_IN:
            assert phase == P.IN_PROGRESS and att.checked_in_at <= now
        if phase == P.SETTLED and att.status == A.SETTLED:
            record = att.record or att.hours_request.record
            assert record.volunteer_id == att.volunteer_id
            assert record.source_type == "activity" and record.source_id == str(att.activity_id)
            if att.record:
                assert record.kind == ServiceRecord.Kind.VERIFIED and record.minutes == att.minutes
                assert record.minutes == rules.served_minutes(
                    att.checked_in_at, att.checked_out_at, att.activity.starts_at, att.activity.ends_at,
                    rules.configured_step_minutes(), rules.configured_min_share())
            else:
                assert record.kind == ServiceRecord.Kind.RECORDED
                assert record.minutes <= att.activity.minutes
    assert Attendance.objects.filter(status=A.SETTLED).exclude(record=None).count() > 100

    # Recorded hours always had a second approver; points are double entry; some volunteers have stars.
    recorded = ServiceRecord.objects.filter(kind=ServiceRecord.Kind.RECORDED)
    assert recorded.exists()
    assert not recorded.filter(approved_by=F("recorded_by")).exists()
    approved = HoursRequest.objects.filter(status=HoursRequest.Status.APPROVED)
    assert approved.exists() and not approved.filter(decided_by=F("requested_by")).exists()
    assert not approved.filter(record=None).exists()
    assert PointEntry.objects.count() == 2 * PointMovement.objects.count()
    stars = Counter(rules.star_level(h.verified_minutes + h.recorded_minutes) for h in LedgerChain.objects.all())
    assert sum(n for level, n in stars.items() if level >= 1) >= 3
    assert any(level >= 2 for level in stars if stars[level])
    assert verify_ledger().ok


@pytest.mark.django_db
def test_demo_volunteer_has_a_year_of_history():
    load(120)
    now = timezone.now()
    volunteer = Volunteer.objects.get(user__username="demo-volunteer")
    signups = list(SignUp.objects.filter(volunteer=volunteer).select_related("activity"))
    seen = Counter((s.activity.phase_at(now), s.status) for s in signups)
    assert seen[(P.SETTLED, SignUp.Status.CONFIRMED)] >= 3
    assert seen[(P.RECRUITING, SignUp.Status.CONFIRMED)] >= 1  # an upcoming sign-up
    assert seen[(P.RECRUITING, SignUp.Status.WAITING)] >= 1  # on a waiting list
    assert seen[(P.IN_PROGRESS, SignUp.Status.CONFIRMED)] == 1  # today, not checked in yet
    assert seen[(P.CANCELLED, SignUp.Status.CONFIRMED)] >= 1
    live = next(s.activity for s in signups if s.activity.phase_at(now) == P.IN_PROGRESS)
    assert not Attendance.objects.filter(activity=live, volunteer=volunteer).exists()
    assert Attendance.objects.filter(activity=live, status=Attendance.Status.CHECKED_IN).exists()
    assert SignUp.objects.filter(volunteer=volunteer).exclude(promoted_at=None).exists()  # moved up

    records = ServiceRecord.objects.filter(volunteer=volunteer)
    assert records.filter(kind=ServiceRecord.Kind.VERIFIED, source_type="activity").count() >= 3
    assert records.filter(kind=ServiceRecord.Kind.RECORDED).exists()
    summary = volunteer_summary(volunteer)
    assert summary.points > 0 and summary.stars >= 1 and summary.verified_minutes > 0
    assert HoursRequest.objects.filter(volunteer=volunteer, status=HoursRequest.Status.PENDING).exists()

    kinds = set(Notice.objects.filter(volunteer=volunteer).values_list("kind", flat=True))
    assert {"hours_settled", "activity_cancelled", "waitlist_promoted"} <= kinds
    assert Notice.objects.filter(volunteer=volunteer, read_at=None).exists()
    if hasattr(demo_activities.ledger, "issue_certificate"):
        assert Certificate.objects.filter(volunteer=volunteer).exists()

    # The station has an activity that finished and waits for settlement, with a forgotten check-out.
    station = volunteer.station
    finished = [a for a in Activity.objects.filter(node=station) if a.phase_at(now) == P.FINISHED]
    assert finished
    assert Attendance.objects.filter(activity__in=finished, status=Attendance.Status.AWAITING_DECISION).exists()
    # The leader has served for years: two stars.
    leader = Volunteer.objects.get(user__username="demo-leader")
    assert volunteer_summary(leader).stars >= 2


@pytest.mark.django_db
def test_verify_ledger_reports_the_demo_intact():
    load(120)
    out = StringIO()
    call_command("verify_ledger", "--no-progress", stdout=out)
    assert "台账完好" in out.getvalue()
    assert ServiceRecord.objects.count() > 100
    assert LedgerChain.objects.count() > 20


class Rollback(Exception):
    pass


def digest_of_a_load(volunteers: int, seed: int | None = None, now: datetime | None = None) -> str:
    """Load in a savepoint, describe the year relative to its anchor, roll back."""
    now = now or timezone.now()
    described = None
    try:
        with mock.patch("django.utils.timezone.now", return_value=now), transaction.atomic():
            load(volunteers, seed)
            anchor = datetime.fromisoformat(
                AuditEntry.objects.get(action="demo.load").after["activities"]["anchor"])
            rows = []
            for a in Activity.objects.select_related("node", "site", "team", "brand").order_by("starts_at", "title"):
                signups = sorted(Counter(a.signups.values_list("status", flat=True)).items())
                attendance = sorted(Counter(a.attendances.values_list("status", flat=True)).items())
                rows.append([a.title, (a.starts_at - anchor).total_seconds(), (a.ends_at - anchor).total_seconds(),
                             a.status, a.node.name, a.team.name if a.team else "", a.site.name if a.site else "",
                             a.brand.name if a.brand else "", a.capacity,
                             sorted(a.themes.values_list("name", flat=True)), signups, attendance])
            for number, seq, kind, minutes, title in ServiceRecord.objects.order_by(
                    "volunteer__number", "sequence").values_list("volunteer__number", "sequence", "kind", "minutes",
                                                                 "title"):
                rows.append([number, seq, kind, minutes, title])
            described = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
            raise Rollback()
    except Rollback:
        pass
    assert not Activity.objects.exists()
    return described


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_year():
    now = timezone.now()
    first = digest_of_a_load(60, now=now)
    assert first == digest_of_a_load(60, now=now)
    assert first != digest_of_a_load(60, seed=12345, now=now)


@pytest.mark.django_db
def test_loading_twice_adds_no_activities():
    load(40)
    before = (Activity.objects.count(), SignUp.objects.count(), Attendance.objects.count(),
              ServiceRecord.objects.count(), PointMovement.objects.count(), Notice.objects.count(),
              Brand.objects.count(), Certificate.objects.count())
    assert before[0] > 0 and before[3] > 0
    assert "演示数据已存在" in load(40)
    after = (Activity.objects.count(), SignUp.objects.count(), Attendance.objects.count(),
             ServiceRecord.objects.count(), PointMovement.objects.count(), Notice.objects.count(),
             Brand.objects.count(), Certificate.objects.count())
    assert after == before
    assert AuditEntry.objects.filter(action="demo.load").count() == 1


@pytest.mark.django_db
def test_refuses_real_data_and_writes_no_activities():
    User.objects.create_user("lisi", password="Abcdefg1!", role=User.Role.STATION_ADMIN)
    with pytest.raises(CommandError, match="非演示数据"):
        load(40)
    assert not Activity.objects.exists() and not ServiceRecord.objects.exists() and not Brand.objects.exists()


@pytest.mark.parametrize("today", [date(2026, 1, 1) + timedelta(days=29 * i) for i in range(26)])
def test_every_festival_falls_in_the_demo_year(today):
    """Whatever the anchor, each festival theme has days in the window the demo fills."""
    days = [today + timedelta(days=o) for o in range(-demo_activities.PAST_DAYS, demo_activities.FUTURE_DAYS + 1)]
    festival_templates = [t for t in demo_activities.TEMPLATES if t.season and t.season[0] == "festival"]
    for name in ("春节", "端午", "中秋", "重阳"):
        templates = [t for t in festival_templates if t.season[1] == name]
        assert templates, name
        assert any(demo_activities.season_factor(t, d) > 0 for t in templates for d in days), (name, today)
    leifeng = next(t for t in demo_activities.TEMPLATES if t.season == ("leifeng",))
    assert any(demo_activities.season_factor(leifeng, d) > 0 for d in days)


def test_festival_dates_are_the_lunar_ones():
    assert demo_activities.festival_day("春节", 2026) == date(2026, 2, 17)
    assert demo_activities.festival_day("端午", 2026) == date(2026, 6, 19)
    assert demo_activities.festival_day("中秋", 2026) == date(2026, 9, 25)
    assert demo_activities.festival_day("重阳", 2026) == date(2026, 10, 18)
    assert demo_activities.festival_day("重阳", 2040).year == 2040  # outside the table: close enough


def test_every_template_names_known_themes_platforms_and_brands():
    migration = importlib.import_module("wenming.activities.migrations.0002_default_themes")
    themes = {name for name, _festival in migration.THEMES}
    brands = {name for name, _where, _text in demo_activities.BRANDS}
    platforms = {name for name, _dept, _text in district.PLATFORMS}
    skills = set(district.SKILLS)
    for t in demo_activities.TEMPLATES:
        assert set(t.themes) <= themes and t.platform in platforms and set(t.skills) <= skills, t.titles
        assert not t.brand or t.brand in brands
        assert all(len(title.format(n="火车站乡莲荷村")) <= 100 for title in t.titles)
    assert {th for t in demo_activities.TEMPLATES for th in t.themes} == themes
