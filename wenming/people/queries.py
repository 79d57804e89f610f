"""Reads of volunteers and teams, always through the scoping helper."""

import re

from django.db.models import Count, Q

from wenming.core import pii
from wenming.core.scoping import scoped
from wenming.core.validators import PHONE_RE

from .models import Team, Volunteer

ID_RE = re.compile(r"^\d{17}[\dXx]$")
NUMBER_RE = re.compile(r"^\d{14}$")
LETTERS_RE = re.compile(r"^[A-Za-z]+$")


def search_q(text: str) -> Q:
    """How a search box finds a volunteer: exact ID / phone (blind index), volunteer number,
    pinyin (full or initials, `zhs` finds 张三) or the start of a name."""
    text = (text or "").strip()[:50]
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
        return Q(name_initials__startswith=low) | Q(name_pinyin__startswith=low)
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
