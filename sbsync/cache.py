"""Configuration cache keyed by the database's configuration generation.

Permissions, data filters and the discovery configuration are read on every API request. They are
cached under ``sbsync:<generation>:<key>``, where the generation is a token that changes in the same
transaction as any change to them (models/access.py ``ConfigGeneration``). A request reads the token once
(one indexed query) and so never uses a stale entry, even when each worker process has its own cache.

Entries of an old generation are never read again. They expire after ``TIMEOUT``; ``purge_stale`` drops
them sooner. For that, every key written is remembered in a registry entry of the same cache. Two
processes writing keys at the same moment may each overwrite the other's registry update; a key lost
that way is simply left to expire. With a per-process cache (LocMemCache) a purge reaches only the
cache of the process that runs it; a shared cache (Redis) is purged for every worker.

Lookups are counted per process (``lookup_counts``) for the ``performance/`` endpoint's hit rate:
counting in the shared cache itself would cost a round trip per lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import caches

from sbsync import conf
from sbsync.models import ConfigGeneration

T = TypeVar("T")
TIMEOUT = 3600
REGISTRY_KEY = "sbsync:written-keys"

_counts = {"hits": 0, "misses": 0}
_counts_lock = threading.Lock()


def _count(kind: str) -> None:
    with _counts_lock:
        _counts[kind] += 1


def lookup_counts() -> dict[str, int]:
    """Hits and misses of ``get_or_compute`` in this process since it started."""
    with _counts_lock:
        return dict(_counts)


def generation() -> str:
    return ConfigGeneration.current()


def get_or_compute(gen: str, key: str, compute: Callable[[], T]) -> T:
    cache = caches[conf.get("CACHE_ALIAS")]
    cache_key = f"sbsync:{gen}:{key}"
    value = cache.get(cache_key)
    _count("misses" if value is None else "hits")
    if value is None:
        value = compute()
        cache.set(cache_key, value, TIMEOUT)
        _remember(cache_key)
    return value  # type: ignore[no-any-return]


def _remember(cache_key: str) -> None:
    # Refreshing the registry's timeout with each write makes it outlive every key it lists.
    cache = caches[conf.get("CACHE_ALIAS")]
    written: set[str] = cache.get(REGISTRY_KEY) or set()
    cache.set(REGISTRY_KEY, written | {cache_key}, TIMEOUT)


def purge_stale(current: str) -> int:
    """Delete the entries written under any generation other than ``current``. Returns how many of them
    were still in the cache."""
    cache = caches[conf.get("CACHE_ALIAS")]
    written: set[str] = cache.get(REGISTRY_KEY) or set()
    prefix = f"sbsync:{current}:"
    stale = [key for key in written if not key.startswith(prefix)]
    if not stale:
        return 0
    present = len(cache.get_many(stale))
    cache.delete_many(stale)
    cache.set(REGISTRY_KEY, written.difference(stale), TIMEOUT)
    return present
