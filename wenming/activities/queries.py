"""Reads of activities, shaped for pages, feeds and endpoints."""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from wenming.core.models import User
from wenming.core.scoping import scoped
from wenming.ledger import rules

from .checkin import distance_m
from .models import Activity, Attendance, SignUp

NEARBY_KM = 20


def _with_counts(qs):
    return qs.annotate(
        confirmed_count=Count("signups", filter=Q(signups__status=SignUp.Status.CONFIRMED), distinct=True),
        waiting_count=Count("signups", filter=Q(signups__status=SignUp.Status.WAITING), distinct=True),
    )


def activities_for(user):
    """Activities a user may see: organisers and viewers those in their reach (drafts too);
    a team leader also their team's; a volunteer every activity that has been published."""
    base = Activity.objects.select_related("node", "team", "site", "platform", "brand")
    if not getattr(user, "is_authenticated", False):
        return base.none()
    if user.role == User.Role.VOLUNTEER and not user.is_superuser:
        return base.exclude(status=Activity.Status.DRAFT)
    return scoped(base, user)


def public_activities():
    """What anyone may browse: published, not drafts."""
    return Activity.objects.exclude(status=Activity.Status.DRAFT).select_related("node", "team", "site", "platform")


def recruiting(now=None, *, theme_id: int | None = None):
    now = now or timezone.now()
    qs = public_activities().filter(status=Activity.Status.PUBLISHED, starts_at__gt=now)
    if theme_id:
        qs = qs.filter(themes__id=theme_id)
    return _with_counts(qs).order_by("starts_at", "id")


def nearby(lat: float, lng: float, now=None, *, theme_id: int | None = None, limit: int = 50) -> list[Activity]:
    """Recruiting activities whose site lies within NEARBY_KM, nearest first (a bounding box
    narrows the rows in SQL; the exact distance is computed for those)."""
    dlat = NEARBY_KM / 111.0
    dlng = NEARBY_KM / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    rows = list(
        recruiting(now, theme_id=theme_id).filter(
            site__lat__range=(lat - dlat, lat + dlat), site__lng__range=(lng - dlng, lng + dlng)
        )[:500]
    )
    for a in rows:
        a.distance_m = round(distance_m(lat, lng, a.site.lat, a.site.lng))
    rows = [a for a in rows if a.distance_m <= NEARBY_KM * 1000]
    rows.sort(key=lambda a: (a.distance_m, a.starts_at))
    return rows[:limit]


def signups_of(activity: Activity):
    return (
        SignUp.objects.filter(activity=activity)
        .exclude(status=SignUp.Status.CANCELLED)
        .select_related("volunteer", "volunteer__station")
        .order_by("status", "created_at", "id")
    )


def attendance_of(activity: Activity):
    return Attendance.objects.filter(activity=activity).select_related("volunteer").order_by("checked_in_at", "id")


def live_board(activity: Activity) -> dict:
    """The organiser's live list: who signed up, who checked in and out."""
    signups = list(signups_of(activity))
    attendance = {a.volunteer_id: a for a in attendance_of(activity)}
    rows = []
    for s in signups:
        rows.append({"signup": s, "volunteer": s.volunteer, "attendance": attendance.pop(s.volunteer_id, None)})
    for a in attendance.values():  # walk-ins
        rows.append({"signup": None, "volunteer": a.volunteer, "attendance": a})
    return {
        "rows": rows,
        "confirmed": sum(1 for s in signups if s.status == SignUp.Status.CONFIRMED),
        "waiting": sum(1 for s in signups if s.status == SignUp.Status.WAITING),
        "checked_in": sum(1 for r in rows if r["attendance"]),
        "checked_out": sum(1 for r in rows if r["attendance"] and r["attendance"].checked_out_at),
    }


def my_signups(volunteer, *, upcoming_only: bool = False, now=None):
    now = now or timezone.now()
    qs = (
        SignUp.objects.filter(volunteer=volunteer)
        .exclude(status=SignUp.Status.CANCELLED)
        .select_related("activity", "activity__site", "activity__node")
        .order_by("-activity__starts_at")
    )
    if upcoming_only:
        qs = qs.filter(activity__ends_at__gt=now - timedelta(hours=2))
    return qs


def settlement_preview(activity: Activity) -> dict:
    """What settlement would do with each attendance, by the ledger's own rule."""
    step, share = rules.configured_step_minutes(), rules.configured_min_share()
    rows, totals = [], {"verified": 0, "minutes": 0, "none": 0, "awaiting": 0}
    for att in attendance_of(activity):
        outcome, minutes = "", None
        if att.status == Attendance.Status.CHECKED_OUT:
            minutes = rules.served_minutes(att.checked_in_at, att.checked_out_at, activity.starts_at,
                                           activity.ends_at, step, share)
            if minutes:
                outcome = "verified"
                totals["verified"] += 1
                totals["minutes"] += minutes
            else:
                outcome = "none"
                totals["none"] += 1
        elif att.status in (Attendance.Status.CHECKED_IN, Attendance.Status.AWAITING_DECISION):
            outcome = "awaiting"
            totals["awaiting"] += 1
        else:
            outcome = "none"
            totals["none"] += 1
        rows.append({"att": att, "outcome": outcome, "minutes": minutes})
    return {"rows": rows, "totals": totals, "min_share_pct": round(share * 100), "step": step}
