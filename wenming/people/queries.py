"""Reads of volunteers and teams, always through the scoping helper."""

import re

from django.db.models import BooleanField, Count, ExpressionWrapper, Q

from wenming.core import pii
from wenming.core.scoping import scoped
from wenming.core.validators import PHONE_RE, ascii_form

from .models import Team, TeamMembership, Volunteer

ID_RE = re.compile(r"^\d{17}[\dXx]$")
NUMBER_RE = re.compile(r"^\d{14}$")
LETTERS_RE = re.compile(r"^[A-Za-z]+$")


def initials_variants(letters: str) -> list[str]:
    """The initials a typed string may mean. Initials are stored one letter per character
    (张三 → "zs"), but people type the two-letter initials zh/ch/sh too (张三 → "zhs")."""
    collapsed = re.sub(r"([zcs])h", r"\1", letters)
    return [letters] if collapsed == letters else [letters, collapsed]


def search_q(text: str) -> Q:
    """How a search box finds a volunteer: exact ID / phone (blind index), volunteer number,
    pinyin (full or initials, `zhs` finds 张三) or the start of a name."""
    text = ascii_form(text or "").strip()[:50]
    if not text:
        return Q()
    if ID_RE.match(text):
        return Q(id_number_index=pii.blind_index(text.upper(), "id"))
    if PHONE_RE.match(text):
        return Q(phone_index=pii.blind_index(text, "phone"))
    if NUMBER_RE.match(text):
        return Q(number=text)
    if LETTERS_RE.match(text):
        low = text.lower()
        q = Q(name_pinyin__startswith=low)
        for initials in initials_variants(low):
            q |= Q(name_initials__startswith=initials)
        return q
    return Q(name__startswith=text)


def volunteers_for(user, *, text: str = "", station_id=None, skill_id=None):
    qs = scoped(Volunteer.objects.all(), user).filter(search_q(text))
    if station_id:
        qs = qs.filter(station_id=station_id)
    if skill_id:
        qs = qs.filter(skills__id=skill_id)
    return qs.select_related("station").order_by("-id")


def teams_for(user, *, text: str = "", node_id=None):
    qs = scoped(Team.objects.all(), user)
    if text:
        qs = qs.filter(name__contains=text.strip()[:50])
    if node_id:
        qs = qs.filter(node_id=node_id)
    return (
        qs.select_related("node", "platform", "social_org", "leader")
        .prefetch_related("skills")
        .annotate(member_count=Count("members", distinct=True))
        .order_by("id")
    )


# --- Pages of the console and the phone registration -----------------------


def volunteer_detail_for(user, pk):
    """One volunteer in the user's reach, with what its page shows; NotFound otherwise."""
    from wenming.core.scoping import get_scoped

    return get_scoped(
        Volunteer.objects.select_related("station", "user").prefetch_related("skills"), user, pk
    )


def teams_of_volunteer(user, volunteer):
    """The teams a volunteer is in, each marked with whether the user may open it."""
    reachable = set(scoped(Team.objects.filter(members=volunteer), user).values_list("pk", flat=True))
    teams = list(volunteer.teams.select_related("node").order_by("id"))
    for team in teams:
        team.in_user_reach = team.pk in reachable
    return teams


def team_detail_for(user, pk):
    from wenming.core.scoping import get_scoped

    return get_scoped(teams_for(user), user, pk)


def team_members(team):
    """A team's members (masked data only), the leader first, then by joining date."""
    return (
        TeamMembership.objects.filter(team=team)
        .select_related("volunteer__station")
        .annotate(is_leader=ExpressionWrapper(Q(volunteer_id=team.leader_id or 0), output_field=BooleanField()))
        .order_by("-is_leader", "joined_at", "id")
    )


def volunteer_by_number(user, number: str):
    """A volunteer in the user's reach by their volunteer number, or None."""
    number = (number or "").strip()[:20]
    if not number:
        return None
    return scoped(Volunteer.objects.select_related("station"), user).filter(number=number).first()


def _institute_path(station_path: str) -> str:
    from wenming.core.models import OrgNode

    return station_path[: OrgNode.steplen * 2]


def stations_grouped(stations) -> list[tuple[str, list]]:
    """Stations grouped under their institute's name, in tree order: [(institute, [station, …]), …]."""
    from wenming.core.models import OrgNode

    stations = list(stations.order_by("path"))
    names = dict(
        OrgNode.objects.filter(path__in={_institute_path(s.path) for s in stations}).values_list("path", "name")
    )
    groups: dict[str, list] = {}
    for s in stations:
        groups.setdefault(names.get(_institute_path(s.path), ""), []).append(s)
    return list(groups.items())


def stations_managed_by(user):
    """The stations where the user may register or move volunteers (empty for read-only roles)."""
    from wenming.core.models import OrgNode
    from wenming.core.scoping import MANAGER_ROLES, nodes_in_reach

    if not getattr(user, "is_authenticated", False):
        return OrgNode.objects.none()
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        return OrgNode.objects.none()
    return nodes_in_reach(user, OrgNode.Kind.STATION).order_by("path")


def nodes_managed_by(user):
    """The nodes (any level) where the user may create teams."""
    from wenming.core.models import OrgNode
    from wenming.core.scoping import MANAGER_ROLES, nodes_in_reach

    if not getattr(user, "is_authenticated", False):
        return OrgNode.objects.none()
    if not (user.is_superuser or user.role in MANAGER_ROLES):
        return OrgNode.objects.none()
    return nodes_in_reach(user).order_by("path")


def public_institutes():
    """Every institute, for the public registration page (names only)."""
    from wenming.core.models import OrgNode

    return OrgNode.objects.filter(kind=OrgNode.Kind.INSTITUTE).order_by("path")


def public_stations(institute=None):
    """The stations under one institute (or none when no institute is chosen), for the public page."""
    from wenming.core.models import OrgNode

    if institute is None:
        return OrgNode.objects.none()
    return OrgNode.objects.filter(kind=OrgNode.Kind.STATION, path__startswith=institute.path).order_by("path")


def home_counts(user) -> dict:
    """What the console home shows of volunteers and teams for a user."""
    from wenming.core.models import User

    if getattr(user, "role", None) == User.Role.VOLUNTEER and not user.is_superuser:
        own = Volunteer.objects.filter(user=user).first()
        return {"own": own, "own_teams": own.teams.count() if own else 0}
    return {
        "volunteers": scoped(Volunteer.objects.all(), user).count(),
        "teams": scoped(Team.objects.all(), user).count(),
    }
