"""The big screen's live feed (数据大屏): the latest check-ins and needs in a node's subtree.

Scoped reads only (`core.scoping`), each a bounded, indexed query:

- check-ins: attendances at activities of the subtree that started in the last `CHECKIN_DAYS`
  days (the activity's `(node, starts_at)` index picks the activities, the attendance's
  `(activity, volunteer)` unique index their check-ins), newest first, at most `LIMIT`;
- needs: needs raised at stations of the subtree in the last `NEED_DAYS` days (the need's
  `(station, created_at)` index), newest first, at most `LIMIT`.

Each looks at the last day first and only widens to the whole window when the day holds fewer
than `LIMIT` rows, so a busy day costs a day's rows (two queries at most per list).

What a wall may show, and nothing more: a check-in is its time, the volunteer's masked name
(张*明), the activity's title and its organising node; a need is its time, its category, its
station and its state. Never a resident's name, phone, address or description, nor a
volunteer's number, phone or ID.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from wenming.activities.models import Activity, Attendance
from wenming.core.models import OrgNode
from wenming.core.scoping import scoped_within
from wenming.needs.models import Need

LIMIT = 20
CHECKIN_DAYS = 7
NEED_DAYS = 30
# Look at the last day first: on a busy wall it holds the 20 rows, and costs a day's rows, not a week's.
FIRST_LOOK_DAYS = 1


def mask_name(name: str) -> str:
    """张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明: the first and last characters at most."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _subtree(node: OrgNode):
    return OrgNode.objects.filter(path__startswith=node.path).values("pk")


def _checkin_rows(user, node: OrgNode, now: datetime, days: int = CHECKIN_DAYS):
    """Attendances at the subtree's activities that started in the last `days` days (or start within
    the day): the activities come from their (node, starts_at) index, their check-ins from the
    attendance's (activity, volunteer) index."""
    activities = Activity.objects.filter(node__in=_subtree(node), starts_at__gte=now - timedelta(days=days),
                                         starts_at__lte=now + timedelta(days=1)).values("pk")
    return scoped_within(Attendance.objects.all(), user, node).filter(activity__in=activities)


def latest_checkins(user, node: OrgNode, now: datetime | None = None, limit: int = LIMIT) -> list[dict]:
    now = now or timezone.now()
    for days in (FIRST_LOOK_DAYS, CHECKIN_DAYS):
        rows = list(
            _checkin_rows(user, node, now, days)
            .select_related("volunteer", "activity", "activity__node")
            .only("checked_in_at", "volunteer__name", "activity__title", "activity__node__name")
            .order_by("-checked_in_at", "-id")[:limit]
        )
        if len(rows) >= limit:
            break
    return [
        {
            "time": timezone.localtime(a.checked_in_at).isoformat(timespec="seconds"),
            "name": mask_name(a.volunteer.name),
            "activity": a.activity.title,
            "station": a.activity.node.name,
        }
        for a in rows
    ]


def checkins_today(user, node: OrgNode, now: datetime | None = None) -> int:
    """Check-ins since midnight (Asia/Shanghai) in the subtree."""
    now = now or timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    return _checkin_rows(user, node, now).filter(checked_in_at__gte=midnight).count()


def latest_needs(user, node: OrgNode, now: datetime | None = None, limit: int = LIMIT) -> list[dict]:
    """Needs raised at the subtree's stations: the need's (station, created_at) index."""
    now = now or timezone.now()
    for days in (FIRST_LOOK_DAYS, NEED_DAYS):
        rows = list(
            scoped_within(Need.objects.all(), user)
            .filter(station__in=_subtree(node), created_at__gte=now - timedelta(days=days))
            .select_related("category", "station")
            .only("created_at", "state", "category__name", "station__name")
            .order_by("-created_at", "-id")[:limit]
        )
        if len(rows) >= limit:
            break
    return [
        {
            "time": timezone.localtime(n.created_at).isoformat(timespec="seconds"),
            "category": n.category.name,
            "station": n.station.name,
            "state": n.state,
            "state_label": str(n.get_state_display()),
        }
        for n in rows
    ]
