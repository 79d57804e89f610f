"""Activities as iCalendar feeds (RFC 5545) that calendar apps subscribe to without logging in.

- A node's feed (a station, an institute or the centre: the node and its subtree) and a team's
  feed hold published activities only, which are public anyway, and no personal data: no names
  of volunteers, no contact person.
- A volunteer's feed (the activities they signed up for, waiting list included) sits behind an
  unguessable token in its URL: the volunteer's id and an HMAC of it under the project's secret
  (`volunteer_token`). A wrong or forged token is a 404, like an unknown id.

  The phone pages link to it with `reverse("activities:ical-volunteer", args=[volunteer_token(v)])`
  or simply `volunteer_feed_path(v)`.

Events carry a UID that is stable per activity, times in UTC, STATUS:CANCELLED for a cancelled
activity (so a subscribed calendar removes it) and TENTATIVE for a place on the waiting list.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, timedelta

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from wenming.core.models import OrgNode
from wenming.people.models import Team, Volunteer

from .models import Activity, SignUp

MAX_ID = 2**63
PAST_DAYS = 180  # how far back a feed reaches
MAX_EVENTS = 1000
TOKEN = re.compile(r"^([0-9a-z]{1,13})-([0-9a-f]{32})$")


# --- Tokens of the volunteer feed ---------------------------------------------------------------


def _mac(volunteer_id: int) -> str:
    return salted_hmac("wenming.activities.ical.volunteer", str(volunteer_id), algorithm="sha256").hexdigest()[:32]


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def volunteer_token(volunteer: Volunteer) -> str:
    """The secret part of a volunteer's feed URL: `<id in base 36>-<128-bit HMAC>`."""
    return f"{_base36(volunteer.pk)}-{_mac(volunteer.pk)}"


def volunteer_feed_path(volunteer: Volunteer) -> str:
    return reverse("activities:ical-volunteer", args=[volunteer_token(volunteer)])


def volunteer_from_token(token: str) -> Volunteer | None:
    match = TOKEN.match(token or "")
    if not match:
        return None
    pk = int(match.group(1), 36)
    if not 0 < pk < MAX_ID or not hmac.compare_digest(match.group(2), _mac(pk)):
        return None
    return Volunteer.objects.filter(pk=pk).first()


# --- Building the calendar ---------------------------------------------------------------------------


def _visible():
    """Activities a feed may show: ever published (drafts never), recent and upcoming."""
    since = timezone.now() - timedelta(days=PAST_DAYS)
    return (
        Activity.objects.exclude(status=Activity.Status.DRAFT)
        .filter(published_at__isnull=False, ends_at__gte=since)
        .select_related("node", "team", "site")
        .order_by("starts_at", "id")
    )


def _uid(activity: Activity) -> str:
    return f"activity-{activity.pk}@wenming-{settings.WENMING_DISTRICT_CODE}"


def _event(request, activity: Activity, *, tentative: bool = False, stamp=None) -> Event:
    ev = Event()
    ev.add("uid", _uid(activity))
    ev.add("dtstamp", stamp)
    ev.add("dtstart", activity.starts_at.astimezone(UTC).replace(microsecond=0))
    ev.add("dtend", activity.ends_at.astimezone(UTC).replace(microsecond=0))
    title = activity.title
    if activity.status == Activity.Status.CANCELLED:
        title = f"【已取消】{title}"
    elif tentative:
        title = f"【候补】{title}"
    ev.add("summary", title)
    place = ", ".join(p for p in (activity.site.name if activity.site_id else "", activity.address) if p)
    if place:
        ev.add("location", place)
    if activity.site_id and activity.site.lat is not None and activity.site.lng is not None:
        ev.add("geo", (activity.site.lat, activity.site.lng))
    lines = [f"组织：{activity.team.name if activity.team_id else activity.node.name}"]
    if activity.status == Activity.Status.CANCELLED and activity.cancel_reason:
        lines.append(f"取消原因：{activity.cancel_reason}")
    if activity.description:
        lines.append(activity.description[:2000])
    ev.add("description", "\n".join(lines))
    ev.add("url", request.build_absolute_uri(f"/a/{activity.pk}/"))
    if activity.status == Activity.Status.CANCELLED:
        ev.add("status", "CANCELLED")
        ev.add("sequence", 1)
    else:
        ev.add("status", "TENTATIVE" if tentative else "CONFIRMED")
        ev.add("sequence", 0)
    if activity.published_at:
        ev.add("created", activity.published_at.astimezone(UTC))
    ev.add("last-modified", (activity.cancelled_at or activity.published_at).astimezone(UTC))
    return ev


def build_calendar(request, name: str, activities, tentative_ids=frozenset()) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Wenming//文明实践云平台//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp = timezone.now().astimezone(UTC).replace(microsecond=0)
    for activity in activities[:MAX_EVENTS]:
        cal.add_component(_event(request, activity, tentative=activity.pk in tentative_ids, stamp=stamp))
    return cal.to_ical()


def _response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "public, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def _pk(value: int) -> int:
    if not 0 < value < MAX_ID:
        raise Http404
    return value


# --- Views -----------------------------------------------------------------------------------------


@require_GET
def node_feed(request, node_id: int):
    """A station's (or any node's) published activities, its subtree included. Public."""
    node = OrgNode.objects.filter(pk=_pk(node_id)).first()
    if node is None:
        raise Http404
    activities = _visible().filter(node__path__startswith=node.path)
    return _response(build_calendar(request, f"{node.name} · 志愿活动", activities), f"node-{node.pk}.ics")


@require_GET
def team_feed(request, team_id: int):
    """A team's published activities. Public."""
    team = Team.objects.filter(pk=_pk(team_id)).first()
    if team is None:
        raise Http404
    return _response(build_calendar(request, f"{team.name} · 志愿活动", _visible().filter(team=team)),
                     f"team-{team.pk}.ics")


@require_GET
def volunteer_feed(request, token: str):
    """The activities a volunteer signed up for (waiting list as TENTATIVE). Secret URL."""
    volunteer = volunteer_from_token(token)
    if volunteer is None:
        raise Http404
    # One live sign-up per volunteer and activity (a unique index), so the join repeats nothing.
    activities = _visible().filter(
        signups__volunteer=volunteer, signups__status__in=[SignUp.Status.CONFIRMED, SignUp.Status.WAITING]
    )
    since = timezone.now() - timedelta(days=PAST_DAYS)
    waiting = frozenset(
        SignUp.objects.filter(volunteer=volunteer, status=SignUp.Status.WAITING, activity__ends_at__gte=since)
        .values_list("activity_id", flat=True)
    )
    response = _response(build_calendar(request, "我的志愿活动", activities, waiting), "my-activities.ics")
    response["Cache-Control"] = "private, max-age=300"
    return response
