"""Celery app. With REDIS_URL unset, tasks run inline (task_always_eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")

app = Celery("wenming")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
