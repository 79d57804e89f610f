"""Periodic jobs of activities (Celery beat; see CELERY_BEAT_SCHEDULE in settings)."""

from celery import shared_task

from .services import expire_open_checkins


@shared_task(name="activities.expire_open_checkins")
def expire_open_checkins_task() -> int:
    """Check-ins left open past the end plus the grace period wait for the organiser's decision.

    The check-in service and settlement do this too for the rows they touch, so a missed
    run changes nothing but how soon the organiser's list shows the state."""
    return expire_open_checkins()
