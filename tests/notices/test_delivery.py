"""Delivery to outside channels: written in the caller's transaction, sent only after its
commit, retried with backoff until it fails for good, sent once however often and however
concurrently the jobs run, and never a reason for the caller's change to fail."""

import logging
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from wenming.core.models import Department
from wenming.notices import services, tasks
from wenming.notices.models import Delivery, Notice
from wenming.notices.services import BACKOFF, MAX_ATTEMPTS, deliver_due, notify, notify_many, notify_user

RECORDING = "tests.notices.conftest.Recording"
EXPLODING = "tests.notices.conftest.Exploding"
UNLOADABLE = "tests.notices.conftest.Unloadable"


def make_due(*deliveries):
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def close_to(when, expected, slack=timedelta(seconds=30)):
    return abs(when - expected) < slack


# --- The default: the log channel ------------------------------------------------------------


def test_the_log_channel_writes_after_commit_and_keeps_no_rows(tree, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.INFO, logger="wenming.notices")
    with django_capture_on_commit_callbacks() as callbacks:
        n = notify(tree.zhang, "hours_settled", "新增核验时长2小时")
        u = notify_user(tree.admin, "need_submitted", "新的群众需求待审核")
        assert "新增核验时长2小时" not in caplog.text  # nothing before the commit
    for callback in callbacks:
        callback()
    assert f"notice {n.pk} [hours_settled] → volunteer {tree.zhang.pk}: 新增核验时长2小时" in caplog.text
    assert f"notice {u.pk} [need_submitted] → user {tree.admin.pk}: 新的群众需求待审核" in caplog.text
    assert tree.zhang.phone_masked not in caplog.text  # no personal data in logs
    assert not Delivery.objects.exists()


def test_queued_channels_get_one_delivery_per_notice_in_the_callers_transaction(tree, use_channels, hook):
    use_channels(f"log,webhook,{RECORDING}", url=hook.url)
    with transaction.atomic():
        assert notify_many([tree.zhang.pk, tree.li.pk, tree.wang.pk], "x", "活动已取消") == 3
        assert Delivery.objects.count() == 6  # webhook and the recording channel; log needs none
    assert set(Delivery.objects.values_list("channel", flat=True)) == {"webhook", RECORDING}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}


# --- Never blocking, never undoing the caller ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(tree, hook, use_channels, caplog):
    caplog.set_level(logging.INFO, logger="wenming.notices")
    use_channels("log,webhook", url=hook.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        Department.objects.create(name="回滚的部门")
        notify(tree.zhang, "x", "不该发出的消息")
        notify_user(tree.admin, "x", "也不该发出的消息")
        raise RuntimeError("the caller's change fails")
    assert not Notice.objects.exists() and not Delivery.objects.exists()
    assert deliver_due().outcomes == []
    assert hook.requests == [] and "不该发出的消息" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_failing_channel_never_breaks_or_undoes_the_caller(tree, hook, use_channels, settings, monkeypatch,
                                                               caplog):
    """An in-process channel that raises, one that cannot load, an unknown one, a gateway that
    answers 500 and a Celery broker that is away: the caller's change commits all the same."""
    from wenming.celery import app

    hook.status = 500
    use_channels(f"log,{EXPLODING},{UNLOADABLE},nosuch,webhook", url=hook.url)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    def broker_away(*args, **kwargs):
        raise ConnectionError("broker away")

    monkeypatch.setattr(app, "send_task", broker_away)
    with transaction.atomic():
        Department.objects.create(name="照常提交的部门")
        notice = notify(tree.zhang, "x", "照常写入的消息")
    assert Department.objects.filter(name="照常提交的部门").exists()
    assert Notice.objects.filter(pk=notice.pk).exists()
    assert "channel tests.notices.conftest.Exploding failed" in caplog.text
    assert "cannot be loaded" in caplog.text and "broker away" in caplog.text
    # The delivery waits for the sweep; the gateway's 500 only schedules a retry.
    delivery = Delivery.objects.get()
    assert delivery.channel == "webhook" and delivery.status == "pending"
    assert deliver_due().retrying == 1
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error == "HTTP 500"


def test_without_a_transaction_notify_commits_on_its_own(tree, use_channels, recording):
    """Signal handlers call notify after the commit, outside any transaction."""
    use_channels(RECORDING)
    with transaction.atomic():
        pass
    n = notify(tree.zhang, "x", "提交后发出的通知")
    assert Delivery.objects.get().notice_id == n.pk


# --- Retries ---------------------------------------------------------------------------------


def test_a_failing_send_is_retried_with_backoff_then_fails(tree, hook, use_channels):
    hook.status = 503
    use_channels("webhook", url=hook.url)
    notify(tree.zhang, "x", "一直发不出去的消息")
    delivery = Delivery.objects.get()
    assert MAX_ATTEMPTS == 5
    for attempt, wait in enumerate(BACKOFF, start=1):
        before = timezone.now()
        report = deliver_due()
        assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
        delivery.refresh_from_db()
        assert delivery.status == "pending" and delivery.attempts == attempt and delivery.last_error == "HTTP 503"
        assert close_to(delivery.next_attempt_at, before + wait)
        # Not due yet: running again sends nothing.
        assert deliver_due().outcomes == [] and len(hook.requests) == attempt
        make_due(delivery)
    assert deliver_due().failed == 1
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 5 and delivery.sent_at is None
    make_due(delivery)
    assert deliver_due().outcomes == [] and len(hook.requests) == 5


def test_a_retry_that_succeeds_is_sent(tree, hook, use_channels):
    hook.status = 500
    use_channels("webhook", url=hook.url)
    notify(tree.zhang, "x", "第二次才成功")
    deliver_due()
    hook.status = 204
    delivery = Delivery.objects.get()
    make_due(delivery)
    assert deliver_due().sent == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent" and delivery.attempts == 2 and delivery.sent_at and delivery.last_error == ""


def test_failed_deliveries_can_be_requeued(tree, hook, use_channels):
    hook.status = 500
    use_channels("webhook", url=hook.url)
    notify(tree.zhang, "x", "网关修好后重发")
    Delivery.objects.update(status="failed", attempts=MAX_ATTEMPTS)
    hook.status = 200
    assert services.requeue_failed() == 1
    assert deliver_due().sent == 1


# --- Sent once -------------------------------------------------------------------------------


def test_deliver_due_twice_sends_once(tree, hook, use_channels):
    use_channels("webhook", url=hook.url)
    notify_many([tree.zhang.pk, tree.li.pk], "x", "只发一次")
    assert deliver_due().sent == 2
    assert deliver_due().outcomes == []
    make_due(*Delivery.objects.all())  # even when a sent one's time looks due again
    assert deliver_due().outcomes == []
    assert len(hook.requests) == 2
    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["sent", "sent"]


def test_a_lapsed_claim_is_tried_again_and_the_last_one_fails(tree, use_channels, recording):
    """A job that died while sending leaves a `sending` claim; once it lapses, the next run takes it."""
    use_channels(RECORDING)
    a, b = notify(tree.zhang, "x", "甲"), notify(tree.li, "x", "乙")
    past = timezone.now() - timedelta(seconds=1)
    Delivery.objects.filter(notice=a).update(status="sending", attempts=1, next_attempt_at=past)
    Delivery.objects.filter(notice=b).update(status="sending", attempts=MAX_ATTEMPTS, next_attempt_at=past)
    # A claim still standing is left alone.
    c = notify(tree.wang, "x", "丙")
    Delivery.objects.filter(notice=c).update(status="sending", attempts=1,
                                             next_attempt_at=timezone.now() + timedelta(minutes=5))
    report = deliver_due()
    assert report.sent == 1 and recording.sent == [a.pk]
    assert Delivery.objects.get(notice=a).attempts == 2
    assert Delivery.objects.get(notice=b).status == "failed"
    assert Delivery.objects.get(notice=c).status == "sending"


def test_a_deleted_notice_takes_its_deliveries_with_it(tree, use_channels, recording):
    use_channels(RECORDING)
    n = notify(tree.zhang, "x", "删除的消息")
    Notice.objects.filter(pk=n.pk).delete()
    assert deliver_due().outcomes == [] and recording.sent == []


@pytest.mark.pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_delivery_once(tree, use_channels, recording):
    use_channels(RECORDING)
    recording.delay = 0.01
    notify_many([tree.zhang.pk, tree.li.pk, tree.wang.pk] * 10, "x", "并发发送")
    assert Delivery.objects.count() == 30
    barrier = threading.Barrier(4)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(deliver_due())
        except Exception as e:  # pragma: no cover - shown by the assertion below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(recording.sent) == sorted(Notice.objects.values_list("pk", flat=True))
    assert sum(r.sent for r in reports) == 30
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


# --- Celery ----------------------------------------------------------------------------------


def test_with_celery_the_commit_queues_the_deliveries(tree, use_channels, settings, monkeypatch,
                                                      django_capture_on_commit_callbacks, recording):
    from wenming.celery import app

    queued = []
    monkeypatch.setattr(app, "send_task", lambda name, args: queued.append((name, args)))
    use_channels(RECORDING)
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    with django_capture_on_commit_callbacks(execute=True):
        notify_many([tree.zhang.pk, tree.li.pk], "x", "排队发送")
        assert queued == []  # not before the commit
    ids = sorted(Delivery.objects.values_list("pk", flat=True))
    assert [(name, sorted(args[0])) for name, args in queued] == [(services.SEND_TASK, ids)]
    assert recording.sent == []  # the worker sends, not the caller


def test_without_celery_the_commit_queues_nothing(tree, use_channels, settings, monkeypatch,
                                                  django_capture_on_commit_callbacks, recording):
    from wenming.celery import app

    monkeypatch.setattr(app, "send_task", lambda *a, **k: pytest.fail("queued without Redis"))
    use_channels(RECORDING)
    settings.REDIS_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        notify(tree.zhang, "x", "等待 deliver_notices")
    assert recording.sent == [] and Delivery.objects.get().status == "pending"


def test_the_task_sends_and_queues_its_retry_at_the_backoff(tree, hook, use_channels, monkeypatch):
    hook.status = 500
    use_channels("webhook", url=hook.url)
    notify(tree.zhang, "x", "任务重试")
    delivery = Delivery.objects.get()
    scheduled = []
    monkeypatch.setattr(tasks.send_deliveries_task, "apply_async",
                        lambda args, eta: scheduled.append((args, eta)))
    before = timezone.now()
    tasks.send_deliveries_task([delivery.pk])
    delivery.refresh_from_db()
    assert scheduled == [(([delivery.pk],), delivery.next_attempt_at)]
    assert close_to(delivery.next_attempt_at, before + BACKOFF[0])
    # The same task delivered twice by the broker, or early, sends nothing more.
    tasks.send_deliveries_task([delivery.pk])
    assert len(hook.requests) == 1 and len(scheduled) == 1
    make_due(delivery)
    hook.status = 200
    tasks.send_deliveries_task([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(hook.requests) == 2 and len(scheduled) == 1


def test_the_sweep_task_and_its_beat_entry(tree, use_channels, recording):
    from wenming.celery import app

    use_channels(RECORDING)
    notify(tree.zhang, "x", "清扫")
    assert tasks.deliver_due_task() == {"sent": 1, "retrying": 0, "failed": 0}
    entry = app.conf.beat_schedule["notices.deliver_due"]
    assert entry["task"] == "notices.deliver_due" and entry["schedule"] == tasks.SWEEP_EVERY_SECONDS


# --- The command -----------------------------------------------------------------------------


def test_the_deliver_notices_command(tree, hook, use_channels, capsys):
    use_channels("webhook", url=hook.url)
    notify_many([tree.zhang.pk, tree.li.pk], "x", "命令发送")
    call_command("deliver_notices")
    assert "已发送 2 条，待重试 0 条，失败 0 条" in capsys.readouterr().out
    Delivery.objects.filter(notice__volunteer=tree.li).update(status="failed")
    call_command("deliver_notices", "--retry-failed")
    out = capsys.readouterr().out
    assert "已重新排队 1 条" in out and "已发送 1 条" in out
    assert len(hook.requests) == 3


def test_the_admin_lists_deliveries_read_only(tree, client, use_channels, recording):
    use_channels(RECORDING)
    notify(tree.zhang, "x", "后台可见")
    deliver_due()
    superuser = type(tree.admin).objects.create_superuser("notices_root", password="Root#2024root")
    client.force_login(superuser)
    r = client.get("/django-admin/notices/delivery/?status=sent")
    assert r.status_code == 200 and RECORDING in r.content.decode()
    assert client.get("/django-admin/notices/delivery/add/").status_code == 403
