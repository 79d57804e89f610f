"""Telling people things, in the inbox and through the outside channels (channels.py).

Other apps call `notify` / `notify_many` (to volunteers) or `notify_user` / `notify_users`
(to accounts). A notice and its deliveries are written in the caller's transaction, so a
rolled-back change leaves neither behind and sends nothing; sending starts only after the
commit, and nothing about sending ever raises into the caller.

A delivery is claimed before it is sent (status `sending`, under a row lock that concurrent
jobs skip), so two jobs never send the same one; it is marked `sent` once, `pending` again
with the next time to try (BACKOFF), or `failed` after MAX_ATTEMPTS. A job that dies while
sending leaves its claim to lapse after CLAIM_FOR, when the delivery is tried again."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from wenming.people.models import Volunteer

from . import queries
from .channels import Channel, ChannelError, enabled_channels, get_channel
from .models import Delivery, Notice

logger = logging.getLogger("wenming.notices")

# Wait after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long a claim holds: far longer than one send (the webhook times out in seconds).
CLAIM_FOR = timedelta(minutes=10)
# The Celery task that sends deliveries, queued by name so that services never import tasks.
SEND_TASK = "notices.send_deliveries"
TASK_CHUNK = 50


# --- Writing notices --------------------------------------------------------------------------


def notify(volunteer: Volunteer | int, kind: str, title: str, body: str = "", url: str = "") -> Notice:
    """One notice to a volunteer (who may have no account yet)."""
    notice = _notice(kind, title, body, url, volunteer_id=getattr(volunteer, "pk", volunteer))
    _write([notice])
    return notice


def notify_many(volunteer_ids, kind: str, title: str, body: str = "", url: str = "") -> int:
    """The same notice to many volunteers; returns how many were written."""
    notices = [_notice(kind, title, body, url, volunteer_id=v) for v in volunteer_ids]
    _write(notices)
    return len(notices)


def notify_user(user, kind: str, title: str, body: str = "", url: str = "") -> Notice:
    """One notice to an account (a station admin, a team leader …); `user` is a User or its id."""
    notice = _notice(kind, title, body, url, user_id=getattr(user, "pk", user))
    _write([notice])
    return notice


def notify_users(user_ids, kind: str, title: str, body: str = "", url: str = "") -> int:
    """The same notice to many accounts; returns how many were written."""
    notices = [_notice(kind, title, body, url, user_id=u) for u in user_ids]
    _write(notices)
    return len(notices)


def _notice(kind, title, body, url, **to) -> Notice:
    return Notice(kind=kind, title=title[:100], body=body[:500], url=url[:200], **to)


def _write(notices: list[Notice]) -> None:
    if not notices:
        return
    channels = enabled_channels()
    queued = [c.name for c in channels if c.queued]
    at_once = [c for c in channels if not c.queued]
    # savepoint=False: inside the caller's transaction this adds no query; on its own (a
    # signal handler after commit) it makes the notice and its deliveries one commit.
    with transaction.atomic(savepoint=False):
        if len(notices) == 1:
            notices[0].save(force_insert=True)
        else:
            Notice.objects.bulk_create(notices, batch_size=500)
        delivery_ids = []
        if queued:
            now = timezone.now()
            rows = [Delivery(notice=n, channel=name, next_attempt_at=now) for n in notices for name in queued]
            delivery_ids = [d.pk for d in Delivery.objects.bulk_create(rows, batch_size=500)]
        if at_once or delivery_ids:
            transaction.on_commit(partial(_after_commit, notices, at_once, delivery_ids), robust=True)


def _after_commit(notices: list[Notice], at_once: list[Channel], delivery_ids: list[int]) -> None:
    """Right after the caller's commit: the in-process channels, and the queue when there is one.

    Without Celery the deliveries simply wait for `deliver_due` (the `deliver_notices`
    command): sending them here would hold the caller's response for as long as the gateway
    takes, once per notice."""
    for channel in at_once:
        for notice in notices:
            try:
                channel.send(payload(notice))
            except Exception:
                logger.exception("notice %s: channel %s failed", notice.pk, channel.name)
    if delivery_ids and settings.REDIS_URL:
        from wenming.celery import app

        try:
            for i in range(0, len(delivery_ids), TASK_CHUNK):
                app.send_task(SEND_TASK, args=[delivery_ids[i:i + TASK_CHUNK]])
        except Exception:
            # The broker is away: the periodic sweep (deliver_due) sends them later.
            logger.warning("could not queue %s notice deliveries; left to the sweep", len(delivery_ids),
                           exc_info=True)


def payload(notice: Notice, phone_masked: str = "") -> dict:
    """What an outside channel is given (the webhook's JSON body; see channels.py)."""
    to: dict = {}
    if notice.user_id:
        to["user_id"] = notice.user_id
    if notice.volunteer_id:
        to["volunteer_id"] = notice.volunteer_id
        if phone_masked:
            to["phone_masked"] = phone_masked
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "url": notice.url,
        "to": to,
        "created_at": timezone.localtime(notice.created_at).isoformat(),
    }


# --- Reading and marking (the inbox) ------------------------------------------------------------


def mark_read(volunteer: Volunteer, notice_ids=None) -> int:
    """Mark a volunteer's notices read (all, or those of `notice_ids`)."""
    qs = Notice.objects.filter(volunteer=volunteer, read_at=None)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())


def mark_read_for(user, notice_ids=None) -> int:
    """Mark an account's notices read: its own and its volunteer's (all, or those of `notice_ids`)."""
    qs = Notice.objects.filter(queries.for_account(user), read_at=None)
    if notice_ids is not None:
        qs = qs.filter(pk__in=notice_ids)
    return qs.update(read_at=timezone.now())


def unread_count(volunteer: Volunteer | None) -> int:
    """A volunteer's unread notices (an account's: queries.unread_count)."""
    if volunteer is None:
        return 0
    return Notice.objects.filter(volunteer=volunteer, read_at=None).count()


# --- Sending deliveries -------------------------------------------------------------------------


@dataclass
class Outcome:
    delivery_id: int
    status: str  # a Delivery.Status, or "gone" when the notice was deleted meanwhile
    next_attempt_at: datetime | None = None


@dataclass
class Report:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    outcomes: list[Outcome] = field(default_factory=list, repr=False)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.status == Delivery.Status.SENT:
            self.sent += 1
        elif outcome.status == Delivery.Status.PENDING:
            self.retrying += 1
        elif outcome.status == Delivery.Status.FAILED:
            self.failed += 1


def deliver_due(limit: int | None = None) -> Report:
    """Send every delivery that is due (new ones, retries whose time has come, lapsed claims).

    Safe to run at any time and from several processes at once: each delivery is claimed
    before it is sent, so it is sent by one of them only, and a sent one is never sent again.
    Each delivery is tried at most once per run (what fails now waits for its backoff)."""
    started = timezone.now()
    _fail_lapsed_claims(started)
    report = Report()
    while limit is None or len(report.outcomes) < limit:
        delivery = _claim(Delivery.objects.all(), started)
        if delivery is None:
            break
        report.add(_attempt(delivery))
    return report


def send_deliveries(delivery_ids) -> Report:
    """Send these deliveries if they are due and nobody else holds them (the Celery task's body)."""
    now = timezone.now()
    report = Report()
    for pk in delivery_ids:
        delivery = _claim(Delivery.objects.filter(pk=pk), now)
        if delivery is not None:
            report.add(_attempt(delivery))
    return report


def requeue_failed(delivery_ids=None) -> int:
    """Give failed deliveries a fresh round of attempts (after the gateway has been repaired)."""
    qs = Delivery.objects.filter(status=Delivery.Status.FAILED)
    if delivery_ids is not None:
        qs = qs.filter(pk__in=delivery_ids)
    return qs.update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now())


def _claim(qs, due_at: datetime) -> Delivery | None:
    """Take the next due delivery of `qs` for sending, or None. On PostgreSQL the row lock is
    skipped by concurrent jobs; on SQLite the IMMEDIATE transaction serialises them."""
    with transaction.atomic():
        delivery = (
            qs.select_for_update(skip_locked=True)
            .filter(status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING], next_attempt_at__lte=due_at,
                    attempts__lt=MAX_ATTEMPTS)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if delivery is None:
            return None
        delivery.status = Delivery.Status.SENDING
        delivery.attempts += 1
        delivery.next_attempt_at = timezone.now() + CLAIM_FOR
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery


def _fail_lapsed_claims(now: datetime) -> None:
    """A job died while sending the last allowed attempt: that delivery will not be tried again."""
    Delivery.objects.filter(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now, attempts__gte=MAX_ATTEMPTS
    ).update(status=Delivery.Status.FAILED, last_error="发送中断，已达最多尝试次数")


def _attempt(delivery: Delivery) -> Outcome:
    """Send a claimed delivery and record what happened (outside any transaction: a slow
    gateway holds no lock)."""
    notice = (
        Notice.objects.select_related("volunteer")
        .only("id", "kind", "title", "body", "url", "created_at", "user", "volunteer", "volunteer__phone_masked")
        .filter(pk=delivery.notice_id)
        .first()
    )
    if notice is None:
        return Outcome(delivery.pk, "gone")
    error = ""
    try:
        phone = notice.volunteer.phone_masked if notice.volunteer_id else ""
        get_channel(delivery.channel).send(payload(notice, phone))
    except ChannelError as e:
        error = str(e)
    except Exception as e:  # a channel of one's own may raise anything; it is still only a failed send
        error = f"{type(e).__name__}: {e}"
    now = timezone.now()
    # Only while our claim stands: had it lapsed and another job taken the delivery, that job records it.
    mine = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING, attempts=delivery.attempts)
    if not error:
        mine.update(status=Delivery.Status.SENT, sent_at=now, last_error="")
        return Outcome(delivery.pk, Delivery.Status.SENT)
    error = error[:200]
    if delivery.attempts >= MAX_ATTEMPTS:
        mine.update(status=Delivery.Status.FAILED, last_error=error)
        logger.warning("notice %s: delivery %s to %s failed for good after %s attempts: %s",
                       notice.pk, delivery.pk, delivery.channel, delivery.attempts, error)
        return Outcome(delivery.pk, Delivery.Status.FAILED)
    retry_at = now + BACKOFF[delivery.attempts - 1]
    mine.update(status=Delivery.Status.PENDING, next_attempt_at=retry_at, last_error=error)
    logger.info("notice %s: delivery %s to %s failed (attempt %s), retrying at %s: %s",
                notice.pk, delivery.pk, delivery.channel, delivery.attempts, retry_at, error)
    return Outcome(delivery.pk, Delivery.Status.PENDING, retry_at)
