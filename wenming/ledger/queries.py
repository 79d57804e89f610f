"""Reads of the ledger, through the scoping helper, shaped for pages and endpoints.

A volunteer's summary is two queries whatever the history: the chain head's sealed
running totals of minutes (which `verify-ledger` recomputes from the records), and the
sum of the points account's entries (an index-only scan on (account, amount)).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from wenming.core.errors import NotFound
from wenming.core.models import OrgNode
from wenming.core.scoping import reach_paths, scoped
from wenming.people.models import Volunteer

from . import rules
from .models import Account, Certificate, HoursRequest, LedgerChain, PointEntry, ServiceRecord


@dataclass(frozen=True)
class VolunteerSummary:
    verified_minutes: int
    recorded_minutes: int
    total_minutes: int
    records: int
    points: int
    stars: int
    next_star_hours: int | None  # the threshold of the next star, None at the top

    @property
    def verified_hours(self) -> float:
        return round(self.verified_minutes / 60, 1)

    @property
    def recorded_hours(self) -> float:
        return round(self.recorded_minutes / 60, 1)

    @property
    def total_hours(self) -> float:
        return round(self.total_minutes / 60, 1)

    @property
    def hours_to_next_star(self) -> float | None:
        if self.next_star_hours is None:
            return None
        return round(self.next_star_hours - self.total_minutes / 60, 1)


def volunteer_summary(volunteer: Volunteer | int) -> VolunteerSummary:
    """Verified and recorded minutes (net of corrections), points balance and stars."""
    volunteer_id = getattr(volunteer, "pk", volunteer)
    head = (
        LedgerChain.objects.filter(volunteer_id=volunteer_id)
        .values_list("verified_minutes", "recorded_minutes", "services")
        .first()
    )
    verified, recorded, services = head or (0, 0, 0)
    points = (
        PointEntry.objects.filter(
            account__volunteer_id=volunteer_id, account__kind=Account.Kind.VOLUNTEER
        ).aggregate(t=Sum("amount"))["t"]
        or 0
    )
    total = verified + recorded
    return VolunteerSummary(
        verified_minutes=verified,
        recorded_minutes=recorded,
        total_minutes=total,
        records=services,
        points=int(points),
        stars=rules.star_level(total),
        next_star_hours=rules.next_threshold(total),
    )


def recount(volunteer: Volunteer | int) -> tuple[int, int, int]:
    """Verified minutes, recorded minutes and services summed from the records themselves
    (what the chain head's totals must equal)."""
    volunteer_id = getattr(volunteer, "pk", volunteer)
    row = ServiceRecord.objects.filter(volunteer_id=volunteer_id).aggregate(
        verified=Sum("minutes", filter=Q(kind=ServiceRecord.Kind.VERIFIED)),
        recorded=Sum("minutes", filter=Q(kind=ServiceRecord.Kind.RECORDED)),
        services=Count("id", filter=Q(adjustment_of__isnull=True)),
    )
    return int(row["verified"] or 0), int(row["recorded"] or 0), row["services"]


def records_for(user):
    """Service records the user may see: those organised within their reach, and their own."""
    return (
        scoped(ServiceRecord.objects.all(), user)
        .select_related("volunteer", "node")
        .order_by("-service_date", "-id")
    )


def volunteer_records(volunteer: Volunteer):
    """One volunteer's records, newest first (their own page; the caller has checked access)."""
    return ServiceRecord.objects.filter(volunteer=volunteer).select_related("node").order_by("-sequence")


def requests_for(user, status: str | None = HoursRequest.Status.PENDING):
    qs = scoped(HoursRequest.objects.all(), user).select_related("volunteer", "node", "requested_by")
    return qs.filter(status=status) if status else qs


def points_history(volunteer: Volunteer):
    """The entries of a volunteer's points account, newest first, with their movements."""
    return (
        PointEntry.objects.filter(account__volunteer=volunteer, account__kind=Account.Kind.VOLUNTEER)
        .select_related("movement")
        .order_by("-movement_id")
    )


def entries_for(user):
    return scoped(PointEntry.objects.all(), user).select_related("movement", "account")


# --- Pages of the ledger ---------------------------------------------------------------------------


def record_detail_for(user, pk):
    """One record for a console page: organised within the user's reach, or of a volunteer in reach.
    NotFound otherwise (the same answer as for an id that does not exist)."""
    from wenming.core.scoping import node_q

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("记录不存在或不在您的管辖范围内。")
    if not 0 < pk < 2**63:
        raise NotFound("记录不存在或不在您的管辖范围内。")
    qs = ServiceRecord.objects.select_related(
        "volunteer", "volunteer__station", "node", "recorded_by", "approved_by", "adjustment_of", "original"
    )
    record = records_for(user).filter(pk=pk).first()
    if record is None and getattr(user, "is_authenticated", False) and reach_paths(user):
        record = qs.filter(node_q(user, "volunteer__station"), pk=pk).first()
    if record is None:
        raise NotFound("记录不存在或不在您的管辖范围内。")
    return qs.get(pk=record.pk)


def corrections_of(record: ServiceRecord):
    """The corrections of a record's tree (the original and every correction of it), oldest first."""
    root_id = record.original_id or record.pk
    return (
        ServiceRecord.objects.filter(original_id=root_id)
        .select_related("approved_by", "recorded_by")
        .order_by("sequence")
    )


def request_detail_for(user, pk) -> HoursRequest:
    from wenming.core.scoping import get_scoped

    return get_scoped(
        HoursRequest.objects.select_related(
            "volunteer", "node", "requested_by", "decided_by", "adjustment_of", "record"
        ),
        user,
        pk if isinstance(pk, int) and 0 < pk < 2**63 else -1,
    )


def certificate_lines(volunteer: Volunteer, start, end, limit: int | None = None) -> list[dict]:
    """The service lines a certificate of [start, end] shows: one per service (not per correction),
    dated by the service, with its verified and recorded minutes net of every correction of it.
    A service corrected down to nothing is left out. Three queries whatever the history."""
    roots = (
        ServiceRecord.objects.filter(
            volunteer=volunteer, adjustment_of__isnull=True, service_date__range=(start, end)
        )
        .order_by("service_date", "sequence")
        .values_list("id", "service_date", "title", "place", "node_id", "kind", "minutes")
    )
    if limit is not None:
        roots = roots[:limit]
    roots = list(roots)
    if not roots:
        return []
    net = {}
    corrections = (
        ServiceRecord.objects.filter(
            volunteer=volunteer, original__isnull=False, original__service_date__range=(start, end)
        )
        .values_list("original_id", "kind")
        .annotate(m=Sum("minutes"))
        .order_by()
    )
    for original_id, kind, minutes in corrections:
        net[(original_id, kind)] = net.get((original_id, kind), 0) + minutes
    names = dict(OrgNode.objects.filter(pk__in={r[4] for r in roots}).values_list("id", "name"))
    lines = []
    for pk, day, title, place, node_id, kind, minutes in roots:
        verified = (minutes if kind == ServiceRecord.Kind.VERIFIED else 0) + net.get((pk, "verified"), 0)
        recorded = (minutes if kind == ServiceRecord.Kind.RECORDED else 0) + net.get((pk, "recorded"), 0)
        if verified + recorded <= 0:
            continue
        lines.append(
            {
                "date": day.isoformat(),
                "title": title,
                "place": place,
                "organisation": names.get(node_id, ""),
                "node_id": node_id,
                "verified": max(verified, 0),
                "recorded": max(recorded, 0),
                "corrected": (pk, "verified") in net or (pk, "recorded") in net,
            }
        )
    return lines


def certificates_of(volunteer: Volunteer):
    return Certificate.objects.filter(volunteer=volunteer).select_related("node", "issued_by")


CERTIFICATE_NUMBER_RE = re.compile(r"^WM-[0-9]{4}-[0-9]{6,9}$")


def certificate_by_number(number) -> Certificate | None:
    """A certificate by its number, for the public verification page; None for anything else
    (malformed, too long, unknown) without touching the database for malformed input."""
    if not isinstance(number, str) or not CERTIFICATE_NUMBER_RE.match(number.strip().upper()):
        return None
    return (
        Certificate.objects.select_related("volunteer", "node").filter(number=number.strip().upper()).first()
    )


def certificate_for(user, volunteer: Volunteer, number: str) -> Certificate:
    """A certificate of `volunteer` by number (the caller has checked access to the volunteer)."""
    cert = certificate_by_number(number)
    if cert is None or cert.volunteer_id != volunteer.pk:
        raise NotFound("证明不存在。")
    return cert


def pending_count(user) -> int:
    return requests_for(user).count()


def star_ladder(total_minutes: int) -> dict:
    """The star levels for a page: each threshold and whether it is reached, the share of the way
    from the last threshold reached to the next (0–100), and the hours still to go."""
    thresholds = rules.star_thresholds()
    level = rules.star_level(total_minutes, thresholds)
    steps = [
        {"level": i, "hours": h, "reached": total_minutes >= h * 60} for i, h in enumerate(thresholds, 1)
    ]
    if level >= len(thresholds):
        return {"level": level, "steps": steps, "percent": 100, "next": None, "to_go_minutes": None}
    low = thresholds[level - 1] * 60 if level else 0
    high = thresholds[level] * 60
    percent = int(100 * (total_minutes - low) / (high - low)) if high > low else 100
    return {
        "level": level,
        "steps": steps,
        "percent": max(0, min(percent, 100)),
        "next": level + 1,
        "to_go_minutes": high - total_minutes,
    }
