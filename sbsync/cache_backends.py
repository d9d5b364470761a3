"""A Redis cache that degrades instead of failing when Redis is unreachable.

sbsync keeps only disposable things in its cache: configuration it can recompute from the database
(keyed by the configuration generation) and throttle counters. So when Redis stops, a request should
go on without them rather than fail: a read is a miss, a write is dropped, and each failure is logged
(once a minute per process). Throttles then let every request through until Redis is back, and the
configuration is read from the database on every request. ``health/`` reports the cache as unhealthy
meanwhile. It needs the ``redis`` package (as Django's RedisCache does). Use it with connection and
socket timeouts so an unreachable host does not hang requests:

    CACHES = {"default": {
        "BACKEND": "sbsync.cache_backends.FailSoftRedisCache",
        "LOCATION": "redis://redis:6379/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("sbsync.cache")
T = TypeVar("T")
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY = 60.0
_last_warning = [0.0]


def _degraded(operation: str, exc: Exception, fallback: T) -> T:
    now = time.monotonic()
    if now - _last_warning[0] >= WARN_EVERY:
        _last_warning[0] = now
        logger.warning("Cache unreachable (%s: %s); going on without it", operation, exc)
    return fallback


class FailSoftRedisCache(RedisCache):
    def _soft(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return call()
        except UNREACHABLE as exc:
            return _degraded(operation, exc, fallback)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft("get", lambda: super(FailSoftRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._soft("get_many", lambda: super(FailSoftRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft("has_key", lambda: super(FailSoftRedisCache, self).has_key(key, version), False)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(
            "add", lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version), False
        )

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._soft("set", lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version), None)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        return self._soft(
            "set_many", lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(
            "touch", lambda: super(FailSoftRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft("delete", lambda: super(FailSoftRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._soft("delete_many", lambda: super(FailSoftRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # No fallback value makes sense for a counter: the caller learns that the key is missing.
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            _degraded("incr", exc, None)
            raise ValueError(f"Key {key!r} not found (the cache is unreachable).") from exc

    def clear(self) -> None:
        self._soft("clear", lambda: super(FailSoftRedisCache, self).clear(), None)
