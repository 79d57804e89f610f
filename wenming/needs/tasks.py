"""Periodic jobs of the need loop (Celery beat; see CELERY_BEAT_SCHEDULE in settings)."""

from celery import shared_task

from .services import sweep


@shared_task(name="needs.sweep")
def sweep_task() -> int:
    """Missed deadlines: escalate, send back for re-dispatch, mark overdue, close unrated needs.
    Idempotent: each handled need's deadline moves, so an overlapping run finds nothing twice."""
    return sweep().total()
