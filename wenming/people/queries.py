"""Reads of volunteers and teams, always through the scoping helper."""

import functools
import re

from django.db import connections
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL

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


@functools.cache
def pinyin_syllables() -> tuple[frozenset[str], frozenset[str]]:
    """Every syllable a stored name_pinyin is made of (services.name_pinyin: pypinyin's readings
    without tones, and the surname readings), and every start of one."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    from .services import SURNAME_READINGS

    readings = {r for value in pinyin_dict.values() for r in value.split(",")}
    readings.update(r for phrase in phrases_dict.values() for options in phrase for r in options)
    syllables = {to_normal(r).lower() for r in readings}
    syllables.update(s for surname in SURNAME_READINGS.values() for s in surname)
    syllables = frozenset(s for s in syllables if s and s.isascii())
    return syllables, frozenset(s[:i] for s in syllables for i in range(1, len(s) + 1))


def could_be_pinyin(letters: str) -> bool:
    """Whether lower-case letters can be the start of a full pinyin: whole syllables, then perhaps
    the start of one ("zhangs" can, "lxm" cannot — it can only be initials)."""
    syllables, starts = pinyin_syllables()
    longest = max(map(len, syllables))
    reached = {0}
    for i in range(len(letters)):
        if i not in reached:
            continue
        if letters[i:] in starts:
            return True
        reached.update(i + k for k in range(1, longest + 1) if letters[i : i + k] in syllables)
    return len(letters) in reached


def search_branches(text: str) -> list[Q] | None:
    """How a search box finds a volunteer, as the ways a text may match — each one served by one
    index. None when there is nothing to search (every volunteer in reach matches).

    The shape of the text picks the ways: an ID number or a mobile number is looked up exactly
    through its blind index, 14 digits are a volunteer number, ASCII letters are pinyin (the start
    of the full pinyin, or initials: `zhs` finds 张三) and anything else is the start of a name.
    Never a part of a number."""
    text = ascii_form(text or "").strip()[:50]
    if not text:
        return None
    if ID_RE.match(text):
        return [Q(id_number_index=pii.blind_index(text.upper(), "id"))]
    if PHONE_RE.match(text):
        return [Q(phone_index=pii.blind_index(text, "phone"))]
    if NUMBER_RE.match(text):
        return [Q(number=text)]
    if LETTERS_RE.match(text):
        low = text.lower()
        variants = initials_variants(low)
        # A variant that extends another one finds nothing the shorter one does not ("zh" after "z").
        variants = [v for v in variants if not any(v != w and v.startswith(w) for w in variants)]
        branches = [Q(name_initials__startswith=v) for v in variants]
        # Full pinyin and initials begin with the same letter: when that one letter is searched as
        # initials already ("l", or "zh" → "z"), the pinyin way would only find the same people again;
        # and letters that no run of syllables starts with ("lxm") find no full pinyin at all.
        if low[0] not in variants and could_be_pinyin(low):
            branches.insert(0, Q(name_pinyin__startswith=low))
        return branches
    return [Q(name__startswith=text)]


def search_q(text: str) -> Q:
    """The search as one condition (the ways of `search_branches` joined by OR)."""
    q = Q()
    for branch in search_branches(text) or []:
        q |= branch
    return q


def volunteers_for(user, *, text: str = "", station_id=None, skill_id=None):
    """Every volunteer in reach that matches, newest first, as one queryset (for filters and
    small sets; a paged list uses `search_volunteers`)."""
    return _volunteer_base(user, station_id, skill_id).filter(search_q(text)).select_related("station").order_by("-id")


def _volunteer_base(user, station_id=None, skill_id=None):
    qs = scoped(Volunteer.objects.all(), user)
    if station_id:
        qs = qs.filter(station_id=station_id)
    if skill_id:
        qs = qs.filter(skills__id=skill_id)
    return qs


# A list counts its matches up to this many and then says "1000+": an exact count(*) of a broad
# search (one surname, one letter, everybody) reads tens of thousands of index entries or rows.
COUNT_CAP = 1000


class VolunteerSearch:
    """The volunteers in reach that match a search, newest first, shaped for a paged list (the
    console's list and the API's); Django's Paginator takes it as its object list.

    Each way of the search runs on its own index, and several are joined by UNION: one OR across
    two indexes would read every matching row from the table to sort them, and count(*) would
    count them all. The count stops at COUNT_CAP (`count_is_capped` then says there are more): it
    reads at most 1001 entries of an index, in any order. A page takes its ids first (ORDER BY id
    DESC LIMIT 50: a backward walk of the primary key that stops early, or an index-only scan),
    then reads only those rows, with their station — in one statement, which also carries the
    count when the page is the one the caller said it would ask for (`window`, the first 50 by
    default) — then the names of their skills (`skill_names`)."""

    def __init__(self, user, *, text: str = "", station_id=None, skill_id=None, window=(0, 50)):
        base = _volunteer_base(user, station_id, skill_id).order_by()
        self.ways = [base.filter(q).values_list("id", flat=True) for q in search_branches(text) or [Q()]]
        self.window = tuple(window)
        self.count_is_capped = False
        self._count: int | None = None  # how many match, up to COUNT_CAP + 1
        self._window_rows: list[Volunteer] | None = None

    def _limit_in_union(self) -> bool:
        return connections[self.ways[0].db].features.supports_slicing_ordering_in_compound

    def counted(self):
        """The ids to count: at most COUNT_CAP + 1 of each way, in any order (their union holds more
        than COUNT_CAP exactly when all the matches do)."""
        limit = COUNT_CAP + 1
        first, *others = self.ways
        if not others:
            return first[:limit]
        if self._limit_in_union():
            return first[:limit].union(*(way[:limit] for way in others))
        return first.union(*others)  # SQLite takes no LIMIT inside a UNION

    def newest(self, start: int, stop: int):
        """The ids of the matches start … stop - 1, newest first (a query)."""
        first, *others = self.ways
        if not others:
            return first.order_by("-id")[start:stop]
        if self._limit_in_union():
            # The newest `stop` of the union are among the newest `stop` of each way.
            union = first.order_by("-id")[:stop].union(*(way.order_by("-id")[:stop] for way in others))
        else:
            union = first.union(*others)
        return union.order_by("-id")[start:stop]

    def page_ids(self, start: int, stop: int) -> list[int]:
        return list(self.newest(start, stop)) if stop > start else []

    def _set_count(self, n: int) -> None:
        self._count = n
        self.count_is_capped = n > COUNT_CAP

    def count(self) -> int:
        """How many match, up to COUNT_CAP; sets `count_is_capped` when there are more."""
        if self._count is None:
            start, stop = self.window
            rows = self._rows(start, stop, with_count=True)
            if rows:
                self._window_rows = rows
                self._set_count(rows[0].match_count)
            elif start == 0:
                self._set_count(0)
            else:
                self._set_count(self.counted().count())
        return min(self._count, COUNT_CAP)

    def _rows(self, start: int, stop: int, *, with_count: bool = False) -> list[Volunteer]:
        """The rows of matches start … stop - 1 with their station, in one statement."""
        if stop <= start:
            return []
        qs = Volunteer.objects.filter(pk__in=self.newest(start, stop)).select_related("station").order_by("-id")
        if with_count:
            sql, params = self.counted().query.sql_with_params()
            qs = qs.annotate(match_count=RawSQL(f"SELECT COUNT(*) FROM ({sql}) AS counted", params))
        rows = list(qs)
        if rows:
            # The names of their skills in one query (a prefetch would build a related manager per row).
            names: dict[int, list[str]] = {v.pk: [] for v in rows}
            pairs = Volunteer.skills.through.objects.filter(volunteer_id__in=names)
            for volunteer_id, name in pairs.order_by("skill__ordering", "skill_id").values_list(
                    "volunteer_id", "skill__name"):
                names[volunteer_id].append(name)
            for v in rows:
                v.skill_names = names[v.pk]
        return rows

    def __getitem__(self, key: slice) -> list[Volunteer]:
        if not isinstance(key, slice) or key.step not in (None, 1) or key.stop is None:
            raise TypeError("VolunteerSearch takes a slice [start:stop].")
        start, stop = key.start or 0, key.stop
        w_start, w_stop = self.window
        if self._window_rows is not None and w_start <= start and stop <= w_stop:
            return self._window_rows[start - w_start : stop - w_start]  # read along with the count
        if self._count is not None and start >= self._count and not self.count_is_capped:
            return []
        return self._rows(start, stop)


def search_volunteers(user, *, text: str = "", station_id=None, skill_id=None, window=(0, 50)) -> VolunteerSearch:
    """The paged search of the console's volunteer list and of `GET /api/v1/volunteers`; `window`
    is the slice the caller will ask for (read along with the count)."""
    return VolunteerSearch(user, text=text, station_id=station_id, skill_id=skill_id, window=window)


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
