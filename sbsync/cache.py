"""Configuration cache keyed by the database's configuration generation.

Permissions, data filters and the discovery configuration are read on every API request. They are
cached under ``sbsync:<generation>:<key>``, where the generation is a token that changes in the same
transaction as any change to them (models/access.py ``ConfigGeneration``). A request reads the token once
(one indexed query) and so never uses a stale entry, even when each worker process has its own cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches

from sbsync import conf
from sbsync.models import ConfigGeneration

T = TypeVar("T")
TIMEOUT = 3600


def generation() -> str:
    return ConfigGeneration.current()


def get_or_compute(gen: str, key: str, compute: Callable[[], T]) -> T:
    cache = caches[conf.get("CACHE_ALIAS")]
    cache_key = f"sbsync:{gen}:{key}"
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, TIMEOUT)
    return value  # type: ignore[no-any-return]
