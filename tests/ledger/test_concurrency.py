"""Appends to one volunteer's chain from many threads at once (PostgreSQL, real connections):
the chain stays intact and its sequence numbers contiguous."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection

from wenming.core.errors import DomainError
from wenming.ledger.chain import verify_ledger
from wenming.ledger.models import LedgerChain, ServiceRecord
from wenming.ledger.queries import volunteer_summary
from wenming.ledger.services import approve_hours_request, request_recorded_hours

from .helpers import at, build_tree, settle

pytestmark = [
    pytest.mark.pg_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_at_once(n, work):
    """Run work(i) in n threads released together; returns (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as e:  # noqa: BLE001 — reported to the test
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    close_old_connections()
    return results, errors


def test_twenty_appends_to_one_chain_at_once():
    tree = build_tree()

    def work(i):
        start = at(1, 8) + timedelta(hours=3 * i)
        return settle(
            tree.team_leader,
            tree.zhang,
            tree.station,
            f"c{i}",
            check_in=start,
            check_out=start + timedelta(hours=2),
            day=1 + (8 + 3 * i) // 24,
            start=(8 + 3 * i) % 24,
        )

    results, errors = run_at_once(20, work)
    assert errors == []
    assert all(r is not None for r in results)
    sequences = sorted(ServiceRecord.objects.filter(volunteer=tree.zhang).values_list("sequence", flat=True))
    assert sequences == list(range(1, 21))
    head = LedgerChain.objects.get(volunteer=tree.zhang)
    assert head.length == 20
    report = verify_ledger()
    assert report.ok, [p.message for p in report.problems]
    summary = volunteer_summary(tree.zhang)
    assert summary.verified_minutes == 20 * 120 and summary.points == 20 * 20


def test_two_chains_and_one_chain_concurrently():
    """Appends for different volunteers interleave with appends for the same volunteer."""
    tree = build_tree()
    volunteers = [tree.zhang, tree.li, tree.wang]

    def work(i):
        volunteer = volunteers[i % 3]
        node = tree.other_station if volunteer == tree.wang else tree.station
        start = at(1, 8) + timedelta(hours=3 * i)
        return settle(
            tree.admin,
            volunteer,
            node,
            f"m{i}",
            check_in=start,
            check_out=start + timedelta(hours=2),
            day=1 + (8 + 3 * i) // 24,
            start=(8 + 3 * i) % 24,
        )

    results, errors = run_at_once(18, work)
    assert errors == []
    for volunteer in volunteers:
        sequences = sorted(
            ServiceRecord.objects.filter(volunteer=volunteer).values_list("sequence", flat=True)
        )
        assert sequences == list(range(1, 7))
    assert verify_ledger().ok


def test_one_request_approved_by_many_at_once_makes_one_record():
    tree = build_tree()
    from wenming.core.models import User

    approvers = [tree.admin2] + [
        User.objects.create_user(
            username=f"approver{i}", password="Ledger#2024x", role=User.Role.DISTRICT_ADMIN
        )
        for i in range(7)
    ]
    for user in approvers[1:]:
        user.scopes.set([tree.centre])
    req = request_recorded_hours(
        tree.admin,
        volunteer=tree.zhang,
        node=tree.station,
        title="补录",
        minutes=60,
        window_start=at(2, 9),
        window_end=at(2, 11),
        reason="忘记签退",
        source_type="activity",
        source_id="1",
    )

    def work(i):
        return approve_hours_request(approvers[i], req)

    results, errors = run_at_once(len(approvers), work)
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == len(approvers) - 1
    assert all(isinstance(e, DomainError) and e.code == "already_decided" for e in errors)
    assert ServiceRecord.objects.count() == 1 and verify_ledger().ok


def test_spending_at_once_never_goes_below_zero():
    """Ten redemptions of 5 points at once from a balance of 20: exactly four go through."""
    from wenming.ledger.models import PointMovement
    from wenming.ledger.services import account_for, balance, mall_account, transfer

    tree = build_tree()
    settle(tree.admin, tree.zhang, tree.station, 1)  # 2 h → 20 points
    account, mall = account_for(tree.zhang), mall_account()

    def work(i):
        return transfer(
            account, mall, 5, kind=PointMovement.Kind.REDEMPTION, memo=f"兑换{i}", check_balance=True
        )

    results, errors = run_at_once(10, work)
    assert len([r for r in results if r is not None]) == 4
    assert len(errors) == 6 and all(getattr(e, "code", "") == "insufficient_points" for e in errors)
    assert balance(account) == 0 and balance(mall) == 20
