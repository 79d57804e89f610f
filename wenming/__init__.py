"""Wenming 文明实践云平台."""

try:  # Celery is optional at import time (inline jobs without REDIS_URL).
    from .celery import app as celery_app  # noqa: F401
except ImportError:  # pragma: no cover
    celery_app = None
