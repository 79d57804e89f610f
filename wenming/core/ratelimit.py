"""Counting attempts per key in fixed windows, in the cache (Redis when REDIS_URL is set; otherwise
each process counts on its own, which still stops a flood from one client reaching one worker)."""

import time

from django.core.cache import cache

from .errors import RateLimited


def _key(scope: str, who: str, window: int) -> str:
    return f"rate:{scope}:{who or 'unknown'}:{int(time.time() // window)}"


def check(scope: str, who: str, *, limit: int, window: int, message: str) -> None:
    """Refuse (RateLimited, 429) once `who` has used up this window's allowance for `scope`."""
    if (cache.get(_key(scope, who, window)) or 0) >= limit:
        raise RateLimited(message, code="rate_limited")


def hit(scope: str, who: str, *, window: int) -> None:
    """Count one attempt (atomic on every cache backend Django ships)."""
    key = _key(scope, who, window)
    cache.add(key, 0, window + 60)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window + 60)
