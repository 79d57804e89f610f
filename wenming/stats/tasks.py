"""Periodic job of the statistics (Celery beat, every minute): count the activities that have ended."""

from celery import shared_task

from .rollups import advance_clock


@shared_task(name="stats.tick")
def tick_task() -> int:
    return advance_clock()
