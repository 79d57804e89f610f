"""Helpers of the activities tests: activities at a given point of their life, volunteer
accounts, scans, and the expected refusal of a domain rule."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.ledger.helpers import PASSWORD, make_volunteer
from wenming.activities import checkin, services
from wenming.core.errors import DomainError
from wenming.core.models import User

from .conftest import make_activity, shift

_ids = itertools.count(1)


def account(volunteer) -> User:
    """Give a volunteer without one an account (role volunteer) and return it."""
    if volunteer.user_id:
        return volunteer.user
    user = User.objects.create_user(username=f"vol{next(_ids)}_{volunteer.pk}", password=PASSWORD,
                                    role=User.Role.VOLUNTEER)
    volunteer.user = user
    volunteer.save(update_fields=["user"])
    return user


def new_volunteer(tree, name="赵六", station=None):
    """A new volunteer at the (first) station, with an account."""
    volunteer = make_volunteer(tree.admin, station or tree.station, name)
    account(volunteer)
    return volunteer


def running(tree, *, signed_up=(), started_ago=timedelta(minutes=10), by=None, node=None, **extra):
    """A published activity that started `started_ago` ago (2 h long unless `hours` is given),
    with the given volunteers signed up while it was still recruiting."""
    activity = make_activity(by or tree.admin, node or tree.station, **extra)
    for volunteer in signed_up:
        services.sign_up(account(volunteer), activity)
    return shift(activity, timezone.now() - started_ago - activity.starts_at)


def scan(user, activity, kind="in", *, at=None, now=None, scan_id=None, token=None, **extra):
    """Scan the code the organiser's screen showed at `at` (default now), sent at `now` (default `at`).

    With `at` given and `now` not, the phone sends it at once; with both, it was taken offline."""
    now = now or at or timezone.now()
    at = at or now
    token = checkin.token_for(activity.pk, kind, at) if token is None else token
    scan_id = scan_id or f"scan-{next(_ids):06d}-{kind}"
    fn = checkin.check_in if kind == "in" else checkin.check_out
    scanned_at = extra.pop("scanned_at", at if at != now else None)
    return fn(user, activity.pk, token=token, scan_id=scan_id, scanned_at=scanned_at, now=now, **extra)


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    """Call fn and expect the domain error with this stable code; returns it."""
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, (caught.value.code, caught.value.message)
    assert caught.value.message  # every refusal says why, in Chinese
    return caught.value
