"""Background sending of notices to outside channels (Celery, when REDIS_URL is set).

After a commit, services queue `notices.send_deliveries` with the new deliveries' ids; a
failed send is queued again for its retry time. Every few minutes beat runs
`notices.deliver_due`, which sends whatever is due and was left behind: a task lost with a
worker, a broker that was away at commit time. Both claim a delivery before sending it, so
a retry that comes twice, or meets the sweep, still sends once."""

from celery import shared_task

from wenming.celery import app

from . import services
from .models import Delivery

SWEEP_EVERY_SECONDS = 300.0


@shared_task(name=services.SEND_TASK, ignore_result=True)
def send_deliveries_task(delivery_ids: list[int]) -> None:
    report = services.send_deliveries(delivery_ids)
    for outcome in report.outcomes:
        if outcome.status == Delivery.Status.PENDING:
            try:
                send_deliveries_task.apply_async(([outcome.delivery_id],), eta=outcome.next_attempt_at)
            except Exception:  # the broker is away: the sweep finds it when it is due
                services.logger.warning("could not queue the retry of delivery %s", outcome.delivery_id,
                                        exc_info=True)


@shared_task(name="notices.deliver_due", ignore_result=True)
def deliver_due_task() -> dict:
    report = services.deliver_due()
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}


# Registered here rather than in settings.CELERY_BEAT_SCHEDULE so that the app carries its own
# safety net; beat imports this module (autodiscovery) before it reads the schedule.
app.add_periodic_task(SWEEP_EVERY_SECONDS, deliver_due_task.s(), name="notices.deliver_due")
