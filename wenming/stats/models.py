"""Roll-ups: the figures of each node's subtree, kept current as records are settled.

`Rollup` holds additive figures per node (its whole subtree) and calendar day, one row per
(metric, dimension); `MonthRollup` the same figures per calendar month, so that a period reads its
whole months there and only its partial months' days from `Rollup` — a centre's year is 12 rows
per metric, whatever the history.
Figures that do not add up across days — distinct volunteers and teams, and the rankings — are
kept per calendar year and month in `Tally` (one row per member) and `PeriodCount` (how many
members are active). `StatsClock` says up to when finished activities have been counted: an
activity is counted once its end has passed, which no save announces, so a job moves the clock
on (and every read of the figures does first).
"""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from wenming.core.models import OrgNode
from wenming.needs.models import RATING_PRIOR, RATING_PRIOR_WEIGHT

# A team's place in the rating ranking: its mean stars smoothed toward the prior (needs.models), so
# that a team with one 5-star rating does not head a list of teams rated forty times.
RATING_SCORE = (Cast(F("rating_sum") + RATING_PRIOR * RATING_PRIOR_WEIGHT, models.FloatField())
                / (F("rating_count") + RATING_PRIOR_WEIGHT))
# needs.models.smoothed_stars is this in Python.


class Rollup(models.Model):
    node = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    metric = models.CharField(max_length=40)
    dim = models.BigIntegerField(default=0)  # a platform's or theme's id; 0 when the metric has none
    value = models.BigIntegerField(default=0)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "day", "metric", "dim"], name="stats_rollup_key")]


class MonthRollup(models.Model):
    """`Rollup`'s rows added up per calendar month (`month` is its first day)."""

    node = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    metric = models.CharField(max_length=40)
    dim = models.BigIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "month", "metric", "dim"], name="stats_monthrollup_key")]
        # With the value: a year's rows for 40 institutes are read from the index alone.
        indexes = [models.Index(fields=["node", "month", "metric", "dim", "value"], name="stats_monthrollup_read")]


class Tally(models.Model):
    """One member's share of a node's year or month: a volunteer ('v') or a team ('t')."""

    VOLUNTEER = "v"
    TEAM = "t"

    node = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    period = models.CharField(max_length=7)  # "2026" or "2026-11"
    kind = models.CharField(max_length=1)
    member_id = models.BigIntegerField()
    minutes = models.BigIntegerField(default=0)
    events = models.BigIntegerField(default=0)  # teams: finished activities and fulfilled needs
    rating_sum = models.BigIntegerField(default=0)
    rating_count = models.BigIntegerField(default=0)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "period", "kind", "member_id"], name="stats_tally_key")]
        indexes = [
            models.Index(fields=["node", "period", "kind", "-minutes"], name="stats_tally_rank"),
            # The rated teams in ranking order (best smoothed mean, then more ratings): a top 10 of tens of
            # thousands of teams is read off the index. queries orders by this very expression.
            models.Index(F("node"), F("period"), F("kind"), RATING_SCORE.desc(), F("rating_count").desc(),
                         condition=models.Q(rating_count__gt=0), name="stats_tally_best_rated"),
        ]


class PeriodCount(models.Model):
    """How many members of a kind are active (any minutes or events) in a node's year or month."""

    node = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    period = models.CharField(max_length=7)
    kind = models.CharField(max_length=1)
    count = models.BigIntegerField(default=0)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "period", "kind"], name="stats_periodcount_key")]


class StatsClock(models.Model):
    """One row: activities that ended at or before `activities_through` are counted."""

    activities_through = models.DateTimeField()


class SummaryTemplate(models.Model):
    """A district's own wording of the work summary (工作总结), a Django template over the figures."""

    node = models.OneToOneField(OrgNode, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+")
    body = models.TextField(_("模板正文"), max_length=20000)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    SCOPE_NODE_FIELD = "node"

    class Meta:
        verbose_name = _("工作总结模板")
        verbose_name_plural = _("工作总结模板")
