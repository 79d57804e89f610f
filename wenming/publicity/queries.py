"""Reads of the media-reports ledger, always within the account's reach (`core.scoping`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import ExtractYear

from wenming.activities.models import Activity, Brand
from wenming.core.models import OrgNode
from wenming.core.scoping import get_scoped, reach_paths, scoped

from .models import MediaReport

LEVELS = MediaReport.Level.values


@dataclass
class ReportFilters:
    """What a list may be narrowed to; every field optional."""

    level: str | None = None
    node: OrgNode | None = None  # the organisation and everything under it
    year: int | None = None
    q: str = ""  # in the title or the outlet
    published_after: date | None = None  # inclusive
    published_before: date | None = None  # inclusive
    activity_id: int | None = None
    brand_id: int | None = None


def _base():
    return MediaReport.objects.select_related("node", "activity", "brand", "created_by")


def reports_in_reach(user):
    return scoped(_base(), user)


def reports_for(user, filters: ReportFilters | None = None, *, ignore_level: bool = False):
    """The reports a user may see, narrowed by `filters` (the level kept out when `ignore_level`:
    the counts per level beside a list filtered by level)."""
    qs = reports_in_reach(user)
    f = filters or ReportFilters()
    if f.level and not ignore_level:
        qs = qs.filter(level=f.level)
    if f.node is not None:
        qs = qs.filter(node__path__startswith=f.node.path)
    if f.year:
        qs = qs.filter(published_on__gte=date(f.year, 1, 1), published_on__lte=date(f.year, 12, 31))
    if f.published_after:
        qs = qs.filter(published_on__gte=f.published_after)
    if f.published_before:
        qs = qs.filter(published_on__lte=f.published_before)
    if f.activity_id:
        qs = qs.filter(activity_id=f.activity_id)
    if f.brand_id:
        qs = qs.filter(brand_id=f.brand_id)
    text = (f.q or "").strip()
    if text:
        qs = qs.filter(Q(title__contains=text) | Q(outlet__contains=text))
    return qs.order_by("-published_on", "-id")


def level_counts(qs) -> dict:
    """{level: count for every level, 'total': all} of a queryset of reports, in one GROUP BY."""
    counts = dict.fromkeys(LEVELS, 0)
    for level, n in qs.order_by().values_list("level").annotate(n=Count("id")).values_list("level", "n"):
        if level in counts:
            counts[level] = n
    counts["total"] = sum(counts[level] for level in LEVELS)
    return counts


def counts_for(user, filters: ReportFilters | None = None) -> dict:
    """Counts per level of the reports in reach matching `filters` (whatever its level)."""
    return level_counts(reports_for(user, filters, ignore_level=True))


def report_for(user, pk) -> MediaReport:
    """One report in reach, or NotFound (the same for one outside reach as for one that does not exist)."""
    return get_scoped(_base(), user, pk)


def years_for(user) -> list[int]:
    """The years that have reports in reach, newest first."""
    rows = (reports_in_reach(user).order_by().annotate(y=ExtractYear("published_on"))
            .values_list("y", flat=True).distinct())
    return sorted({y for y in rows if y}, reverse=True)


# --- Choosers of the forms -------------------------------------------------------------------------


def activities_to_link(user, *, text: str = "", node: OrgNode | None = None, limit: int = 200):
    """Activities a report may be linked to (in reach, published or later; not drafts), newest first;
    within the line of `node` (itself, above and below) when given; by title text."""
    qs = scoped(Activity.objects.select_related("node"), user).exclude(status=Activity.Status.DRAFT)
    if node is not None:
        ancestors = [node.path[:i] for i in range(OrgNode.steplen, len(node.path) + 1, OrgNode.steplen)]
        qs = qs.filter(Q(node__path__startswith=node.path) | Q(node__path__in=ancestors))
    text = (text or "").strip()[:50]
    if text:
        qs = qs.filter(title__contains=text)
    return qs.order_by("-starts_at", "-id")[:limit]


def linkable_activities(user):
    """Every activity a report may be linked to (for validating a choice)."""
    return scoped(Activity.objects.select_related("node"), user).exclude(status=Activity.Status.DRAFT)


def brands_to_link(user):
    """Brands of organisations in reach and of the organisations above them (a district brand such as
    七彩假期 is run by stations too)."""
    qs = Brand.objects.select_related("node")
    if user.is_superuser:
        return qs.order_by("node__path", "id")
    paths = reach_paths(user)
    if not paths:
        return qs.none()
    steplen = OrgNode.steplen
    ancestors = {p[:i] for p in paths for i in range(steplen, len(p), steplen)}
    q = Q(node__path__in=ancestors)
    for path in paths:
        q |= Q(node__path__startswith=path)
    return qs.filter(q).order_by("node__path", "id")


def year_total(user, year: int) -> int:
    return reports_in_reach(user).filter(published_on__gte=date(year, 1, 1),
                                         published_on__lte=date(year, 12, 31)).count()
