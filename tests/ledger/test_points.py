"""Points are a double-entry ledger: every movement is two entries equal and opposite, and a
balance is the sum of an account's entries, after any sequence of operations."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Q, Sum
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wenming.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from wenming.ledger import rules
from wenming.ledger.chain import verify_ledger
from wenming.ledger.models import Account, PointEntry, PointMovement, ServiceRecord
from wenming.ledger.queries import recount, volunteer_summary
from wenming.ledger.services import (
    account_for,
    approve_hours_request,
    award_bonus,
    balance,
    issuing_account,
    mall_account,
    request_adjustment,
    request_reversal,
    reverse_movement,
    transfer,
)

from .helpers import at, recorded, settle


def assert_double_entry():
    rows = PointEntry.objects.values("movement_id").annotate(
        n=Count("id"), total=Sum("amount"), positive=Count("id", filter=Q(amount__gt=0))
    )
    assert all(r["n"] == 2 and r["total"] == 0 and r["positive"] == 1 for r in rows)
    assert len(rows) == PointMovement.objects.count()
    assert (PointEntry.objects.aggregate(t=Sum("amount"))["t"] or 0) == 0  # points are neither made nor lost
    for account in Account.objects.all():
        assert balance(account) == sum(account.entries.values_list("amount", flat=True))


def test_approved_hours_earn_points_at_the_configured_rate(tree, settings):
    settle(tree.admin, tree.zhang, tree.station, 1)  # 2 h at the default 10 per hour
    assert balance(account_for(tree.zhang)) == 20
    assert balance(issuing_account()) == -20
    settings.WENMING_POINTS_PER_HOUR = 15
    settle(tree.admin, tree.li, tree.station, 1)
    assert balance(account_for(tree.li)) == 30
    movement = PointMovement.objects.get(record__volunteer=tree.li)
    assert movement.kind == PointMovement.Kind.HOURS and movement.rate == 15
    assert sorted(movement.entries.values_list("amount", flat=True)) == [-30, 30]
    assert_double_entry()


def test_bonus_is_a_movement_and_is_given_once_per_source(tree):
    m1 = award_bonus(None, tree.zhang, "need_rated", source_type="need", source_id="88")
    m2 = award_bonus(None, tree.zhang, "need_rated", source_type="need", source_id="88")
    assert m1.pk == m2.pk
    assert balance(account_for(tree.zhang)) == rules.bonuses()["need_rated"][1]
    award_bonus(tree.admin, tree.zhang, "festival_activity", source_type="activity", source_id="3")
    assert balance(account_for(tree.zhang)) == 5 + 10
    with pytest.raises(InvalidInput) as e:
        award_bonus(tree.admin, tree.zhang, "no_such_bonus", source_type="activity", source_id="3")
    assert e.value.code == "bonus_unknown"
    with pytest.raises(Forbidden):
        award_bonus(tree.far_admin, tree.zhang, "need_rated", source_type="need", source_id="89")
    assert_double_entry()


def test_configured_bonuses(tree, settings):
    settings.WENMING_POINTS_BONUSES = {"need_rated": 3, "reading_month": ("读书月", 7)}
    award_bonus(None, tree.zhang, "need_rated", source_type="need", source_id="1")
    award_bonus(None, tree.zhang, "reading_month", source_type="activity", source_id="1")
    assert balance(account_for(tree.zhang)) == 10
    assert PointMovement.objects.filter(memo__contains="读书月").exists()


def test_reversing_a_bonus(tree):
    bonus = award_bonus(None, tree.zhang, "festival_activity", source_type="activity", source_id="1")
    reversal = reverse_movement(tree.admin, bonus, reason="活动未实际开展")
    assert reversal.reverses == bonus and balance(account_for(tree.zhang)) == 0
    with pytest.raises(Conflict):
        reverse_movement(tree.admin, bonus, reason="again")
    assert_double_entry()


def test_hours_points_change_only_through_corrections(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)
    movement = PointMovement.objects.get()
    with pytest.raises(InvalidInput) as e:
        reverse_movement(tree.admin, movement, reason="x")
    assert e.value.code == "use_adjustment"


def test_spending_cannot_go_below_zero(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)  # 20 points
    account = account_for(tree.zhang)
    transfer(
        account, mall_account(), 15, kind=PointMovement.Kind.REDEMPTION, memo="兑换毛巾", check_balance=True
    )
    with pytest.raises(Conflict) as e:
        transfer(
            account,
            mall_account(),
            6,
            kind=PointMovement.Kind.REDEMPTION,
            memo="兑换牙膏",
            check_balance=True,
        )
    assert e.value.code == "insufficient_points"
    assert balance(account) == 5 and balance(mall_account()) == 15
    assert_double_entry()


@pytest.mark.parametrize("points", [0, -5, 2.5, True])
def test_a_movement_moves_a_positive_whole_number(tree, points):
    with pytest.raises(InvalidInput):
        transfer(issuing_account(), account_for(tree.zhang), points, kind="other", memo="x")


def test_summary_reads_the_sum_not_a_stored_number(tree):
    settle(tree.admin, tree.zhang, tree.station, 1)
    award_bonus(None, tree.zhang, "need_rated", source_type="need", source_id="1")
    assert volunteer_summary(tree.zhang).points == 25
    assert not any(f.name in {"balance", "points"} for f in Account._meta.get_fields())


# --- Random sequences of operations ----------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("settle"), st.integers(0, 1), st.integers(30, 240)),
        st.tuples(st.just("record"), st.integers(0, 1), st.integers(1, 180)),
        st.tuples(st.just("adjust"), st.integers(0, 50), st.integers(-200, 120)),
        st.tuples(st.just("reverse_adjustment"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("bonus"), st.integers(0, 1), st.sampled_from(["need_rated", "festival_activity"])),
        st.tuples(st.just("reverse_bonus"), st.integers(0, 50), st.just(0)),
        st.tuples(st.just("redeem"), st.integers(0, 1), st.integers(1, 40)),
        st.tuples(st.just("rate"), st.just(0), st.sampled_from([5, 10, 12])),
    ),
    max_size=25,
)


@pytest.mark.django_db
@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_balances_equal_the_sum_of_entries_after_random_operations(tree, ops):
    from django.test import override_settings

    with transaction.atomic():
        _run(tree, ops, override_settings)
        transaction.set_rollback(True)


def _run(tree, ops, override_settings):
    volunteers = [tree.zhang, tree.li]
    serial = 0
    rate = 10
    for op, a, b in ops:
        serial += 1
        with override_settings(WENMING_POINTS_PER_HOUR=rate):
            try:
                if op == "settle":
                    start = at(1, 8) + timedelta(hours=3 * serial)
                    settle(
                        tree.admin,
                        volunteers[a],
                        tree.station,
                        serial,
                        check_in=start,
                        check_out=start + timedelta(minutes=b),
                        day=1 + (8 + 3 * serial) // 24,
                        start=(8 + 3 * serial) % 24,
                        hours=4,
                    )
                elif op == "record":
                    recorded(tree.admin, tree.admin2, volunteers[a], tree.station, b, source_id=f"r{serial}")
                elif op == "adjust" and b != 0:
                    records = list(ServiceRecord.objects.order_by("id"))
                    if records:
                        req = request_adjustment(
                            tree.admin, records[a % len(records)], minutes=b, reason="更正"
                        )
                        approve_hours_request(tree.admin2, req)
                elif op == "reverse_adjustment":
                    adjustments = list(
                        ServiceRecord.objects.filter(adjustment_of__isnull=False).order_by("id")
                    )
                    if adjustments:
                        req = request_reversal(tree.admin, adjustments[a % len(adjustments)], reason="撤销")
                        approve_hours_request(tree.admin2, req)
                elif op == "bonus":
                    award_bonus(None, volunteers[a], b, source_type="activity", source_id=str(serial))
                elif op == "reverse_bonus":
                    bonuses = list(PointMovement.objects.filter(kind=PointMovement.Kind.BONUS).order_by("id"))
                    if bonuses:
                        reverse_movement(tree.admin, bonuses[a % len(bonuses)], reason="撤销奖励")
                elif op == "redeem":
                    transfer(
                        account_for(volunteers[a]),
                        mall_account(),
                        b,
                        kind=PointMovement.Kind.REDEMPTION,
                        memo="兑换",
                        check_balance=True,
                    )
                elif op == "rate":
                    rate = b
            except DomainError:
                pass
    assert_double_entry()
    # Hours points: each record with its corrections has earned floor(net × rate / 60) at its first rate.
    for root in ServiceRecord.objects.filter(adjustment_of__isnull=True):
        tree_records = ServiceRecord.objects.filter(Q(pk=root.pk) | Q(original=root))
        net = tree_records.aggregate(t=Sum("minutes"))["t"]
        assert net >= 0
        movements = PointMovement.objects.filter(record__in=tree_records)
        earned = (
            PointEntry.objects.filter(movement__in=movements, account__volunteer=root.volunteer).aggregate(
                t=Sum("amount")
            )["t"]
            or 0
        )
        first_rate = movements.exclude(rate=None).order_by("id").values_list("rate", flat=True).first()
        if first_rate is not None:
            assert earned == rules.points_for_minutes(net, first_rate)
    for volunteer in volunteers:
        summary = volunteer_summary(volunteer)
        assert summary.points == balance(account_for(volunteer))
        assert summary.verified_minutes >= 0 and summary.recorded_minutes >= 0
        # The chain head's running totals equal the sums of the records.
        assert recount(volunteer) == (summary.verified_minutes, summary.recorded_minutes, summary.records)
    assert verify_ledger().ok
