"""The demo loads whatever the hour: its live activities never check one volunteer in at two places
(a small district, where two live activities share volunteers, once failed at 01:00)."""

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from wenming.activities.models import Attendance

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("hour", [0, 1, 2, 7, 9, 13, 19, 23])
def test_a_small_demo_loads_at_any_hour(hour):
    from wenming.demo.district import DistrictBuilder

    today = timezone.localdate()
    moment = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_default_timezone()) + timedelta(
        hours=hour, minutes=7)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        DistrictBuilder(volunteers=20).load()
    open_ = list(Attendance.objects.filter(status=Attendance.Status.CHECKED_IN).values_list("volunteer_id", flat=True))
    assert len(open_) == len(set(open_))
