"""一键派单's proposal (wenming.needs.assignment): every team within its capacity, only eligible pairs,
each need at most once, and the best total score there is — checked against brute force and
against linear_sum_assignment on the capacity-expanded matrix."""

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from wenming.needs.assignment import Proposal, propose_assignment


def assert_valid(proposal: Proposal, candidates, capacities) -> None:
    """Eligible pairs only, each team within its capacity, the total the sum of the chosen scores."""
    assert len(proposal.team_of) == len(candidates)
    load = [0] * len(capacities)
    total = 0.0
    for need, team in proposal.pairs:
        scores = [s for t, s in candidates[need] if t == team and s > 0]
        assert scores, f"need {need} went to team {team}, not one of its candidates"
        total += max(scores)
        load[team] += 1
    assert all(load[t] <= capacities[t] for t in range(len(capacities)))
    assert proposal.total_score == pytest.approx(total)
    # Nobody is left out while one of their candidate teams still has room (that would add score).
    for need in proposal.unassigned:
        assert all(load[t] >= capacities[t] for t, s in candidates[need] if s > 0)


def brute_force_best(candidates, capacities) -> float:
    """The best total, trying every choice (a candidate or nobody) for every need."""
    best = 0.0
    options = [[None, *c] for c in candidates]
    for choice in itertools.product(*options):
        load = [0] * len(capacities)
        for pick in choice:
            if pick is not None:
                load[pick[0]] += 1
        if all(load[t] <= capacities[t] for t in range(len(capacities))):
            best = max(best, sum(pick[1] for pick in choice if pick is not None))
    return best


def dense(candidates, n_teams: int) -> np.ndarray:
    matrix = np.zeros((len(candidates), n_teams))
    for need, pairs in enumerate(candidates):
        for team, score in pairs:
            matrix[need, team] = max(matrix[need, team], score)
    return matrix


def expanded_best(matrix: np.ndarray, capacities) -> float:
    """The optimum from linear_sum_assignment, each team's column repeated capacity times."""
    expanded = np.repeat(matrix, capacities, axis=1)
    if expanded.size == 0:
        return 0.0
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    return float(expanded[rows, cols].sum())


@st.composite
def instances(draw, max_needs: int, max_teams: int, max_capacity: int):
    """(candidates, capacities): per need distinct teams with scores from a coarse grid, so ties occur."""
    n_teams = draw(st.integers(0, max_teams))
    capacities = draw(st.lists(st.integers(0, max_capacity), min_size=n_teams, max_size=n_teams))
    score = st.integers(1, 8).map(lambda k: k / 8)
    if n_teams:
        need = st.dictionaries(st.integers(0, n_teams - 1), score, max_size=n_teams).map(lambda d: sorted(d.items()))
    else:
        need = st.just([])
    candidates = draw(st.lists(need, max_size=max_needs))
    return candidates, capacities


@settings(max_examples=300, deadline=None)
@given(instances(max_needs=6, max_teams=3, max_capacity=2))
def test_small_instances_reach_the_brute_force_optimum(instance):
    candidates, capacities = instance
    proposal = propose_assignment(candidates, capacities)
    assert_valid(proposal, candidates, capacities)
    assert proposal.total_score == pytest.approx(brute_force_best(candidates, capacities))


@settings(max_examples=150, deadline=None)
@given(instances(max_needs=40, max_teams=10, max_capacity=4))
def test_equals_linear_sum_assignment_on_the_expanded_matrix(instance):
    candidates, capacities = instance
    proposal = propose_assignment(candidates, capacities)
    assert_valid(proposal, candidates, capacities)
    matrix = dense(candidates, len(capacities))
    assert proposal.total_score == pytest.approx(expanded_best(matrix, capacities))
    # The matrix form is the same problem: same total.
    assert propose_assignment(matrix, capacities).total_score == pytest.approx(proposal.total_score)


def test_beats_greedy_when_the_best_pair_blocks_a_better_total():
    # Greedy would give need 0 team 0 (0.9) and leave need 1 out; 0.8 + 0.85 is better.
    proposal = propose_assignment([[(0, 0.9), (1, 0.8)], [(0, 0.85)]], [1, 1])
    assert proposal.team_of == (1, 0)
    assert proposal.total_score == pytest.approx(1.65)


def test_a_team_never_gets_more_than_its_capacity():
    candidates = [[(0, 1.0), (1, 0.1)] for _ in range(5)]
    proposal = propose_assignment(candidates, [2, 1])
    assert proposal.team_of.count(0) == 2
    assert proposal.team_of.count(1) == 1
    assert len(proposal.unassigned) == 2
    assert proposal.total_score == pytest.approx(2.1)


def test_zero_capacity_teams_get_nothing():
    candidates = [[(0, 1.0), (1, 0.2)], [(0, 0.9)], [(0, 0.5), (2, 0.3)]]
    proposal = propose_assignment(candidates, [0, 1, 0])
    assert 0 not in proposal.team_of and 2 not in proposal.team_of
    assert proposal.team_of == (1, None, None)


def test_needs_without_candidates_stay_unassigned_and_the_others_are_served():
    proposal = propose_assignment([[], [(0, 0.7)], [], [(1, 0.4)]], [1, 1])
    assert proposal.team_of == (None, 0, None, 1)
    assert proposal.unassigned == [0, 2]
    assert proposal.pairs == [(1, 0), (3, 1)]
    assert proposal.total_score == pytest.approx(1.1)


@pytest.mark.parametrize(("scores", "capacities"), [
    ([], []),
    ([], [3, 0, 1]),
    ([[], []], []),
    ([[], []], [2]),
    (np.zeros((0, 4)), [1, 1, 1, 1]),
    (np.zeros((3, 0)), []),
    (np.zeros((3, 2)), [1, 1]),
])
def test_empty_input_proposes_nothing(scores, capacities):
    proposal = propose_assignment(scores, capacities)
    assert proposal.team_of == (None,) * len(scores)
    assert proposal.pairs == []
    assert proposal.total_score == 0.0


def test_in_the_matrix_zero_negative_minus_infinity_and_nan_are_not_eligible():
    matrix = np.array([
        [0.0, 0.5],
        [-1.0, np.nan],
        [-np.inf, 0.0],
        [np.nan, 0.2],
    ])
    proposal = propose_assignment(matrix, [5, 5])
    assert proposal.team_of == (1, None, None, 1)
    assert proposal.total_score == pytest.approx(0.7)


def test_in_the_lists_a_non_positive_score_is_not_eligible_and_a_repeated_team_counts_once_at_its_best():
    proposal = propose_assignment([[(0, 0.0), (1, -0.5)], [(0, 0.3), (0, 0.6)], [(1, 0.2)]], [1, 1])
    assert proposal.team_of == (None, 0, 1)
    assert proposal.total_score == pytest.approx(0.8)


@pytest.mark.parametrize(("scores", "capacities"), [
    ([[(2, 0.5)]], [1, 1]),
    ([[(-1, 0.5)]], [1]),
    ([[(0, 0.5)]], [-1]),
    ([[(0, float("inf"))]], [1]),
    (np.array([[np.inf]]), [1]),
    (np.ones((2, 3)), [1, 1]),
])
def test_malformed_input_is_refused(scores, capacities):
    with pytest.raises(ValueError):
        propose_assignment(scores, capacities)


def test_ties_are_settled_the_same_way_every_time_and_whatever_the_listing_order():
    # Everything scores the same: many optimal proposals, one answer.
    rng = random.Random(7)
    candidates = [[(t, 0.5) for t in rng.sample(range(6), 3)] for _ in range(12)]
    capacities = [1, 2, 1, 0, 2, 1]
    first = propose_assignment(candidates, capacities)
    assert_valid(first, candidates, capacities)
    for _ in range(5):
        assert propose_assignment(candidates, capacities) == first
        shuffled = [rng.sample(pairs, len(pairs)) for pairs in candidates]
        assert propose_assignment(shuffled, capacities) == first
    # The matrix form of the same input gives the same answer too.
    assert propose_assignment(dense(candidates, len(capacities)), capacities) == first


def test_two_needs_tied_for_one_place_one_gets_it():
    proposal = propose_assignment([[(0, 0.5)], [(0, 0.5)]], [1])
    assert sorted(proposal.team_of, key=lambda t: t is None) == [0, None]
    assert proposal.total_score == pytest.approx(0.5)
    assert propose_assignment([[(0, 0.5)], [(0, 0.5)]], [1]) == proposal


def test_a_large_instance_is_valid_and_optimal():
    # The bench's scale: 2,000 needs, 500 teams of capacity 0–8, 20–100 candidates, some needs with none.
    rng = np.random.default_rng(20260305)
    n_needs, n_teams = 2000, 500
    capacities = rng.integers(0, 9, n_teams).tolist()
    candidates = []
    for need in range(n_needs):
        if need % 50 == 0:
            candidates.append([])
            continue
        teams = rng.choice(n_teams, rng.integers(20, 101), replace=False)
        candidates.append([(int(t), float(s)) for t, s in zip(teams, rng.uniform(0.01, 1.0, teams.size), strict=True)])
    proposal = propose_assignment(candidates, capacities)
    assert_valid(proposal, candidates, capacities)
    assert all(proposal.team_of[need] is None for need in range(0, n_needs, 50))
    assert proposal.total_score == pytest.approx(expanded_best(dense(candidates, n_teams), capacities))
