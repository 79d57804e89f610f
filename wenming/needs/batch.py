"""一键派单: for all approved needs handled in a node's subtree, propose the assignment to teams
with the best total candidate score within each team's free capacity; the dispatcher reviews the
proposal and confirms it, need by need, through `dispatch_need` (so every rule and the timeline
apply as for a single dispatch)."""

from dataclasses import dataclass

from django.db.models import Count, Q

from wenming.core.errors import DomainError
from wenming.core.models import OrgNode
from wenming.core.scoping import require_manager
from wenming.people.models import Team

from . import services
from .assignment import propose_assignment
from .candidates import candidates_for
from .models import Need

MAX_NEEDS = 500  # one proposal; a node with more approved needs is proposed in several rounds
CANDIDATES_PER_NEED = 30


@dataclass
class BatchLine:
    need: Need
    team: Team | None
    score: float
    reasons: list[str]


@dataclass
class BatchProposal:
    node: OrgNode
    lines: list[BatchLine]
    total_score: float

    @property
    def assigned(self) -> list[BatchLine]:
        return [line for line in self.lines if line.team is not None]

    @property
    def unassigned(self) -> list[BatchLine]:
        return [line for line in self.lines if line.team is None]


def pending_needs(by, node: OrgNode):
    return (Need.objects.filter(state=Need.State.APPROVED, node__path__startswith=node.path)
            .select_related("category", "station", "node").order_by("-urgency", "deadline", "id"))


def propose_batch(by, node: OrgNode) -> BatchProposal:
    require_manager(by, node)
    needs = [n for n in pending_needs(by, node)[:MAX_NEEDS] if services.can_handle(by, n)]
    columns: dict[int, int] = {}
    scores, found = [], {}
    for need in needs:
        row = []
        for c in candidates_for(need, limit=CANDIDATES_PER_NEED, dispatcher=by):
            if c.kind != "team" or not c.eligible or c.score <= 0:
                continue
            column = columns.setdefault(c.id, len(columns))
            row.append((column, c.score))
            found[(need.pk, c.id)] = c
        scores.append(row)
    teams = Team.objects.in_bulk(list(columns))
    held = dict(Team.objects.filter(pk__in=list(columns)).annotate(
        n=Count("needs", filter=Q(needs__state__in=Need.HELD_STATES))).values_list("pk", "n"))
    team_ids = sorted(columns, key=columns.get)
    capacities = [max(teams[t].capacity - held.get(t, 0), 0) for t in team_ids]
    proposal = propose_assignment(scores, capacities)
    lines = []
    for need, column in zip(needs, proposal.team_of, strict=True):
        if column is None:
            lines.append(BatchLine(need, None, 0.0, []))
        else:
            team_id = team_ids[column]
            c = found[(need.pk, team_id)]
            lines.append(BatchLine(need, teams[team_id], c.score, c.reasons))
    return BatchProposal(node, lines, proposal.total_score)


@dataclass
class BatchResult:
    dispatched: list[Need]
    failed: list[tuple[Need, str]]


def confirm_batch(by, pairs: list[tuple[int, int]]) -> BatchResult:
    """Dispatch each confirmed (need id, team id) pair on its own: one refused (taken meanwhile, team
    full now) is reported and the rest go ahead."""
    result = BatchResult([], [])
    needs = Need.objects.in_bulk([n for n, _t in pairs])
    teams = Team.objects.in_bulk([t for _n, t in pairs])
    for need_id, team_id in pairs:
        need, team = needs.get(need_id), teams.get(team_id)
        if need is None or team is None:
            continue
        try:
            result.dispatched.append(services.dispatch_need(by, need, team=team, note="一键派单"))
        except DomainError as exc:
            result.failed.append((need, exc.message))
    return result
