"""Reads of the ledger, through the scoping helper, shaped for pages and endpoints.

A volunteer's summary is two queries whatever the history: the chain head's sealed
running totals of minutes (which `verify-ledger` recomputes from the records), and the
sum of the points account's entries (an index-only scan on (account, amount)).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from wenming.core.scoping import scoped
from wenming.people.models import Volunteer

from . import rules
from .models import Account, HoursRequest, LedgerChain, PointEntry, ServiceRecord


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
